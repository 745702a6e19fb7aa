package mongotest

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// AllByObjectID reads every document of cur (the driver's cursor or
// mongoenc's) and indexes them by their ObjectID _id; a failure, or a
// document without one, fails the test.
func AllByObjectID(t testing.TB, cur interface {
	All(ctx context.Context, results any) error
}) map[bson.ObjectID]bson.Raw {
	t.Helper()
	var docs []bson.Raw
	if err := cur.All(t.Context(), &docs); err != nil {
		t.Fatalf("mongotest: reading the documents: %v", err)
	}
	out := make(map[bson.ObjectID]bson.Raw, len(docs))
	for _, d := range docs {
		id, ok := d.Lookup("_id").ObjectIDOK()
		if !ok {
			t.Fatalf("mongotest: a document without an ObjectID _id")
		}
		out[id] = d
	}
	return out
}
