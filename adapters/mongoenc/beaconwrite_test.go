package mongoenc

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/itemcrypto/go-itemcrypto/actions"
)

// beaconWriteFixture inserts bdocs(n) into a collection with 1-bit beacons
// (about half the collection collides with any value) and returns it, the
// driver's collection and the stored documents by _id.
func beaconWriteFixture(t *testing.T, n int) (*Collection, *mongo.Collection, []bdoc) {
	t.Helper()
	c, plain := serverColl(t, beaconConfig(t, 1))
	all := bdocs(n)
	if _, err := c.InsertMany(ctxT(t), all); err != nil {
		t.Fatal(err)
	}
	return c, plain, all
}

// storedByID returns every stored document (raw, as the server holds it).
func storedByID(t *testing.T, plain *mongo.Collection) map[int32]bson.Raw {
	t.Helper()
	ctx := ctxT(t)
	cur, err := plain.Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]bson.Raw{}
	for cur.Next(ctx) {
		out[cur.Current.Lookup("_id").Int32()] = slices.Clone(cur.Current)
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// wantUntouched fails unless every stored document that keep accepts is
// byte for byte what it was before.
func wantUntouched(t *testing.T, before, after map[int32]bson.Raw, keep func(id int32) bool) {
	t.Helper()
	for id, b := range before {
		if !keep(id) {
			continue
		}
		if a, ok := after[id]; !ok || !slices.Equal(a, b) {
			t.Errorf("_id %d (not matching) changed or vanished", id)
		}
	}
}

func matching(all []bdoc, pred func(bdoc) bool) map[int32]bool {
	out := map[int32]bool{}
	for _, d := range all {
		if pred(d) {
			out[d.ID] = true
		}
	}
	return out
}

// collidingWith counts the stored documents outside want that share the
// beacon of the filter's value: the test only proves something when the
// server alone would have selected them.
func collidingWith(t *testing.T, plain *mongo.Collection, beacon string, id int32, want map[int32]bool) int {
	t.Helper()
	ctx := ctxT(t)
	var raw bson.Raw
	if err := plain.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	cur, err := plain.Find(ctx, bson.D{{Key: beacon, Value: raw.Lookup(beacon).StringValue()}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for cur.Next(ctx) {
		if !want[cur.Current.Lookup("_id").Int32()] {
			n++
		}
	}
	if n == 0 {
		t.Fatalf("no document collides with _id %d's %s: the fixture proves nothing", id, beacon)
	}
	return n
}

// TestBeaconCountExact: CountDocuments with a 1-bit beacon counts the
// matching documents only, with Skip and Limit counting those.
func TestBeaconCountExact(t *testing.T) {
	c, plain, all := beaconWriteFixture(t, 40)
	ctx := ctxT(t)
	e0, e1 := beaconEmails[0], beaconEmails[1]
	want0 := matching(all, func(d bdoc) bool { return d.Email == e0 })
	collidingWith(t, plain, "aws_dbe_b_email", 0, want0)
	for _, tc := range []struct {
		name   string
		filter any
		opts   *options.CountOptionsBuilder
		want   int64
	}{
		{"eq", bson.D{{Key: "email", Value: e0}}, nil, int64(len(want0))},
		{"$in", bson.D{{Key: "email", Value: bson.D{{Key: "$in", Value: bson.A{e0, e1}}}}}, nil,
			int64(len(matching(all, func(d bdoc) bool { return d.Email == e0 || d.Email == e1 })))},
		{"with plaintext", bson.D{{Key: "email", Value: e0}, {Key: "status", Value: "b"}}, nil,
			int64(len(matching(all, func(d bdoc) bool { return d.Email == e0 && d.Status == "b" })))},
		{"$or", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "email", Value: e1}}, bson.D{{Key: "profile.ssn", Value: "ssn-2"}}}}}, nil,
			int64(len(matching(all, func(d bdoc) bool { return d.Email == e1 || d.Profile.SSN == "ssn-2" })))},
		{"none", bson.D{{Key: "email", Value: "nobody@example.com"}}, nil, 0},
		{"skip limit", bson.D{{Key: "email", Value: e0}}, options.Count().SetSkip(2).SetLimit(3), 3},
		{"skip past", bson.D{{Key: "email", Value: e0}}, options.Count().SetSkip(100), 0},
	} {
		var opts []options.Lister[options.CountOptions]
		if tc.opts != nil {
			opts = append(opts, tc.opts)
		}
		n, err := c.CountDocuments(ctx, tc.filter, opts...)
		if err != nil || n != tc.want {
			t.Errorf("%s: CountDocuments = %d, %v; want %d", tc.name, n, err, tc.want)
		}
	}
}

// TestBeaconDeleteExact: DeleteOne and DeleteMany with a 1-bit beacon
// delete only matching documents; every colliding document is unchanged.
func TestBeaconDeleteExact(t *testing.T) {
	smallPinBatch(t)
	c, plain, all := beaconWriteFixture(t, 40)
	ctx := ctxT(t)
	e0, e1 := beaconEmails[0], beaconEmails[1]
	want0 := matching(all, func(d bdoc) bool { return d.Email == e0 })
	collidingWith(t, plain, "aws_dbe_b_email", 0, want0)

	before := storedByID(t, plain)
	res, err := c.DeleteOne(ctx, bson.D{{Key: "email", Value: e0}})
	if err != nil || res.DeletedCount != 1 {
		t.Fatalf("DeleteOne = %+v, %v; want 1 deleted", res, err)
	}
	after := storedByID(t, plain)
	gone := slices.Collect(func(yield func(int32) bool) {
		for id := range before {
			if _, ok := after[id]; !ok && !yield(id) {
				return
			}
		}
	})
	if len(gone) != 1 || !want0[gone[0]] {
		t.Fatalf("DeleteOne deleted %v, want one of %v", gone, slices.Sorted(maps.Keys(want0)))
	}
	wantUntouched(t, before, after, func(id int32) bool { return id != gone[0] })

	// DeleteMany with a plaintext condition: only e0 with status b.
	wantB := matching(all, func(d bdoc) bool { return d.Email == e0 && d.Status == "b" && d.ID != gone[0] })
	before = after
	res, err = c.DeleteMany(ctx, bson.D{{Key: "email", Value: e0}, {Key: "status", Value: "b"}})
	if err != nil || res.DeletedCount != int64(len(wantB)) {
		t.Fatalf("DeleteMany = %+v, %v; want %d deleted", res, err, len(wantB))
	}
	after = storedByID(t, plain)
	for id := range wantB {
		if _, ok := after[id]; ok {
			t.Errorf("_id %d matches and was not deleted", id)
		}
	}
	wantUntouched(t, before, after, func(id int32) bool { return !wantB[id] })

	// DeleteMany of everything e1: the colliding rest stays.
	want1 := matching(all, func(d bdoc) bool { return d.Email == e1 })
	collidingWith(t, plain, "aws_dbe_b_email", 1, want1)
	before = after
	res, err = c.DeleteMany(ctx, bson.D{{Key: "email", Value: e1}})
	if err != nil || res.DeletedCount != int64(len(want1)) {
		t.Fatalf("DeleteMany e1 = %+v, %v; want %d deleted", res, err, len(want1))
	}
	after = storedByID(t, plain)
	wantUntouched(t, before, after, func(id int32) bool { return !want1[id] })
	if n, err := c.CountDocuments(ctx, bson.D{{Key: "email", Value: e1}}); err != nil || n != 0 {
		t.Errorf("CountDocuments e1 after DeleteMany = %d, %v; want 0", n, err)
	}
	// Nothing matches: nothing deleted.
	if res, err := c.DeleteOne(ctx, bson.D{{Key: "email", Value: "nobody@example.com"}}); err != nil || res.DeletedCount != 0 {
		t.Errorf("DeleteOne of nobody = %+v, %v", res, err)
	}
}

// notesConfig is beaconConfig with a DoNothing field notes, which updates
// may set.
func notesConfig(t *testing.T, length int) Config {
	cfg := beaconConfig(t, length)
	cfg.Overrides["notes"] = actions.DoNothing
	cfg.DBESDK.AllowedUnsigned = []string{"notes"}
	return cfg
}

// bnotes is bdoc with the do-nothing field the updates may set.
type bnotes struct {
	ID    int32  `bson:"_id"`
	Email string `bson:"email"`
	Notes string `bson:"notes,omitempty"`
}

// TestBeaconUpdateExact: UpdateOne and UpdateMany with a 1-bit beacon
// update only matching documents; colliding documents are unchanged.
func TestBeaconUpdateExact(t *testing.T) {
	smallPinBatch(t)
	cfg := notesConfig(t, 1)
	c, plain := serverColl(t, cfg)
	ctx := ctxT(t)
	all := bdocs(40)
	if _, err := c.InsertMany(ctx, all); err != nil {
		t.Fatal(err)
	}
	e0, e1 := beaconEmails[0], beaconEmails[1]
	want0 := matching(all, func(d bdoc) bool { return d.Email == e0 })
	collidingWith(t, plain, "aws_dbe_b_email", 0, want0)
	set := func(v string) bson.D { return bson.D{{Key: "$set", Value: bson.D{{Key: "notes", Value: v}}}} }

	before := storedByID(t, plain)
	res, err := c.UpdateOne(ctx, bson.D{{Key: "email", Value: e0}}, set("one"), options.UpdateOne().SetSort(bson.D{{Key: "i", Value: -1}}))
	if err != nil || res.MatchedCount != 1 || res.ModifiedCount != 1 {
		t.Fatalf("UpdateOne = %+v, %v; want 1 matched and modified", res, err)
	}
	last := slices.Max(slices.Collect(maps.Keys(want0)))
	after := storedByID(t, plain)
	if got := after[last].Lookup("notes").StringValue(); got != "one" {
		t.Errorf("UpdateOne sorted by i desc: _id %d notes = %q, want \"one\"", last, got)
	}
	wantUntouched(t, before, after, func(id int32) bool { return id != last })

	before = after
	res, err = c.UpdateMany(ctx, bson.D{{Key: "email", Value: e0}}, set("many"))
	if err != nil || res.MatchedCount != int64(len(want0)) || res.ModifiedCount != int64(len(want0)) {
		t.Fatalf("UpdateMany = %+v, %v; want %d matched and modified", res, err, len(want0))
	}
	after = storedByID(t, plain)
	wantUntouched(t, before, after, func(id int32) bool { return !want0[id] })
	var got []bnotes
	cur, err := c.Find(ctx, bson.D{{Key: "notes", Value: "many"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.All(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want0) {
		t.Errorf("after UpdateMany: %d documents with notes many, want %d", len(got), len(want0))
	}
	for _, d := range got {
		if d.Email != e0 {
			t.Errorf("UpdateMany touched %+v", d)
		}
	}
	// A combined $in: every e1 document too, and still no colliding one.
	want01 := matching(all, func(d bdoc) bool { return d.Email == e0 || d.Email == e1 })
	before = after
	res, err = c.UpdateMany(ctx, bson.D{{Key: "email", Value: bson.D{{Key: "$in", Value: bson.A{e0, e1}}}}}, set("in"))
	if err != nil || res.MatchedCount != int64(len(want01)) {
		t.Fatalf("UpdateMany $in = %+v, %v; want %d matched", res, err, len(want01))
	}
	wantUntouched(t, before, storedByID(t, plain), func(id int32) bool { return !want01[id] })
}

// TestBeaconPinnedWrite: a document replaced between the read of the
// candidates and the write is not touched (the footer it was read with is
// gone); a colliding document is never touched even when it is the only
// candidate left.
func TestBeaconPinnedWrite(t *testing.T) {
	c, plain, all := beaconWriteFixture(t, 10)
	ctx := ctxT(t)
	d := all[0]
	f, match, err := c.searchFilter(ctx, c.guard("test"), bson.D{{Key: "email", Value: d.Email}})
	if err != nil || match == nil {
		t.Fatalf("searchFilter: %v, %v", match, err)
	}
	var stored bson.Raw
	if err := plain.FindOne(ctx, bson.D{{Key: "_id", Value: d.ID}}).Decode(&stored); err != nil {
		t.Fatal(err)
	}
	p, err := pin(bsoncore.Document(stored), match)
	if err != nil {
		t.Fatal(err)
	}
	// The same content, re-encrypted: a new footer.
	if _, err := c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, d); err != nil {
		t.Fatal(err)
	}
	res, err := plain.DeleteOne(ctx, pinned(f, []bsoncore.Document{p}))
	if err != nil || res.DeletedCount != 0 {
		t.Fatalf("the pinned delete of a replaced document = %+v, %v; want nothing deleted", res, err)
	}
	if n, err := c.CountDocuments(ctx, bson.D{{Key: "email", Value: d.Email}}); err != nil || n != int64(len(matching(all, func(x bdoc) bool { return x.Email == d.Email }))) {
		t.Fatalf("CountDocuments after = %d, %v", n, err)
	}
}

// TestBeaconFindOneAndExact: the FindOneAnd… family and ReplaceOne with a
// 1-bit beacon act on the first matching document in the order of the
// sort, and on nothing else.
func TestBeaconFindOneAndExact(t *testing.T) {
	cfg := notesConfig(t, 1)
	c, plain := serverColl(t, cfg)
	ctx := ctxT(t)
	all := bdocs(40)
	if _, err := c.InsertMany(ctx, all); err != nil {
		t.Fatal(err)
	}
	e0, e1, e2 := beaconEmails[0], beaconEmails[1], beaconEmails[2]
	byEmail := func(e string) []int32 {
		return slices.Sorted(maps.Keys(matching(all, func(d bdoc) bool { return d.Email == e })))
	}
	collidingWith(t, plain, "aws_dbe_b_email", 0, matching(all, func(d bdoc) bool { return d.Email == e0 }))
	desc := bson.D{{Key: "i", Value: -1}}
	only := func(id int32) func(int32) bool { return func(x int32) bool { return x != id } }

	// FindOneAndDelete, sorted descending: the last e0.
	before := storedByID(t, plain)
	var got bdoc
	if err := c.FindOneAndDelete(ctx, bson.D{{Key: "email", Value: e0}}, options.FindOneAndDelete().SetSort(desc)).Decode(&got); err != nil {
		t.Fatal(err)
	}
	ids0 := byEmail(e0)
	if got.ID != ids0[len(ids0)-1] || got.Email != e0 {
		t.Fatalf("FindOneAndDelete = %+v, want _id %d", got, ids0[len(ids0)-1])
	}
	after := storedByID(t, plain)
	if _, ok := after[got.ID]; ok {
		t.Errorf("FindOneAndDelete: _id %d still there", got.ID)
	}
	wantUntouched(t, before, after, only(got.ID))

	// FindOneAndUpdate, returning the new document.
	before = after
	var upd bnotes
	err := c.FindOneAndUpdate(ctx, bson.D{{Key: "email", Value: e1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "notes", Value: "x"}}}},
		options.FindOneAndUpdate().SetSort(desc).SetReturnDocument(options.After)).Decode(&upd)
	ids1 := byEmail(e1)
	if err != nil || upd.ID != ids1[len(ids1)-1] || upd.Notes != "x" || upd.Email != e1 {
		t.Fatalf("FindOneAndUpdate = %+v, %v; want _id %d with notes x", upd, err, ids1[len(ids1)-1])
	}
	wantUntouched(t, before, storedByID(t, plain), only(upd.ID))

	// FindOneAndReplace: the replacement takes the matched _id.
	before = storedByID(t, plain)
	repl := bson.D{{Key: "email", Value: "new@example.com"}, {Key: "status", Value: "r"}}
	var old bdoc
	if err := c.FindOneAndReplace(ctx, bson.D{{Key: "email", Value: e2}}, repl, options.FindOneAndReplace().SetSort(desc)).Decode(&old); err != nil {
		t.Fatal(err)
	}
	ids2 := byEmail(e2)
	if old.ID != ids2[len(ids2)-1] || old.Email != e2 {
		t.Fatalf("FindOneAndReplace returned %+v, want _id %d", old, ids2[len(ids2)-1])
	}
	wantUntouched(t, before, storedByID(t, plain), only(old.ID))
	var now bdoc
	if err := c.FindOne(ctx, bson.D{{Key: "email", Value: "new@example.com"}}).Decode(&now); err != nil || now.ID != old.ID {
		t.Fatalf("the replaced document = %+v, %v; want _id %d", now, err, old.ID)
	}

	// ReplaceOne, first e2 in natural order of the sort ascending.
	before = storedByID(t, plain)
	res, err := c.ReplaceOne(ctx, bson.D{{Key: "email", Value: e2}}, bson.D{{Key: "email", Value: "r1@example.com"}},
		options.Replace().SetSort(bson.D{{Key: "i", Value: 1}}))
	if err != nil || res.MatchedCount != 1 {
		t.Fatalf("ReplaceOne = %+v, %v", res, err)
	}
	wantUntouched(t, before, storedByID(t, plain), only(ids2[0]))

	// Nothing matching: ErrNoDocuments, nothing touched.
	before = storedByID(t, plain)
	if err := c.FindOneAndDelete(ctx, bson.D{{Key: "email", Value: "nobody@example.com"}}).Err(); !errors.Is(err, mongo.ErrNoDocuments) {
		t.Errorf("FindOneAndDelete of nobody: %v, want ErrNoDocuments", err)
	}
	wantUntouched(t, before, storedByID(t, plain), func(int32) bool { return true })
}

// TestBeaconWriteRefusals: what the writes with a beacon filter cannot do
// exactly is refused with an *UnsafeOperationError before anything is sent.
func TestBeaconWriteRefusals(t *testing.T) {
	cfg := notesConfig(t, 8)
	c := offlineColl(t, cfg)
	ctx := ctxT(t)
	eq := func(k string, v any) bson.D { return bson.D{{Key: k, Value: v}} }
	f := eq("email", "a")
	set := eq("$set", eq("notes", "x"))
	coll := &options.Collation{Locale: "en", Strength: 2}
	check := func(what string, err error) {
		t.Helper()
		wantUnsafe(t, what, err, "")
	}
	// Filters a beacon cannot answer exactly, in every operation.
	for name, bad := range map[string]any{
		"$gt":                  eq("email", eq("$gt", "a")),
		"$nor over $gt":        eq("$nor", bson.A{eq("email", eq("$gt", "a"))}),
		"$or with plain range": eq("$or", bson.A{eq("email", "a"), eq("i", eq("$gt", 3))}),
		"encrypted no beacon":  eq("card", "x"),
	} {
		_, err := c.CountDocuments(ctx, bad)
		check("CountDocuments "+name, err)
		_, err = c.DeleteOne(ctx, bad)
		check("DeleteOne "+name, err)
		_, err = c.DeleteMany(ctx, bad)
		check("DeleteMany "+name, err)
		_, err = c.UpdateOne(ctx, bad, set)
		check("UpdateOne "+name, err)
		_, err = c.UpdateMany(ctx, bad, set)
		check("UpdateMany "+name, err)
		check("FindOneAndDelete "+name, c.FindOneAndDelete(ctx, bad).Err())
		check("FindOneAndUpdate "+name, c.FindOneAndUpdate(ctx, bad, set).Err())
		check("FindOneAndReplace "+name, c.FindOneAndReplace(ctx, bad, eq("email", "b")).Err())
		_, err = c.ReplaceOne(ctx, bad, eq("email", "b"))
		check("ReplaceOne "+name, err)
	}
	// Collations, upserts, updates of signed fields.
	_, err := c.CountDocuments(ctx, f, options.Count().SetCollation(coll))
	check("CountDocuments collation", err)
	_, err = c.DeleteOne(ctx, f, options.DeleteOne().SetCollation(coll))
	check("DeleteOne collation", err)
	_, err = c.DeleteMany(ctx, f, options.DeleteMany().SetCollation(coll))
	check("DeleteMany collation", err)
	_, err = c.UpdateOne(ctx, f, set, options.UpdateOne().SetCollation(coll))
	check("UpdateOne collation", err)
	_, err = c.UpdateMany(ctx, f, set, options.UpdateMany().SetCollation(coll))
	check("UpdateMany collation", err)
	_, err = c.UpdateOne(ctx, f, set, options.UpdateOne().SetUpsert(true))
	check("UpdateOne upsert", err)
	_, err = c.UpdateMany(ctx, f, eq("$set", eq("status", "x")))
	check("UpdateMany of a signed field", err)
	check("FindOneAndDelete collation", c.FindOneAndDelete(ctx, f, options.FindOneAndDelete().SetCollation(coll)).Err())
	check("FindOneAndUpdate collation", c.FindOneAndUpdate(ctx, f, set, options.FindOneAndUpdate().SetCollation(coll)).Err())
	check("FindOneAndUpdate of the beaconed field", c.FindOneAndUpdate(ctx, f, eq("$set", eq("email", "b"))).Err())
	check("FindOneAndReplace upsert", c.FindOneAndReplace(ctx, f, eq("email", "b"), options.FindOneAndReplace().SetUpsert(true)).Err())
	check("FindOneAndReplace collation", c.FindOneAndReplace(ctx, f, eq("email", "b"), options.FindOneAndReplace().SetCollation(coll)).Err())
	_, err = c.ReplaceOne(ctx, f, eq("email", "b"), options.Replace().SetUpsert(true))
	check("ReplaceOne upsert", err)
	// BulkWrite: the same refusals in its models, and an unordered one.
	for name, m := range map[string]mongo.WriteModel{
		"collation":        mongo.NewDeleteOneModel().SetFilter(f).SetCollation(coll),
		"upsert":           mongo.NewUpdateOneModel().SetFilter(f).SetUpdate(set).SetUpsert(true),
		"signed field":     mongo.NewUpdateManyModel().SetFilter(f).SetUpdate(eq("$set", eq("status", "x"))),
		"replace upsert":   mongo.NewReplaceOneModel().SetFilter(f).SetReplacement(eq("email", "b")).SetUpsert(true),
		"$gt":              mongo.NewDeleteManyModel().SetFilter(eq("email", eq("$gt", "a"))),
		"replace $nor $gt": mongo.NewReplaceOneModel().SetFilter(eq("$nor", bson.A{eq("email", eq("$gt", "a"))})).SetReplacement(eq("email", "b")),
		"update by beacon": nil,
	} {
		if m == nil {
			_, err := c.BulkWrite(ctx, []mongo.WriteModel{mongo.NewUpdateOneModel().SetFilter(f).SetUpdate(set)},
				options.BulkWrite().SetOrdered(false))
			check("unordered BulkWrite", err)
			continue
		}
		_, err := c.BulkWrite(ctx, []mongo.WriteModel{mongo.NewInsertOneModel().SetDocument(eq("_id", 1)), m})
		check("BulkWrite "+name, err)
	}
}

// TestBeaconBulkWriteExact: beacon models of an ordered BulkWrite run in
// order between the other models and touch only matching documents; the
// counts add up and the indexes of write errors are the models'.
func TestBeaconBulkWriteExact(t *testing.T) {
	c, plain := serverColl(t, notesConfig(t, 1))
	ctx := ctxT(t)
	all := bdocs(40)
	if _, err := c.InsertMany(ctx, all); err != nil {
		t.Fatal(err)
	}
	e0, e1 := beaconEmails[0], beaconEmails[1]
	want0 := matching(all, func(d bdoc) bool { return d.Email == e0 })
	want1 := matching(all, func(d bdoc) bool { return d.Email == e1 })
	collidingWith(t, plain, "aws_dbe_b_email", 0, want0)
	before := storedByID(t, plain)
	extra := bdoc{ID: 100, Email: e0, Status: "a"}
	res, err := c.BulkWrite(ctx, []mongo.WriteModel{
		mongo.NewInsertOneModel().SetDocument(extra), // deleted by the next model: order kept
		mongo.NewDeleteManyModel().SetFilter(bson.D{{Key: "email", Value: e0}}),
		mongo.NewUpdateManyModel().SetFilter(bson.D{{Key: "email", Value: e1}}).SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "notes", Value: "b"}}}}),
		mongo.NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: 2}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := mongo.BulkWriteResult{InsertedCount: 1, DeletedCount: int64(len(want0)) + 2, MatchedCount: int64(len(want1)),
		ModifiedCount: int64(len(want1)), UpsertedIDs: map[int64]any{}, Acknowledged: true}
	if res.InsertedCount != want.InsertedCount || res.DeletedCount != want.DeletedCount || res.MatchedCount != want.MatchedCount ||
		res.ModifiedCount != want.ModifiedCount {
		t.Fatalf("BulkWrite = %+v, want %+v", res, want)
	}
	after := storedByID(t, plain)
	if _, ok := after[extra.ID]; ok {
		t.Error("the inserted e0 document survived the DeleteMany after it")
	}
	for id := range want0 {
		if _, ok := after[id]; ok {
			t.Errorf("_id %d (e0) not deleted", id)
		}
	}
	for id := range want1 {
		if after[id].Lookup("notes").StringValue() != "b" {
			t.Errorf("_id %d (e1) not updated", id)
		}
	}
	wantUntouched(t, before, after, func(id int32) bool { return !want0[id] && !want1[id] && id != 2 })

	// A write error after a beacon model: its index is the model's.
	_, err = c.BulkWrite(ctx, []mongo.WriteModel{
		mongo.NewDeleteOneModel().SetFilter(bson.D{{Key: "email", Value: e1}}),
		mongo.NewInsertOneModel().SetDocument(bdoc{ID: 3, Email: "dup@example.com"}),
	})
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || len(bwe.WriteErrors) != 1 || bwe.WriteErrors[0].Index != 1 {
		t.Fatalf("BulkWrite with a duplicate _id after a beacon model: %v, want a BulkWriteException at index 1", err)
	}
}

// TestBeaconPinnedDoNothing: a condition on a DoNothing field that the
// client evaluated (inside an $or with a beacon) is pinned to the value
// read: the footer does not cover that field, so a change of it since the
// read must stop the write.
func TestBeaconPinnedDoNothing(t *testing.T) {
	c, plain := serverColl(t, notesConfig(t, 1))
	ctx := ctxT(t)
	all := bdocs(10)
	if _, err := c.InsertMany(ctx, all); err != nil {
		t.Fatal(err)
	}
	e0 := beaconEmails[0]
	want0 := matching(all, func(d bdoc) bool { return d.Email == e0 })
	collidingWith(t, plain, "aws_dbe_b_email", 0, want0)
	// A document whose beacon collides with e0's, matching through notes.
	var other int32 = -1
	for _, d := range all {
		if d.Email != e0 {
			var raw, raw0 bson.Raw
			_ = plain.FindOne(ctx, bson.D{{Key: "_id", Value: d.ID}}).Decode(&raw)
			_ = plain.FindOne(ctx, bson.D{{Key: "_id", Value: 0}}).Decode(&raw0)
			if raw.Lookup("aws_dbe_b_email").StringValue() == raw0.Lookup("aws_dbe_b_email").StringValue() {
				other = d.ID
				break
			}
		}
	}
	if other < 0 {
		t.Fatal("no colliding document")
	}
	if _, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: other}}, bson.D{{Key: "$set", Value: bson.D{{Key: "notes", Value: "x"}}}}); err != nil {
		t.Fatal(err)
	}
	filter := bson.D{{Key: "_id", Value: other}, {Key: "$or", Value: bson.A{bson.D{{Key: "email", Value: e0}}, bson.D{{Key: "notes", Value: "x"}}}}}
	f, match, err := c.searchFilter(ctx, c.guard("test"), filter)
	if err != nil || match == nil {
		t.Fatalf("searchFilter: %v, %v", match, err)
	}
	var stored bson.Raw
	if err := plain.FindOne(ctx, bson.D{{Key: "_id", Value: other}}).Decode(&stored); err != nil {
		t.Fatal(err)
	}
	p, err := pin(bsoncore.Document(stored), match)
	if err != nil {
		t.Fatal(err)
	}
	// notes changes after the read: the document no longer matches (its
	// email is not e0), yet its beacon still does and its footer is the same.
	if _, err := plain.UpdateOne(ctx, bson.D{{Key: "_id", Value: other}}, bson.D{{Key: "$set", Value: bson.D{{Key: "notes", Value: "y"}}}}); err != nil {
		t.Fatal(err)
	}
	res, err := plain.DeleteOne(ctx, pinned(f, []bsoncore.Document{p}))
	if err != nil || res.DeletedCount != 0 {
		t.Fatalf("the pinned delete after notes changed = %+v, %v; want nothing deleted", res, err)
	}
	// Unchanged, the same pinned filter deletes it, and DeleteOne does too.
	if _, err := plain.UpdateOne(ctx, bson.D{{Key: "_id", Value: other}}, bson.D{{Key: "$set", Value: bson.D{{Key: "notes", Value: "x"}}}}); err != nil {
		t.Fatal(err)
	}
	if res, err := c.DeleteOne(ctx, filter); err != nil || res.DeletedCount != 1 {
		t.Fatalf("DeleteOne through notes = %+v, %v; want 1", res, err)
	}
}

// smallPinBatch makes UpdateMany and DeleteMany pin 3 documents per
// request, so that the tests cross batches.
func smallPinBatch(t *testing.T) {
	old := pinBatch
	pinBatch = 3
	t.Cleanup(func() { pinBatch = old })
}

// TestBeaconOneMovesOn: when the first matching document changes between
// its read and its pinned write, DeleteOne, UpdateOne and FindOneAndDelete
// leave it alone and act on the next match.
func TestBeaconOneMovesOn(t *testing.T) {
	c, plain := serverColl(t, notesConfig(t, 1))
	ctx := ctxT(t)
	all := bdocs(20)
	if _, err := c.InsertMany(ctx, all); err != nil {
		t.Fatal(err)
	}
	e0 := beaconEmails[0]
	ids := slices.Sorted(maps.Keys(matching(all, func(d bdoc) bool { return d.Email == e0 })))
	// Before the first pinned write, re-encrypt the document it pins (same
	// content, new footer), once per operation.
	first := true
	testHookBeforePinned = func(stored bsoncore.Document) {
		if !first {
			return
		}
		first = false
		id := stored.Lookup("_id").Int32()
		if _, err := c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, all[id]); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { testHookBeforePinned = nil })
	asc := bson.D{{Key: "i", Value: 1}}
	var old bnotes
	if err := c.FindOneAndUpdate(ctx, bson.D{{Key: "email", Value: e0}}, bson.D{{Key: "$set", Value: bson.D{{Key: "notes", Value: "n"}}}},
		options.FindOneAndUpdate().SetSort(asc)).Decode(&old); err != nil || old.ID != ids[1] {
		t.Fatalf("FindOneAndUpdate = %+v, %v; want _id %d (the first, %d, changed under it)", old, err, ids[1], ids[0])
	}
	first = true
	if res, err := c.UpdateOne(ctx, bson.D{{Key: "email", Value: e0}}, bson.D{{Key: "$set", Value: bson.D{{Key: "notes", Value: "u"}}}},
		options.UpdateOne().SetSort(asc)); err != nil || res.MatchedCount != 1 {
		t.Fatalf("UpdateOne = %+v, %v", res, err)
	}
	first = true
	if res, err := c.DeleteOne(ctx, bson.D{{Key: "email", Value: e0}}); err != nil || res.DeletedCount != 1 {
		t.Fatalf("DeleteOne = %+v, %v", res, err)
	}
	stored := storedByID(t, plain)
	if _, ok := stored[ids[0]]; !ok {
		t.Errorf("_id %d changed under DeleteOne and was deleted anyway", ids[0])
	}
	if got := stored[ids[0]].Lookup("notes"); got.Type != 0 && got.Type != bson.TypeNull {
		t.Errorf("_id %d changed under the updates and was updated anyway: notes %v", ids[0], got)
	}
	if len(stored) != len(all)-1 {
		t.Errorf("%d documents left, want %d", len(stored), len(all)-1)
	}
}
