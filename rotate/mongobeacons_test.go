package rotate_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/mongoenc"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/mongotest"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/rotate"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// beaconLen is the beacons' length in the tests: 2 bits, so that the five
// e-mails and seven SSNs collide and a query must drop false positives.
const beaconLen = 2

// beaconDoc is a document of the beacon tests: email and profile.ssn
// encrypted (the beacons' fields), tier signed, visits left alone.
type beaconDoc struct {
	ID      int32         `bson:"_id"`
	Email   any           `bson:"email,omitempty"`
	Tier    string        `bson:"tier"`
	Visits  int32         `bson:"visits"`
	Profile beaconProfile `bson:"profile"`
}

type beaconProfile struct {
	SSN  string `bson:"ssn"`
	City string `bson:"city"`
}

var (
	beaconEmails = []string{"ann@example.com", "bob@example.com", "cid@example.com", "dee@example.com", "eve@example.com"}
	beaconSSNs   = []string{"ssn-0", "ssn-1", "ssn-2", "ssn-3", "ssn-4", "ssn-5", "ssn-6"}
)

func beaconDocs(n int) []beaconDoc {
	out := make([]beaconDoc, n)
	for i := range out {
		out[i] = beaconDoc{ID: int32(i), Email: beaconEmails[i%len(beaconEmails)], Tier: []string{"gold", "free"}[i%2],
			Profile: beaconProfile{SSN: beaconSSNs[i%len(beaconSSNs)], City: "Lyon"}}
	}
	out[n-1].Email = nil // no e-mail: no e-mail beacon
	return out
}

// beaconTestColl returns the test's collection; its rotation plans are
// removed at the end.
func beaconTestColl(t *testing.T) *mongo.Collection {
	t.Helper()
	coll := mongotest.Collection(t, mongotest.Client(t))
	t.Cleanup(func() {
		coll.Database().Collection(rotate.PlanCollection).DeleteMany(context.Background(), bson.D{{Key: "collection", Value: mongotest.Database + "." + coll.Name()}})
	})
	return coll
}

// rawKeyring is a raw AES keyring of a new key, named name.
func rawKeyring(t *testing.T, name string) keyring.Keyring {
	t.Helper()
	kr, err := keyring.NewRawAES("ns", name, randBytes(t, 32))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// beaconCollConfig is the DB-ESDK configuration of the beacon tests over
// keyring kr; beacons, when given, are standard beacons of beaconLen bits
// under the beacon key key (a name and its field path each).
func beaconCollConfig(t *testing.T, kr keyring.Keyring, key []byte, beacons map[string]string) mongoenc.Config {
	t.Helper()
	cfg := mongoenc.Config{
		Default: actions.SignOnly,
		Overrides: map[string]actions.Action{
			"email": actions.EncryptAndSign, "profile.ssn": actions.EncryptAndSign, "visits": actions.DoNothing,
		},
		Format: itemcrypto.FormatDBESDK,
		DBESDK: &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: []string{"visits"}},
	}
	if beacons != nil {
		cfg.Search = beaconSearch(t, key, beacons)
	}
	return cfg
}

func beaconSearch(t *testing.T, key []byte, beacons map[string]string) *search.Config {
	t.Helper()
	bk, err := search.NewBeaconKey("beacons", key)
	if err != nil {
		t.Fatal(err)
	}
	v := search.BeaconVersion{Version: 1, KeyStore: bk,
		KeySource: search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "beacons", CacheTTL: time.Hour}}}
	for _, name := range slices.Sorted(maps.Keys(beacons)) {
		v.StandardBeacons = append(v.StandardBeacons, search.StandardBeacon{Name: name, Loc: beacons[name], Length: beaconLen})
	}
	return &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{v}}
}

// wantBeacon is the beacon value the search package computes, on its own,
// for beacon name over value under key: what the DB-ESDK stores for the
// same configuration and string.
func wantBeacon(t *testing.T, key []byte, name, value string) string {
	t.Helper()
	policy, err := actions.New(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "pk"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := search.New(*beaconSearch(t, key, map[string]string{name: ""}), policy)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.EncryptedBeacons(t.Context(), search.Item{name: &types.AttributeValueMemberS{Value: value}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out[search.BeaconPrefix+name].(*types.AttributeValueMemberS).Value
}

// checkStoredBeacons checks that every stored document carries exactly the
// beacon fields of beacons (name: field path) under key, with the values
// of its plaintext (docs by _id), and the version tag when it has any.
func checkStoredBeacons(t *testing.T, coll *mongo.Collection, docs map[int32]beaconDoc, key []byte, beacons map[string]string) {
	t.Helper()
	cur, err := coll.Find(t.Context(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var raws []bson.Raw
	if err := cur.All(t.Context(), &raws); err != nil {
		t.Fatal(err)
	}
	if len(raws) != len(docs) {
		t.Fatalf("%d stored documents, want %d", len(raws), len(docs))
	}
	memo := map[string]string{}
	for _, raw := range raws {
		id := raw.Lookup("_id").Int32()
		d := docs[id]
		want := map[string]string{}
		for name, path := range beacons {
			var v string
			switch path {
			case "email":
				s, ok := d.Email.(string)
				if !ok {
					continue
				}
				v = s
			case "profile.ssn":
				v = d.Profile.SSN
			}
			k := name + "\x00" + v
			if _, ok := memo[k]; !ok {
				memo[k] = wantBeacon(t, key, name, v)
			}
			want[search.BeaconPrefix+name] = memo[k]
		}
		if len(beacons) > 0 {
			want[search.VersionTag] = " " // as the DB-ESDK stores it
		}
		got := map[string]string{}
		elems, err := raw.Elements()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range elems {
			if k := e.Key(); strings.HasPrefix(k, search.BeaconPrefix) || k == search.VersionTag {
				got[k] = e.Value().StringValue()
			}
		}
		if !maps.Equal(got, want) {
			t.Fatalf("document %d stores the beacon fields %v, want %v", id, got, want)
		}
	}
}

// findIDs returns the _ids that c.Find(filter) returns, in _id order.
func findIDs(t *testing.T, c *mongoenc.Collection, filter bson.D) []int32 {
	t.Helper()
	cur, err := c.Find(t.Context(), filter)
	if err != nil {
		t.Fatal(err)
	}
	var got []beaconDoc
	if err := cur.All(t.Context(), &got); err != nil {
		t.Fatal(err)
	}
	ids := make([]int32, len(got))
	for i, d := range got {
		ids[i] = d.ID
	}
	slices.Sort(ids)
	return ids
}

// checkQueries checks that a beacon query through c by each e-mail (and,
// when ssn is set, each SSN) returns exactly the documents that hold it.
func checkQueries(t *testing.T, c *mongoenc.Collection, docs map[int32]beaconDoc, ssn bool) {
	t.Helper()
	check := func(field, value string, holds func(beaconDoc) bool) {
		var want []int32
		for id, d := range docs {
			if holds(d) {
				want = append(want, id)
			}
		}
		slices.Sort(want)
		if got := findIDs(t, c, bson.D{{Key: field, Value: value}}); !slices.Equal(got, want) {
			t.Fatalf("Find {%s: %q}: _ids %v, want %v", field, value, got, want)
		}
	}
	for _, e := range beaconEmails {
		check("email", e, func(d beaconDoc) bool { return d.Email == e })
	}
	if ssn {
		for _, s := range beaconSSNs {
			check("profile.ssn", s, func(d beaconDoc) bool { return d.Profile.SSN == s })
		}
	}
}

// TestRotateMongoBeacons: rotation gives every document exactly the
// target's beacons. A collection written without beacons gets them from a
// rotation to the same keys with Config.Search (documents already current,
// their beacons alone written back, under the same condition: a concurrent
// replace is a conflict, a concurrent update of a DoNothing field survives);
// a rotation to other keys and another beacon key recomputes them and
// drops the beacon the target no longer has; a rotation to a target
// without beacons removes them. After each, a beacon query through the
// target returns exactly the matching documents.
func TestRotateMongoBeacons(t *testing.T) {
	coll := beaconTestColl(t)
	kr1, kr2 := rawKeyring(t, "k1"), rawKeyring(t, "k2")
	keyA, keyB := randBytes(t, 32), randBytes(t, 32)
	both := map[string]string{"email": "email", "ssn": "profile.ssn"}

	plain := mongoColl(t, coll, beaconCollConfig(t, kr1, nil, nil))
	withA := mongoColl(t, coll, beaconCollConfig(t, kr1, keyA, both))
	const n = 40
	docs := map[int32]beaconDoc{}
	for _, d := range beaconDocs(n) {
		if _, err := plain.InsertOne(t.Context(), d); err != nil {
			t.Fatal(err)
		}
		docs[d.ID] = d
	}
	// A document whose beaconed field is not a string: it can have no
	// beacon, and the rotation reports it.
	if _, err := plain.InsertOne(t.Context(), beaconDoc{ID: 1000, Email: int32(7), Profile: beaconProfile{SSN: "ssn-0"}}); err != nil {
		t.Fatal(err)
	}
	if got := findIDs(t, withA, bson.D{{Key: "email", Value: beaconEmails[0]}}); len(got) != 0 {
		t.Fatalf("before the rotation, a beacon query found %v in documents without beacons", got)
	}

	// A dry run computes the beacons and writes nothing.
	st, err := rotate.RunMongo(t.Context(), plain, withA, rotate.Config{Segments: 1, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "dry run", st, n+1, n, 0, 0, 1)
	if got := findIDs(t, withA, bson.D{{Key: "email", Value: beaconEmails[0]}}); len(got) != 0 {
		t.Fatalf("a dry run wrote beacons: found %v", got)
	}

	// Adding beacons: the documents are current (same keyring). During the
	// run (the page is read first), one document is replaced through the
	// collection without beacons (a new footer: a conflict) and one gets a
	// DoNothing update (same footer: its beacons are written, the update
	// survives).
	const replaced, touched = 30, 31
	var once bool
	st, err = rotate.RunMongo(t.Context(), plain, withA, rotate.Config{Segments: 1, PageSize: 100, Progress: func(rotate.Stats) {
		if once {
			return
		}
		once = true
		d := docs[replaced]
		d.Tier = "platinum"
		if _, err := plain.ReplaceOne(t.Context(), bson.D{{Key: "_id", Value: d.ID}}, d); err != nil {
			t.Error(err)
		}
		docs[replaced] = d
		if _, err := plain.UpdateOne(t.Context(), bson.D{{Key: "_id", Value: int32(touched)}}, bson.D{{Key: "$set", Value: bson.D{{Key: "visits", Value: int32(99)}}}}); err != nil {
			t.Error(err)
		}
		d = docs[touched]
		d.Visits = 99
		docs[touched] = d
	}})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "adding beacons", st, n+1, n-1, 0, 1, 1)
	if len(st.ConflictKeys) != 1 || st.ConflictKeys[0].ID != fmt.Sprintf(`{"_id":{"$numberInt":"%d"}}`, replaced) {
		t.Errorf("conflicts %+v, want document %d", st.ConflictKeys, replaced)
	}
	if len(st.Failures) != 1 || st.Failures[0].ID != `{"_id":{"$numberInt":"1000"}}` || !strings.Contains(st.Failures[0].Reason, `"email"`) ||
		!strings.Contains(st.Failures[0].Reason, mongoenc.ErrBeaconValue.Error()) {
		t.Errorf("failures %+v, want document 1000, its e-mail not a string", st.Failures)
	}
	if _, err := coll.DeleteOne(t.Context(), bson.D{{Key: "_id", Value: int32(1000)}}); err != nil {
		t.Fatal(err)
	}
	// The rerun gives the conflicted document its beacons; then everything
	// is current.
	st, err = rotate.RunMongo(t.Context(), plain, withA, rotate.Config{Segments: 2})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "rerun", st, n, 1, n-1, 0, 0)
	checkStoredBeacons(t, coll, docs, keyA, both)
	checkQueries(t, withA, docs, true)
	var got beaconDoc
	if err := withA.FindOne(t.Context(), bson.D{{Key: "_id", Value: int32(touched)}}).Decode(&got); err != nil || got.Visits != 99 {
		t.Errorf("the concurrent update of visits: %+v, %v", got, err)
	}
	st, err = rotate.RunMongo(t.Context(), withA, withA, rotate.Config{Segments: 2})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "again", st, n, 0, n, 0, 0)

	// Other keys and another beacon key, without the ssn beacon: every
	// document re-encrypted, its e-mail beacon recomputed, its ssn beacon
	// dropped.
	onlyEmail := map[string]string{"email": "email"}
	withB := mongoColl(t, coll, beaconCollConfig(t, kr2, keyB, onlyEmail))
	st, err = rotate.RunMongo(t.Context(), withA, withB, rotate.Config{Segments: 3})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "to another beacon key", st, n, n, 0, 0, 0)
	checkStoredBeacons(t, coll, docs, keyB, onlyEmail)
	checkQueries(t, withB, docs, false)
	if _, err := withB.Find(t.Context(), bson.D{{Key: "profile.ssn", Value: beaconSSNs[0]}}); err == nil {
		t.Error("the target without an ssn beacon answered a query on the encrypted profile.ssn")
	}

	// The same keys without beacons: the documents are current, their
	// beacons removed.
	none := mongoColl(t, coll, beaconCollConfig(t, kr2, nil, nil))
	st, err = rotate.RunMongo(t.Context(), withB, none, rotate.Config{Segments: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "to no beacons", st, n, n, 0, 0, 0)
	checkStoredBeacons(t, coll, docs, nil, nil)
	for id, d := range docs {
		var back beaconDoc
		if err := none.FindOne(t.Context(), bson.D{{Key: "_id", Value: id}}).Decode(&back); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(back) != fmt.Sprint(d) {
			t.Fatalf("document %d reads back as %+v, want %+v", id, back, d)
		}
	}
}

// TestRotateMongoBeaconsFromDDBEC: a format migration from the DDBEC gives
// the documents the target's beacons in the same write (the target carries
// the DB-ESDK configuration alone: Config.Search refuses the legacy
// override, and the source reads the DDBEC documents).
func TestRotateMongoBeaconsFromDDBEC(t *testing.T) {
	coll, kr := beaconTestColl(t), rawKeyring(t, "k")
	key := randBytes(t, 32)
	both := map[string]string{"email": "email", "ssn": "profile.ssn"}
	dst := beaconCollConfig(t, kr, key, both)
	src := beaconCollConfig(t, kr, nil, nil)
	src.Format, src.Provider = itemcrypto.FormatDDBEC, wrappedProvider(t)
	source := mongoColl(t, coll, src)
	target := mongoColl(t, coll, dst)
	docs := map[int32]beaconDoc{}
	for _, d := range beaconDocs(30) {
		if _, err := source.InsertOne(t.Context(), d); err != nil {
			t.Fatal(err)
		}
		docs[d.ID] = d
	}
	st, err := rotate.RunMongo(t.Context(), source, target, rotate.Config{Segments: 2})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "DDBEC to DB-ESDK with beacons", st, 30, 30, 0, 0, 0)
	checkStoredBeacons(t, coll, docs, key, both)
	checkQueries(t, target, docs, true)
	raw, err := coll.FindOne(t.Context(), bson.D{}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.LookupErr(itemcrypto.SignatureAttribute); err == nil {
		t.Error("a migrated document still has the DDBEC signature")
	}
}

// TestWithBeaconsRefuses: WithBeacons fails, naming the field, on a
// beaconed field that is not a string, and on a plaintext that does not
// fit the document; it never returns half a document.
func TestWithBeaconsRefuses(t *testing.T) {
	coll, kr := beaconTestColl(t), rawKeyring(t, "k")
	c := mongoColl(t, coll, beaconCollConfig(t, kr, randBytes(t, 32), map[string]string{"email": "email"}))
	plain := mongoColl(t, coll, beaconCollConfig(t, kr, nil, nil))
	if _, err := plain.InsertOne(t.Context(), beaconDoc{ID: 1, Email: int32(5)}); err != nil {
		t.Fatal(err)
	}
	raw, err := coll.FindOne(t.Context(), bson.D{}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	stored, err := c.StoredItem(raw)
	if err != nil {
		t.Fatal(err)
	}
	item, err := c.Encryptor().Decrypt(t.Context(), stored)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.WithBeacons(t.Context(), raw, item)
	var ae *itemcrypto.AttributeError
	if out != nil || !errors.Is(err, mongoenc.ErrBeaconValue) || !errors.As(err, &ae) || ae.Name != "email" {
		t.Errorf("WithBeacons of a non-string e-mail: %v, %v", out, err)
	}
	delete(item, "email")
	if out, err := c.WithBeacons(t.Context(), raw, item); out != nil || !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Errorf("WithBeacons with a plaintext missing the encrypted field: %v, %v", out, err)
	}
}

// TestRotateMongoBeaconsIdentity: the target's beacons are part of a
// rotation's identity, so a checkpoint of a rotation to other beacons (a
// finished range keeps its checkpoint) is refused rather than taken as
// done, while the same rotation resumes from it.
func TestRotateMongoBeaconsIdentity(t *testing.T) {
	coll, kr := beaconTestColl(t), rawKeyring(t, "k")
	keyA := randBytes(t, 32)
	emailAt := map[string]string{"email": "email"}
	plain := mongoColl(t, coll, beaconCollConfig(t, kr, nil, nil))
	for _, d := range beaconDocs(10) {
		if _, err := plain.InsertOne(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	cp := t.TempDir() + "/range.checkpoint"
	run := func(target *mongoenc.Collection) (rotate.Stats, error) {
		return rotate.RunMongo(t.Context(), plain, target, rotate.Config{Segments: 2, SegmentRange: &rotate.SegmentRange{First: 0, Last: 0}, Checkpoint: cp})
	}
	first, err := run(mongoColl(t, coll, beaconCollConfig(t, kr, keyA, emailAt)))
	if err != nil || first.Rotated == 0 {
		t.Fatalf("first range: %+v, %v", first, err)
	}
	// The same beacons, in a collection of their own: the same rotation.
	again, err := run(mongoColl(t, coll, beaconCollConfig(t, kr, keyA, emailAt)))
	if err != nil || !again.Resumed || again.ScannedThisRun != 0 {
		t.Fatalf("the same rotation again: %+v, %v; want its finished checkpoint", again, err)
	}
	for what, target := range map[string]*mongoenc.Collection{
		"another beacon key": mongoColl(t, coll, beaconCollConfig(t, kr, randBytes(t, 32), emailAt)),
		"another beacon":     mongoColl(t, coll, beaconCollConfig(t, kr, keyA, map[string]string{"email": "email", "ssn": "profile.ssn"})),
		"no beacons":         plain,
	} {
		if _, err := run(target); err == nil || !strings.Contains(err.Error(), "belongs to another rotation") {
			t.Errorf("%s: %v, want the checkpoint refused", what, err)
		}
	}
}

// TestRotateMongoBeaconsPartitions: with beacon partitions and no
// selector a document's partition is random on every write; a rerun finds
// every document current and rewrites none.
func TestRotateMongoBeaconsPartitions(t *testing.T) {
	coll := beaconTestColl(t)
	kr := rawKeyring(t, "k1")
	plain := mongoColl(t, coll, beaconCollConfig(t, kr, nil, nil))
	cfg := beaconCollConfig(t, kr, randBytes(t, 32), map[string]string{"email": "email", "ssn": "profile.ssn"})
	cfg.Search.Versions[0].MaximumNumberOfPartitions = 4
	withP := mongoColl(t, coll, cfg)
	const n = 24
	for _, d := range beaconDocs(n) {
		if _, err := plain.InsertOne(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	st, err := rotate.RunMongo(t.Context(), plain, withP, rotate.Config{Segments: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "adding beacons", st, n, n, 0, 0, 0)
	stored := func() map[int32]string {
		out := map[int32]string{}
		cur, err := coll.Find(t.Context(), bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		var docs []bson.Raw
		if err := cur.All(t.Context(), &docs); err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			out[d.Lookup("_id").Int32()] = d.Lookup("aws_dbe_b_ssn").StringValue()
		}
		return out
	}
	before := stored()
	st, err = rotate.RunMongo(t.Context(), withP, withP, rotate.Config{Segments: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "rerun", st, n, 0, n, 0, 0)
	if after := stored(); !maps.Equal(after, before) {
		t.Error("the rerun rewrote beacons")
	}
}
