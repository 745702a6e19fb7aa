package mongoenc

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

var (
	beaconBranchKey = bytes.Repeat([]byte{0x42}, 32)
	beaconKeyRaw    = bytes.Repeat([]byte{0x5a}, 32)
)

// beaconSearch is the search configuration of the tests: a standard beacon
// of length bits on email, and one on profile.ssn (a dotted path).
func beaconSearch(t testing.TB, length int) (*search.Config, *hierarchy.BranchKey) {
	t.Helper()
	bk, err := hierarchy.NewBranchKey("tenant-key", "4f2e1a0c-8d3b-4c6e-9f7a-1b2c3d4e5f60", beaconBranchKey, beaconKeyRaw)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := search.NewStaticKeys(bk)
	if err != nil {
		t.Fatal(err)
	}
	return &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
		Version: 1, KeyStore: keys,
		KeySource: search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "tenant-key", CacheTTL: time.Hour}},
		StandardBeacons: []search.StandardBeacon{
			{Name: "email", Length: length},
			{Name: "ssn", Loc: "profile.ssn", Length: length},
		},
	}}}, bk
}

// beaconConfig: email and profile.ssn encrypted with beacons, card
// encrypted without, status and i signed; DB-ESDK format with the
// hierarchical keyring of the beacon key's branch key.
func beaconConfig(t testing.TB, length int) Config {
	t.Helper()
	sc, bk := beaconSearch(t, length)
	kr, err := hierarchy.New(hierarchy.NewStatic(bk), func(o *hierarchy.Options) { o.BranchKeyID = "tenant-key" })
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Default: actions.SignOnly,
		Overrides: map[string]actions.Action{
			"email": actions.EncryptAndSign, "card": actions.EncryptAndSign, "profile.ssn": actions.EncryptAndSign,
		},
		Format: itemcrypto.FormatDBESDK,
		DBESDK: &itemcrypto.DBESDKConfig{Keyring: kr},
		Search: sc,
	}
}

type bprofile struct {
	Name string `bson:"name"`
	SSN  string `bson:"ssn"`
}

type bdoc struct {
	ID      int32    `bson:"_id"`
	I       int32    `bson:"i"`
	Email   string   `bson:"email"`
	Card    string   `bson:"card"`
	Status  string   `bson:"status"`
	Profile bprofile `bson:"profile"`
}

var beaconEmails = []string{"ann@example.com", "bob@example.com", "cid@example.com", "dee@example.com", "eve@example.com"}

func bdocs(n int) []bdoc {
	out := make([]bdoc, n)
	for i := range out {
		out[i] = bdoc{ID: int32(i), I: int32(i), Email: beaconEmails[i%len(beaconEmails)], Card: fmt.Sprint("card-", i),
			Status: []string{"a", "b"}[i%2], Profile: bprofile{Name: fmt.Sprint("n", i), SSN: fmt.Sprint("ssn-", i%7)}}
	}
	return out
}

// dbesdkBeacon is the beacon value the search package (proven equal to the
// DB-ESDK's) computes for an attribute of that name holding value, with
// the DynamoDB policy the DB-ESDK would use.
func dbesdkBeacon(t *testing.T, sc *search.Config, beacon, value string) string {
	t.Helper()
	cfg := *sc
	v := cfg.Versions[0]
	v.StandardBeacons = []search.StandardBeacon{{Name: beacon, Length: v.StandardBeacons[0].Length}}
	cfg.Versions = []search.BeaconVersion{v}
	policy, err := actions.New(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "pk"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := search.New(cfg, policy)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.EncryptedBeacons(ctxT(t), search.Item{beacon: &types.AttributeValueMemberS{Value: value}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out[search.BeaconPrefix+beacon].(*types.AttributeValueMemberS).Value
}

// TestBeaconKnownAnswer: the beacons mongoenc stores are the DB-ESDK's
// values for the same configuration and string, beside the document and
// outside its signature (the document still verifies).
func TestBeaconKnownAnswer(t *testing.T) {
	c, plain := serverColl(t, beaconConfig(t, 16))
	ctx := ctxT(t)
	d := bdocs(1)[0]
	if _, err := c.InsertOne(ctx, d); err != nil {
		t.Fatal(err)
	}
	var raw bson.Raw
	if err := plain.FindOne(ctx, bson.D{{Key: "_id", Value: d.ID}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	sc, _ := beaconSearch(t, 16)
	for _, tc := range []struct{ beacon, value string }{{"email", d.Email}, {"ssn", d.Profile.SSN}} {
		got, ok := raw.Lookup(search.BeaconPrefix + tc.beacon).StringValueOK()
		want := dbesdkBeacon(t, sc, tc.beacon, tc.value)
		if !ok || got != want {
			t.Errorf("stored %s%s = %q (string: %v), want the DB-ESDK's %q", search.BeaconPrefix, tc.beacon, got, ok, want)
		}
	}
	if v, ok := raw.Lookup(search.VersionTag).StringValueOK(); !ok || v != " " {
		t.Errorf("stored %s = %q, want \" \"", search.VersionTag, v)
	}
	// Beacons are outside the signature: changing one does not break the
	// document (it only hides it from queries, as with the DB-ESDK).
	if _, err := plain.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "aws_dbe_b_email", Value: "0000"}}}}); err != nil {
		t.Fatal(err)
	}
	var got bdoc
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: d.ID}}).Decode(&got); err != nil || got != d {
		t.Fatalf("FindOne after a beacon change = %+v, %v; want %+v", got, err, d)
	}
	// A replacement gets fresh beacons.
	d.Email = "new@example.com"
	if _, err := c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, d); err != nil {
		t.Fatal(err)
	}
	if err := plain.FindOne(ctx, bson.D{{Key: "_id", Value: d.ID}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if got, want := raw.Lookup("aws_dbe_b_email").StringValue(), dbesdkBeacon(t, sc, "email", d.Email); got != want {
		t.Errorf("after ReplaceOne: aws_dbe_b_email = %q, want %q", got, want)
	}
	// BulkWrite and FindOneAndReplace write beacons too; a null field gets none.
	d2 := bdocs(3)[2]
	d2.Email = "bulk@example.com"
	if _, err := c.BulkWrite(ctx, []mongo.WriteModel{mongo.NewInsertOneModel().SetDocument(d2)}); err != nil {
		t.Fatal(err)
	}
	d2.Email = "far@example.com"
	if err := c.FindOneAndReplace(ctx, bson.D{{Key: "_id", Value: d2.ID}}, d2).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: 9}, {Key: "email", Value: nil}}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int32]string{d2.ID: dbesdkBeacon(t, sc, "email", d2.Email), 9: ""} {
		if err := plain.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&raw); err != nil {
			t.Fatal(err)
		}
		if got, _ := raw.Lookup("aws_dbe_b_email").StringValueOK(); got != want {
			t.Errorf("_id %d: aws_dbe_b_email = %q, want %q", id, got, want)
		}
	}
	var found []bdoc
	cur, err := c.Find(ctx, bson.D{{Key: "email", Value: d2.Email}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.All(ctx, &found); err != nil || len(found) != 1 || found[0] != d2 {
		t.Errorf("Find of the replaced email = %+v, %v; want [%+v]", found, err, d2)
	}
}

// TestBeaconFindExact: with a 1-bit beacon every query's server answer
// holds false positives on every page (BatchSize 3); Find and FindOne
// return exactly the matching documents.
func TestBeaconFindExact(t *testing.T) {
	c, plain := serverColl(t, beaconConfig(t, 1))
	ctx := ctxT(t)
	all := bdocs(40)
	if _, err := c.InsertMany(ctx, all[:30]); err != nil {
		t.Fatal(err)
	}
	for _, d := range all[30:] {
		if _, err := c.InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	// The beacon collides: the server alone would return too much.
	var raw bson.Raw
	if err := plain.FindOne(ctx, bson.D{{Key: "_id", Value: 0}}).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	n, err := plain.CountDocuments(ctx, bson.D{{Key: "aws_dbe_b_email", Value: raw.Lookup("aws_dbe_b_email").StringValue()}})
	if err != nil || n <= 8 {
		t.Fatalf("documents sharing ann's 1-bit beacon: %d, %v; want more than ann's 8", n, err)
	}

	e0, e1 := beaconEmails[0], beaconEmails[1]
	cases := []struct {
		name   string
		filter any
		want   func(bdoc) bool
	}{
		{"implicit", bson.D{{Key: "email", Value: e0}}, func(d bdoc) bool { return d.Email == e0 }},
		{"$eq", bson.D{{Key: "email", Value: bson.D{{Key: "$eq", Value: e1}}}}, func(d bdoc) bool { return d.Email == e1 }},
		{"$in", bson.D{{Key: "email", Value: bson.D{{Key: "$in", Value: bson.A{e0, e1}}}}}, func(d bdoc) bool { return d.Email == e0 || d.Email == e1 }},
		{"none", bson.D{{Key: "email", Value: "nobody@example.com"}}, func(bdoc) bool { return false }},
		{"dotted", bson.D{{Key: "profile.ssn", Value: "ssn-3"}}, func(d bdoc) bool { return d.Profile.SSN == "ssn-3" }},
		{"with plaintext", bson.D{{Key: "email", Value: e0}, {Key: "status", Value: "b"}}, func(d bdoc) bool { return d.Email == e0 && d.Status == "b" }},
		{"with range", bson.D{{Key: "email", Value: e0}, {Key: "i", Value: bson.D{{Key: "$gte", Value: 10}}}}, func(d bdoc) bool { return d.Email == e0 && d.I >= 10 }},
		{"$and", bson.D{{Key: "$and", Value: bson.A{bson.D{{Key: "email", Value: e1}}, bson.D{{Key: "profile.ssn", Value: "ssn-1"}}}}},
			func(d bdoc) bool { return d.Email == e1 && d.Profile.SSN == "ssn-1" }},
		{"$or plaintext", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "email", Value: e0}}, bson.D{{Key: "status", Value: "a"}}}}},
			func(d bdoc) bool { return d.Email == e0 || d.Status == "a" }},
		{"$or beacons", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "email", Value: e1}}, bson.D{{Key: "profile.ssn", Value: "ssn-2"}}}}},
			func(d bdoc) bool { return d.Email == e1 || d.Profile.SSN == "ssn-2" }},
		{"$or $in plaintext", bson.D{{Key: "status", Value: "a"}, {Key: "$or", Value: bson.A{
			bson.D{{Key: "email", Value: e1}}, bson.D{{Key: "i", Value: bson.D{{Key: "$in", Value: bson.A{1, 2, int64(3), 4.0}}}}}}}},
			func(d bdoc) bool { return d.Status == "a" && (d.Email == e1 || (d.I >= 1 && d.I <= 4)) }},
		{"$or inside $and with range", bson.D{{Key: "i", Value: bson.D{{Key: "$lt", Value: 30}}}, {Key: "$or", Value: bson.A{
			bson.D{{Key: "email", Value: e0}}, bson.D{{Key: "$and", Value: bson.A{bson.D{{Key: "status", Value: "b"}}, bson.D{{Key: "profile.name", Value: "n7"}}}}}}}},
			func(d bdoc) bool { return d.I < 30 && (d.Email == e0 || (d.Status == "b" && d.Profile.Name == "n7")) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want []bdoc
			for _, d := range all {
				if tc.want(d) {
					want = append(want, d)
				}
			}
			cur, err := c.Find(ctx, tc.filter, optsSortByI(), options.Find().SetBatchSize(3))
			if err != nil {
				t.Fatal(err)
			}
			var got []bdoc
			if err := cur.All(ctx, &got); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("Find = %v\nwant %v", ids(got), ids(want))
			}
			// Skip and limit count matching documents only.
			cur, err = c.Find(ctx, tc.filter, optsSortByI(), options.Find().SetBatchSize(2).SetSkip(1).SetLimit(2))
			if err != nil {
				t.Fatal(err)
			}
			got = nil
			if err := cur.All(ctx, &got); err != nil {
				t.Fatal(err)
			}
			wantPage := want[min(1, len(want)):min(3, len(want))]
			if !slices.Equal(got, wantPage) && !(len(got) == 0 && len(wantPage) == 0) {
				t.Fatalf("Find skip 1 limit 2 = %v, want %v", ids(got), ids(wantPage))
			}
			// FindOne: the first match, not the server's first (maybe false) hit.
			var one bdoc
			err = c.FindOne(ctx, tc.filter, options.FindOne().SetSort(bson.D{{Key: "i", Value: -1}})).Decode(&one)
			switch {
			case len(want) == 0:
				if !errors.Is(err, mongo.ErrNoDocuments) {
					t.Fatalf("FindOne = %+v, %v; want ErrNoDocuments", one, err)
				}
			case err != nil || one != want[len(want)-1]:
				t.Fatalf("FindOne = %+v, %v; want %+v", one, err, want[len(want)-1])
			}
		})
	}
}

func ids(ds []bdoc) []int32 {
	out := make([]int32, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// TestBeaconRefusals: what a beacon cannot answer exactly is refused with
// an *UnsafeOperationError before anything is sent (the collection's server
// does not exist).
func TestBeaconRefusals(t *testing.T) {
	c := offlineColl(t, beaconConfig(t, 8))
	ctx := ctxT(t)
	eq := func(k string, v any) bson.D { return bson.D{{Key: k, Value: v}} }
	filters := map[string]any{
		"$gt":                   eq("email", eq("$gt", "a")),
		"$ne":                   eq("email", eq("$ne", "a")),
		"$not":                  eq("email", eq("$not", eq("$eq", "a"))),
		"$regex":                eq("email", eq("$regex", "^a")),
		"regex literal":         eq("email", bson.Regex{Pattern: "^a"}),
		"number":                eq("email", 5),
		"null":                  eq("email", nil),
		"document":              eq("email", eq("x", "a")),
		"$in number":            eq("email", eq("$in", bson.A{"a", 5})),
		"$nor over $gt":         eq("$nor", bson.A{eq("email", eq("$gt", "a"))}),
		"$nor with plain range": eq("$nor", bson.A{eq("$and", bson.A{eq("email", "a"), eq("i", eq("$gt", 3))})}),
		"$expr":                 eq("$expr", eq("$eq", bson.A{"$email", "a"})),
		"$where":                eq("$where", "this.email == 'a'"),
		"$or with plain range":  eq("$or", bson.A{eq("email", "a"), eq("i", eq("$gt", 3))}),
		"encrypted no beacon":   eq("card", "x"),
		"inside beacon field":   eq("profile", eq("ssn", "x")),
	}
	for name, f := range filters {
		_, err := c.Find(ctx, f)
		wantUnsafe(t, "Find "+name, err, "")
		wantUnsafe(t, "FindOne "+name, c.FindOne(ctx, f).Err(), "")
	}
	coll := options.Find().SetCollation(&options.Collation{Locale: "en", Strength: 2})
	_, err := c.Find(ctx, eq("email", "a"), coll)
	wantUnsafe(t, "Find with a collation", err, "")
	err = c.FindOne(ctx, eq("email", "a"), options.FindOne().SetCollation(&options.Collation{Locale: "en"})).Err()
	wantUnsafe(t, "FindOne with a collation", err, "")
	// The other operations: TestBeaconWriteRefusals.
	// A beaconed field that is not a string is refused on write.
	_, err = c.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "email", Value: 5}})
	var de *DocumentError
	if !errors.Is(err, ErrBeaconValue) || !errors.As(err, &de) {
		t.Errorf("InsertOne with a number in email: %v, want ErrBeaconValue in a *DocumentError", err)
	}
	_, err = c.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "profile", Value: bson.A{bson.D{{Key: "ssn", Value: "x"}}}}})
	if !errors.Is(err, ErrArrayOnPath) {
		t.Errorf("InsertOne with an array on profile.ssn: %v, want ErrArrayOnPath", err)
	}
}

// TestBeaconConfig: the configurations NewCollection refuses.
func TestBeaconConfig(t *testing.T) {
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1/"))
	if err != nil {
		t.Fatal(err)
	}
	coll := client.Database("db").Collection("coll")
	for name, tc := range map[string]struct {
		edit func(*Config)
		want error
	}{
		"legacy override": {func(c *Config) {
			c.DBESDK.LegacyPolicy = itemcrypto.ForbidLegacyEncryptAllowLegacyDecrypt
			c.Provider = cmptestProvider("legacy")
		}, itemcrypto.ErrOverrideWithBeacons},
		"plaintext override": {func(c *Config) {
			c.DBESDK.PlaintextPolicy = itemcrypto.ForbidPlaintextWriteAllowPlaintextRead
		}, itemcrypto.ErrOverrideWithBeacons},
		"signed field": {func(c *Config) {
			c.Search.Versions[0].StandardBeacons[0].Loc = "status"
		}, search.ErrInvalidConfig},
		"compound without parts": {func(c *Config) {
			c.Search.Versions[0].CompoundBeacons = []search.CompoundBeacon{{Name: "x", Split: "."}}
		}, search.ErrInvalidConfig},
		"same field": {func(c *Config) {
			c.Search.Versions[0].StandardBeacons[1].Loc = "email"
		}, search.ErrInvalidConfig},
		"array index": {func(c *Config) {
			c.Search.Versions[0].StandardBeacons[1].Loc = "profile[0]"
		}, search.ErrInvalidConfig},
	} {
		cfg := beaconConfig(t, 8)
		tc.edit(&cfg)
		if _, err := NewCollection(coll, cfg); !errors.Is(err, tc.want) {
			t.Errorf("%s: NewCollection: %v, want %v", name, err, tc.want)
		}
	}
	cfg := beaconConfig(t, 8)
	cfg.Format = itemcrypto.FormatDDBEC
	cfg.Provider = cmptestProvider("p")
	if _, err := NewCollection(coll, cfg); err == nil {
		t.Error("Search with the DDBEC format accepted")
	}
}
