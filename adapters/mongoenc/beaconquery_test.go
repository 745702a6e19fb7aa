package mongoenc

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// TestPlainCondMatch: the conditions on plaintext fields the client
// evaluates inside an $or with a beacon condition follow MongoDB's
// equality: numbers by value, arrays by element, null matching a missing
// field, paths through arrays of documents.
func TestPlainCondMatch(t *testing.T) {
	doc := bsoncore.Document(rawOf(t, bson.D{
		{Key: "n", Value: int32(3)}, {Key: "f", Value: 2.5}, {Key: "s", Value: "x"},
		{Key: "tags", Value: bson.A{"a", "b"}},
		{Key: "items", Value: bson.A{bson.D{{Key: "k", Value: "u"}}, bson.D{{Key: "k", Value: "v"}}}},
		{Key: "sub", Value: bson.D{{Key: "z", Value: int64(7)}}},
		{Key: "nil", Value: nil},
	}))
	for _, tc := range []struct {
		key  string
		val  any
		want bool
	}{
		{"n", int64(3), true}, {"n", 3.0, true}, {"n", 4, false}, {"n", "3", false},
		{"f", 2.5, true}, {"s", "x", true}, {"s", "X", false},
		{"tags", "b", true}, {"tags", "c", false}, {"tags", bson.A{"a", "b"}, true},
		{"items.k", "v", true}, {"items.k", "w", false},
		{"sub.z", int32(7), true}, {"sub", bson.D{{Key: "z", Value: int64(7)}}, true},
		{"missing", bson.Null{}, true}, {"nil", bson.Null{}, true}, {"s", bson.Null{}, false},
		{"n", bson.D{{Key: "$in", Value: bson.A{1, 2, 3}}}, true},
		{"n", bson.D{{Key: "$in", Value: bson.A{}}}, false},
		{"n", bson.D{{Key: "$eq", Value: int64(3)}}, true},
		{"missing", bson.D{{Key: "$exists", Value: false}}, true},
		{"n", bson.D{{Key: "$exists", Value: true}, {Key: "$eq", Value: 3}}, true},
		{"n", bson.D{{Key: "$exists", Value: false}}, false},
	} {
		typ, data, err := bson.MarshalValue(tc.val)
		if err != nil {
			t.Fatal(err)
		}
		n := plainOf(tc.key, bsoncore.Value{Type: bsoncore.Type(typ), Data: data})
		if n.plain == nil {
			t.Fatalf("%s %v: not evaluable (%s)", tc.key, tc.val, n.noEval)
		}
		if got := n.plain.match(doc); got != tc.want {
			t.Errorf("{%s: %v} = %v, want %v", tc.key, tc.val, got, tc.want)
		}
	}
	for _, v := range []any{bson.D{{Key: "$gt", Value: 1}}, bson.Regex{Pattern: "x"}, bson.D{{Key: "$ne", Value: 1}}} {
		typ, data, _ := bson.MarshalValue(v)
		if n := plainOf("n", bsoncore.Value{Type: bsoncore.Type(typ), Data: data}); n.plain != nil {
			t.Errorf("%v is evaluated on the client; want it refused inside a beacon $or", v)
		}
	}
}
