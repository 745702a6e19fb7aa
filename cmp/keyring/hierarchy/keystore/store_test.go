package keystore_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy/keystore"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// wantContext is the KMS encryption context the spec gives an item: every
// attribute but enc, hierarchy-version as its number string, and the
// logical key store name as "tablename".
func wantContext(item map[string]types.AttributeValue) map[string]string {
	ec := map[string]string{"tablename": logicalName}
	for k, v := range item {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			ec[k] = v.Value
		case *types.AttributeValueMemberN:
			ec[k] = v.Value
		}
	}
	return ec
}

func TestCreateKeyStore(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// The table exists now: the second call describes it and returns its ARN.
	tableARN, err := e.store.CreateKeyStore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(tableARN, ":table/"+e.table) {
		t.Fatalf("table ARN %q", tableARN)
	}
	out, err := e.ddb.Client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &e.table})
	if err != nil {
		t.Fatal(err)
	}
	var schema []string
	for _, k := range out.Table.KeySchema {
		schema = append(schema, aws.ToString(k.AttributeName)+"/"+string(k.KeyType))
	}
	for _, d := range out.Table.AttributeDefinitions {
		schema = append(schema, aws.ToString(d.AttributeName)+":"+string(d.AttributeType))
	}
	if want := []string{"branch-key-id/HASH", "type/RANGE", "branch-key-id:S", "type:S"}; !reflect.DeepEqual(schema, want) {
		t.Fatalf("key schema %v, want %v", schema, want)
	}
	if len(out.Table.GlobalSecondaryIndexes) != 0 || len(out.Table.LocalSecondaryIndexes) != 0 {
		t.Fatal("the key store table has no index")
	}

	// A table with another key schema is refused.
	other := testenv.NewTable(t, e.ddb.Client, "branch-key-id", "S", "kind", "S")
	s := e.newStore(t, func(o *keystore.Options) { o.TableName = other; o.KMS = keystore.KeyARN(e.keyARN) })
	if _, err := s.CreateKeyStore(ctx); !errors.Is(err, keystore.ErrTableSchema) {
		t.Fatalf("CreateKeyStore on a wrong table: %v, want ErrTableSchema", err)
	}
}

func TestNewValidates(t *testing.T) {
	srv := kmstest.NewServer(t)
	_, arn := srv.CreateKey()
	alias := srv.CreateAlias("alias/ks", arn)
	ddb := &dynamodb.Client{}
	for name, fn := range map[string]func(*keystore.Options){
		"no table":           func(o *keystore.Options) { o.TableName = "" },
		"no logical name":    func(o *keystore.Options) { o.LogicalName = "" },
		"no KMS config":      func(o *keystore.Options) { o.KMS = keystore.KMSConfig{} },
		"alias ARN":          func(o *keystore.Options) { o.KMS = keystore.KeyARN(alias) },
		"alias name":         func(o *keystore.Options) { o.KMS = keystore.KeyARN("alias/ks") },
		"bare key id":        func(o *keystore.Options) { o.KMS = keystore.MRKeyARN("1234abcd-12ab-34cd-56ef-1234567890ab") },
		"MRDiscovery region": func(o *keystore.Options) { o.KMS = keystore.MRDiscovery("") },
		"11 grant tokens":    func(o *keystore.Options) { o.GrantTokens = make([]string, 11) },
	} {
		t.Run(name, func(t *testing.T) {
			_, err := keystore.New(ddb, srv.Client(), func(o *keystore.Options) {
				o.TableName, o.LogicalName, o.KMS = "t", "l", keystore.KeyARN(arn)
			}, fn)
			if err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
	s, err := keystore.New(ddb, srv.Client(), func(o *keystore.Options) {
		o.TableName, o.LogicalName, o.KMS = "t", "l", keystore.KeyARN(arn)
	})
	if err != nil {
		t.Fatal(err)
	}
	if info := s.Info(); !uuidRE.MatchString(info.ID) || info.TableName != "t" || info.LogicalName != "l" || info.KMS.ARN() != arn {
		t.Fatalf("Info() = %+v", info)
	}
}

// TestCreateKeyLayout checks the three items and the KMS calls against the
// spec's record format and the MPL's CreateKeys.dfy.
func TestCreateKeyLayout(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.kms.ResetCalls()
	id, err := e.store.CreateKey(ctx, keystore.CreateKeyInput{BranchKeyID: "tenant-1", EncryptionContext: map[string]string{"department": "admin"}})
	if err != nil {
		t.Fatal(err)
	}
	if id != "tenant-1" {
		t.Fatalf("id %q", id)
	}
	items := e.items(t, id)
	active, beacon := items["branch:ACTIVE"], items["beacon:ACTIVE"]
	if len(items) != 3 || active == nil || beacon == nil {
		t.Fatalf("items of types %v, want branch:ACTIVE, beacon:ACTIVE and one version", slices.Collect(maps.Keys(items)))
	}
	versionType := str(active, "version")
	version, ok := strings.CutPrefix(versionType, "branch:version:")
	if !ok || !uuidRE.MatchString(version) {
		t.Fatalf("active version attribute %q, want branch:version:<UUIDv4>", versionType)
	}
	decryptOnly := items[versionType]
	if decryptOnly == nil {
		t.Fatalf("no item of type %q", versionType)
	}

	common := map[string]string{
		"branch-key-id":            "tenant-1",
		"create-time":              "2026-03-04T04:06:07.891234Z", // UTC, microseconds
		"kms-arn":                  e.keyARN,
		"aws-crypto-ec:department": "admin",
	}
	for name, tc := range map[string]struct {
		item map[string]types.AttributeValue
		typ  string
		more map[string]string
	}{
		"version": {decryptOnly, versionType, nil},
		"active":  {active, "branch:ACTIVE", map[string]string{"version": versionType}},
		"beacon":  {beacon, "beacon:ACTIVE", nil},
	} {
		t.Run(name, func(t *testing.T) {
			want := maps.Clone(common)
			want["type"] = tc.typ
			maps.Copy(want, tc.more)
			got := map[string]string{}
			for k, v := range tc.item {
				switch v := v.(type) {
				case *types.AttributeValueMemberS:
					got[k] = v.Value
				case *types.AttributeValueMemberN:
					if k != "hierarchy-version" || v.Value != "1" {
						t.Errorf("number attribute %s = %s, want hierarchy-version 1", k, v.Value)
					}
				case *types.AttributeValueMemberB:
					if k != "enc" || len(v.Value) == 0 {
						t.Errorf("binary attribute %s, want only enc", k)
					}
				default:
					t.Errorf("attribute %s of type %T", k, v)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("string attributes\n got %v\nwant %v", got, want)
			}
			if _, ok := tc.item["hierarchy-version"]; !ok {
				t.Error("no hierarchy-version")
			}
			if _, ok := tc.item["enc"]; !ok {
				t.Error("no enc")
			}
		})
	}

	// KMS: GenerateDataKeyWithoutPlaintext (version), ReEncrypt (version ->
	// active), GenerateDataKeyWithoutPlaintext (beacon), each with the
	// item's context, the configured key ARN and the grant tokens.
	calls := e.kms.Calls()
	type call struct {
		op, keyID, dstKeyID string
		n                   int32
		ec, dst             map[string]string
	}
	var got []call
	for _, c := range calls {
		if !reflect.DeepEqual(c.GrantTokens, []string{"grant-1"}) || c.ErrorCode != "" {
			t.Errorf("%s: grant tokens %v, error %q", c.Op, c.GrantTokens, c.ErrorCode)
		}
		got = append(got, call{c.Op, c.KeyID, c.DestinationKeyID, c.NumberOfBytes, c.EncryptionContext, c.DestinationEncryptionContext})
	}
	want := []call{
		{"GenerateDataKeyWithoutPlaintext", e.keyARN, "", 32, wantContext(decryptOnly), nil},
		{"ReEncrypt", e.keyARN, e.keyARN, 0, wantContext(decryptOnly), wantContext(active)},
		{"GenerateDataKeyWithoutPlaintext", e.keyARN, "", 32, wantContext(beacon), nil},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("KMS calls\n got %+v\nwant %+v", got, want)
	}

	// DynamoDB: one transaction of three conditional puts.
	tx := e.ddb.transactions()
	if len(tx) != 1 || len(tx[0].TransactItems) != 3 {
		t.Fatalf("transactions %d", len(tx))
	}
	for i, ti := range tx[0].TransactItems {
		p := ti.Put
		if aws.ToString(p.ConditionExpression) != "attribute_not_exists(#BranchKeyIdentifierField)" ||
			!reflect.DeepEqual(p.ExpressionAttributeNames, map[string]string{"#BranchKeyIdentifierField": "branch-key-id"}) ||
			aws.ToString(p.TableName) != e.table {
			t.Errorf("put %d: condition %q names %v table %q", i, aws.ToString(p.ConditionExpression), p.ExpressionAttributeNames, aws.ToString(p.TableName))
		}
	}

	// Reads: the active item and the version item hold the same branch key;
	// the beacon key is another one.
	a, err := e.store.GetActiveBranchKey(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.store.GetBranchKeyVersion(ctx, id, version)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.store.GetBeaconKey(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if a.BranchKey.ID() != id || a.BranchKey.Version() != version || v.BranchKey.Version() != version {
		t.Fatalf("active %v, version %v", a.BranchKey, v.BranchKey)
	}
	if !reflect.DeepEqual(a.EncryptionContext, map[string]string{"department": "admin"}) ||
		!reflect.DeepEqual(b.EncryptionContext, a.EncryptionContext) || b.BranchKeyID != id {
		t.Fatalf("custom context %v, beacon %v", a.EncryptionContext, b.EncryptionContext)
	}
	if !reflect.DeepEqual(a.BranchKey, v.BranchKey) {
		t.Fatal("active and version item hold different branch keys")
	}
	if len(b.Key()) != 32 || reflect.DeepEqual(b.Key(), make([]byte, 32)) {
		t.Fatal("beacon key not 32 random bytes")
	}
	for _, s := range []string{fmt.Sprint(b), fmt.Sprintf("%#v", b), fmt.Sprintf("%+v", b)} {
		if strings.Contains(s, hex.EncodeToString(b.Key())) || strings.Contains(s, base64.StdEncoding.EncodeToString(b.Key())) || !strings.Contains(s, "redacted") {
			t.Errorf("beacon key printed: %s", s)
		}
	}
}

func TestCreateKeyRandomID(t *testing.T) {
	e := newEnv(t)
	id, err := e.store.CreateKey(context.Background(), keystore.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !uuidRE.MatchString(id) {
		t.Fatalf("branch key id %q, want a version 4 UUID", id)
	}
	items := e.items(t, id)
	if len(items) != 3 {
		t.Fatalf("%d items", len(items))
	}
	for _, it := range items {
		for k := range it {
			if strings.HasPrefix(k, "aws-crypto-ec:") {
				t.Errorf("custom context attribute %s without a custom context", k)
			}
		}
	}
}

func TestCreateKeyErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ec := map[string]string{"k": "v"}
	if _, err := e.store.CreateKey(ctx, keystore.CreateKeyInput{BranchKeyID: "x"}); !errors.Is(err, keystore.ErrInvalidInput) {
		t.Errorf("custom id without context: %v", err)
	}
	if _, err := e.store.CreateKey(ctx, keystore.CreateKeyInput{BranchKeyID: "x", EncryptionContext: map[string]string{"k": "\xff"}}); !errors.Is(err, keystore.ErrInvalidInput) || strings.Contains(err.Error(), "\xff") {
		t.Errorf("non-UTF-8 value: %v", err)
	}
	if _, err := e.store.CreateKey(ctx, keystore.CreateKeyInput{BranchKeyID: "dup", EncryptionContext: ec}); err != nil {
		t.Fatal(err)
	}
	before := e.items(t, "dup")
	_, err := e.store.CreateKey(ctx, keystore.CreateKeyInput{BranchKeyID: "dup", EncryptionContext: map[string]string{"k": "other"}})
	if !errors.Is(err, keystore.ErrBranchKeyExists) {
		t.Fatalf("second CreateKey: %v, want ErrBranchKeyExists", err)
	}
	var kerr *keystore.Error
	if !errors.As(err, &kerr) || kerr.Op != "CreateKey" || kerr.BranchKeyID != "dup" || kerr.Table != e.table {
		t.Fatalf("error %#v", err)
	}
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) {
		t.Error("the DynamoDB error is not reachable")
	}
	if after := e.items(t, "dup"); !reflect.DeepEqual(before, after) {
		t.Fatal("a failed CreateKey changed the items")
	}

	// A failing KMS call leaves nothing behind.
	e.kms.FailNext(kmstest.OpGenerateDataKeyWithoutPlaintext, kmstest.CodeThrottling, 1)
	if _, err := e.store.CreateKey(ctx, keystore.CreateKeyInput{BranchKeyID: "k1", EncryptionContext: ec}); err == nil {
		t.Fatal("CreateKey succeeded despite KMS failure")
	}
	e.kms.FailNext(kmstest.OpReEncrypt, kmstest.CodeAccessDenied, 1)
	if _, err := e.store.CreateKey(ctx, keystore.CreateKeyInput{BranchKeyID: "k1", EncryptionContext: ec}); err == nil {
		t.Fatal("CreateKey succeeded despite KMS failure")
	}
	if n := len(e.items(t, "k1")); n != 0 {
		t.Fatalf("%d items after failed CreateKey", n)
	}

	// Discovery stores are read-only.
	for _, cfg := range []keystore.KMSConfig{keystore.Discovery(), keystore.MRDiscovery("us-west-2")} {
		d := e.newStore(t, func(o *keystore.Options) { o.KMS = cfg })
		if _, err := d.CreateKey(ctx, keystore.CreateKeyInput{}); !errors.Is(err, keystore.ErrReadOnly) {
			t.Errorf("%v CreateKey: %v", cfg, err)
		}
		if err := d.VersionKey(ctx, "dup"); !errors.Is(err, keystore.ErrReadOnly) {
			t.Errorf("%v VersionKey: %v", cfg, err)
		}
		if _, err := d.GetActiveBranchKey(ctx, "dup"); err != nil {
			t.Errorf("%v reads: %v", cfg, err)
		}
	}
}

func TestVersionKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, err := e.store.CreateKey(ctx, keystore.CreateKeyInput{BranchKeyID: "rot", EncryptionContext: map[string]string{"department": "admin"}})
	if err != nil {
		t.Fatal(err)
	}
	v1, err := e.store.GetActiveBranchKey(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	oldActive := e.rawItem(t, id, "branch:ACTIVE")
	beaconBefore := e.rawItem(t, id, "beacon:ACTIVE")
	e.kms.ResetCalls()
	later := e.newStore(t, func(o *keystore.Options) {
		o.KMS = keystore.KeyARN(e.keyARN)
		o.Now = func() time.Time { return time.Date(2027, 1, 2, 3, 4, 5, 6000, time.UTC) }
	})
	if err := later.VersionKey(ctx, id); err != nil {
		t.Fatal(err)
	}
	v2, err := e.store.GetActiveBranchKey(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if v2.BranchKey.Version() == v1.BranchKey.Version() || !uuidRE.MatchString(v2.BranchKey.Version()) {
		t.Fatalf("active version %s after VersionKey (was %s)", v2.BranchKey.Version(), v1.BranchKey.Version())
	}
	if reflect.DeepEqual(v1.BranchKey, v2.BranchKey) {
		t.Fatal("same branch key after VersionKey")
	}
	if !reflect.DeepEqual(v2.EncryptionContext, v1.EncryptionContext) {
		t.Fatalf("custom context %v after VersionKey, want %v", v2.EncryptionContext, v1.EncryptionContext)
	}
	old, err := e.store.GetBranchKeyVersion(ctx, id, v1.BranchKey.Version())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(old.BranchKey, v1.BranchKey) {
		t.Fatal("the old version changed")
	}
	items := e.items(t, id)
	if len(items) != 4 || !reflect.DeepEqual(items["beacon:ACTIVE"], beaconBefore) {
		t.Fatalf("%d items, beacon unchanged %v", len(items), reflect.DeepEqual(items["beacon:ACTIVE"], beaconBefore))
	}
	newVersion := items["branch:version:"+v2.BranchKey.Version()]
	if str(newVersion, "create-time") != "2027-01-02T03:04:05.000006Z" || str(newVersion, "kms-arn") != e.keyARN || str(newVersion, "aws-crypto-ec:department") != "admin" {
		t.Fatalf("new version item %v", newVersion)
	}

	// KMS: ReEncrypt authenticating the old active item under its own
	// context, then the new version as in CreateKey.
	calls := slices.DeleteFunc(e.kms.Calls(), func(c kmstest.Call) bool { return c.Op == kmstest.OpDecrypt })
	if len(calls) != 3 {
		t.Fatalf("%d KMS calls", len(calls))
	}
	if c := calls[0]; c.Op != "ReEncrypt" || !reflect.DeepEqual(c.EncryptionContext, wantContext(oldActive)) || !reflect.DeepEqual(c.DestinationEncryptionContext, wantContext(oldActive)) || c.KeyID != e.keyARN || c.DestinationKeyID != e.keyARN {
		t.Errorf("first call %+v", c)
	}
	if c := calls[1]; c.Op != "GenerateDataKeyWithoutPlaintext" || !reflect.DeepEqual(c.EncryptionContext, wantContext(newVersion)) {
		t.Errorf("second call %+v", c)
	}
	if c := calls[2]; c.Op != "ReEncrypt" || !reflect.DeepEqual(c.EncryptionContext, wantContext(newVersion)) || !reflect.DeepEqual(c.DestinationEncryptionContext, wantContext(items["branch:ACTIVE"])) {
		t.Errorf("third call %+v", c)
	}
	// DynamoDB: new version conditional on absence, active on its old enc.
	tx := e.ddb.transactions()
	last := tx[len(tx)-1].TransactItems
	if len(last) != 2 || aws.ToString(last[1].Put.ConditionExpression) != "attribute_exists(#BranchKeyIdentifierField) AND #Enc = :encOld" ||
		!bytes.Equal(last[1].Put.ExpressionAttributeValues[":encOld"].(*types.AttributeValueMemberB).Value, oldActive["enc"].(*types.AttributeValueMemberB).Value) {
		t.Fatalf("VersionKey transaction %+v", last)
	}

	if err := e.store.VersionKey(ctx, "no-such-key"); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("VersionKey of a missing key: %v", err)
	}
	if _, err := e.store.GetBranchKeyVersion(ctx, id, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, keystore.ErrNotFound) || !errors.Is(err, hierarchy.ErrBranchKeyNotFound) {
		t.Errorf("missing version: %v", err)
	}
	if _, err := e.store.GetActiveBranchKey(ctx, "no-such-key"); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("missing key: %v", err)
	}
	if _, err := e.store.GetBeaconKey(ctx, "no-such-key"); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("missing beacon: %v", err)
	}

	// A KMS failure in VersionKey writes nothing.
	before := e.items(t, id)
	e.kms.FailNext(kmstest.OpGenerateDataKeyWithoutPlaintext, kmstest.CodeThrottling, 1)
	if err := e.store.VersionKey(ctx, id); err == nil {
		t.Fatal("VersionKey succeeded despite KMS failure")
	}
	if after := e.items(t, id); !reflect.DeepEqual(before, after) {
		t.Fatal("failed VersionKey changed the store")
	}
}

// TestConcurrentWrites: of concurrent VersionKey calls each either succeeds
// or fails with ErrConflict, and the store ends with one version item per
// success, an active item naming one of them, and every version readable;
// of concurrent CreateKey calls of one id exactly one succeeds.
func TestConcurrentWrites(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ec := map[string]string{"k": "v"}
	const n = 8

	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = e.store.CreateKey(ctx, keystore.CreateKeyInput{BranchKeyID: "race", EncryptionContext: map[string]string{"k": fmt.Sprint(i)}})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, keystore.ErrBranchKeyExists):
			t.Fatalf("concurrent CreateKey: %v", err)
		}
	}
	if items := e.items(t, "race"); won != 1 || len(items) != 3 {
		t.Fatalf("%d CreateKey calls won, %d items", won, len(items))
	}

	if _, err := e.store.CreateKey(ctx, keystore.CreateKeyInput{BranchKeyID: "rot", EncryptionContext: ec}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		wg.Go(func() { errs[i] = e.store.VersionKey(ctx, "rot") })
	}
	wg.Wait()
	won = 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, keystore.ErrConflict):
			t.Fatalf("concurrent VersionKey: %v", err)
		}
	}
	items := e.items(t, "rot")
	if won < 1 || len(items) != 3+won {
		t.Fatalf("%d VersionKey calls won, %d items", won, len(items))
	}
	active, err := e.store.GetActiveBranchKey(ctx, "rot")
	if err != nil {
		t.Fatal(err)
	}
	if items["branch:version:"+active.BranchKey.Version()] == nil {
		t.Fatal("the active version has no version item")
	}
	for typ := range items {
		if v, ok := strings.CutPrefix(typ, "branch:version:"); ok {
			if _, err := e.store.GetBranchKeyVersion(ctx, "rot", v); err != nil {
				t.Fatalf("version %s: %v", v, err)
			}
		}
	}
	t.Logf("%d of %d concurrent VersionKey calls won", won, n)
}
