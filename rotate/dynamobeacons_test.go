package rotate_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/rotate"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// The beacon tests' items: "email" is encrypted and has a 1- or 2-bit
// beacon (six addresses: collisions are certain), "kind" is signed and
// builds the signed beacon "KindTag", "views" is left alone.
var ddbBeaconEmails = []string{"ann@x.org", "bob@x.org", "cy@x.org", "dee@x.org", "eve@x.org", "fay@x.org"}

func ddbBeaconItem(i int) itemcrypto.Item {
	return itemcrypto.Item{
		pkName:  &types.AttributeValueMemberS{Value: fmt.Sprintf("user-%03d", i/2)},
		skName:  &types.AttributeValueMemberN{Value: strconv.Itoa(i % 2)},
		"email": &types.AttributeValueMemberS{Value: ddbBeaconEmails[(i*5)%len(ddbBeaconEmails)]},
		"kind":  &types.AttributeValueMemberS{Value: []string{"admin", "user", "user"}[i%3]},
		"card":  &types.AttributeValueMemberS{Value: fmt.Sprintf("4111-%04d", i)},
		"views": &types.AttributeValueMemberN{Value: strconv.Itoa(i)},
	}
}

// ddbBeaconTable is the dynamodbenc configuration of the beacon tests'
// table: DB-ESDK under kr, and, with a beacon key, a standard beacon of
// length bits on email and the signed beacon KindTag.
func ddbBeaconTable(t *testing.T, kr keyring.Keyring, beaconKey []byte, length int) dynamodbenc.TableConfig {
	t.Helper()
	tc := dynamodbenc.TableConfig{
		Default:      actions.EncryptAndSign,
		Overrides:    map[string]actions.Action{"kind": actions.SignOnly, "views": actions.DoNothing},
		PartitionKey: pkName, SortKey: skName,
		Format: itemcrypto.FormatDBESDK,
		DBESDK: &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: []string{"views"}},
	}
	if beaconKey != nil {
		bk, err := search.NewBeaconKey("beacon-key", beaconKey)
		if err != nil {
			t.Fatal(err)
		}
		tc.Search = &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
			Version: 1, KeyStore: bk,
			KeySource:       search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "beacon-key", CacheTTL: time.Hour}},
			StandardBeacons: []search.StandardBeacon{{Name: "email", Length: length}},
			CompoundBeacons: []search.CompoundBeacon{{Name: "KindTag", Split: "|",
				Signed: []search.SignedPart{{Name: "kind", Prefix: "K-"}}}},
		}}}
	}
	return tc
}

// ddbTarget returns the encryptor and search a dynamodbenc Client with tc
// uses for table, as rotate.Config's Target and TargetSearch.
func ddbTarget(t *testing.T, table string, tc dynamodbenc.TableConfig) (*itemcrypto.Encryptor, *search.Search) {
	t.Helper()
	enc, err := dynamodbenc.NewEncryptor(table, tc)
	if err != nil {
		t.Fatal(err)
	}
	if tc.Search == nil {
		return enc, nil
	}
	s, err := search.New(*tc.Search, enc.Policy(), func(o *search.Options) {
		o.LogicalTableName = table
		o.AllowedUnsigned = tc.DBESDK.AllowedUnsigned
	})
	if err != nil {
		t.Fatal(err)
	}
	return enc, s
}

// putItems writes n beacon test items encrypted by enc (without beacons)
// and returns their plaintexts by key.
func putItems(t *testing.T, c *dynamodb.Client, table string, enc *itemcrypto.Encryptor, n int) map[string]itemcrypto.Item {
	t.Helper()
	want := map[string]itemcrypto.Item{}
	for i := range n {
		it := ddbBeaconItem(i)
		stored, err := enc.Encrypt(t.Context(), it)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: stored}); err != nil {
			t.Fatal(err)
		}
		want[keyString(it)] = it
	}
	return want
}

// checkBeaconQueries checks that a dynamodbenc Client configured with tc
// finds, for every address and every kind, exactly the items that have it,
// through the beacons (a Scan whose filter the client rewrites onto them),
// and that every stored item has both beacons.
func checkBeaconQueries(t *testing.T, c *dynamodb.Client, table string, tc dynamodbenc.TableConfig, want map[string]itemcrypto.Item) {
	t.Helper()
	for k, s := range scanAll(t, c, table) {
		if s["aws_dbe_b_email"] == nil || s["KindTag"] == nil || s["aws_dbe_v_1"] == nil {
			t.Fatalf("item %s lacks a beacon: %v", k, slices.Sorted(maps.Keys(s)))
		}
	}
	client, err := dynamodbenc.New(c, dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{table: tc}})
	if err != nil {
		t.Fatal(err)
	}
	want = tagged(want)
	query := func(attr, value string) {
		t.Helper()
		var got []string
		p := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{
			TableName:                 aws.String(table),
			FilterExpression:          aws.String("#a = :v"),
			ExpressionAttributeNames:  map[string]string{"#a": attr},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: value}},
		})
		for p.HasMorePages() {
			page, err := p.NextPage(t.Context())
			if err != nil {
				t.Fatalf("Scan %s = %s: %v", attr, value, err)
			}
			for _, it := range page.Items {
				got = append(got, keyString(it))
			}
		}
		var exp []string
		for k, it := range want {
			if it[attr].(*types.AttributeValueMemberS).Value == value {
				exp = append(exp, k)
			}
		}
		slices.Sort(got)
		slices.Sort(exp)
		if !slices.Equal(got, exp) {
			t.Errorf("%s = %s finds %v, want %v", attr, value, got, exp)
		}
	}
	for _, e := range ddbBeaconEmails {
		query("email", e)
	}
	query("KindTag", "K-admin")
	query("KindTag", "K-user")
}

// rotateBeacons runs a rotation with beacons that rotates every item of
// want (by a rotation or a beacon refresh), and checks that they decrypt
// under the target and that a client configured with tc finds them.
func rotateBeacons(t *testing.T, c *dynamodb.Client, what string, cfg rotate.Config, tc dynamodbenc.TableConfig, want map[string]itemcrypto.Item) {
	t.Helper()
	st, err := rotate.Run(t.Context(), c, cfg)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	n := int64(len(want))
	checkCounts(t, what, st, n, n, 0, 0, 0)
	checkAllUnder(t, c, cfg.Table, cfg.Target, tagged(want))
	checkBeaconQueries(t, c, cfg.Table, tc, want)
}

// beaconValues returns every item's stored email beacon by key.
func beaconValues(t *testing.T, c *dynamodb.Client, table string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, s := range scanAll(t, c, table) {
		if v, ok := s["aws_dbe_b_email"].(*types.AttributeValueMemberS); ok {
			out[k] = v.Value
		}
	}
	return out
}

// TestRotateTableBeacons: a table written without beacons is rotated to
// another keyring with a target search (every item encrypted through
// Protect), then found exactly by dynamodbenc; a rerun finds every item
// current; a rotation to another beacon key (same keys: every item
// current) rewrites the beacons alone, and queries under the new key are
// exact; a rotation without TargetSearch keeps them as they are.
func TestRotateTableBeacons(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, pkName, "S", skName, "N")
	const n = 24
	krA, krB := rawKeyring(t, "a"), rawKeyring(t, "b")
	plainTC := ddbBeaconTable(t, krA, nil, 0)
	source, _ := ddbTarget(t, table, plainTC)
	want := putItems(t, c, table, source, n)

	key1 := randBytes(t, 32)
	tc1 := ddbBeaconTable(t, krB, key1, 1)
	target1, search1 := ddbTarget(t, table, tc1)
	rotateBeacons(t, c, "to keyring b with beacons", rotate.Config{Table: table, Source: source, Target: target1, TargetSearch: search1}, tc1, want)
	before := beaconValues(t, c, table)

	// The same target again: nothing to do.
	st, err := rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: source, Target: target1, TargetSearch: search1})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "again", st, n, 0, n, 0, 0)

	// Another beacon key, 5 bits, the same keyring: the items are current,
	// their beacons alone are rewritten.
	key2 := randBytes(t, 32)
	tc2 := ddbBeaconTable(t, krB, key2, 5) // 2 hex digits: every value differs from a 1-bit one
	target2, search2 := ddbTarget(t, table, tc2)
	headers := map[string]types.AttributeValue{}
	for k, s := range scanAll(t, c, table) {
		headers[k] = s["aws_dbe_head"]
	}
	rotateBeacons(t, c, "to another beacon key", rotate.Config{Table: table, Source: target1, Target: target2, TargetSearch: search2}, tc2, want)
	after := beaconValues(t, c, table)
	changed := 0
	for k, s := range scanAll(t, c, table) {
		if !equalValues(s["aws_dbe_head"], headers[k]) {
			t.Errorf("item %s was encrypted anew; only its beacons were to change", k)
		}
		if before[k] != after[k] {
			changed++
		}
	}
	if changed == 0 {
		t.Errorf("no beacon value changed under the new beacon key: %v", after)
	}

	// Without TargetSearch, the beacons are kept as they are.
	target3, _ := ddbTarget(t, table, ddbBeaconTable(t, rawKeyring(t, "c"), key2, 5))
	if _, err := rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: target2, Target: target3}); err != nil {
		t.Fatal(err)
	}
	if kept := beaconValues(t, c, table); !maps.Equal(kept, after) {
		t.Errorf("a rotation without TargetSearch changed the beacons")
	}
	checkAllUnder(t, c, table, target3, tagged(want))
}

// tagged returns the plaintexts with the signed beacon KindTag their kind
// builds, as the target stores and decrypts them.
func tagged(want map[string]itemcrypto.Item) map[string]itemcrypto.Item {
	out := make(map[string]itemcrypto.Item, len(want))
	for k, it := range want {
		it = maps.Clone(it)
		it["KindTag"] = &types.AttributeValueMemberS{Value: "K-" + it["kind"].(*types.AttributeValueMemberS).Value}
		out[k] = it
	}
	return out
}

func equalValues(a, b types.AttributeValue) bool {
	return equalItems(itemcrypto.Item{"v": a}, itemcrypto.Item{"v": b})
}

// TestRotateTableBeaconsFromDDBEC moves a DDBEC table to the DB-ESDK with
// beacons: the DDBEC attributes go, the beacons come, queries are exact.
func TestRotateTableBeaconsFromDDBEC(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, pkName, "S", skName, "N")
	tc := ddbBeaconTable(t, rawKeyring(t, "b"), randBytes(t, 32), 1)
	target, s := ddbTarget(t, table, tc)
	p := wrappedProvider(t)
	source, err := itemcrypto.New(itemcrypto.Config{TableName: table, Policy: target.Policy(), Provider: p})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	want := putItems(t, c, table, source, n)
	rotateBeacons(t, c, "DDBEC to DB-ESDK with beacons", rotate.Config{Table: table, Source: source, Target: target, TargetSearch: s}, tc, want)
	for k, it := range scanAll(t, c, table) {
		if it[itemcrypto.SignatureAttribute] != nil || it[itemcrypto.MaterialDescriptionAttribute] != nil {
			t.Fatalf("item %s keeps a DDBEC attribute", k)
		}
	}

	// A target that also reads the DDBEC (the legacy override) cannot
	// have beacons.
	d := *tc.DBESDK
	d.LegacyPolicy = itemcrypto.ForbidLegacyEncryptAllowLegacyDecrypt
	legacyTarget, err := itemcrypto.New(itemcrypto.Config{TableName: table, Policy: target.Policy(), Provider: p, Format: itemcrypto.FormatDBESDK, DBESDK: &d})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: source, Target: legacyTarget, TargetSearch: s}); !errors.Is(err, itemcrypto.ErrOverrideWithBeacons) {
		t.Errorf("legacy override with TargetSearch: %v, want ErrOverrideWithBeacons", err)
	}
	if _, err := rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: target, Target: source, TargetSearch: s}); err == nil || !strings.Contains(err.Error(), "DB-ESDK") {
		t.Errorf("DDBEC target with TargetSearch: %v, want a refusal", err)
	}
	// A policy that does not sign the signed beacon.
	unsigned, _ := ddbTarget(t, table, ddbBeaconTable(t, rawKeyring(t, "b"), nil, 0))
	if _, err = rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: source, Target: unsigned, TargetSearch: s}); err == nil || !strings.Contains(err.Error(), "KindTag") {
		t.Errorf("target policy without the signed beacon: %v, want a refusal naming it", err)
	}
}

// TestRotateTableBeaconsCheckpoint: the target's beacons are part of the
// rotation's identity.
func TestRotateTableBeaconsCheckpoint(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, pkName, "S", skName, "N")
	kr := rawKeyring(t, "b")
	source, _ := ddbTarget(t, table, ddbBeaconTable(t, rawKeyring(t, "a"), nil, 0))
	putItems(t, c, table, source, 20)
	key := randBytes(t, 32)
	target, s := ddbTarget(t, table, ddbBeaconTable(t, kr, key, 1))
	cp := filepath.Join(t.TempDir(), "range.checkpoint")
	run := func(s *search.Search) (rotate.Stats, error) {
		return rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: source, Target: target, TargetSearch: s,
			Segments: 2, SegmentRange: &rotate.SegmentRange{First: 0, Last: 0}, Checkpoint: cp})
	}
	if first, err := run(s); err != nil {
		t.Fatalf("first range: %+v, %v", first, err)
	}
	_, same := ddbTarget(t, table, ddbBeaconTable(t, kr, key, 1))
	if again, err := run(same); err != nil || !again.Resumed || again.ScannedThisRun != 0 {
		t.Fatalf("the same rotation again: %+v, %v; want its finished checkpoint", again, err)
	}
	_, otherKey := ddbTarget(t, table, ddbBeaconTable(t, kr, randBytes(t, 32), 1))
	_, otherLength := ddbTarget(t, table, ddbBeaconTable(t, kr, key, 2))
	for what, s := range map[string]*search.Search{"another beacon key": otherKey, "another length": otherLength, "no beacons": nil} {
		if _, err := run(s); err == nil || !strings.Contains(err.Error(), "belongs to another rotation") {
			t.Errorf("%s: %v, want the checkpoint refused", what, err)
		}
	}
}

// TestRotateTableBeaconsConcurrentWriter: a writer that rewrites an item
// between the rotation's read and its write-back (of a rotation, and of a
// beacon refresh) keeps its write.
func TestRotateTableBeaconsConcurrentWriter(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, pkName, "S", skName, "N")
	source, _ := ddbTarget(t, table, ddbBeaconTable(t, rawKeyring(t, "a"), nil, 0))
	const n = 12
	want := putItems(t, c, table, source, n)
	kr := rawKeyring(t, "b")
	for _, step := range []struct {
		name   string
		source *itemcrypto.Encryptor
		tc     dynamodbenc.TableConfig
	}{
		{"rotation", source, ddbBeaconTable(t, kr, randBytes(t, 32), 1)},
		{"beacon refresh", nil, ddbBeaconTable(t, kr, randBytes(t, 32), 5)}, // every value differs from a 1-bit one
	} {
		target, s := ddbTarget(t, table, step.tc)
		src := step.source
		if src == nil {
			src = target
		}
		// The writer: every third item gets a new card, written by a
		// dynamodbenc client of the target right before the write-back.
		writer, err := dynamodbenc.New(c, dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{table: step.tc}})
		if err != nil {
			t.Fatal(err)
		}
		raced := map[string]bool{}
		api := racingAPI{API: c, race: func(ctx context.Context, key map[string]types.AttributeValue) {
			k := keyString(key)
			i, _ := strconv.Atoi(strings.TrimPrefix(k[:strings.IndexByte(k, '/')], "user-"))
			if (2*i+int(k[len(k)-1]-'0'))%3 != 0 || raced[k] {
				return
			}
			raced[k] = true
			it := maps.Clone(want[k])
			it["card"] = &types.AttributeValueMemberS{Value: "changed by the writer in the " + step.name}
			if _, err := writer.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
				t.Errorf("writer: %v", err)
			}
			want[k] = it
		}}
		st, err := rotate.Run(t.Context(), api, rotate.Config{Table: table, Source: src, Target: target, TargetSearch: s, Segments: 1})
		if err != nil {
			t.Fatal(err)
		}
		checkCounts(t, step.name, st, n, n-int64(len(raced)), 0, int64(len(raced)), 0)
		if len(raced) == 0 {
			t.Fatalf("%s: the writer never ran", step.name)
		}
		checkAllUnder(t, c, table, target, tagged(want))
		checkBeaconQueries(t, c, table, step.tc, want)
	}
}

// TestRotateTableBeaconsSameKeys: rotating to the same keys with a target
// search is how a table gets beacons. Its items are current; as they lack
// the signed beacon KindTag (part of the signature), they are encrypted
// anew, under the same keys.
func TestRotateTableBeaconsSameKeys(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, pkName, "S", skName, "N")
	kr := rawKeyring(t, "b")
	plainTC := ddbBeaconTable(t, kr, nil, 0)
	source, _ := ddbTarget(t, table, plainTC)
	const n = 16
	want := putItems(t, c, table, source, n)
	tc := ddbBeaconTable(t, kr, randBytes(t, 32), 2)
	target, s := ddbTarget(t, table, tc)
	rotateBeacons(t, c, "the same keys, with beacons", rotate.Config{Table: table, Source: source, Target: target, TargetSearch: s}, tc, want)
	// The source (same keyring, no KindTag in its policy) reads them too.
	st, err := rotate.Run(t.Context(), c, rotate.Config{Table: table, Source: source, Target: target, TargetSearch: s})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "again", st, n, 0, n, 0, 0)
}

// TestRotateTableBeaconsPartitions: with beacon partitions and no
// selector an item's partition is random on every write; a rerun still
// finds every item current (its beacons are right in the partition it was
// written in), and rewrites none.
func TestRotateTableBeaconsPartitions(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, pkName, "S", skName, "N")
	const n = 24
	source, _ := ddbTarget(t, table, ddbBeaconTable(t, rawKeyring(t, "a"), nil, 0))
	want := putItems(t, c, table, source, n)
	tc := ddbBeaconTable(t, rawKeyring(t, "b"), randBytes(t, 32), 8)
	tc.Search.Versions[0].MaximumNumberOfPartitions = 4
	target, s := ddbTarget(t, table, tc)
	cfg := rotate.Config{Table: table, Source: source, Target: target, TargetSearch: s}
	st, err := rotate.Run(t.Context(), c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "rotation", st, n, n, 0, 0, 0)
	before := beaconValues(t, c, table)
	st, err = rotate.Run(t.Context(), c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "rerun", st, n, 0, n, 0, 0)
	if after := beaconValues(t, c, table); !maps.Equal(after, before) {
		t.Error("the rerun rewrote beacons")
	}
	checkAllUnder(t, c, table, target, tagged(want))
}
