package mongoenc

import (
	"errors"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

type profile struct {
	Name     string `bson:"name"`
	SSN      string `bson:"ssn"`
	LastSeen int64  `bson:"lastSeen"`
}

type customer struct {
	ID      string  `bson:"_id"`
	Email   string  `bson:"email"`
	Card    string  `bson:"card"`
	Visits  int32   `bson:"visits"`
	Profile profile `bson:"profile"`
}

func cust(id string, n int32) customer {
	return customer{ID: id, Email: id + "@example.com", Card: "card-" + id, Visits: n,
		Profile: profile{Name: "name-" + id, SSN: "ssn-" + id, LastSeen: int64(n)}}
}

// TestOperations runs every operation of the collection against the test
// server and checks both what the caller sees (plaintext) and what is
// stored (ciphertext where it must be).
func TestOperations(t *testing.T) {
	c, plain := serverColl(t, testConfig())
	ctx := ctxT(t)

	get := func(id string) (customer, error) {
		t.Helper()
		var got customer
		err := c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&got)
		return got, err
	}
	mustGet := func(id string) customer {
		t.Helper()
		got, err := get(id)
		if err != nil {
			t.Fatalf("FindOne %s: %v", id, err)
		}
		return got
	}
	ids := func(filter any, opts ...options.Lister[options.FindOptions]) []string {
		t.Helper()
		opts = append([]options.Lister[options.FindOptions]{options.Find().SetSort(bson.D{{Key: "_id", Value: 1}})}, opts...)
		cur, err := c.Find(ctx, filter, opts...)
		if err != nil {
			t.Fatalf("Find %v: %v", filter, err)
		}
		var all []customer
		if err := cur.All(ctx, &all); err != nil {
			t.Fatalf("Find %v: All: %v", filter, err)
		}
		var out []string
		for _, x := range all {
			out = append(out, x.ID)
		}
		return out
	}
	storedCard := func(id string) bson.RawValue {
		t.Helper()
		var raw bson.Raw
		if err := plain.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&raw); err != nil {
			t.Fatalf("plain FindOne %s: %v", id, err)
		}
		return raw.Lookup("card")
	}

	// InsertOne: a struct, a bson.M, a bson.Raw without _id (gets an ObjectID).
	res, err := c.InsertOne(ctx, cust("a", 1))
	if err != nil || res.InsertedID != "a" {
		t.Fatalf("InsertOne a: %+v, %v", res, err)
	}
	if _, err := c.InsertOne(ctx, bson.M{"_id": "m", "email": "m@example.com", "card": "card-m", "visits": int32(0),
		"profile": bson.M{"name": "name-m", "ssn": "ssn-m", "lastSeen": int64(0)}}); err != nil {
		t.Fatalf("InsertOne bson.M: %v", err)
	}
	if got := mustGet("m"); got != cust("m", 0) {
		t.Errorf("FindOne m = %+v", got)
	}
	res, err = c.InsertOne(ctx, rawOf(t, bson.D{{Key: "card", Value: "no id"}}))
	if err != nil {
		t.Fatalf("InsertOne without _id: %v", err)
	}
	oid, ok := res.InsertedID.(bson.ObjectID)
	if !ok {
		t.Fatalf("InsertOne without _id: InsertedID = %T, want an ObjectID", res.InsertedID)
	}
	var noID bson.D
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: oid}}).Decode(&noID); err != nil || len(noID) != 2 || noID[1].Value != "no id" {
		t.Errorf("FindOne of the document without _id: %v, %v", noID, err)
	}
	if _, err := c.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}}); err != nil {
		t.Fatal(err)
	}
	if sub, _, ok := storedCard("a").BinaryOK(); !ok || sub != 0 {
		t.Errorf("stored card of a is not a ciphertext")
	}

	// InsertMany.
	ins, err := c.InsertMany(ctx, []customer{cust("b", 2), cust("c", 3), cust("d", 4)})
	if err != nil || !slices.Equal(ins.InsertedIDs, []any{"b", "c", "d"}) {
		t.Fatalf("InsertMany: %+v, %v", ins, err)
	}
	if _, err := c.InsertMany(ctx, customer{}); !errors.Is(err, mongo.ErrNotSlice) {
		t.Errorf("InsertMany of a non-slice: %v", err)
	}

	// A duplicate _id stays a duplicate key error through OpError.
	_, err = c.InsertOne(ctx, cust("a", 1))
	var oe *OpError
	if !mongo.IsDuplicateKeyError(err) || !errors.As(err, &oe) {
		t.Errorf("InsertOne duplicate: %v, want an OpError with a duplicate key error", err)
	}

	// FindOne: by _id, by a signed field, missing, with a sort.
	if got := mustGet("a"); got != cust("a", 1) {
		t.Errorf("FindOne a = %+v", got)
	}
	var byEmail customer
	if err := c.FindOne(ctx, bson.D{{Key: "email", Value: "c@example.com"}}).Decode(&byEmail); err != nil || byEmail.ID != "c" {
		t.Errorf("FindOne by email: %+v, %v", byEmail, err)
	}
	if _, err := get("nope"); err != mongo.ErrNoDocuments { //nolint:errorlint // the driver's contract: ==
		t.Errorf("FindOne missing: %v, want mongo.ErrNoDocuments itself", err)
	}
	var last customer
	if err := c.FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "email", Value: -1}})).Decode(&last); err != nil || last.ID != "m" {
		t.Errorf("FindOne sorted by email desc: %+v, %v", last, err)
	}

	// Projections are applied to the plaintext, encrypted fields included.
	var proj bson.D
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "a"}},
		options.FindOne().SetProjection(bson.D{{Key: "card", Value: 1}, {Key: "profile.ssn", Value: 1}})).Decode(&proj); err != nil {
		t.Fatalf("FindOne with inclusion projection: %v", err)
	}
	if want := (bson.D{{Key: "_id", Value: "a"}, {Key: "card", Value: "card-a"}, {Key: "profile", Value: bson.D{{Key: "ssn", Value: "ssn-a"}}}}); !rawEqual(t, proj, want) {
		t.Errorf("inclusion projection = %v, want %v", proj, want)
	}
	proj = nil
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "a"}},
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "card", Value: 0}, {Key: "profile", Value: 0}, {Key: "email", Value: false}})).Decode(&proj); err != nil {
		t.Fatalf("FindOne with exclusion projection: %v", err)
	}
	if want := (bson.D{{Key: "visits", Value: int32(1)}}); !rawEqual(t, proj, want) {
		t.Errorf("exclusion projection = %v, want %v", proj, want)
	}

	// Find: filters on signed fields, $in, $or, $exists on an encrypted field,
	// small batches (several getMores), Next/Decode/ID/Close by hand.
	if got := ids(bson.D{}); !slices.Equal(got, []string{"a", "b", "c", "d", "m"}) {
		t.Errorf("Find all: %v", got)
	}
	if got := ids(bson.D{{Key: "email", Value: bson.D{{Key: "$in", Value: bson.A{"b@example.com", "d@example.com"}}}}}); !slices.Equal(got, []string{"b", "d"}) {
		t.Errorf("Find email $in: %v", got)
	}
	if got := ids(bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "_id", Value: "a"}}, bson.D{{Key: "visits", Value: bson.D{{Key: "$gte", Value: 4}}}}}}}); !slices.Equal(got, []string{"a", "d"}) {
		t.Errorf("Find $or: %v", got)
	}
	if got := ids(bson.D{{Key: "card", Value: bson.D{{Key: "$exists", Value: true}}}, {Key: "profile.name", Value: "name-b"}}); !slices.Equal(got, []string{"b"}) {
		t.Errorf("Find card $exists + profile.name: %v", got)
	}
	cur, err := c.Find(ctx, bson.D{}, options.Find().SetBatchSize(2).SetSort(bson.D{{Key: "_id", Value: -1}}))
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	sawCursorID := false
	for cur.Next(ctx) {
		var x customer
		if err := cur.Decode(&x); err != nil {
			t.Fatal(err)
		}
		if x != cust(x.ID, x.Visits) {
			t.Errorf("cursor document %+v", x)
		}
		if cur.Current.Lookup("card").StringValue() != x.Card {
			t.Errorf("Current is not the plaintext")
		}
		sawCursorID = sawCursorID || cur.ID() != 0
		seen = append(seen, x.ID)
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	if err := cur.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []string{"m", "d", "c", "b", "a"}) || !sawCursorID {
		t.Errorf("cursor with batch size 2: %v (saw a cursor ID: %v)", seen, sawCursorID)
	}
	// TryNext, RemainingBatchLength, SetBatchSize on a cursor.
	cur, err = c.Find(ctx, bson.D{}, options.Find().SetBatchSize(1).SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	cur.SetBatchSize(10)
	seen = nil
	for cur.TryNext(ctx) {
		seen = append(seen, cur.Current.Lookup("_id").StringValue())
		_ = cur.RemainingBatchLength()
	}
	if err := cur.Err(); err != nil || !slices.Equal(seen, []string{"a", "b", "c", "d", "m"}) {
		t.Errorf("TryNext: %v, %v", seen, err)
	}
	if cur.ID() != 0 {
		t.Errorf("exhausted cursor has ID %d", cur.ID())
	}
	_ = cur.Close(ctx)

	// The accessors.
	if c.Unprotected() != plain || c.Name() != plain.Name() || c.Database().Name() != plain.Database().Name() || c.Policy().Default() != testConfig().Default {
		t.Error("accessors do not describe the collection")
	}

	// CountDocuments, EstimatedDocumentCount.
	if n, err := c.CountDocuments(ctx, bson.D{{Key: "visits", Value: bson.D{{Key: "$lte", Value: 2}}}}); err != nil || n != 3 {
		t.Errorf("CountDocuments visits<=2: %d, %v", n, err)
	}
	if n, err := c.EstimatedDocumentCount(ctx); err != nil || n != 5 {
		t.Errorf("EstimatedDocumentCount: %d, %v", n, err)
	}

	// ReplaceOne: conditional on a signed field, a miss, without _id (taken
	// from the filter), an upsert.
	before := storedCard("a")
	ur, err := c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "email", Value: "a@example.com"}}, cust("a", 10))
	if err != nil || ur.MatchedCount != 1 || ur.ModifiedCount != 1 {
		t.Errorf("ReplaceOne a: %+v, %v", ur, err)
	}
	if got := mustGet("a"); got != cust("a", 10) {
		t.Errorf("after ReplaceOne: %+v", got)
	}
	if after := storedCard("a"); after.Equal(before) {
		t.Errorf("ReplaceOne did not re-encrypt card (same ciphertext)")
	}
	ur, err = c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "email", Value: "stale"}}, cust("a", 99))
	if err != nil || ur.MatchedCount != 0 {
		t.Errorf("ReplaceOne with a stale condition: %+v, %v", ur, err)
	}
	noIDDoc := bson.D{{Key: "email", Value: "b2@example.com"}, {Key: "card", Value: "card-b2"}}
	if _, err := c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: "b"}}, noIDDoc); err != nil {
		t.Errorf("ReplaceOne without _id: %v", err)
	}
	var b2 bson.D
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "b"}}).Decode(&b2); err != nil || !rawEqual(t, b2, append(bson.D{{Key: "_id", Value: "b"}}, noIDDoc...)) {
		t.Errorf("after ReplaceOne without _id: %v, %v", b2, err)
	}
	if _, err := c.ReplaceOne(ctx, bson.D{{Key: "email", Value: "x"}}, noIDDoc); !errors.Is(err, ErrMissingID) {
		t.Errorf("ReplaceOne without _id, filter without _id: %v, want ErrMissingID", err)
	}
	ur, err = c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: "e"}}, cust("e", 5), options.Replace().SetUpsert(true))
	if err != nil || ur.UpsertedCount != 1 {
		t.Errorf("ReplaceOne upsert e: %+v, %v", ur, err)
	}
	if got := mustGet("e"); got != cust("e", 5) {
		t.Errorf("after upsert: %+v", got)
	}

	// FindOneAndReplace: the old document, the new one, a miss.
	var old, cur2 customer
	if err := c.FindOneAndReplace(ctx, bson.D{{Key: "_id", Value: "c"}}, cust("c", 30)).Decode(&old); err != nil || old != cust("c", 3) {
		t.Errorf("FindOneAndReplace (before): %+v, %v", old, err)
	}
	if err := c.FindOneAndReplace(ctx, bson.D{{Key: "_id", Value: "c"}}, cust("c", 31),
		options.FindOneAndReplace().SetReturnDocument(options.After)).Decode(&cur2); err != nil || cur2 != cust("c", 31) {
		t.Errorf("FindOneAndReplace (after): %+v, %v", cur2, err)
	}
	if err := c.FindOneAndReplace(ctx, bson.D{{Key: "_id", Value: "nope"}}, cust("nope", 0)).Err(); err != mongo.ErrNoDocuments { //nolint:errorlint
		t.Errorf("FindOneAndReplace of a missing document: %v", err)
	}

	// UpdateOne, UpdateByID, UpdateMany, FindOneAndUpdate on DoNothing
	// fields (top-level and nested): the documents still verify.
	ur, err = c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "d"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "visits", Value: 1}}}})
	if err != nil || ur.ModifiedCount != 1 {
		t.Errorf("UpdateOne $inc visits: %+v, %v", ur, err)
	}
	if _, err := c.UpdateByID(ctx, "d", bson.D{{Key: "$set", Value: bson.D{{Key: "profile.lastSeen", Value: int64(77)}, {Key: "notes", Value: "vip"}}}}); err != nil {
		t.Errorf("UpdateByID $set profile.lastSeen, notes: %v", err)
	}
	var d struct {
		Customer customer `bson:",inline"`
		Notes    string   `bson:"notes"`
	}
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "d"}}).Decode(&d); err != nil {
		t.Fatalf("FindOne d after updates: %v", err)
	}
	if d.Customer.Visits != 5 || d.Notes != "vip" || d.Customer.Profile.LastSeen != 77 || d.Customer.Card != "card-d" || d.Customer.Profile.SSN != "ssn-d" {
		t.Errorf("after updates: %+v", d)
	}
	ur, err = c.UpdateMany(ctx, bson.D{{Key: "visits", Value: bson.D{{Key: "$lt", Value: 10}}}}, bson.D{{Key: "$set", Value: bson.D{{Key: "notes", Value: "bulk"}}}})
	if err != nil || ur.MatchedCount != 3 { // d, e, m
		t.Errorf("UpdateMany: %+v, %v", ur, err)
	}
	var upd customer
	if err := c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "e"}}, bson.D{{Key: "$unset", Value: bson.D{{Key: "notes", Value: ""}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&upd); err != nil || upd != cust("e", 5) {
		t.Errorf("FindOneAndUpdate: %+v, %v", upd, err)
	}

	// FindOneAndDelete, DeleteOne, DeleteMany.
	var gone customer
	if err := c.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: "e"}}).Decode(&gone); err != nil || gone != cust("e", 5) {
		t.Errorf("FindOneAndDelete: %+v, %v", gone, err)
	}
	if dr, err := c.DeleteOne(ctx, bson.D{{Key: "_id", Value: "m"}}); err != nil || dr.DeletedCount != 1 {
		t.Errorf("DeleteOne m: %+v, %v", dr, err)
	}

	// BulkWrite with every kind of model.
	bw, err := c.BulkWrite(ctx, []mongo.WriteModel{
		mongo.NewInsertOneModel().SetDocument(cust("f", 6)),
		mongo.NewInsertOneModel().SetDocument(cust("g", 7)),
		mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: "f"}}).SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "visits", Value: int32(60)}}}}),
		mongo.NewUpdateManyModel().SetFilter(bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{"f", "g"}}}}}).SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "notes", Value: "bw"}}}}),
		mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: "g"}}).SetReplacement(cust("g", 70)),
		mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: "h"}}).SetReplacement(cust("h", 8)).SetUpsert(true),
		mongo.NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: "a"}}),
		mongo.NewDeleteManyModel().SetFilter(bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{"b"}}}}}),
	})
	if err != nil {
		t.Fatalf("BulkWrite: %v", err)
	}
	if bw.InsertedCount != 2 || bw.MatchedCount != 4 || bw.UpsertedCount != 1 || bw.DeletedCount != 2 {
		t.Errorf("BulkWrite result: %+v", bw)
	}
	if got := ids(bson.D{}); !slices.Equal(got, []string{"c", "d", "f", "g", "h"}) {
		t.Errorf("after BulkWrite: %v", got)
	}
	if got := mustGet("f"); got.Visits != 60 || got.Card != "card-f" {
		t.Errorf("f after BulkWrite: %+v", got)
	}
	if got := mustGet("g"); got != cust("g", 70) {
		t.Errorf("g after BulkWrite: %+v", got)
	}
	if got := mustGet("h"); got != cust("h", 8) {
		t.Errorf("h after BulkWrite: %+v", got)
	}
	if n, err := c.DeleteMany(ctx, bson.D{}); err != nil || n.DeletedCount != 5 {
		t.Errorf("DeleteMany: %+v, %v", n, err)
	}
}

// rawEqual compares two documents as BSON bytes.
func rawEqual(t *testing.T, got, want any) bool {
	t.Helper()
	return bytesEqual(rawOf(t, got), rawOf(t, want))
}
