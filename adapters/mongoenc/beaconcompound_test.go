package mongoenc

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// compoundSearch is the search configuration of the compound tests, all
// beacons of length bits:
//   - email: a standard beacon; KindEmail: compound, K-<kind>|E-<beacon>;
//   - tags: an AsSet beacon on an array of strings;
//   - nameKey: a standard beacon on the virtual field fullname
//     (lower-case first, a space, lower-case last);
//   - KindRegion: a signed beacon K-<kind>|R-<meta.region>.
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
	}
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
		for _, name := range []string{"aws_dbe_b_email", "aws_dbe_b_KindEmail", "aws_dbe_b_nameKey", "KindRegion", search.VersionTag} {
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
