package mongoenc

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// compoundSearch is the search configuration of the compound tests, all
// beacons of length bits:
//   - email: a standard beacon; KindEmail: compound, K-<kind>|E-<beacon>;
//   - tags: an AsSet beacon on an array of strings;
//   - nameKey: a standard beacon on the virtual field fullname
//     (lower-case first, a space, lower-case last);
//   - KindRegion: a signed beacon K-<kind>|R-<meta.region>;
//   - RegionName: compound of global parts, R-<meta.region>|N-<nameKey's
//     beacon>, the name optional.
func compoundSearch(t testing.TB, length int) *search.Config {
	t.Helper()
	sc, _ := beaconSearch(t, length)
	v := sc.Versions[0]
	v.StandardBeacons = []search.StandardBeacon{
		{Name: "email", Length: length},
		{Name: "tags", Length: length, Style: search.AsSet()},
		{Name: "nameKey", Loc: "fullname", Length: length},
	}
	v.VirtualFields = []search.VirtualField{{Name: "fullname", Parts: []search.VirtualPart{
		{Loc: "first", Transforms: []search.Transform{search.Lower(), search.Insert(" ")}},
		{Loc: "last", Transforms: []search.Transform{search.Lower()}},
	}}}
	v.CompoundBeacons = []search.CompoundBeacon{
		{Name: "KindEmail", Split: "|", Signed: []search.SignedPart{{Name: "kind", Prefix: "K-"}},
			Encrypted: []search.EncryptedPart{{Name: "email", Prefix: "E-"}}},
		{Name: "KindRegion", Split: "|", Signed: []search.SignedPart{{Name: "kind", Prefix: "K-"}, {Name: "region", Prefix: "R-", Loc: "meta.region"}}},
		{Name: "RegionName", Split: "|", Constructors: []search.Constructor{{Parts: []search.ConstructorPart{
			{Name: "reg", Required: true}, {Name: "nameKey", Required: false}}}}},
	}
	v.SignedParts = []search.SignedPart{{Name: "reg", Prefix: "R-", Loc: "meta.region"}}
	v.EncryptedParts = []search.EncryptedPart{{Name: "nameKey", Prefix: "N-"}}
	sc.Versions = []search.BeaconVersion{v}
	return sc
}

func compoundConfig(t testing.TB, length int) Config {
	t.Helper()
	cfg := beaconConfig(t, length)
	cfg.Overrides = map[string]actions.Action{
		"email": actions.EncryptAndSign, "tags": actions.EncryptAndSign, "first": actions.EncryptAndSign,
		"last": actions.EncryptAndSign, "notes": actions.DoNothing,
	}
	cfg.DBESDK.AllowedUnsigned = []string{"notes"}
	cfg.Search = compoundSearch(t, length)
	return cfg
}

type cmeta struct {
	Region string `bson:"region"`
}

type cdoc struct {
	ID    int32    `bson:"_id"`
	I     int32    `bson:"i"`
	Email string   `bson:"email"`
	Kind  string   `bson:"kind"`
	Tags  []string `bson:"tags"`
	First string   `bson:"first"`
	Last  string   `bson:"last"`
	Meta  cmeta    `bson:"meta"`
}

// compoundEmails holds pairs where one is a prefix of the other, whose
// 1-bit beacons collide: a prefix query must still tell them apart.
var compoundEmails = []string{"ann@x.io", "ann@x.iox", "bob@x.io", "bob@x.io.uk", "cid@x.io"}

var compoundTags = [][]string{{"red"}, {"red", "blue"}, {"blue", "green", "blue"}, {}, {"green"}}

func cdocs(n int) []cdoc {
	out := make([]cdoc, n)
	for i := range out {
		out[i] = cdoc{ID: int32(i), I: int32(i), Email: compoundEmails[i%len(compoundEmails)],
			Kind: []string{"admin", "user", "guest"}[i%3], Tags: compoundTags[i%len(compoundTags)],
			First: []string{"Ann", "Bob"}[i%2], Last: []string{"Smith", "Jones", "Lee"}[i%3],
			Meta: cmeta{Region: []string{"eu", "us"}[i%2]}}
	}
	return out
}

// dbesdkItemBeacons is what the search package (proven equal to the
// DB-ESDK) writes for the DynamoDB item holding d's values under the same
// configuration: the signed beacons and the encrypted beacons.
func dbesdkItemBeacons(t *testing.T, sc *search.Config, d cdoc) search.Item {
	t.Helper()
	policy, err := actions.New(actions.Options{Default: actions.SignOnly, PartitionKey: "pk",
		Overrides: map[string]actions.Action{"email": actions.EncryptAndSign, "tags": actions.EncryptAndSign,
			"first": actions.EncryptAndSign, "last": actions.EncryptAndSign}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := search.New(*sc, policy)
	if err != nil {
		t.Fatal(err)
	}
	item := search.Item{
		"pk": &types.AttributeValueMemberN{Value: fmt.Sprint(d.ID)}, "email": &types.AttributeValueMemberS{Value: d.Email},
		"kind": &types.AttributeValueMemberS{Value: d.Kind}, "first": &types.AttributeValueMemberS{Value: d.First},
		"last": &types.AttributeValueMemberS{Value: d.Last},
		"meta": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"region": &types.AttributeValueMemberS{Value: d.Meta.Region}}},
	}
	if len(d.Tags) > 0 {
		var set []string
		for _, tag := range d.Tags {
			if !slices.Contains(set, tag) {
				set = append(set, tag)
			}
		}
		item["tags"] = &types.AttributeValueMemberSS{Value: set}
	}
	signed, err := s.AddSignedBeacons(item)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.EncryptedBeacons(ctxT(t), item, nil)
	if err != nil {
		t.Fatal(err)
	}
	out["KindRegion"] = signed["KindRegion"]
	return out
}

// TestCompoundKnownAnswer: the compound, AsSet, virtual-field and signed
// beacons mongoenc stores are the DB-ESDK's values for the same strings,
// under the same names; the signed beacon is a signed field of the
// document, returned with it.
func TestCompoundKnownAnswer(t *testing.T) {
	c, plain := serverColl(t, compoundConfig(t, 16))
	ctx := ctxT(t)
	all := cdocs(5)
	if _, err := c.InsertMany(ctx, all); err != nil {
		t.Fatal(err)
	}
	sc := compoundSearch(t, 16)
	for _, d := range all {
		var raw bson.Raw
		if err := plain.FindOne(ctx, bson.D{{Key: "_id", Value: d.ID}}).Decode(&raw); err != nil {
			t.Fatal(err)
		}
		want := dbesdkItemBeacons(t, sc, d)
		for _, name := range []string{"aws_dbe_b_email", "aws_dbe_b_KindEmail", "aws_dbe_b_nameKey", "aws_dbe_b_RegionName", "KindRegion", search.VersionTag} {
			got, _ := raw.Lookup(name).StringValueOK()
			if w := want[name].(*types.AttributeValueMemberS).Value; got != w {
				t.Errorf("_id %d: stored %s = %q, want the DB-ESDK's %q", d.ID, name, got, w)
			}
		}
		var tags []string
		if v, err := raw.LookupErr("aws_dbe_b_tags"); err == nil {
			if err := v.Unmarshal(&tags); err != nil {
				t.Fatal(err)
			}
		}
		var wantTags []string
		if ss, ok := want["aws_dbe_b_tags"].(*types.AttributeValueMemberSS); ok {
			wantTags = ss.Value
		}
		if !slices.Equal(tags, wantTags) {
			t.Errorf("_id %d: stored aws_dbe_b_tags = %v, want the DB-ESDK's %v", d.ID, tags, wantTags)
		}
		var got bson.M
		if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: d.ID}}).Decode(&got); err != nil {
			t.Fatal(err)
		}
		if got["KindRegion"] != "K-"+d.Kind+"|R-"+d.Meta.Region {
			t.Errorf("_id %d: the decrypted document's KindRegion = %v", d.ID, got["KindRegion"])
		}
	}
	// The signed beacon is signed: altering it fails verification.
	if _, err := plain.UpdateOne(ctx, bson.D{{Key: "_id", Value: 0}}, bson.D{{Key: "$set", Value: bson.D{{Key: "KindRegion", Value: "K-user|R-eu"}}}}); err != nil {
		t.Fatal(err)
	}
	wantAuthFailure(t, "FindOne of an altered signed beacon", c.FindOne(ctx, bson.D{{Key: "_id", Value: 0}}).Err(), int32(0))
	// A document read back (with its signed beacon) is written again as is.
	var d1 bson.D
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Decode(&d1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: 1}}, d1); err != nil {
		t.Errorf("ReplaceOne of the document read back: %v", err)
	}
}

func cids(ds []cdoc) []int32 {
	out := make([]int32, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// compoundFixture inserts cdocs(n) into a collection with 1-bit beacons.
func compoundFixture(t *testing.T, n int) (*Collection, *mongo.Collection, []cdoc) {
	t.Helper()
	c, plain := serverColl(t, compoundConfig(t, 1))
	all := cdocs(n)
	if _, err := c.InsertMany(ctxT(t), all); err != nil {
		t.Fatal(err)
	}
	return c, plain, all
}

// storedCount counts the stored documents the raw filter selects.
func storedCount(t *testing.T, plain *mongo.Collection, filter any) int64 {
	t.Helper()
	n, err := plain.CountDocuments(ctxT(t), filter)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCompoundFindExact: with 1-bit beacons every page (BatchSize 3) holds
// false positives; Find, FindOne and CountDocuments return exactly the
// documents the filter matches on the plaintext, for compound equality and
// prefixes, AsSet membership, a virtual field's beacon, a signed beacon and
// $nor, without and with beacon partitions (a query then compares the
// values of every partition).
func TestCompoundFindExact(t *testing.T) {
	for _, partitions := range []int{1, 3} {
		t.Run(fmt.Sprint(partitions, " partitions"), func(t *testing.T) { compoundFindExact(t, partitions) })
	}
}

func compoundFindExact(t *testing.T, partitions int) {
	cfg := compoundConfig(t, 1)
	cfg.Search.Versions[0].MaximumNumberOfPartitions = partitions
	c, plain := serverColl(t, cfg)
	all := cdocs(45)
	ctx := ctxT(t)
	if _, err := c.InsertMany(ctx, all); err != nil {
		t.Fatal(err)
	}
	// The fixture proves something: the encrypted pieces of ann@x.io and
	// ann@x.iox, and of bob@x.io and bob@x.io.uk, share their 1-bit beacon
	// (in one partition; with several, each document is in a random one).
	for _, pair := range [][2]int32{{0, 1}, {2, 3}} {
		if partitions > 1 {
			break
		}
		var a, b bson.Raw
		if err := plain.FindOne(ctx, bson.D{{Key: "_id", Value: pair[0]}}).Decode(&a); err != nil {
			t.Fatal(err)
		}
		if err := plain.FindOne(ctx, bson.D{{Key: "_id", Value: pair[1]}}).Decode(&b); err != nil {
			t.Fatal(err)
		}
		if a.Lookup("aws_dbe_b_email").StringValue() != b.Lookup("aws_dbe_b_email").StringValue() {
			t.Fatalf("_id %d and %d: the e-mail beacons differ; pick other e-mails so that a prefix query sees a collision", pair[0], pair[1])
		}
	}
	if n := storedCount(t, plain, bson.D{{Key: "aws_dbe_b_tags", Value: bson.D{{Key: "$exists", Value: true}}}}); n == 0 {
		t.Fatal("no tags beacon stored")
	}
	has := func(tags []string, tag string) bool { return slices.Contains(tags, tag) }
	eq := func(k string, v any) bson.D { return bson.D{{Key: k, Value: v}} }
	cases := []struct {
		name   string
		filter any
		want   func(cdoc) bool
	}{
		{"compound eq", eq("KindEmail", "K-admin|E-ann@x.io"), func(d cdoc) bool { return d.Kind == "admin" && d.Email == "ann@x.io" }},
		{"compound $in", eq("KindEmail", eq("$in", bson.A{"K-user|E-bob@x.io", "K-guest|E-ann@x.iox"})),
			func(d cdoc) bool {
				return d.Kind == "user" && d.Email == "bob@x.io" || d.Kind == "guest" && d.Email == "ann@x.iox"
			}},
		{"compound $eq", eq("KindEmail", eq("$eq", "K-user|E-cid@x.io")), func(d cdoc) bool { return d.Kind == "user" && d.Email == "cid@x.io" }},
		{"prefix signed piece", BeginsWith("KindEmail", "K-admin"), func(d cdoc) bool { return d.Kind == "admin" }},
		{"prefix cut signed piece", BeginsWith("KindEmail", "K-adm"), func(d cdoc) bool { return d.Kind == "admin" }},
		{"prefix bare part prefix", BeginsWith("KindEmail", "K-user|E-"), func(d cdoc) bool { return d.Kind == "user" }},
		{"prefix encrypted whole", BeginsWith("KindEmail", "K-admin|E-ann@x.io"), func(d cdoc) bool { return d.Kind == "admin" && d.Email == "ann@x.io" }},
		{"prefix encrypted whole 2", BeginsWith("KindEmail", "K-guest|E-bob@x.io"), func(d cdoc) bool { return d.Kind == "guest" && d.Email == "bob@x.io" }},
		{"prefix encrypted first", BeginsWith("KindEmail", "E-bob@x.io"), func(d cdoc) bool { return false }},
		{"$regex escaped", eq("KindEmail", eq("$regex", `^K-admin\|E-ann@x\.io`)), func(d cdoc) bool { return d.Kind == "admin" && d.Email == "ann@x.io" }},
		{"$regex \\Q\\E", eq("KindEmail", bson.D{{Key: "$regex", Value: `^\QK-user|E-\E`}, {Key: "$options", Value: ""}}), func(d cdoc) bool { return d.Kind == "user" }},
		{"regex value", eq("KindEmail", bson.Regex{Pattern: `^K-guest`}), func(d cdoc) bool { return d.Kind == "guest" }},
		{"compound with plaintext", bson.D{{Key: "i", Value: bson.D{{Key: "$gte", Value: 10}}}, {Key: "KindEmail", Value: "K-admin|E-ann@x.io"}},
			func(d cdoc) bool { return d.I >= 10 && d.Kind == "admin" && d.Email == "ann@x.io" }},
		{"signed beacon eq", eq("KindRegion", "K-admin|R-eu"), func(d cdoc) bool { return d.Kind == "admin" && d.Meta.Region == "eu" }},
		{"signed beacon prefix", BeginsWith("KindRegion", "K-guest|R-"), func(d cdoc) bool { return d.Kind == "guest" }},
		{"global parts eq", eq("RegionName", "R-eu|N-ann smith"), func(d cdoc) bool { return d.Meta.Region == "eu" && d.First == "Ann" && d.Last == "Smith" }},
		{"global parts prefix", BeginsWith("RegionName", "R-us|N-bob lee"), func(d cdoc) bool { return d.Meta.Region == "us" && d.First == "Bob" && d.Last == "Lee" }},
		{"global parts region", BeginsWith("RegionName", "R-eu"), func(d cdoc) bool { return d.Meta.Region == "eu" }},
		{"tags member", eq("tags", "red"), func(d cdoc) bool { return has(d.Tags, "red") }},
		{"tags $eq", eq("tags", eq("$eq", "green")), func(d cdoc) bool { return has(d.Tags, "green") }},
		{"tags $in", eq("tags", eq("$in", bson.A{"red", "green"})), func(d cdoc) bool { return has(d.Tags, "red") || has(d.Tags, "green") }},
		{"tags $all", eq("tags", eq("$all", bson.A{"blue", "red"})), func(d cdoc) bool { return has(d.Tags, "red") && has(d.Tags, "blue") }},
		{"tags none", eq("tags", "purple"), func(cdoc) bool { return false }},
		{"virtual", eq("nameKey", "ann smith"), func(d cdoc) bool { return d.First == "Ann" && d.Last == "Smith" }},
		{"virtual $in", eq("nameKey", eq("$in", bson.A{"bob lee", "ann jones"})),
			func(d cdoc) bool { return d.First == "Bob" && d.Last == "Lee" || d.First == "Ann" && d.Last == "Jones" }},
		{"$nor", eq("$nor", bson.A{eq("email", "ann@x.io")}), func(d cdoc) bool { return d.Email != "ann@x.io" }},
		{"$nor compound and plain", bson.D{{Key: "kind", Value: "user"}, {Key: "$nor", Value: bson.A{
			BeginsWith("KindEmail", "K-user|E-bob@x.io"), eq("i", eq("$lt", 5)), eq("tags", "red")}}},
			func(d cdoc) bool { return d.Kind == "user" && d.Email != "bob@x.io" && d.I >= 5 && !has(d.Tags, "red") }},
		{"$or of beacons", eq("$or", bson.A{eq("tags", "green"), eq("KindEmail", "K-admin|E-cid@x.io"), eq("nameKey", "bob jones")}),
			func(d cdoc) bool {
				return has(d.Tags, "green") || d.Kind == "admin" && d.Email == "cid@x.io" || d.First == "Bob" && d.Last == "Jones"
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want []cdoc
			for _, d := range all {
				if tc.want(d) {
					want = append(want, d)
				}
			}
			cur, err := c.Find(ctx, tc.filter, options.Find().SetSort(bson.D{{Key: "i", Value: 1}}).SetBatchSize(3))
			if err != nil {
				t.Fatal(err)
			}
			var got []cdoc
			if err := cur.All(ctx, &got); err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, want, func(a, b cdoc) bool { return a.ID == b.ID }) {
				t.Fatalf("Find = %v\nwant %v", cids(got), cids(want))
			}
			n, err := c.CountDocuments(ctx, tc.filter)
			if err != nil || n != int64(len(want)) {
				t.Fatalf("CountDocuments = %d, %v; want %d", n, err, len(want))
			}
			var one cdoc
			err = c.FindOne(ctx, tc.filter, options.FindOne().SetSort(bson.D{{Key: "i", Value: -1}})).Decode(&one)
			switch {
			case len(want) == 0:
				if !errors.Is(err, mongo.ErrNoDocuments) {
					t.Fatalf("FindOne = %+v, %v; want ErrNoDocuments", one, err)
				}
			case err != nil || one.ID != want[len(want)-1].ID:
				t.Fatalf("FindOne = %d, %v; want %d", one.ID, err, want[len(want)-1].ID)
			}
		})
	}
}

// cmatching is matching for cdocs.
func cmatching(all []cdoc, pred func(cdoc) bool) map[int32]bool {
	out := map[int32]bool{}
	for _, d := range all {
		if pred(d) {
			out[d.ID] = true
		}
	}
	return out
}

// TestCompoundWritesExact: UpdateMany, DeleteMany, UpdateOne and a
// BulkWrite filtered on a compound prefix, AsSet membership or a $nor touch
// exactly the matching documents; every colliding document stays byte for
// byte as it was.
func TestCompoundWritesExact(t *testing.T) {
	smallPinBatch(t)
	c, plain, all := compoundFixture(t, 45)
	ctx := ctxT(t)
	prefix := BeginsWith("KindEmail", "K-admin|E-ann@x.io")
	want := cmatching(all, func(d cdoc) bool { return d.Kind == "admin" && d.Email == "ann@x.io" })
	// The server alone would select more: K-admin with ann@x.iox collides.
	var d0 bson.Raw
	if err := plain.FindOne(ctx, bson.D{{Key: "_id", Value: 0}}).Decode(&d0); err != nil {
		t.Fatal(err)
	}
	if n := storedCount(t, plain, bson.D{{Key: "aws_dbe_b_KindEmail", Value: d0.Lookup("aws_dbe_b_KindEmail").StringValue()}}); n <= int64(len(want)) {
		t.Fatalf("fixture: %d documents share _id 0's KindEmail beacon, want more than the %d matching", n, len(want))
	}
	before := storedByID(t, plain)
	res, err := c.UpdateMany(ctx, prefix, bson.D{{Key: "$set", Value: bson.D{{Key: "notes", Value: "seen"}}}})
	if err != nil || res.MatchedCount != int64(len(want)) || res.ModifiedCount != int64(len(want)) {
		t.Fatalf("UpdateMany = %+v, %v; want %d matched and modified", res, err, len(want))
	}
	after := storedByID(t, plain)
	wantUntouched(t, before, after, func(id int32) bool { return !want[id] })
	for id := range want {
		if after[id].Lookup("notes").StringValue() != "seen" {
			t.Errorf("_id %d matches and was not updated", id)
		}
	}

	// UpdateOne on AsSet membership: one matching document only.
	red := cmatching(all, func(d cdoc) bool { return slices.Contains(d.Tags, "blue") && d.Kind == "guest" })
	before = after
	res, err = c.UpdateOne(ctx, bson.D{{Key: "kind", Value: "guest"}, {Key: "tags", Value: "blue"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "notes", Value: "one"}}}})
	if err != nil || res.ModifiedCount != 1 {
		t.Fatalf("UpdateOne = %+v, %v", res, err)
	}
	after = storedByID(t, plain)
	changed := 0
	for id := range before {
		if !slices.Equal(before[id], after[id]) {
			changed++
			if !red[id] {
				t.Errorf("UpdateOne changed _id %d, which does not match", id)
			}
		}
	}
	if changed != 1 {
		t.Errorf("UpdateOne changed %d documents", changed)
	}

	// DeleteMany on a compound prefix with a bare part prefix and a $nor.
	del := cmatching(all, func(d cdoc) bool { return d.Kind == "user" && d.Email != "bob@x.io" })
	before = after
	dres, err := c.DeleteMany(ctx, bson.D{{Key: "KindEmail", Value: bson.Regex{Pattern: `^K-user\|E-`}},
		{Key: "$nor", Value: bson.A{bson.D{{Key: "email", Value: "bob@x.io"}}}}})
	if err != nil || dres.DeletedCount != int64(len(del)) {
		t.Fatalf("DeleteMany = %+v, %v; want %d", dres, err, len(del))
	}
	after = storedByID(t, plain)
	wantUntouched(t, before, after, func(id int32) bool { return !del[id] })
	for id := range del {
		if _, ok := after[id]; ok {
			t.Errorf("_id %d matches and was not deleted", id)
		}
	}

	// A BulkWrite model on a virtual field's beacon.
	bw := cmatching(all, func(d cdoc) bool { return d.First == "Bob" && d.Last == "Lee" && !del[d.ID] })
	before = after
	bres, err := c.BulkWrite(ctx, []mongo.WriteModel{mongo.NewDeleteManyModel().SetFilter(bson.D{{Key: "nameKey", Value: "bob lee"}})})
	if err != nil || bres.DeletedCount != int64(len(bw)) {
		t.Fatalf("BulkWrite = %+v, %v; want %d deleted", bres, err, len(bw))
	}
	after = storedByID(t, plain)
	wantUntouched(t, before, after, func(id int32) bool { return !bw[id] })
}

// TestCompoundRefusals: what the beacons cannot answer exactly is refused
// with an *UnsafeOperationError naming the beacon or field before anything
// is sent (the collection's server does not exist), and a document whose
// beacons cannot be computed is refused with a *DocumentError naming the
// field, never its value.
func TestCompoundRefusals(t *testing.T) {
	c := offlineColl(t, compoundConfig(t, 8))
	ctx := ctxT(t)
	eq := func(k string, v any) bson.D { return bson.D{{Key: k, Value: v}} }
	for name, tc := range map[string]struct {
		filter any
		field  string
	}{
		"regex options":      {eq("KindEmail", bson.Regex{Pattern: "^K-admin", Options: "i"}), "KindEmail"},
		"$options":           {eq("KindEmail", bson.D{{Key: "$regex", Value: "^K-admin"}, {Key: "$options", Value: "m"}}), "KindEmail"},
		"unanchored":         {eq("KindEmail", bson.Regex{Pattern: "K-admin"}), "KindEmail"},
		"metacharacter":      {eq("KindEmail", eq("$regex", "^K-.*")), "KindEmail"},
		"unescaped split":    {eq("KindEmail", eq("$regex", "^K-admin|E-")), "KindEmail"},
		"class escape":       {eq("KindEmail", eq("$regex", `^K-\d`)), "KindEmail"},
		"empty prefix":       {eq("KindEmail", eq("$regex", "^")), "KindEmail"},
		"regex with $eq":     {eq("KindEmail", bson.D{{Key: "$regex", Value: "^K-"}, {Key: "$eq", Value: "K-x"}}), "KindEmail"},
		"$ne":                {eq("KindEmail", eq("$ne", "K-admin|E-a")), "KindEmail"},
		"$gt":                {eq("KindEmail", eq("$gt", "K-admin")), "KindEmail"},
		"$exists":            {eq("KindEmail", eq("$exists", true)), "KindEmail"},
		"number":             {eq("KindEmail", 5), "KindEmail"},
		"$in regex":          {eq("KindEmail", eq("$in", bson.A{bson.Regex{Pattern: "^K-"}})), "KindEmail"},
		"unknown piece":      {eq("KindEmail", "X-admin"), "KindEmail"},
		"virtual regex":      {eq("nameKey", bson.Regex{Pattern: "^ann"}), "nameKey"},
		"virtual $ne":        {eq("nameKey", eq("$ne", "ann smith")), "nameKey"},
		"signed beacon $gt":  {eq("KindRegion", eq("$gt", "K-a")), "KindRegion"},
		"tags array":         {eq("tags", bson.A{"red"}), "tags"},
		"tags $gt":           {eq("tags", eq("$gt", "red")), "tags"},
		"tags $in number":    {eq("tags", eq("$in", bson.A{"red", 5})), "tags"},
		"tags $elemMatch":    {eq("tags", eq("$elemMatch", eq("$eq", "red"))), "tags"},
		"tags $size":         {eq("tags", eq("$size", 2)), "tags"},
		"email $all":         {eq("email", eq("$all", bson.A{"a"})), "email"},
		"email regex":        {eq("email", bson.Regex{Pattern: "^a"}), "email"},
		"$nor $gt":           {eq("$nor", bson.A{eq("tags", eq("$gt", "a"))}), "tags"},
		"$nor range in $and": {eq("$nor", bson.A{eq("$and", bson.A{eq("tags", "red"), eq("i", eq("$gt", 3))})}), ""},
		"$expr":              {eq("$expr", eq("$eq", bson.A{"$email", "a"})), ""},
	} {
		_, err := c.Find(ctx, tc.filter)
		wantUnsafe(t, "Find "+name, err, tc.field)
		_, err = c.DeleteMany(ctx, tc.filter)
		wantUnsafe(t, "DeleteMany "+name, err, tc.field)
	}
	// Documents whose beacons cannot be computed.
	base := func(k string, v any) bson.D {
		return bson.D{{Key: "_id", Value: 1}, {Key: "email", Value: "e@x"}, {Key: "kind", Value: "admin"}, {Key: k, Value: v}}
	}
	for name, tc := range map[string]struct {
		doc   bson.D
		field string
		want  error
	}{
		"tags member number":   {base("tags", bson.A{"red", 5}), "tags", ErrBeaconValue},
		"tags not an array":    {base("tags", "secret-tag"), "tags", ErrBeaconValue},
		"virtual part number":  {base("first", 7), "first", ErrBeaconValue},
		"compound name field":  {base("KindEmail", "secret-value"), "KindEmail", ErrBeaconField},
		"virtual beacon field": {base("nameKey", "secret-value"), "nameKey", ErrBeaconField},
		"signed beacon other":  {base("KindRegion", "K-user|R-secret"), "KindRegion", ErrBeaconField},
		"signed beacon alone":  {bson.D{{Key: "_id", Value: 1}, {Key: "KindRegion", Value: "K-secret"}}, "KindRegion", ErrBeaconField},
		"split in a part":      {base("meta", bson.D{{Key: "region", Value: "secret|x"}}), "meta.region", search.ErrInvalidItem},
	} {
		_, err := c.InsertOne(ctx, tc.doc)
		var de *DocumentError
		var ae *itemcrypto.AttributeError
		switch {
		case !errors.Is(err, tc.want) || !errors.As(err, &de):
			t.Errorf("InsertOne %s: %v, want %v in a *DocumentError", name, err, tc.want)
		case !errors.As(err, &ae) || ae.Name != tc.field:
			t.Errorf("InsertOne %s: %v, want an AttributeError naming %q", name, err, tc.field)
		case strings.Contains(err.Error(), "secret"):
			t.Errorf("InsertOne %s: the error shows the value: %v", name, err)
		}
	}
}

// TestCompoundConfig: the search configurations NewCollection refuses,
// with a *search.ConfigError (errors.Is search.ErrInvalidConfig).
func TestCompoundConfig(t *testing.T) {
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1/"))
	if err != nil {
		t.Fatal(err)
	}
	coll := client.Database("db").Collection("coll")
	for name, edit := range map[string]func(*Config){
		"AsSet on a virtual field": func(c *Config) {
			c.Search.Versions[0].StandardBeacons[2].Style = search.AsSet()
		},
		"compound named as a field": func(c *Config) {
			c.Search.Versions[0].CompoundBeacons[0].Name = "first"
		},
		"compound named as a beacon's field": func(c *Config) {
			c.Search.Versions[0].CompoundBeacons[0].Name = "tags"
		},
		"signed beacon named as a part's field": func(c *Config) {
			c.Search.Versions[0].CompoundBeacons[1].Name = "kind"
		},
		"dotted compound name": func(c *Config) {
			c.Search.Versions[0].CompoundBeacons[0].Name = "Kind.Email"
		},
		"signed beacon not SignOnly": func(c *Config) {
			c.Overrides["KindRegion"] = actions.EncryptAndSign
		},
		"signed part encrypted": func(c *Config) {
			c.Overrides["kind"] = actions.EncryptAndSign
		},
		"signed part is a do-nothing field": func(c *Config) {
			c.Search.Versions[0].CompoundBeacons[1].Signed[1].Loc = "notes"
		},
		"virtual part array index": func(c *Config) {
			c.Search.Versions[0].VirtualFields[0].Parts[0].Loc = "names[0]"
		},
		"key field dotted": func(c *Config) {
			c.Search.Versions[0].KeySource = search.KeySource{Multi: &search.MultiKeySource{KeyFieldName: "meta.tenant", CacheTTL: time.Hour}}
		},
		"key field encrypted": func(c *Config) {
			c.Search.Versions[0].KeySource = search.KeySource{Multi: &search.MultiKeySource{KeyFieldName: "email", CacheTTL: time.Hour}}
		},
	} {
		cfg := compoundConfig(t, 8)
		edit(&cfg)
		var ce *search.ConfigError
		if _, err := NewCollection(coll, cfg); !errors.Is(err, search.ErrInvalidConfig) || !errors.As(err, &ce) {
			t.Errorf("%s: NewCollection: %v, want a *search.ConfigError", name, err)
		}
	}
	// Partitions without a selector are supported.
	cfg := compoundConfig(t, 8)
	cfg.Search.Versions[0].MaximumNumberOfPartitions = 3
	if _, err := NewCollection(coll, cfg); err != nil {
		t.Errorf("NewCollection with 3 partitions: %v", err)
	}
}

// TestCompoundBeaconIndexes: BeaconIndexes covers every stored beacon
// field: the standard and compound beacons' aws_dbe_b_ fields, an AsSet
// beacon's array, and a signed beacon's own field.
func TestCompoundBeaconIndexes(t *testing.T) {
	c := offlineColl(t, compoundConfig(t, 8))
	var got []string
	for _, m := range c.BeaconIndexes() {
		var o options.IndexOptions
		for _, set := range m.Options.List() {
			if err := set(&o); err != nil {
				t.Fatal(err)
			}
		}
		got = append(got, *o.Name)
		if keys := m.Keys.(bson.D); len(keys) != 1 || keys[0].Key+"_1" != *o.Name || keys[0].Value != 1 {
			t.Errorf("index %s: keys %v", *o.Name, keys)
		}
	}
	want := []string{"aws_dbe_b_email_1", "aws_dbe_b_nameKey_1", "aws_dbe_b_tags_1", "aws_dbe_b_KindEmail_1", "KindRegion_1", "aws_dbe_b_RegionName_1"}
	if !slices.Equal(got, want) {
		t.Errorf("BeaconIndexes = %v, want %v", got, want)
	}
}

// kindSelector puts the admins in partition 1, everyone else in 0; it
// reads the item the same way in DynamoDB and in mongoenc (a top-level
// string).
var kindSelector = search.PartitionSelectorFunc(func(item search.Item, n int, _ string) (int, error) {
	if k, ok := item["kind"].(*types.AttributeValueMemberS); ok && k.Value == "admin" {
		return 1, nil
	}
	return 0, nil
})

// TestCompoundPartitionSelector: a partition selector sees the strings the
// beacons read by field path (meta.region dotted), the beacons stored are
// the DB-ESDK's for the partition it picks, and queries stay exact.
func TestCompoundPartitionSelector(t *testing.T) {
	cfg := compoundConfig(t, 16)
	v := &cfg.Search.Versions[0]
	v.MaximumNumberOfPartitions = 2
	var seen []string
	v.PartitionSelector = search.PartitionSelectorFunc(func(item search.Item, n int, table string) (int, error) {
		if seen == nil {
			for k := range item {
				seen = append(seen, k)
			}
		}
		return kindSelector(item, n, table)
	})
	c, plain := serverColl(t, cfg)
	ctx := ctxT(t)
	all := cdocs(12)
	if _, err := c.InsertMany(ctx, all); err != nil {
		t.Fatal(err)
	}
	slices.Sort(seen)
	if want := []string{"email", "first", "kind", "last", "meta.region", "tags"}; !slices.Equal(seen, want) {
		t.Errorf("the selector saw %v, want %v", seen, want)
	}
	sc := compoundSearch(t, 16)
	sc.Versions[0].MaximumNumberOfPartitions = 2
	sc.Versions[0].PartitionSelector = kindSelector
	stored := storedByID(t, plain)
	for _, d := range all {
		want := dbesdkItemBeacons(t, sc, d)
		for _, name := range []string{"aws_dbe_b_email", "aws_dbe_b_KindEmail", "aws_dbe_b_nameKey", "aws_dbe_b_RegionName"} {
			if got, w := stored[d.ID].Lookup(name).StringValue(), want[name].(*types.AttributeValueMemberS).Value; got != w {
				t.Errorf("_id %d: %s = %q, want the DB-ESDK's %q", d.ID, name, got, w)
			}
		}
	}
	for name, tc := range map[string]struct {
		filter any
		want   func(cdoc) bool
	}{
		"compound": {bson.D{{Key: "KindEmail", Value: "K-admin|E-ann@x.io"}}, func(d cdoc) bool { return d.Kind == "admin" && d.Email == "ann@x.io" }},
		"standard": {bson.D{{Key: "email", Value: "bob@x.io"}}, func(d cdoc) bool { return d.Email == "bob@x.io" }},
		"prefix":   {BeginsWith("KindEmail", "K-user|E-cid@x.io"), func(d cdoc) bool { return d.Kind == "user" && d.Email == "cid@x.io" }},
		"set":      {bson.D{{Key: "tags", Value: "blue"}}, func(d cdoc) bool { return slices.Contains(d.Tags, "blue") }},
		"virtual":  {bson.D{{Key: "nameKey", Value: "bob jones"}}, func(d cdoc) bool { return d.First == "Bob" && d.Last == "Jones" }},
	} {
		n, err := c.CountDocuments(ctx, tc.filter)
		if want := len(cmatching(all, tc.want)); err != nil || n != int64(want) || want == 0 {
			t.Errorf("%s: CountDocuments = %d, %v; want %d (> 0)", name, n, err, want)
		}
	}
}
