package mongoenc

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

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

// beaconBenchColls are the three ways of storing the benchmark's e-mail:
// plaintext through the driver, a signed plaintext field through a
// Collection (DB-ESDK format, card and profile.ssn encrypted), and an
// encrypted field with a 16-bit standard beacon (the same, plus the beacon).
func beaconBenchConfigs(b *testing.B) []struct {
	name string
	cfg  *Config
} {
	signed := beaconConfig(b, 16)
	signed.Search = nil
	signed.Overrides = map[string]actions.Action{"card": actions.EncryptAndSign, "profile.ssn": actions.EncryptAndSign}
	beacon := beaconConfig(b, 16)
	return []struct {
		name string
		cfg  *Config
	}{{"email=driver-plaintext", nil}, {"email=signed-plaintext", &signed}, {"email=encrypted-beacon16", &beacon}}
}

// beaconBenchDoc: a bdoc whose e-mail is one of 100 (so a Find by e-mail
// returns 10 of the 1000 documents of BenchmarkBeaconFind).
func beaconBenchDoc(id int) bdoc {
	return bdoc{ID: int32(id), I: int32(id), Email: fmt.Sprintf("user%03d@example.com", id%100), Card: fmt.Sprint("card-", id),
		Status: "a", Profile: bprofile{Name: fmt.Sprint("n", id), SSN: fmt.Sprint("ssn-", id)}}
}

// BenchmarkBeaconInsert measures one InsertOne on the test server (FerretDB)
// of a document whose e-mail is plaintext (driver), signed plaintext, or
// encrypted with a 16-bit beacon; then the same encryption with no I/O
// (where=memory: encryptDoc, the beacon computation included).
func BenchmarkBeaconInsert(b *testing.B) {
	ctx := context.Background()
	for _, bc := range beaconBenchConfigs(b) {
		b.Run("where=ferretdb/"+bc.name, func(b *testing.B) {
			plain := mongotest.Collection(b, mongotest.Client(b))
			var api benchAPI = plain
			if bc.cfg != nil {
				api = mustColl(b, plain, *bc.cfg)
			}
			b.ReportAllocs()
			id := 0
			for b.Loop() {
				id++
				if _, err := api.InsertOne(ctx, beaconBenchDoc(id)); err != nil {
					b.Fatal(err)
				}
			}
		})
		if bc.cfg == nil {
			continue
		}
		b.Run("where=memory/"+bc.name, func(b *testing.B) {
			enc := offlineColl(b, *bc.cfg)
			raw := rawOf(b, beaconBenchDoc(1))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := enc.encryptDoc(ctx, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBeaconFind measures a Find by e-mail, all 10 matching documents
// of 1000 read and decoded, on the test server (FerretDB; with an index on
// the e-mail or the beacon, which FerretDB v1 does not use for these
// filters); then where=memory: the client's work alone for the same 10
// documents (the filter's rewrite, verification, decryption and the
// re-check; for the plaintext cases, verification and decryption only).
func BenchmarkBeaconFind(b *testing.B) {
	ctx := context.Background()
	const n = 1000
	docs := make([]any, n)
	for i := range docs {
		docs[i] = beaconBenchDoc(i)
	}
	filter := bson.D{{Key: "email", Value: "user042@example.com"}}
	for _, bc := range beaconBenchConfigs(b) {
		b.Run("where=ferretdb/"+bc.name, func(b *testing.B) {
			plain := mongotest.Collection(b, mongotest.Client(b))
			find := func() (int, error) {
				cur, err := plain.Find(ctx, filter)
				if err != nil {
					return 0, err
				}
				var got []bdoc
				err = cur.All(ctx, &got)
				return len(got), err
			}
			if bc.cfg == nil {
				if _, err := plain.InsertMany(ctx, docs); err != nil {
					b.Fatal(err)
				}
				if _, err := plain.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}}); err != nil {
					b.Fatal(err)
				}
			} else {
				c := mustColl(b, plain, *bc.cfg)
				if _, err := c.InsertMany(ctx, docs); err != nil {
					b.Fatal(err)
				}
				if _, err := plain.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}}); err != nil {
					b.Fatal(err)
				}
				if _, err := c.CreateBeaconIndexes(ctx); err != nil {
					b.Fatal(err)
				}
				find = func() (int, error) {
					cur, err := c.Find(ctx, filter)
					if err != nil {
						return 0, err
					}
					var got []bdoc
					err = cur.All(ctx, &got)
					return len(got), err
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if got, err := find(); err != nil || got != n/100 {
					b.Fatalf("Find = %d documents, %v; want %d", got, err, n/100)
				}
			}
		})
		if bc.cfg == nil {
			continue
		}
		b.Run("where=memory/"+bc.name, func(b *testing.B) {
			c := offlineColl(b, *bc.cfg)
			var stored []bson.Raw
			for i := 42; i < n; i += 100 {
				s, err := c.encryptDoc(ctx, rawOf(b, beaconBenchDoc(i)))
				if err != nil {
					b.Fatal(err)
				}
				stored = append(stored, bson.Raw(s))
			}
			g := c.guard("bench")
			b.ReportAllocs()
			for b.Loop() {
				_, match, err := c.searchFilter(ctx, g, filter)
				if err != nil {
					b.Fatal(err)
				}
				for _, s := range stored {
					plain, err := c.decryptDoc(ctx, s)
					if err != nil {
						b.Fatal(err)
					}
					if match != nil {
						if ok, err := match.keep(c.beacons, bsoncore.Document(plain)); err != nil || !ok {
							b.Fatal("no match", err)
						}
					}
				}
			}
		})
	}
}

// BenchmarkBeaconCount measures CountDocuments by e-mail (10 matching
// documents of 1000) on the test server for beacon lengths 1, 4 and 16 bits:
// the server returns about 1000 * 2^-length false positives, each read,
// verified and decrypted by the client before it is dropped.
func BenchmarkBeaconCount(b *testing.B) {
	ctx := context.Background()
	const n = 1000
	docs := make([]any, n)
	for i := range docs {
		docs[i] = beaconBenchDoc(i)
	}
	filter := bson.D{{Key: "email", Value: "user042@example.com"}}
	for _, length := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("length=%d", length), func(b *testing.B) {
			c := mustColl(b, mongotest.Collection(b, mongotest.Client(b)), beaconConfig(b, length))
			if _, err := c.InsertMany(ctx, docs); err != nil {
				b.Fatal(err)
			}
			if _, err := c.CreateBeaconIndexes(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if got, err := c.CountDocuments(ctx, filter); err != nil || got != n/100 {
					b.Fatalf("CountDocuments = %d, %v; want %d", got, err, n/100)
				}
			}
		})
	}
}
