package mongoenc

import (
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

func rawValueOf(t *testing.T, v any) bson.RawValue {
	t.Helper()
	typ, data, err := bson.MarshalValue(v)
	if err != nil {
		t.Fatal(err)
	}
	return bson.RawValue{Type: typ, Value: data}
}

// TestErrorMessages: messages name operations, collections and fields, and
// print an _id only when it is an ObjectID or an integer.
func TestErrorMessages(t *testing.T) {
	oid := bson.NewObjectID()
	for _, tc := range []struct {
		err     error
		want    []string
		mustNot []string
		matches error
		unwraps bool
	}{
		{&UnsafeOperationError{Op: "Find", Collection: "db.c", Field: "card", Reason: "filter names \"card\""},
			[]string{"mongoenc: Find on db.c refused before sending: filter names \"card\""}, nil, ErrUnsafeOperation, true},
		{&OpError{Op: "InsertOne", Collection: "db.c", Err: errors.New("boom")},
			[]string{"mongoenc: InsertOne db.c: boom"}, nil, nil, true},
		{&DocumentError{Op: "Find", Collection: "db.c", Index: 3, ID: rawValueOf(t, oid), Err: itemcrypto.ErrAuthentication},
			[]string{"document 3", oid.Hex(), "item authentication failed"}, nil, itemcrypto.ErrAuthentication, true},
		{&DocumentError{Op: "FindOne", Collection: "db.c", ID: rawValueOf(t, int64(42)), Err: itemcrypto.ErrAuthentication},
			[]string{`(_id {"$numberLong":"42"})`}, nil, itemcrypto.ErrAuthentication, true},
		{&DocumentError{Op: "FindOne", Collection: "db.c", ID: rawValueOf(t, "ada@example.com"), Err: itemcrypto.ErrAuthentication},
			[]string{"(_id of type string)"}, []string{"ada@example.com"}, itemcrypto.ErrAuthentication, true},
		{&DocumentError{Op: "FindOneAndDelete", Collection: "db.c", Written: true, Err: itemcrypto.ErrAuthentication},
			[]string{"the write succeeded, but the document it returned failed"}, []string{"_id"}, itemcrypto.ErrAuthentication, true},
	} {
		msg := tc.err.Error()
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%q lacks %q", msg, w)
			}
		}
		for _, w := range tc.mustNot {
			if strings.Contains(msg, w) {
				t.Errorf("%q contains %q", msg, w)
			}
		}
		if tc.matches != nil && !errors.Is(tc.err, tc.matches) {
			t.Errorf("%q does not match %v", msg, tc.matches)
		}
	}
}

func TestFilterID(t *testing.T) {
	for _, tc := range []struct {
		filter bson.D
		want   any // nil: no _id pinned
	}{
		{d("_id", "a"), "a"},
		{d("_id", int32(7), "x", 1), int32(7)},
		{d("_id", d("$eq", "b")), "b"},
		{d("_id", d("k", 1)), d("k", 1)},
		{d("_id", d()), d()},
		{d("_id", d("$in", bson.A{"a"})), nil},
		{d("_id", d("$eq", "b", "$ne", "c")), nil},
		{d("_id", bson.Regex{Pattern: "^a"}), nil},
		{d("x", 1), nil},
	} {
		got, ok := filterID(rawOf(t, tc.filter))
		if tc.want == nil {
			if ok {
				t.Errorf("filterID(%v) = %v, want none", tc.filter, got)
			}
			continue
		}
		want := rawValueOf(t, tc.want)
		if !ok || bson.Type(got.Type) != want.Type || !bytesEqual(got.Data, want.Value) {
			t.Errorf("filterID(%v) = %v, %v; want %v", tc.filter, got, ok, tc.want)
		}
	}
}
