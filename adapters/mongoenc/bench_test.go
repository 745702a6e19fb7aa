package mongoenc

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/mongotest"
)

// benchAPI is what the round-trip benchmark calls: both *mongo.Collection
// and *Collection have these methods.
type benchAPI interface {
	InsertOne(ctx context.Context, document any, opts ...options.Lister[options.InsertOneOptions]) (*mongo.InsertOneResult, error)
	FindOne(ctx context.Context, filter any, opts ...options.Lister[options.FindOneOptions]) *mongo.SingleResult
}

var (
	_ benchAPI = (*mongo.Collection)(nil)
	_ benchAPI = (*Collection)(nil)
)

// BenchmarkRoundTrip measures one InsertOne and one FindOne (decoded into a
// bson.Raw) of a document against the test server (FerretDB):
//
//   - client=driver: the driver's collection (the baseline);
//   - client=mongoenc/policy=none: through a Collection whose policy does
//     nothing (what the wrapper alone costs);
//   - client=mongoenc/policy=encrypted: encrypted and signed on the way in,
//     verified and decrypted on the way out (a fresh AES-256 content key per
//     document, AES key wrap, HMAC-SHA256);
//   - client=mapping-only: the same encryptDoc and decryptDoc with no I/O,
//     for scale.
//
// Each document is deleted after it was read, outside the timing, so that
// every iteration meets the same (empty) collection.
//
// The document: _id, a signed e-mail, a do-nothing counter, a signed
// profile with an encrypted nested ssn, and an encrypted binary "card" of
// size bytes.
func BenchmarkRoundTrip(b *testing.B) {
	client := mongotest.Client(b)
	ctx := context.Background()
	noneCfg := testConfig()
	noneCfg.Default, noneCfg.Overrides = actions.DoNothing, nil
	var next int64
	for _, size := range []int{1 << 10, 10 << 10} {
		doc := func(id int64) bson.D {
			return bson.D{
				{Key: "_id", Value: id},
				{Key: "email", Value: "user@example.com"},
				{Key: "visits", Value: int32(17)},
				{Key: "profile", Value: bson.D{{Key: "name", Value: "Ada"}, {Key: "ssn", Value: "078-05-1120"}}},
				{Key: "card", Value: bson.Binary{Data: bytes.Repeat([]byte{0xA5}, size)}},
			}
		}
		for _, bc := range []struct {
			name string
			api  func(plain *mongo.Collection) benchAPI
		}{
			{"client=driver", func(plain *mongo.Collection) benchAPI { return plain }},
			{"client=mongoenc/policy=none", func(plain *mongo.Collection) benchAPI { return mustColl(b, plain, noneCfg) }},
			{"client=mongoenc/policy=encrypted", func(plain *mongo.Collection) benchAPI { return mustColl(b, plain, testConfig()) }},
		} {
			b.Run(fmt.Sprintf("%s/size=%dKB", bc.name, size>>10), func(b *testing.B) {
				// A new collection for every run: FerretDB's SQLite tables
				// slow down as they see deletes.
				plain := mongotest.Collection(b, client)
				api := bc.api(plain)
				b.ReportAllocs()
				for b.Loop() {
					next++
					if _, err := api.InsertOne(ctx, doc(next)); err != nil {
						b.Fatal(err)
					}
					var got bson.Raw
					if err := api.FindOne(ctx, bson.D{{Key: "_id", Value: next}}).Decode(&got); err != nil {
						b.Fatal(err)
					}
					// Keep the collection empty: FerretDB's cost grows with it.
					b.StopTimer()
					if _, err := plain.DeleteOne(ctx, bson.D{{Key: "_id", Value: next}}); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			})
		}
		b.Run(fmt.Sprintf("client=mapping-only/size=%dKB", size>>10), func(b *testing.B) {
			enc := offlineColl(b, testConfig())
			b.ReportAllocs()
			raw := rawOf(b, doc(0))
			for b.Loop() {
				stored, err := enc.encryptDoc(ctx, raw)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := enc.decryptDoc(ctx, stored); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func mustColl(b *testing.B, plain *mongo.Collection, cfg Config) *Collection {
	c, err := NewCollection(plain, cfg)
	if err != nil {
		b.Fatal(err)
	}
	return c
}
