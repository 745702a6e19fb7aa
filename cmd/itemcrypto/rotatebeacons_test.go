package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
	"github.com/itemcrypto/go-itemcrypto/adapters/mongoenc"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/mongotest"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/rotate"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// beaconFlags are the actions of TestRotateCLIMongoBeacons: email and
// profile.ssn encrypted (the beacons' fields), the rest of profile and
// tier signed, visits left alone.
var beaconFlags = []string{"--default-action", "sign", "--encrypt", "email,profile.ssn", "--nothing", "visits"}

// beaconReader is the collection as a program with the rotation's target
// configuration reads it: base's actions, the DB-ESDK raw keyring of dbeKeys
// (the CLI's default namespace and name, AllowedUnsigned unsigned) and the
// standard beacons of beacons under the key of the beacon key file
// beaconKeys. Its branch key name is not the CLI's: a beacon's value does
// not depend on it.
func beaconReader(t *testing.T, coll *mongoenc.Collection, base mongoenc.Config, unsigned []string, dbeKeys, beaconKeys string, beacons ...search.StandardBeacon) *mongoenc.Collection {
	t.Helper()
	base.Format, base.Provider = itemcrypto.FormatDBESDK, nil
	base.DBESDK, base.Search = readerConfig(t, unsigned, dbeKeys, beaconKeys, beacons...)
	c, err := mongoenc.NewCollection(coll.Unprotected(), base)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// readerConfig is the DB-ESDK and search configuration of a reader of what
// rotate --to-format dbesdk --to-beacon wrote: the raw keyring of dbeKeys
// (the CLI's default namespace and name, AllowedUnsigned unsigned) and the
// standard beacons under the key of the beacon key file beaconKeys. Its
// branch key name is not the CLI's: a beacon's value does not depend on
// it.
func readerConfig(t *testing.T, unsigned []string, dbeKeys, beaconKeys string, beacons ...search.StandardBeacon) (*itemcrypto.DBESDKConfig, *search.Config) {
	t.Helper()
	k, err := loadKeyFile(dbeKeys, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := k.Keyring("itemcrypto", "default")
	if err != nil {
		t.Fatal(err)
	}
	bk, err := loadKeyFile(beaconKeys, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := bk.BeaconKey()
	if err != nil {
		t.Fatal(err)
	}
	key, err := search.NewBeaconKey("app", raw)
	if err != nil {
		t.Fatal(err)
	}
	return &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: unsigned},
		&search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{Version: 1, KeyStore: key,
			KeySource:       search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "app", CacheTTL: time.Hour}},
			StandardBeacons: beacons}}}
}

// beaconActions are the actions of TestRotateCLIMongoBeacons, as
// beaconFlags give them.
var beaconActions = mongoenc.Config{Default: actions.SignOnly,
	Overrides: map[string]actions.Action{"email": actions.EncryptAndSign, "profile.ssn": actions.EncryptAndSign, "visits": actions.DoNothing}}

// TestRotateCLIMongoBeacons: rotate --mongo --to-beacon moves a DDBEC
// collection to the DB-ESDK format with beacons in one run, then to
// another beacon key with one beacon fewer (the documents current, their
// beacons alone rewritten); after each, a program with the target's
// configuration finds exactly the documents by the encrypted fields, and
// the stored documents carry exactly the target's beacon fields.
func TestRotateCLIMongoBeacons(t *testing.T) {
	client := mongotest.Client(t)
	plain := mongotest.Collection(t, client)
	ns := mongotest.Database + "." + plain.Name()
	plans := plain.Database().Collection(rotate.PlanCollection)
	t.Cleanup(func() { plans.DeleteMany(context.Background(), bson.D{{Key: "collection", Value: ns}}) })
	keys, dbeKeys := keygen(t, "aes-hmac"), keygen(t, "aes-hmac")
	beaconA, beaconB := keygen(t, "beacon"), keygen(t, "beacon")
	ddbec := beaconActions
	ddbec.Provider = wrappedFromFile(t, keys)
	base, err := mongoenc.NewCollection(plain, ddbec)
	if err != nil {
		t.Fatal(err)
	}
	emails := []string{"ann@example.com", "bob@example.com", "cid@example.com"}
	ssns := []string{"ssn-0", "ssn-1", "ssn-2", "ssn-3"}
	const n = 36
	for i := range n {
		d := bson.D{{Key: "_id", Value: int32(i)}, {Key: "email", Value: emails[i%len(emails)]}, {Key: "tier", Value: "gold"},
			{Key: "visits", Value: int32(i)}, {Key: "profile", Value: bson.D{{Key: "ssn", Value: ssns[i%len(ssns)]}, {Key: "city", Value: "Lyon"}}}}
		if _, err := base.InsertOne(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	find := func(c *mongoenc.Collection, field, value string) []int32 {
		t.Helper()
		cur, err := c.Find(t.Context(), bson.D{{Key: field, Value: value}})
		if err != nil {
			t.Fatal(err)
		}
		var got []struct {
			ID int32 `bson:"_id"`
		}
		if err := cur.All(t.Context(), &got); err != nil {
			t.Fatal(err)
		}
		var ids []int32
		for _, g := range got {
			ids = append(ids, g.ID)
		}
		slices.Sort(ids)
		return ids
	}
	every := func(k, mod int) []int32 {
		var ids []int32
		for i := k; i < n; i += mod {
			ids = append(ids, int32(i))
		}
		return ids
	}
	storedBeacons := func() []string { // the beacon fields of every stored document, once each
		t.Helper()
		cur, err := plain.Find(t.Context(), bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		var raws []bson.Raw
		if err := cur.All(t.Context(), &raws); err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, r := range raws {
			elems, _ := r.Elements()
			for _, e := range elems {
				if strings.HasPrefix(e.Key(), search.BeaconPrefix) || e.Key() == search.VersionTag {
					seen[e.Key()]++
				}
			}
		}
		var out []string
		for k, c := range seen {
			out = append(out, fmt.Sprintf("%s:%d", k, c))
		}
		slices.Sort(out)
		return out
	}
	flags := append([]string{"rotate", "--mongo", testenv.MongoURI(t), "--collection", ns, "--segments", "2", "--checkpoint="}, beaconFlags...)

	// DDBEC to DB-ESDK, with beacons on email and profile.ssn.
	code, out, errOut := runCLI(t, "", append(flags, "--from-keys", keys, "--to-format", "dbesdk", "--to-keys", dbeKeys,
		"--to-beacon", "email:2,ssn:2:profile.ssn", "--to-beacon-key", beaconA)...)
	t.Logf("to DB-ESDK with beacons:\n%s\n%s", out, errOut)
	if code != 0 {
		t.Fatalf("exit status %d", code)
	}
	wantSummary(t, "to DB-ESDK with beacons", out, map[string]int{"rotated": n, "already current": 0, "conflicts": 0, "failures": 0})
	if got, want := storedBeacons(), []string{fmt.Sprintf("aws_dbe_b_email:%d", n), fmt.Sprintf("aws_dbe_b_ssn:%d", n), fmt.Sprintf("aws_dbe_v_1:%d", n)}; !slices.Equal(got, want) {
		t.Fatalf("stored beacon fields %v, want %v", got, want)
	}
	withA := beaconReader(t, base, beaconActions, []string{"visits"}, dbeKeys, beaconA,
		search.StandardBeacon{Name: "email", Length: 2}, search.StandardBeacon{Name: "ssn", Loc: "profile.ssn", Length: 2})
	for i, e := range emails {
		if got, want := find(withA, "email", e), every(i, len(emails)); !slices.Equal(got, want) {
			t.Fatalf("Find email %s: %v, want %v", e, got, want)
		}
	}
	for i, s := range ssns {
		if got, want := find(withA, "profile.ssn", s), every(i, len(ssns)); !slices.Equal(got, want) {
			t.Fatalf("Find profile.ssn %s: %v, want %v", s, got, want)
		}
	}

	// The same keys, another beacon key, the ssn beacon dropped: the
	// documents are current, their beacons rewritten.
	code, out, errOut = runCLI(t, "", append(flags, "--from-format", "dbesdk", "--from-keys", dbeKeys, "--to-format", "dbesdk", "--to-keys", dbeKeys,
		"--to-beacon", "email:2", "--to-beacon-key", beaconB)...)
	t.Logf("to beacon key B:\n%s\n%s", out, errOut)
	if code != 0 {
		t.Fatalf("exit status %d", code)
	}
	wantSummary(t, "to beacon key B", out, map[string]int{"rotated": n, "already current": 0, "conflicts": 0, "failures": 0})
	if got, want := storedBeacons(), []string{fmt.Sprintf("aws_dbe_b_email:%d", n), fmt.Sprintf("aws_dbe_v_1:%d", n)}; !slices.Equal(got, want) {
		t.Fatalf("stored beacon fields %v, want %v", got, want)
	}
	withB := beaconReader(t, base, beaconActions, []string{"visits"}, dbeKeys, beaconB, search.StandardBeacon{Name: "email", Length: 2})
	for i, e := range emails {
		if got, want := find(withB, "email", e), every(i, len(emails)); !slices.Equal(got, want) {
			t.Fatalf("Find email %s under beacon key B: %v, want %v", e, got, want)
		}
	}
	// Again: nothing left to do.
	code, out, _ = runCLI(t, "", append(flags, "--from-format", "dbesdk", "--from-keys", dbeKeys, "--to-format", "dbesdk", "--to-keys", dbeKeys,
		"--to-beacon", "email:2", "--to-beacon-key", beaconB)...)
	if code != 0 {
		t.Fatalf("exit status %d", code)
	}
	wantSummary(t, "again", out, map[string]int{"rotated": 0, "already current": n})
	assertNoKeys(t, "rotate output", out+errOut, append(keyMaterial(t, beaconA), keyMaterial(t, beaconB)...))

	// Without --to-beacon, the beacons would go: only with --drop-beacons.
	back := append(flags, "--from-format", "dbesdk", "--from-keys", dbeKeys, "--to-keys", keys)
	code, _, errOut = runCLI(t, "", back...)
	if code != exitUsage || !strings.Contains(errOut, "have beacons (aws_dbe_v_1)") || !strings.Contains(errOut, "--drop-beacons") {
		t.Fatalf("a rotation that would remove the beacons: exit status %d, %s", code, errOut)
	}
	if got := storedBeacons(); len(got) != 2 {
		t.Fatalf("the refused rotation changed the beacons: %v", got)
	}
	code, out, errOut = runCLI(t, "", append(back, "--drop-beacons")...)
	t.Logf("back to the DDBEC, dropping the beacons:\n%s\n%s", out, errOut)
	if code != 0 {
		t.Fatalf("exit status %d", code)
	}
	wantSummary(t, "dropping the beacons", out, map[string]int{"rotated": n})
	if got := storedBeacons(); len(got) != 0 {
		t.Fatalf("stored beacon fields %v after --drop-beacons", got)
	}
	if strings.Contains(out+errOut, "@example.com") || strings.Contains(out+errOut, "ssn-") {
		t.Error("rotate output shows document values")
	}
}

// TestRotateCLITableBeacons: rotate --table --to-beacon moves a DDBEC
// table to the DB-ESDK format with a 1-bit beacon on the encrypted
// attribute secret, then to another beacon key of 5 bits (the items
// current, their beacons alone rewritten); after each, a dynamodbenc
// client with the target's configuration finds exactly the item of a
// secret through its beacon.
func TestRotateCLITableBeacons(t *testing.T) {
	const n = 30
	rt := newRotateTable(t, n)
	dbeKeys, beaconA, beaconB := keygen(t, "aes-hmac"), keygen(t, "beacon"), keygen(t, "beacon")
	find := func(what, beaconKeys string, length int) {
		t.Helper()
		d, s := readerConfig(t, []string{"views"}, dbeKeys, beaconKeys, search.StandardBeacon{Name: "secret", Length: length})
		client, err := dynamodbenc.New(rt.client, dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{rt.name: {
			Default: actions.EncryptAndSign, Overrides: map[string]actions.Action{"email": actions.SignOnly, "views": actions.DoNothing},
			PartitionKey: "id", SortKey: "n", Format: itemcrypto.FormatDBESDK, DBESDK: d, Search: s}}})
		if err != nil {
			t.Fatal(err)
		}
		stored, err := rt.client.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(rt.name), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		values := map[string]int{}
		for _, it := range stored.Items {
			if b, ok := it["aws_dbe_b_secret"].(*types.AttributeValueMemberS); ok {
				values[b.Value]++
			}
		}
		if len(stored.Items) != n || len(values) == 0 || len(values) > 1<<length {
			t.Fatalf("%s: %d items, beacon values %v", what, len(stored.Items), values)
		}
		for i := range n {
			out, err := client.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(rt.name),
				FilterExpression:          aws.String("secret = :s"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: fmt.Sprintf("secret %d", i)}}})
			if err != nil {
				t.Fatalf("%s: Scan: %v", what, err)
			}
			var got []string
			for _, it := range out.Items {
				got = append(got, itemKey(it))
			}
			if want := fmt.Sprintf("c-%04d/%d", i/2, i%2); !slices.Equal(got, []string{want}) {
				t.Fatalf("%s: secret %d finds %v, want [%s]", what, i, got, want)
			}
		}
	}
	var output string // everything rotate printed
	run := func(what string, rotated, current int, args ...string) {
		t.Helper()
		code, out, errOut := rt.rotate(t, args...)
		t.Logf("%s:\n%s\n%s", what, out, errOut)
		if code != 0 {
			t.Fatalf("%s: exit status %d", what, code)
		}
		wantSummary(t, what, out, map[string]int{"rotated": rotated, "already current": current, "conflicts": 0, "failures": 0})
		output += out + errOut
	}
	run("to DB-ESDK with beacons", n, 0, "--from-keys", rt.keys, "--to-format", "dbesdk", "--to-keys", dbeKeys,
		"--to-beacon", "secret:1", "--to-beacon-key", beaconA, "--checkpoint=")
	find("beacon key A", beaconA, 1)

	// 5 bits are two hex digits: every item's beacon differs from its
	// 1-bit one, and is rewritten.
	toB := []string{"--from-format", "dbesdk", "--from-keys", dbeKeys, "--to-format", "dbesdk", "--to-keys", dbeKeys,
		"--to-beacon", "secret:5", "--to-beacon-key", beaconB, "--checkpoint="}
	run("to beacon key B", n, 0, toB...)
	find("beacon key B", beaconB, 5)
	run("again", 0, n, toB...)
	assertNoKeys(t, "rotate output", output, append(keyMaterial(t, beaconA), keyMaterial(t, beaconB)...))
	if strings.Contains(output, "secret ") {
		t.Error("rotate output shows item values")
	}
}
