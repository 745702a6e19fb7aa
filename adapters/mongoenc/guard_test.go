package mongoenc

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/cmptest"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// The guard-rail tests run against a client that points at a closed port:
// a request would fail with a server-selection error, so an
// UnsafeOperationError proves the refusal came before any request.

func d(kv ...any) bson.D {
	out := bson.D{}
	for i := 0; i < len(kv); i += 2 {
		out = append(out, bson.E{Key: kv[i].(string), Value: kv[i+1]})
	}
	return out
}

// filterOps runs filter through every operation that takes one.
func filterOps(c *Collection) map[string]func(ctx context.Context, filter any) error {
	return map[string]func(ctx context.Context, filter any) error{
		"FindOne": func(ctx context.Context, f any) error { return c.FindOne(ctx, f).Err() },
		"Find": func(ctx context.Context, f any) error {
			_, err := c.Find(ctx, f)
			return err
		},
		"CountDocuments": func(ctx context.Context, f any) error {
			_, err := c.CountDocuments(ctx, f)
			return err
		},
		"DeleteOne": func(ctx context.Context, f any) error {
			_, err := c.DeleteOne(ctx, f)
			return err
		},
		"DeleteMany": func(ctx context.Context, f any) error {
			_, err := c.DeleteMany(ctx, f)
			return err
		},
		"ReplaceOne": func(ctx context.Context, f any) error {
			_, err := c.ReplaceOne(ctx, f, cust("a", 1))
			return err
		},
		"FindOneAndReplace": func(ctx context.Context, f any) error { return c.FindOneAndReplace(ctx, f, cust("a", 1)).Err() },
		"FindOneAndDelete":  func(ctx context.Context, f any) error { return c.FindOneAndDelete(ctx, f).Err() },
		"UpdateOne": func(ctx context.Context, f any) error {
			_, err := c.UpdateOne(ctx, f, d("$set", d("visits", 1)))
			return err
		},
		"UpdateMany": func(ctx context.Context, f any) error {
			_, err := c.UpdateMany(ctx, f, d("$set", d("visits", 1)))
			return err
		},
		"FindOneAndUpdate": func(ctx context.Context, f any) error {
			return c.FindOneAndUpdate(ctx, f, d("$set", d("visits", 1))).Err()
		},
		"BulkWrite": func(ctx context.Context, f any) error {
			_, err := c.BulkWrite(ctx, []mongo.WriteModel{mongo.NewDeleteOneModel().SetFilter(f)})
			return err
		},
	}
}

func TestGuardFilters(t *testing.T) {
	c := offlineColl(t, testConfig())
	ctx := ctxT(t)
	refused := []struct {
		name   string
		filter any
		field  string
	}{
		{"encrypted field", d("card", "4111"), "card"},
		{"encrypted field, bson.M", bson.M{"card": "4111"}, "card"},
		{"encrypted nested path", d("profile.ssn", "123"), "profile.ssn"},
		{"inside an encrypted field", d("card.number", "1"), "card.number"},
		{"document holding an encrypted field", d("profile", d("name", "Ada", "ssn", "123")), "profile"},
		{"operator on an encrypted field", d("card", d("$regex", "^41")), "card"},
		{"$in on an encrypted field", d("secret", d("$in", bson.A{"a", "b"})), "secret"},
		{"in $or", d("$or", bson.A{d("_id", 1), d("card", "x")}), "card"},
		{"in $and in $nor", d("$nor", bson.A{d("$and", bson.A{d("profile.ssn", "x")})}), "profile.ssn"},
		{"$not $exists", d("card", d("$not", d("$exists", true))), "card"},
		{"$exists inside an encrypted field", d("card.x", d("$exists", true)), "card.x"},
		{"$exists with another operator", d("card", d("$exists", true, "$ne", "x")), "card"},
		{"$exists inside a nested encrypted field", d("profile.ssn.x", d("$exists", true)), "profile.ssn.x"},
		{"$expr field path", d("$expr", d("$eq", bson.A{"$card", "x"})), "card"},
		{"$expr nested path", d("$expr", d("$gt", bson.A{d("$strLenCP", "$profile.ssn"), 3})), "profile.ssn"},
		{"$expr $$ROOT path", d("$expr", d("$eq", bson.A{"$$ROOT.card", "x"})), "card"},
		{"$expr $$ROOT", d("$expr", d("$eq", bson.A{"$$ROOT", d()})), ""},
		{"$expr $getField", d("$expr", d("$eq", bson.A{d("$getField", "card"), "x"})), ""},
		{"$where", d("$where", "this.card == 'x'"), ""},
		{"$jsonSchema", d("$jsonSchema", d("required", bson.A{"card"})), ""},
	}
	for _, tc := range refused {
		for op, run := range filterOps(c) {
			t.Run(tc.name+"/"+op, func(t *testing.T) {
				wantUnsafe(t, op, run(ctx, tc.filter), tc.field)
			})
		}
	}

	// Allowed filters pass the guard and reach the (missing) server.
	allowed := []struct {
		name   string
		filter any
	}{
		{"_id", d("_id", "a")},
		{"signed field", d("email", "a@example.com")},
		{"signed nested remainder", d("profile.name", "Ada")},
		{"do-nothing nested", d("profile.lastSeen", d("$gt", 3))},
		{"$exists on an encrypted field", d("card", d("$exists", true))},
		{"$exists on a parent of one", d("profile", d("$exists", false))},
		{"$exists on the signature", d("*amzn-ddb-map-sig*", d("$exists", true))},
		{"$expr on signed fields and variables", d("$expr", d("$eq", bson.A{"$email", "$$x"}))},
		{"$expr $literal", d("$expr", d("$eq", bson.A{"$email", d("$literal", "$card")}))},
		{"$or of signed", d("$or", bson.A{d("email", "a"), d("visits", 3)})},
		{"$comment", d("email", "a", "$comment", "hi")},
	}
	for _, tc := range allowed {
		t.Run("allowed/"+tc.name, func(t *testing.T) {
			_, err := c.CountDocuments(ctx, tc.filter)
			if errors.Is(err, ErrUnsafeOperation) || err == nil {
				t.Errorf("CountDocuments(%v) = %v, want it sent (and a server-selection error)", tc.filter, err)
			}
		})
	}
}

func TestGuardDefaultEncrypt(t *testing.T) {
	// With Default EncryptAndSign, every field without an override is
	// encrypted: a filter on any of them is refused.
	cfg := testConfig()
	cfg.Default = actions.EncryptAndSign
	cfg.Overrides = map[string]actions.Action{"email": actions.SignOnly}
	c := offlineColl(t, cfg)
	ctx := ctxT(t)
	wantUnsafe(t, "filter on an unlisted field", c.FindOne(ctx, d("anything", 1)).Err(), "anything")
	if err := c.FindOne(ctx, d("email", "x")).Err(); errors.Is(err, ErrUnsafeOperation) {
		t.Errorf("filter on a signed field refused: %v", err)
	}
	if err := c.FindOne(ctx, d("_id", "x")).Err(); errors.Is(err, ErrUnsafeOperation) {
		t.Errorf("filter on _id refused: %v", err)
	}
}

func TestGuardSort(t *testing.T) {
	c := offlineColl(t, testConfig())
	ctx := ctxT(t)
	for _, tc := range []struct {
		sort  any
		field string
	}{
		{d("card", 1), "card"},
		{d("email", 1, "profile.ssn", -1), "profile.ssn"},
		{d("profile", 1), "profile"},
	} {
		_, err := c.Find(ctx, d(), options.Find().SetSort(tc.sort))
		wantUnsafe(t, "Find sort", err, tc.field)
		wantUnsafe(t, "FindOne sort", c.FindOne(ctx, d(), options.FindOne().SetSort(tc.sort)).Err(), tc.field)
		wantUnsafe(t, "FindOneAndDelete sort", c.FindOneAndDelete(ctx, d(), options.FindOneAndDelete().SetSort(tc.sort)).Err(), tc.field)
		_, err = c.UpdateOne(ctx, d(), d("$set", d("visits", 1)), options.UpdateOne().SetSort(tc.sort))
		wantUnsafe(t, "UpdateOne sort", err, tc.field)
		_, err = c.ReplaceOne(ctx, d("_id", "a"), cust("a", 1), options.Replace().SetSort(tc.sort))
		wantUnsafe(t, "ReplaceOne sort", err, tc.field)
	}
	_, err := c.Find(ctx, d(), options.Find().SetHint(d("card", 1)).SetMin(d("card", "a")))
	wantUnsafe(t, "Find min", err, "card")
	_, err = c.Find(ctx, d(), options.Find().SetHint(d("profile", 1)).SetMax(d("profile", "a")))
	wantUnsafe(t, "Find max", err, "profile")
	wantUnsafe(t, "FindOne max", c.FindOne(ctx, d(), options.FindOne().SetMax(d("secret", 1))).Err(), "secret")
	if _, err := c.Find(ctx, d(), options.Find().SetSort(d("email", 1, "profile.name", -1))); errors.Is(err, ErrUnsafeOperation) {
		t.Errorf("sort on signed fields refused: %v", err)
	}
}

func TestGuardProjection(t *testing.T) {
	c := offlineColl(t, testConfig())
	ctx := ctxT(t)
	for _, tc := range []struct {
		name string
		proj any
	}{
		{"$slice", d("card", d("$slice", 1))},
		{"$elemMatch", d("tags", d("$elemMatch", d("a", 1)))},
		{"$meta", d("score", d("$meta", "textScore"))},
		{"positional", d("tags.$", 1)},
		{"expression", d("x", "$card")},
		{"mixed", d("email", 1, "card", 0)},
		{"collision", d("profile", 1, "profile.ssn", 1)},
	} {
		_, err := c.Find(ctx, d(), options.Find().SetProjection(tc.proj))
		wantUnsafe(t, tc.name+"/Find", err, "")
		wantUnsafe(t, tc.name+"/FindOne", c.FindOne(ctx, d(), options.FindOne().SetProjection(tc.proj)).Err(), "")
	}
	_, err := c.Find(ctx, d(), options.Find().SetReturnKey(true))
	wantUnsafe(t, "ReturnKey", err, "")
	wantUnsafe(t, "ShowRecordID", c.FindOne(ctx, d(), options.FindOne().SetShowRecordID(true)).Err(), "")
}

func TestGuardUpdates(t *testing.T) {
	c := offlineColl(t, testConfig())
	ctx := ctxT(t)
	refused := []struct {
		name   string
		update any
		field  string
	}{
		{"$set signed", d("$set", d("email", "x")), "email"},
		{"$set encrypted", d("$set", d("card", "x")), "card"},
		{"$set nested encrypted", d("$set", d("profile.ssn", "x")), "profile.ssn"},
		{"$set signed remainder", d("$set", d("profile.name", "x")), "profile.name"},
		{"$set parent document", d("$set", d("profile", d("lastSeen", 1))), "profile"},
		{"$set field under the signed default", d("$set", d("newField", 1)), "newField"},
		{"$unset _id", d("$unset", d("_id", "")), "_id"},
		{"$set reserved", d("$set", d("*amzn-ddb-map-sig*", "")), "*amzn-ddb-map-sig*"},
		{"$rename onto a signed field", d("$rename", d("visits", "email")), "email"},
		{"$rename a signed field", d("$rename", d("email", "notes")), "email"},
		{"$inc signed", d("$inc", d("n", 1)), "n"},
		{"$push positional into signed", d("$push", d("tags.$[].x", 1)), "tags"},
		{"second operator", d("$set", d("visits", 1), "$unset", nil), ""},
		{"unknown operator", d("$frobnicate", d("visits", 1)), ""},
		{"replacement document", d("visits", 1), ""},
		{"pipeline bson.A", bson.A{d("$set", d("visits", 1))}, ""},
		{"pipeline mongo.Pipeline", mongo.Pipeline{d("$set", d("visits", 1))}, ""},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.UpdateOne(ctx, d("_id", "a"), tc.update)
			wantUnsafe(t, "UpdateOne", err, tc.field)
			_, err = c.UpdateMany(ctx, d(), tc.update)
			wantUnsafe(t, "UpdateMany", err, tc.field)
			_, err = c.UpdateByID(ctx, "a", tc.update)
			wantUnsafe(t, "UpdateByID", err, tc.field)
			wantUnsafe(t, "FindOneAndUpdate", c.FindOneAndUpdate(ctx, d("_id", "a"), tc.update).Err(), tc.field)
			_, err = c.BulkWrite(ctx, []mongo.WriteModel{
				mongo.NewInsertOneModel().SetDocument(cust("z", 1)),
				mongo.NewUpdateOneModel().SetFilter(d("_id", "a")).SetUpdate(tc.update),
			})
			wantUnsafe(t, "BulkWrite", err, tc.field)
		})
	}
	// Upsert could create an unsigned document.
	_, err := c.UpdateOne(ctx, d("_id", "a"), d("$set", d("visits", 1)), options.UpdateOne().SetUpsert(true))
	wantUnsafe(t, "UpdateOne upsert", err, "")
	_, err = c.UpdateMany(ctx, d(), d("$set", d("visits", 1)), options.UpdateMany().SetUpsert(true))
	wantUnsafe(t, "UpdateMany upsert", err, "")
	wantUnsafe(t, "FindOneAndUpdate upsert", c.FindOneAndUpdate(ctx, d("_id", "a"), d("$set", d("visits", 1)),
		options.FindOneAndUpdate().SetUpsert(true)).Err(), "")
	_, err = c.BulkWrite(ctx, []mongo.WriteModel{mongo.NewUpdateOneModel().SetFilter(d("_id", "a")).
		SetUpdate(d("$set", d("visits", 1))).SetUpsert(true)})
	wantUnsafe(t, "BulkWrite upsert", err, "")

	for _, update := range []any{
		d("$set", d("visits", 1)),
		d("$inc", d("visits", 1), "$set", d("notes", "x", "profile.lastSeen", int64(3))),
		d("$unset", d("notes", "")),
		d("$rename", d("notes", "visits")),
		d("$push", d("notes.$[elem]", 1)),
	} {
		_, err := c.UpdateOne(ctx, d("_id", "a"), update)
		if errors.Is(err, ErrUnsafeOperation) || err == nil {
			t.Errorf("UpdateOne(%v) = %v, want it sent", update, err)
		}
	}
}

func TestGuardDocuments(t *testing.T) {
	c := offlineColl(t, testConfig())
	ctx := ctxT(t)
	for _, tc := range []struct {
		name  string
		doc   any
		field string
		want  error
	}{
		{"reserved signature", d("_id", "a", "*amzn-ddb-map-sig*", []byte{1}), "*amzn-ddb-map-sig*", itemcrypto.ErrReservedAttribute},
		{"reserved description", d("_id", "a", "*amzn-ddb-map-desc*", "x"), "*amzn-ddb-map-desc*", itemcrypto.ErrReservedAttribute},
		{"dotted field", d("_id", "a", "a.b", 1), "a.b", ErrDottedFieldName},
		{"duplicate field", d("_id", "a", "email", "x", "email", "y"), "email", ErrDuplicateField},
		{"duplicate configured nested field", d("_id", "a", "profile", d("ssn", "1", "ssn", "2")), "profile.ssn", ErrDuplicateField},
		{"array on a configured path", d("_id", "a", "profile", bson.A{d("ssn", "1")}), "profile", ErrArrayOnPath},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check := func(op string, err error, index int) {
				t.Helper()
				var de *DocumentError
				var ae *itemcrypto.AttributeError
				if !errors.Is(err, tc.want) || !errors.As(err, &de) || !errors.As(err, &ae) {
					t.Errorf("%s: %v, want a DocumentError with an AttributeError matching %v", op, err, tc.want)
					return
				}
				if ae.Name != tc.field || de.Index != index {
					t.Errorf("%s: field %q index %d, want %q, %d", op, ae.Name, de.Index, tc.field, index)
				}
			}
			_, err := c.InsertOne(ctx, tc.doc)
			check("InsertOne", err, 0)
			_, err = c.InsertMany(ctx, []any{cust("ok", 1), tc.doc})
			check("InsertMany", err, 1)
			_, err = c.ReplaceOne(ctx, d("_id", "a"), tc.doc)
			check("ReplaceOne", err, 0)
			check("FindOneAndReplace", c.FindOneAndReplace(ctx, d("_id", "a"), tc.doc).Err(), 0)
			_, err = c.BulkWrite(ctx, []mongo.WriteModel{mongo.NewDeleteOneModel().SetFilter(d("_id", "b")),
				mongo.NewInsertOneModel().SetDocument(cust("ok", 1)), mongo.NewReplaceOneModel().SetFilter(d("_id", "a")).SetReplacement(tc.doc)})
			check("BulkWrite", err, 2)
		})
	}
}

func TestConfigValidation(t *testing.T) {
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1/"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	coll := client.Database("db").Collection("c")
	p := cmptest.NewFakeProvider("cfg")
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no provider", Config{}},
		{"_id encrypted", Config{Provider: p, Default: actions.DoNothing, Overrides: map[string]actions.Action{"_id": actions.EncryptAndSign}}},
		{"_id do-nothing", Config{Provider: p, Default: actions.SignOnly, Overrides: map[string]actions.Action{"_id": actions.DoNothing}}},
		{"_id nested", Config{Provider: p, Default: actions.DoNothing, Overrides: map[string]actions.Action{"_id.x": actions.SignOnly}}},
		{"encrypted parent", Config{Provider: p, Default: actions.DoNothing, Overrides: map[string]actions.Action{"profile": actions.EncryptAndSign, "profile.ssn": actions.SignOnly}}},
		{"parent inherits encryption", Config{Provider: p, Default: actions.EncryptAndSign, Overrides: map[string]actions.Action{"profile.ssn": actions.EncryptAndSign}}},
		{"empty segment", Config{Provider: p, Default: actions.DoNothing, Overrides: map[string]actions.Action{"a..b": actions.SignOnly}}},
		{"operator segment", Config{Provider: p, Default: actions.DoNothing, Overrides: map[string]actions.Action{"a.$": actions.SignOnly}}},
		{"reserved name", Config{Provider: p, Default: actions.DoNothing, Overrides: map[string]actions.Action{"*amzn-ddb-map-sig*": actions.SignOnly}}},
		{"unknown action", Config{Provider: p, Default: actions.DoNothing, Overrides: map[string]actions.Action{"a": 7}}},
		{"unknown default", Config{Provider: p, Default: 9}},
	} {
		if _, err := NewCollection(coll, tc.cfg); err == nil {
			t.Errorf("%s: NewCollection accepted %+v", tc.name, tc.cfg.Overrides)
		}
	}
	if _, err := NewCollection(nil, Config{Provider: p}); err == nil {
		t.Error("NewCollection(nil) accepted")
	}
	// No Default: refused, naming the setting.
	_, err = NewCollection(coll, Config{Provider: p, Overrides: map[string]actions.Action{"ssn": actions.EncryptAndSign}})
	const want = "mongoenc: NewCollection db.c: Config.Default: default action not set (choose EncryptAndSign, SignOnly or DoNothing; most tables want EncryptAndSign)"
	if err == nil || err.Error() != want || !errors.Is(err, actions.ErrDefaultNotSet) {
		t.Errorf("NewCollection without Default: err = %v;\nwant %s", err, want)
	}
	// Valid: a signed parent whose default is encryption; _id SignOnly.
	c, err := NewCollection(coll, Config{Provider: p, Default: actions.EncryptAndSign, Overrides: map[string]actions.Action{
		"_id": actions.SignOnly, "profile": actions.SignOnly, "profile.ssn": actions.EncryptAndSign, "profile.a.b": actions.DoNothing,
	}})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]actions.Action{
		"_id": actions.SignOnly, "x": actions.EncryptAndSign, "profile": actions.SignOnly, "profile.name": actions.SignOnly,
		"profile.ssn": actions.EncryptAndSign, "profile.ssn.x": actions.EncryptAndSign, "profile.a": actions.SignOnly,
		"profile.a.b": actions.DoNothing, "profile.a.b.c": actions.DoNothing,
	} {
		if got := c.Action(path); got != want {
			t.Errorf("Action(%q) = %v, want %v", path, got, want)
		}
	}
}
