package mongoenc

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/mongotest"
)

// TestProjection checks the client-side projection against MongoDB's
// semantics for inclusion and exclusion of field paths.
func TestProjection(t *testing.T) {
	doc := d("_id", 1, "a", 1, "b", d("c", 2, "d", 3), "arr", bson.A{d("c", 4, "e", 5), 6, bson.A{d("c", 7, "f", 8)}}, "s", "x")
	for _, tc := range []struct {
		name string
		proj bson.D
		want bson.D
	}{
		{"include top", d("a", 1), d("_id", 1, "a", 1)},
		{"include top, no _id", d("a", true, "_id", 0), d("a", 1)},
		{"include nested", d("b.d", 1), d("_id", 1, "b", d("d", 3))},
		{"include through array", d("arr.c", 1), d("_id", 1, "arr", bson.A{d("c", 4), bson.A{d("c", 7)}})},
		{"include path into a scalar", d("s.x", 1, "a", 1.0), d("_id", 1, "a", 1)},
		{"include missing", d("zz", 1), d("_id", 1)},
		{"include path into a missing document", d("b.zz", 1), d("_id", 1, "b", d())},
		{"only _id", d("_id", 1), d("_id", 1)},
		{"exclude top", d("a", 0, "s", false), d("_id", 1, "b", d("c", 2, "d", 3), "arr", bson.A{d("c", 4, "e", 5), 6, bson.A{d("c", 7, "f", 8)}})},
		{"exclude nested", d("b.c", 0), d("_id", 1, "a", 1, "b", d("d", 3), "arr", bson.A{d("c", 4, "e", 5), 6, bson.A{d("c", 7, "f", 8)}}, "s", "x")},
		{"exclude through array", d("arr.c", int64(0)), d("_id", 1, "a", 1, "b", d("c", 2, "d", 3), "arr", bson.A{d("e", 5), 6, bson.A{d("f", 8)}}, "s", "x")},
		{"exclude _id only", d("_id", 0), d("a", 1, "b", d("c", 2, "d", 3), "arr", bson.A{d("c", 4, "e", 5), 6, bson.A{d("c", 7, "f", 8)}}, "s", "x")},
		{"exclude with _id", d("_id", 0, "b", 0, "arr", 0), d("a", 1, "s", "x")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _, err := parseProjection([]byte(rawOf(t, tc.proj)))
			if err != nil {
				t.Fatal(err)
			}
			got := p.apply(rawOf(t, doc))
			if want := rawOf(t, tc.want); !bytesEqual(got, want) {
				t.Errorf("projection %v:\n got %s\nwant %s", tc.proj, got, want)
			}
		})
	}
}

// TestProjectionMatchesServer compares the client-side projection with the
// server's on a plain collection (FerretDB v1 has no arrays in arrays, so
// the document has none).
func TestProjectionMatchesServer(t *testing.T) {
	plain := mongotest.Collection(t, mongotest.Client(t))
	ctx := ctxT(t)
	doc := d("_id", 1, "a", 1, "b", d("c", 2, "d", 3), "arr", bson.A{d("c", 4, "e", 5), 6, d("f", 8)}, "s", "x")
	if _, err := plain.InsertOne(ctx, doc); err != nil {
		t.Fatal(err)
	}
	for _, proj := range []bson.D{
		d("a", 1), d("b.d", 1), d("arr.c", 1), d("s.x", 1, "a", 1.0), d("b.zz", 1), d("_id", 1), d("b", 1, "_id", false),
		d("b.c", 0), d("arr.c", int64(0)), d("_id", 0), d("_id", 0, "b", 0, "arr", 0),
	} {
		var want bson.Raw
		if err := plain.FindOne(ctx, d(), options.FindOne().SetProjection(proj)).Decode(&want); err != nil {
			t.Fatalf("server projection %v: %v", proj, err)
		}
		p, _, err := parseProjection([]byte(rawOf(t, proj)))
		if err != nil {
			t.Fatal(err)
		}
		if got := p.apply(rawOf(t, doc)); !bytesEqual(got, want) {
			t.Errorf("projection %v:\n got %s\nwant %s (server)", proj, got, want)
		}
	}
}
