package mongoenc_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/mongoenc"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/mongotest"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// TestREADMEBeacons runs the README's beacon example (the code between the
// README markers, which must be the README's block verbatim) against the
// test server.
func TestREADMEBeacons(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	coll := mongotest.Collection(t, mongotest.Client(t))
	branchKey, err := hierarchy.NewBranchKey("tenant-key", "4f2e1a0c-8d3b-4c6e-9f7a-1b2c3d4e5f60",
		[]byte(strings.Repeat("k", 32)), []byte(strings.Repeat("b", 32)))
	if err != nil {
		t.Fatal(err)
	}
	run := func() ([]string, error) {
		// README begin
		keyring, err := hierarchy.New(hierarchy.NewStatic(branchKey),
			func(o *hierarchy.Options) { o.BranchKeyID = "tenant-key" })
		if err != nil {
			return nil, err
		}
		beaconKeys, err := search.NewStaticKeys(branchKey) // or the branch key store: *keystore.Store
		if err != nil {
			return nil, err
		}
		customers, err := mongoenc.NewCollection(coll, mongoenc.Config{
			Default:   actions.SignOnly,
			Overrides: map[string]actions.Action{"email": actions.EncryptAndSign, "profile.ssn": actions.EncryptAndSign},
			Format:    itemcrypto.FormatDBESDK,
			DBESDK:    &itemcrypto.DBESDKConfig{Keyring: keyring},
			Search: &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
				Version: 1, KeyStore: beaconKeys,
				KeySource: search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "tenant-key", CacheTTL: time.Hour}},
				StandardBeacons: []search.StandardBeacon{
					{Name: "email", Length: 8},                   // stored as aws_dbe_b_email
					{Name: "ssn", Loc: "profile.ssn", Length: 8}, // a dotted path
				},
			}}},
		})
		if err != nil {
			return nil, err
		}
		_, err = customers.InsertMany(ctx, []bson.D{
			{{Key: "_id", Value: 1}, {Key: "email", Value: "ada@example.com"}, {Key: "tier", Value: "gold"}},
			{{Key: "_id", Value: 2}, {Key: "email", Value: "bob@example.com"}, {Key: "tier", Value: "free"}},
		})
		if err != nil {
			return nil, err
		}
		cur, err := customers.Find(ctx, bson.D{
			{Key: "email", Value: bson.D{{Key: "$in", Value: bson.A{"ada@example.com", "eve@example.com"}}}},
			{Key: "tier", Value: "gold"},
		}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return nil, err
		}
		var found []struct {
			Email string `bson:"email"`
		}
		err = cur.All(ctx, &found) // exactly the matches: beacon collisions are dropped after decryption
		// README end
		var out []string
		for _, f := range found {
			out = append(out, f.Email)
		}
		return out, err
	}
	got, err := run()
	if err != nil || len(got) != 1 || got[0] != "ada@example.com" {
		t.Fatalf("found %v, %v; want [ada@example.com]", got, err)
	}
	wantREADMEBlock(t, "README begin", "README end")

	// The compound beacon example, with the keyring and beacon keys above.
	keyring, err := hierarchy.New(hierarchy.NewStatic(branchKey), func(o *hierarchy.Options) { o.BranchKeyID = "tenant-key" })
	if err != nil {
		t.Fatal(err)
	}
	beaconKeys, err := search.NewStaticKeys(branchKey)
	if err != nil {
		t.Fatal(err)
	}
	coll = mongotest.Collection(t, mongotest.Client(t))
	compound := func() ([]int64, error) {
		// README compound begin
		orders, err := mongoenc.NewCollection(coll, mongoenc.Config{
			Default:   actions.SignOnly,
			Overrides: map[string]actions.Action{"email": actions.EncryptAndSign, "tags": actions.EncryptAndSign},
			Format:    itemcrypto.FormatDBESDK,
			DBESDK:    &itemcrypto.DBESDKConfig{Keyring: keyring},
			Search: &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
				Version: 1, KeyStore: beaconKeys,
				KeySource: search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "tenant-key", CacheTTL: time.Hour}},
				StandardBeacons: []search.StandardBeacon{
					{Name: "email", Length: 8},
					{Name: "tags", Length: 8, Style: search.AsSet()}, // an array of strings
				},
				CompoundBeacons: []search.CompoundBeacon{{
					Name: "KindEmail", Split: "|", // aws_dbe_b_KindEmail = "K-<kind>|E-<email's beacon>"
					Signed:    []search.SignedPart{{Name: "kind", Prefix: "K-"}},
					Encrypted: []search.EncryptedPart{{Name: "email", Prefix: "E-"}},
				}},
			}}},
		})
		if err != nil {
			return nil, err
		}
		_, err = orders.InsertMany(ctx, []bson.D{
			{{Key: "_id", Value: 1}, {Key: "kind", Value: "admin"}, {Key: "email", Value: "ann@example.com"}, {Key: "tags", Value: bson.A{"red", "blue"}}},
			{{Key: "_id", Value: 2}, {Key: "kind", Value: "admin"}, {Key: "email", Value: "bob@example.com"}, {Key: "tags", Value: bson.A{"red"}}},
			{{Key: "_id", Value: 3}, {Key: "kind", Value: "user"}, {Key: "email", Value: "ann@example.com"}, {Key: "tags", Value: bson.A{"blue"}}},
		})
		if err != nil {
			return nil, err
		}
		var counts []int64
		for _, filter := range []bson.D{
			mongoenc.BeginsWith("KindEmail", "K-admin|E-"),                // a prefix: 2
			{{Key: "KindEmail", Value: "K-admin|E-ann@example.com"}},      // equality: 1
			mongoenc.BeginsWith("KindEmail", "K-admin|E-ann@example.com"), // a whole e-mail: 1
			{{Key: "tags", Value: "blue"}},                                // set membership: 2
			append(mongoenc.BeginsWith("KindEmail", "K-admin"), bson.E{Key: "$nor", Value: bson.A{
				bson.D{{Key: "tags", Value: "blue"}}, // admins without blue: 1
			}}),
		} {
			n, err := orders.CountDocuments(ctx, filter)
			if err != nil {
				return nil, err
			}
			counts = append(counts, n)
		}
		// README compound end
		return counts, nil
	}
	counts, err := compound()
	if err != nil || !slices.Equal(counts, []int64{2, 1, 1, 2, 1}) {
		t.Fatalf("compound example: counts %v, %v; want [2 1 1 2 1]", counts, err)
	}
	wantREADMEBlock(t, "README compound begin", "README compound end")
}

// wantREADMEBlock fails unless README.md holds, as a Go block, the code of
// this file between the markers // <begin> and // <end> (one tab less, with
// `return err` for `return nil, err`).
func wantREADMEBlock(t *testing.T, begin, end string) {
	t.Helper()
	src, err := os.ReadFile("readme_beacons_test.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	from, to := strings.Index(s, "// "+begin+"\n"), strings.Index(s, "\t\t// "+end)
	if from < 0 || to < from {
		t.Fatalf("markers %q and %q not found", begin, end)
	}
	body := s[from+len("// "+begin+"\n") : to]
	body = strings.ReplaceAll("\n"+body, "\n\t\t", "\n")[1:]
	body = strings.ReplaceAll(body, "return nil, err", "return err")
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```go\n"+body+"```\n") {
		t.Errorf("README.md lacks the example of readme_beacons_test.go between %q and %q (one tab less, "+
			"`return err`):\n%s", begin, end, body)
	}
}
