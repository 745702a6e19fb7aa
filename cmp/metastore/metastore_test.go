package metastore_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
	"github.com/itemcrypto/go-itemcrypto/cmp/metastore"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// newMetaTable creates a meta table with metastore.CreateTable under a
// unique name, waits until it is ACTIVE (as testenv.NewTable does: the SDK
// waiter polls every 20 s, dynalite is ready at once) and deletes it when
// the test ends.
func newMetaTable(t *testing.T, c *dynamodb.Client) string {
	t.Helper()
	name := testenv.TableName(t)
	return testenv.CreatedTable(t, c, name, func(ctx context.Context) error { return metastore.CreateTable(ctx, c, name) })
}

func newStore(t *testing.T, c metastore.API, table string, meta cmp.Provider) *metastore.Store {
	t.Helper()
	st, err := metastore.New(c, table, meta)
	if err != nil {
		t.Fatalf("metastore.New: %v", err)
	}
	return st
}

func getRaw(t *testing.T, c *dynamodb.Client, table, name, version string) itemcrypto.Item {
	t.Helper()
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            itemcrypto.Item{"N": s(name), "V": n(version)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	return out.Item
}

func scanAll(t *testing.T, c *dynamodb.Client, table string) []itemcrypto.Item {
	t.Helper()
	var items []itemcrypto.Item
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		items = append(items, out.Items...)
	}
	return items
}

func TestCreateTable(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := newMetaTable(t, c)
	out, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]types.KeyType{}
	for _, k := range out.Table.KeySchema {
		keys[aws.ToString(k.AttributeName)] = k.KeyType
	}
	attrs := map[string]types.ScalarAttributeType{}
	for _, a := range out.Table.AttributeDefinitions {
		attrs[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	if want := map[string]types.KeyType{"N": types.KeyTypeHash, "V": types.KeyTypeRange}; !reflect.DeepEqual(keys, want) {
		t.Errorf("key schema = %v, want %v", keys, want)
	}
	if want := map[string]types.ScalarAttributeType{"N": types.ScalarAttributeTypeS, "V": types.ScalarAttributeTypeN}; !reflect.DeepEqual(attrs, want) {
		t.Errorf("attribute definitions = %v, want %v", attrs, want)
	}
	if bm := out.Table.BillingModeSummary; bm == nil || bm.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing mode = %+v, want PAY_PER_REQUEST", bm)
	}
	// A second creation fails, naming the table.
	if err := metastore.CreateTable(context.Background(), c, table); err == nil {
		t.Errorf("CreateTable of an existing table succeeded")
	}
}

func TestStoreItemFormatAndRoundTrip(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := newMetaTable(t, c)
	meta := metaProvider(t, 1)
	st := newStore(t, c, table, meta)
	ctx := context.Background()
	created, err := st.CreateProvider(ctx, "mat", 0)
	if err != nil {
		t.Fatalf("CreateProvider: %v", err)
	}
	raw := getRaw(t, c, table, "mat", "0")
	plain := checkStoredMetaItem(t, table, meta, raw, "mat", 0)

	read, err := st.Provider(ctx, "mat", 0)
	if err != nil {
		t.Fatalf("Provider: %v", err)
	}
	// The provider read back, the one created, and one built here from the
	// stored keys are the same.
	sameKeys(t, "mat#0", created, read, wrappedFrom(t, plain))
	// Another Store over the same table reads it too.
	sameKeys(t, "mat#0", read, mustProvider(t, newStore(t, c, table, meta), "mat", 0))
}

func mustProvider(t *testing.T, st cmp.ProviderStore, name string, v int64) cmp.Provider {
	t.Helper()
	p, err := st.Provider(context.Background(), name, v)
	if err != nil {
		t.Fatalf("Provider(%s, %d): %v", name, v, err)
	}
	return p
}

// TestStoreConcurrentCreate: creators of one version race; the conditional
// put decides, and all of them end up with the keys that were stored.
func TestStoreConcurrentCreate(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := newMetaTable(t, c)
	meta := metaProvider(t, 1)
	const workers = 10
	ps := make([]cmp.Provider, workers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range workers {
		st := newStore(t, c, table, meta) // one Store per writer, as separate processes would have
		wg.Go(func() {
			<-start
			p, err := st.CreateProvider(context.Background(), "mat", 0)
			if err != nil {
				t.Errorf("writer %d: CreateProvider: %v", i, err)
			}
			ps[i] = p
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	if items := scanAll(t, c, table); len(items) != 1 {
		t.Errorf("%d meta items after concurrent creation, want 1", len(items))
	}
	stored := mustProvider(t, newStore(t, c, table, meta), "mat", 0)
	sameKeys(t, "mat#0", append(ps, stored)...)
}

func TestStoreVersions(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := newMetaTable(t, c)
	st := newStore(t, c, table, metaProvider(t, 1))
	ctx := context.Background()
	if _, err := st.MaxVersion(ctx, "mat"); !errors.Is(err, cmp.ErrVersionNotFound) {
		t.Errorf("MaxVersion of an unknown name = %v, want ErrVersionNotFound", err)
	}
	if _, err := st.Provider(ctx, "mat", 0); !errors.Is(err, cmp.ErrVersionNotFound) {
		t.Errorf("Provider of a missing version = %v, want ErrVersionNotFound", err)
	}
	tests := []struct {
		create []int64
		want   int64
	}{
		{[]int64{0}, 0},
		{[]int64{1, 2}, 2},
		{[]int64{10, 9}, 10}, // numeric, not lexicographic, order
	}
	var ps []cmp.Provider
	for _, tc := range tests {
		for _, v := range tc.create {
			p, err := st.CreateProvider(ctx, "mat", v)
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		if v, err := st.MaxVersion(ctx, "mat"); err != nil || v != tc.want {
			t.Errorf("MaxVersion after creating %v = %d, %v; want %d", tc.create, v, err, tc.want)
		}
	}
	// Other names in the table do not count.
	if _, err := st.CreateProvider(ctx, "mat-other", 50); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateProvider(ctx, "ma", 60); err != nil {
		t.Fatal(err)
	}
	if v, err := st.MaxVersion(ctx, "mat"); err != nil || v != 10 {
		t.Errorf("MaxVersion with other names present = %d, %v; want 10", v, err)
	}
	if _, err := st.Provider(ctx, "mat", 3); !errors.Is(err, cmp.ErrVersionNotFound) {
		t.Errorf("Provider of a missing version = %v, want ErrVersionNotFound", err)
	}
	differentKeys(t, ps[0], ps[1])
	if v, err := cmp.RotateProvider(ctx, st, "mat"); err != nil || v != 11 {
		t.Errorf("RotateProvider = %d, %v; want 11", v, err)
	}
	if v, err := cmp.RotateProvider(ctx, st, "fresh"); err != nil || v != 0 {
		t.Errorf("RotateProvider of a new name = %d, %v; want 0", v, err)
	}
}

// TestStoreTampered: a meta item changed in the table is refused, and
// CreateProvider does not paper over it.
func TestStoreTampered(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := newMetaTable(t, c)
	meta := metaProvider(t, 1)
	st := newStore(t, c, table, meta)
	ctx := context.Background()
	if _, err := st.CreateProvider(ctx, "mat", 0); err != nil {
		t.Fatal(err)
	}
	raw := getRaw(t, c, table, "mat", "0")
	tampered := maps.Clone(raw)
	enc := bytes.Clone(raw["enc"].(*types.AttributeValueMemberB).Value)
	enc[len(enc)-1] ^= 0x80
	tampered["enc"] = bv(enc)
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: tampered}); err != nil {
		t.Fatal(err)
	}
	if p, err := st.Provider(ctx, "mat", 0); p != nil || !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Errorf("Provider of a tampered item = %v, %v; want nil, ErrAuthentication", p, err)
	}
	if p, err := st.CreateProvider(ctx, "mat", 0); p != nil || !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Errorf("CreateProvider over a tampered item = %v, %v; want nil, ErrAuthentication", p, err)
	}
	if got := getRaw(t, c, table, "mat", "0"); !reflect.DeepEqual(got, tampered) {
		t.Errorf("CreateProvider overwrote the existing item")
	}
	// The same table read with another meta provider.
	if _, err := st.CreateProvider(ctx, "mat", 1); err != nil {
		t.Fatal(err)
	}
	if p, err := newStore(t, c, table, metaProvider(t, 9)).Provider(ctx, "mat", 1); p != nil || !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Errorf("Provider with another meta provider = %v, %v; want nil, ErrAuthentication", p, err)
	}
}

// TestStoreMissingTable: a DynamoDB failure is not "version not found", so
// that a MostRecent does not try to create a version over it.
func TestStoreMissingTable(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	st := newStore(t, c, testenv.TableName(t), metaProvider(t, 1)) // never created
	ctx := context.Background()
	var notFound *types.ResourceNotFoundException
	if _, err := st.MaxVersion(ctx, "mat"); err == nil || errors.Is(err, cmp.ErrVersionNotFound) || !errors.As(err, &notFound) {
		t.Errorf("MaxVersion on a missing table = %v, want the SDK's ResourceNotFoundException", err)
	}
	if _, err := st.Provider(ctx, "mat", 0); err == nil || errors.Is(err, cmp.ErrVersionNotFound) || !errors.As(err, &notFound) {
		t.Errorf("Provider on a missing table = %v, want the SDK's ResourceNotFoundException", err)
	}
	if _, err := st.CreateProvider(ctx, "mat", 0); err == nil || !errors.As(err, &notFound) {
		t.Errorf("CreateProvider on a missing table = %v, want the SDK's ResourceNotFoundException", err)
	}
	mr, err := cmp.NewMostRecent(cmp.MostRecentConfig{Store: st, MaterialName: "mat", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	out, err := encryptor(t, "data", "id", "", mr).Encrypt(ctx, itemcrypto.Item{"id": s("1")})
	if out != nil || !errors.As(err, &notFound) {
		t.Errorf("MostRecent Encrypt over a missing table = %v, %v; want nil and ResourceNotFoundException", out, err)
	}
	if _, err := metastore.New(nil, "t", metaProvider(t, 1)); err == nil {
		t.Errorf("metastore.New(nil API) succeeded")
	}
}

// TestStoreMostRecent: a MostRecent provider over the DynamoDB store, two
// writers (as two processes), rotation.
func TestStoreMostRecent(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := newMetaTable(t, c)
	meta := metaProvider(t, 1)
	ctx := context.Background()
	newMR := func() *cmp.MostRecent {
		mr, err := cmp.NewMostRecent(cmp.MostRecentConfig{Store: newStore(t, c, table, meta), MaterialName: "mat", TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return mr
	}
	mr1, mr2 := newMR(), newMR()
	// Both writers start cold at once: one creates version 0, both use it.
	var wg sync.WaitGroup
	for _, mr := range []*cmp.MostRecent{mr1, mr2} {
		wg.Go(func() {
			if v, err := mr.CurrentVersion(ctx); err != nil || v != 0 {
				t.Errorf("CurrentVersion = %d, %v; want 0", v, err)
			}
		})
	}
	wg.Wait()
	sameKeys(t, "mat#0", mr1, mr2)

	item := itemcrypto.Item{"id": s("old"), "v": s("written with version 0")}
	old, err := encryptor(t, "data", "id", "", mr1).Encrypt(ctx, item)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := cmp.RotateProvider(ctx, newStore(t, c, table, meta), "mat"); err != nil || v != 1 {
		t.Fatalf("RotateProvider = %d, %v; want 1", v, err)
	}
	mr1.Refresh()
	if v, err := mr1.CurrentVersion(ctx); err != nil || v != 1 {
		t.Errorf("CurrentVersion after rotation and Refresh = %d, %v; want 1", v, err)
	}
	if v, _ := mr2.CurrentVersion(ctx); v != 0 {
		t.Errorf("writer without Refresh within its TTL: version %d, want 0", v)
	}
	mr2.Refresh()
	sameKeys(t, "mat#1", mr1, mr2, newMR())
	for i, mr := range []*cmp.MostRecent{mr1, mr2, newMR()} {
		got, err := encryptor(t, "data", "id", "", mr).Decrypt(ctx, old)
		if err != nil {
			t.Fatalf("reader %d: version-0 item: %v", i, err)
		}
		if !reflect.DeepEqual(got, item) {
			t.Errorf("reader %d: got %v", i, got)
		}
	}
	if items := scanAll(t, c, table); len(items) != 2 {
		t.Errorf("%d meta items, want 2", len(items))
	}
}

// TestStoreAndMemoryAgree: meta items written by Store, loaded into Memory,
// give the same providers; and Memory's items put into a table are read by
// Store.
func TestStoreAndMemoryAgree(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := newMetaTable(t, c)
	meta := metaProvider(t, 1)
	ctx := context.Background()
	st := newStore(t, c, table, meta)
	for v := range int64(3) {
		if _, err := st.CreateProvider(ctx, "mat", v); err != nil {
			t.Fatal(err)
		}
	}
	mem := newMemory(t, table, meta)
	if err := mem.Load(scanAll(t, c, table)...); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if a, b := mustMax(t, st), mustMax(t, mem); a != 2 || b != 2 {
		t.Errorf("MaxVersion: Store %d, Memory %d; want 2", a, b)
	}
	for v := range int64(3) {
		sameKeys(t, cmp.MetaID("mat", v), mustProvider(t, st, "mat", v), mustProvider(t, mem, "mat", v))
	}

	// The other way: Memory (bound to the same table name) creates a
	// material, its item is put into the table, and Store reads it.
	if _, err := mem.CreateProvider(ctx, "mem-made", 0); err != nil {
		t.Fatal(err)
	}
	for _, it := range mem.Items() {
		if it["N"].(*types.AttributeValueMemberS).Value != "mem-made" {
			continue
		}
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
			t.Fatalf("PutItem: %v", err)
		}
	}
	sameKeys(t, "mem-made#0", mustProvider(t, st, "mem-made", 0), mustProvider(t, mem, "mem-made", 0))
}

func mustMax(t *testing.T, st cmp.ProviderStore) int64 {
	t.Helper()
	v, err := st.MaxVersion(context.Background(), "mat")
	if err != nil {
		t.Fatalf("MaxVersion: %v", err)
	}
	return v
}

// TestStoreDirectKMSMetaProvider: the meta table protected by Direct KMS
// (fake KMS, real SDK client): the KMS context binds each meta item to the
// meta table and its N and V.
func TestStoreDirectKMSMetaProvider(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := newMetaTable(t, c)
	srv := kmstest.NewServer(t)
	_, arn := srv.CreateKey()
	meta, err := cmp.NewDirectKMS(cmp.DirectKMSConfig{KMS: awskms.New(srv.Client()), KeyID: arn})
	if err != nil {
		t.Fatal(err)
	}
	st := newStore(t, c, table, meta)
	ctx := context.Background()
	created, err := st.CreateProvider(ctx, "mat", 7)
	if err != nil {
		t.Fatalf("CreateProvider: %v", err)
	}
	read := mustProvider(t, newStore(t, c, table, meta), "mat", 7)
	sameKeys(t, "mat#7", created, read)
	want := map[string]string{
		"*amzn-ddb-env-alg*": "AES/256", "*amzn-ddb-sig-alg*": "HmacSHA256/256", "*aws-kms-table*": table,
		"N": "mat", "V": "7",
	}
	calls := srv.Calls()
	if len(calls) < 2 {
		t.Fatalf("KMS calls = %+v, want GenerateDataKey and Decrypt", calls)
	}
	for _, call := range calls {
		if !reflect.DeepEqual(call.EncryptionContext, want) {
			t.Errorf("%s context = %v, want %v", call.Op, call.EncryptionContext, want)
		}
	}
	d, err := materialdesc.Decode(getRaw(t, c, table, "mat", "7")["*amzn-ddb-map-desc*"].(*types.AttributeValueMemberB).Value)
	if err != nil {
		t.Fatal(err)
	}
	if d[materialdesc.KeyWrapAlg] != "kms" {
		t.Errorf("meta item description = %v, want a Direct KMS one", d)
	}
}
