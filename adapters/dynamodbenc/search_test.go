package dynamodbenc

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/branchkeys"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// The beacon tests' table: "pk"/"sk" keys; email and name encrypted, with
// beacons; card encrypted without one; kind signed; visits unsigned.
const (
	emailIndex     = "email-index"        // hash aws_dbe_b_email
	kindEmailIndex = "pk-kindemail-index" // hash pk, range aws_dbe_b_KindEmail
)

var (
	testBranchKey    = bytes.Repeat([]byte{0x42}, 32)
	testBeaconKeyRaw = bytes.Repeat([]byte{0x5a}, 32)
)

// beaconConfig is the table configuration of the beacon tests. email has a
// 2-bit beacon: four values for ten addresses, so collisions are certain.
func beaconConfig(t testing.TB) TableConfig {
	t.Helper()
	bk, err := hierarchy.NewBranchKey("tenant-key", "4f2e1a0c-8d3b-4c6e-9f7a-1b2c3d4e5f60", testBranchKey, testBeaconKeyRaw)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := hierarchy.New(hierarchy.NewStatic(bk), func(o *hierarchy.Options) { o.BranchKeyID = "tenant-key" })
	if err != nil {
		t.Fatal(err)
	}
	keys, err := search.NewStaticKeys(bk)
	if err != nil {
		t.Fatal(err)
	}
	return TableConfig{
		Default:      actions.EncryptAndSign,
		Overrides:    map[string]actions.Action{"kind": actions.SignOnly, "visits": actions.DoNothing},
		PartitionKey: "pk", SortKey: "sk",
		Format: itemcrypto.FormatDBESDK,
		DBESDK: &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: []string{"visits"}},
		Search: &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
			Version:   1,
			KeyStore:  keys,
			KeySource: search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "tenant-key", CacheTTL: time.Hour}},
			StandardBeacons: []search.StandardBeacon{
				{Name: "email", Length: 2},
				{Name: "NamePrefix", Length: 8},
			},
			VirtualFields: []search.VirtualField{{Name: "NamePrefix", Parts: []search.VirtualPart{
				{Loc: "name", Transforms: []search.Transform{search.Lower(), search.Prefix(3)}},
			}}},
			CompoundBeacons: []search.CompoundBeacon{{
				Name: "KindEmail", Split: "|",
				Signed:    []search.SignedPart{{Name: "kind", Prefix: "K-"}},
				Encrypted: []search.EncryptedPart{{Name: "email", Prefix: "E-"}},
			}},
		}}},
	}
}

// beaconTable makes the table with the beacons' global secondary indexes.
func beaconTable(t testing.TB, raw *dynamodb.Client) string {
	t.Helper()
	name := testenv.TableName(t)
	str := types.ScalarAttributeTypeS
	return testenv.CreatedTable(t, raw, name, func(ctx context.Context) error {
		_, err := raw.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:   &name,
			BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String("pk"), AttributeType: str},
				{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
				{AttributeName: aws.String("aws_dbe_b_email"), AttributeType: str},
				{AttributeName: aws.String("aws_dbe_b_KindEmail"), AttributeType: str},
			},
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
			},
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
				{
					IndexName:  aws.String(emailIndex),
					KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("aws_dbe_b_email"), KeyType: types.KeyTypeHash}},
					Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
				},
				{
					IndexName: aws.String(kindEmailIndex),
					KeySchema: []types.KeySchemaElement{
						{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
						{AttributeName: aws.String("aws_dbe_b_KindEmail"), KeyType: types.KeyTypeRange},
					},
					Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
				},
			},
		})
		return err
	})
}

var (
	beaconEmails = []string{"ann@x.org", "bob@x.org", "cy@x.org", "dee@x.org", "eve@x.org", "fay@x.org", "gus@x.org", "hal@x.org", "ivy@x.org", "jo@x.org"}
	beaconNames  = []string{"Alice", "Alina", "Bob", "Boris", "Carla", "alfred"}
)

// beaconItem is item i of the beacon tests.
func beaconItem(i int) item {
	return item{
		"pk":     s(fmt.Sprintf("tenant%d", i%2)),
		"sk":     n(fmt.Sprint(i)),
		"email":  s(beaconEmails[(i*7)%len(beaconEmails)]),
		"name":   s(beaconNames[(i*5)%len(beaconNames)]),
		"kind":   s([]string{"admin", "user", "user"}[i%3]),
		"card":   s(fmt.Sprintf("4111-%04d", i)),
		"visits": n(fmt.Sprint(i * 3)),
	}
}

// countingAPI counts the requests that reach DynamoDB.
type countingAPI struct {
	API
	queries, scans atomic.Int32
}

func (c *countingAPI) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.queries.Add(1)
	return c.API.Query(ctx, in, optFns...)
}

func (c *countingAPI) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	c.scans.Add(1)
	return c.API.Scan(ctx, in, optFns...)
}

// TestBeaconsDynalite writes items through PutItem, BatchWriteItem and
// TransactWriteItems on a table with beacons, and queries them by the
// values and prefixes of encrypted attributes, through GSIs on the beacons,
// across pages: each query must return exactly the items whose plaintext
// matches, although the 2-bit email beacon makes the server return others.
func testBeaconsDynalite(t *testing.T, f form) {
	raw := dynalite(t)
	table := beaconTable(t, raw)
	ctx := ctxT(t)
	// dynalite has no TransactWriteItems: transactEmulator sends its puts
	// one by one.
	c := f.client(t, transactEmulator{raw}, Config{Tables: map[string]TableConfig{table: beaconConfig(t)}})

	const count = 40
	var all []item
	for i := range count {
		all = append(all, beaconItem(i))
	}
	// 0..19 one by one, 20..29 in a batch, 30..39 in a transaction.
	for _, it := range all[:20] {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: it}); err != nil {
			t.Fatalf("PutItem: %v", err)
		}
	}
	var batch []types.WriteRequest
	for _, it := range all[20:30] {
		batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
	}
	if out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: batch}}); err != nil || len(out.UnprocessedItems) > 0 {
		t.Fatalf("BatchWriteItem: %v (%d tables unprocessed)", err, len(out.UnprocessedItems))
	}
	var tx []types.TransactWriteItem
	for _, it := range all[30:] {
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: &table, Item: it}})
	}
	if _, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx}); err != nil {
		t.Fatalf("TransactWriteItems: %v", err)
	}

	// Every write path stored the beacons beside the encrypted item, and
	// no plaintext of the beaconed attributes.
	for _, i := range []int{0, 25, 35} {
		st := (env{raw: raw, table: table, c: c}).rawGet(t, key(beaconItem(i)["pk"].(*types.AttributeValueMemberS).Value, i))
		eb, ok := st["aws_dbe_b_email"].(*types.AttributeValueMemberS)
		if !ok || len(eb.Value) != 1 {
			t.Errorf("item %d: aws_dbe_b_email = %s, want one hex digit (2 bits)", i, show(item{"b": st["aws_dbe_b_email"]}))
		}
		for _, name := range []string{"aws_dbe_b_NamePrefix", "aws_dbe_b_KindEmail", "aws_dbe_v_1", "aws_dbe_head", "aws_dbe_foot"} {
			if _, ok := st[name]; !ok {
				t.Errorf("item %d: no stored %s", i, name)
			}
		}
		if _, ok := st["email"].(*types.AttributeValueMemberB); !ok {
			t.Errorf("item %d: email is not stored encrypted", i)
		}
		kb := st["aws_dbe_b_KindEmail"].(*types.AttributeValueMemberS).Value
		if !strings.HasPrefix(kb, "K-"+beaconItem(i)["kind"].(*types.AttributeValueMemberS).Value+"|E-") || strings.Contains(kb, "@") {
			t.Errorf("item %d: aws_dbe_b_KindEmail has the wrong shape (signed part in clear, encrypted part hashed)", i)
		}
	}

	str := func(it item, k string) string { return it[k].(*types.AttributeValueMemberS).Value }
	type query struct {
		name  string
		in    dynamodb.QueryInput
		truth func(item) bool
	}
	var queries []query
	for _, e := range beaconEmails[:4] {
		queries = append(queries, query{"email = " + e, dynamodb.QueryInput{
			IndexName: aws.String(emailIndex), KeyConditionExpression: aws.String("email = :e"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":e": s(e)},
		}, func(it item) bool { return str(it, "email") == e }})
	}
	queries = append(queries,
		query{"pk and an email OR filter", dynamodb.QueryInput{
			KeyConditionExpression: aws.String("pk = :p"), FilterExpression: aws.String("#e = :e OR #e = :f"),
			ExpressionAttributeNames:  map[string]string{"#e": "email"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("tenant1"), ":e": s(beaconEmails[1]), ":f": s(beaconEmails[2])},
		}, func(it item) bool {
			return str(it, "pk") == "tenant1" && (str(it, "email") == beaconEmails[1] || str(it, "email") == beaconEmails[2])
		}},
		query{"begins_with on the compound beacon (signed prefix)", dynamodb.QueryInput{
			IndexName:                 aws.String(kindEmailIndex),
			KeyConditionExpression:    aws.String("pk = :p AND begins_with(KindEmail, :k)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("tenant0"), ":k": s("K-admin")},
		}, func(it item) bool { return str(it, "pk") == "tenant0" && str(it, "kind") == "admin" }},
		query{"begins_with on the compound beacon (kind and email)", dynamodb.QueryInput{
			IndexName:                 aws.String(kindEmailIndex),
			KeyConditionExpression:    aws.String("pk = :p AND begins_with(KindEmail, :k)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("tenant0"), ":k": s("K-user|E-" + beaconEmails[4])},
		}, func(it item) bool {
			return str(it, "pk") == "tenant0" && str(it, "kind") == "user" && str(it, "email") == beaconEmails[4]
		}},
		query{"prefix of an encrypted name (virtual field)", dynamodb.QueryInput{
			KeyConditionExpression: aws.String("pk = :p"), FilterExpression: aws.String("NamePrefix = :np"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("tenant1"), ":np": s("ali")},
		}, func(it item) bool {
			return str(it, "pk") == "tenant1" && strings.HasPrefix(strings.ToLower(str(it, "name")), "ali")
		}},
	)
	collided := 0
	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			in := q.in
			in.TableName, in.Limit = &table, aws.Int32(3)
			var got []item
			scanned, pages := 0, 0
			p := dynamodb.NewQueryPaginator(c, &in)
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					t.Fatalf("page %d: %v", pages, err)
				}
				if int(out.Count) != len(out.Items) {
					t.Fatalf("Count %d for %d items", out.Count, len(out.Items))
				}
				got = append(got, out.Items...)
				scanned += int(out.ScannedCount)
				pages++
			}
			var want []item
			for _, it := range all {
				if q.truth(it) {
					want = append(want, it)
				}
			}
			if len(want) == 0 {
				t.Fatal("the test data has no matching item: the query proves nothing")
			}
			sameSet(t, q.name, got, want)
			if scanned > len(got) {
				collided++
			}
			t.Logf("%d items over %d pages; DynamoDB evaluated %d", len(got), pages, scanned)
		})
	}
	if collided == 0 {
		t.Error("no query met a beacon collision: the false-positive filtering was not exercised")
	}

	// Scan with a beacon filter, in parallel segments.
	var scanned []item
	for seg := range int32(2) {
		p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{
			TableName: &table, FilterExpression: aws.String("email = :e"), Limit: aws.Int32(5),
			ExpressionAttributeValues: map[string]types.AttributeValue{":e": s(beaconEmails[3])},
			Segment:                   aws.Int32(seg), TotalSegments: aws.Int32(2),
		})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			scanned = append(scanned, out.Items...)
		}
	}
	var wantScan []item
	for _, it := range all {
		if str(it, "email") == beaconEmails[3] {
			wantScan = append(wantScan, it)
		}
	}
	sameSet(t, "Scan email = :e", scanned, wantScan)

	// GetItem returns the plaintext without the beacons.
	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("tenant0", 0)})
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "GetItem", got.Item, all[0])
}

func TestBeaconsDynalite(t *testing.T) { forEachForm(t, testBeaconsDynalite) }

// TestBeaconRefusalsDynalite: conditions the beacons cannot answer are
// refused before anything is sent, with errors that name the attribute but
// never a value or the beacon key.
func testBeaconRefusalsDynalite(t *testing.T, f form) {
	raw := dynalite(t)
	table := beaconTable(t, raw)
	ctx := ctxT(t)
	api := &countingAPI{API: raw}
	var logged bytes.Buffer
	c := f.client(t, api, Config{Tables: map[string]TableConfig{table: beaconConfig(t)}})
	secret := "4111-0007"
	for _, tc := range []struct {
		name, keyCond, filter, attr string
		sel                         types.Select
	}{
		{"encrypted attribute without a beacon", "pk = :p", "card = :v", "card", ""},
		{"ordering on a standard beacon", "pk = :p", "email > :v", "email", ""},
		{"begins_with on a standard beacon", "pk = :p", "begins_with(email, :v)", "email", ""},
		{"one value for two beacons", "pk = :p", "email = :v OR NamePrefix = :v", "", ""},
		{"COUNT of a beacon query", "pk = :p", "email = :v", "", types.SelectCount},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := api.queries.Load()
			_, err := c.Query(ctx, &dynamodb.QueryInput{
				TableName: &table, KeyConditionExpression: &tc.keyCond, FilterExpression: &tc.filter, Select: tc.sel,
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("tenant0"), ":v": s(secret)},
			})
			var ue *UnsafeOperationError
			if !errors.As(err, &ue) || !errors.Is(err, ErrUnsafeOperation) {
				t.Fatalf("err = %v, want an *UnsafeOperationError", err)
			}
			if tc.attr != "" && ue.Attribute != tc.attr {
				t.Errorf("Attribute = %q, want %q (%v)", ue.Attribute, tc.attr, err)
			}
			if n := api.queries.Load() - before; n != 0 {
				t.Errorf("%d requests reached DynamoDB", n)
			}
			slog.New(slog.NewTextHandler(&logged, nil)).Error("query refused", "err", err)
		})
	}
	// A scan with a condition on an encrypted attribute without a beacon.
	if _, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: &table, FilterExpression: aws.String("card = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": s(secret)}}); !errors.Is(err, ErrUnsafeOperation) {
		t.Errorf("Scan on card: %v", err)
	} else {
		slog.New(slog.NewTextHandler(&logged, nil)).Error("scan refused", "err", err)
	}
	if api.scans.Load() != 0 {
		t.Error("a refused Scan reached DynamoDB")
	}
	for _, leak := range []string{secret, hex.EncodeToString(testBeaconKeyRaw), base64.StdEncoding.EncodeToString(testBeaconKeyRaw), string(testBeaconKeyRaw)} {
		if strings.Contains(logged.String(), leak) {
			t.Errorf("an error or log line holds a value or the beacon key: %s", logged.String())
		}
	}
	// The configuration refuses beacons without the DB-ESDK format.
	tc := beaconConfig(t)
	tc.Format, tc.DBESDK, tc.Provider = itemcrypto.FormatDDBEC, nil, testProvider(t)
	if _, err := New(raw, Config{Tables: map[string]TableConfig{table: tc}}); err == nil || !strings.Contains(err.Error(), "DB-ESDK") {
		t.Errorf("Search with the DDBEC format: %v", err)
	}
	// A caller may not write beacons itself.
	it := beaconItem(1)
	it["aws_dbe_b_email"] = s("0")
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: it}); !errors.Is(err, itemcrypto.ErrReservedAttribute) {
		t.Errorf("PutItem with a beacon attribute: %v, want ErrReservedAttribute", err)
	}
}

func TestBeaconRefusalsDynalite(t *testing.T) { forEachForm(t, testBeaconRefusalsDynalite) }

// TestMultiTenantBeaconsDynalite: each tenant's items are encrypted under
// its own branch key and beaconed with its own beacon key (the DB-ESDK's
// multi key store, keyed by the "tenant" attribute). A query names its
// tenant; the other tenant's items whose 1-bit beacons collide come back
// from DynamoDB and are dropped.
func testMultiTenantBeaconsDynalite(t *testing.T, f form) {
	raw := dynalite(t)
	table := beaconTable(t, raw)
	ctx := ctxT(t)
	keys, bks := branchkeys.Tenants(t, "acme", "globex")
	kr, err := hierarchy.New(keys, func(o *hierarchy.Options) {
		o.IDSupplier = func(_ context.Context, ec map[string]string) (string, error) {
			return ec["aws-crypto-attr.tenant"], nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	beaconKeys, err := search.NewStaticKeys(bks...)
	if err != nil {
		t.Fatal(err)
	}
	tc := TableConfig{
		Default:      actions.EncryptAndSign,
		Overrides:    map[string]actions.Action{"tenant": actions.SignAndIncludeInEncryptionContext},
		PartitionKey: "pk", SortKey: "sk",
		Format: itemcrypto.FormatDBESDK,
		DBESDK: &itemcrypto.DBESDKConfig{Keyring: kr},
		Search: &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
			Version: 1, KeyStore: beaconKeys,
			KeySource:       search.KeySource{Multi: &search.MultiKeySource{KeyFieldName: "tenant", CacheTTL: time.Hour}},
			StandardBeacons: []search.StandardBeacon{{Name: "email", Length: 1}},
		}}},
	}
	c := f.client(t, raw, Config{Tables: map[string]TableConfig{table: tc}})
	var all []item
	for i := range 24 {
		it := item{"pk": s("p"), "sk": n(fmt.Sprint(i)), "tenant": s([]string{"acme", "globex"}[i%2]), "email": s(beaconEmails[(i/2)%3])}
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: it}); err != nil {
			t.Fatalf("PutItem: %v", err)
		}
		all = append(all, it)
	}
	for _, tenant := range []string{"acme", "globex"} {
		for _, e := range beaconEmails[:3] {
			var got []item
			scanned := 0
			p := dynamodb.NewQueryPaginator(c, &dynamodb.QueryInput{
				TableName: &table, IndexName: aws.String(emailIndex),
				KeyConditionExpression: aws.String("email = :e"), FilterExpression: aws.String("tenant = :t"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":e": s(e), ":t": s(tenant)}, Limit: aws.Int32(4),
			})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					t.Fatalf("%s/%s: %v", tenant, e, err)
				}
				got = append(got, out.Items...)
				scanned += int(out.ScannedCount)
			}
			var want []item
			for _, it := range all {
				if it["tenant"].(*types.AttributeValueMemberS).Value == tenant && it["email"].(*types.AttributeValueMemberS).Value == e {
					want = append(want, it)
				}
			}
			sameSet(t, tenant+"/"+e, got, want)
			if scanned <= len(got) {
				t.Errorf("%s/%s: DynamoDB evaluated %d items for %d returned; a 1-bit beacon over two tenants must collide", tenant, e, scanned, len(got))
			}
		}
	}
	// Without its tenant a query has no beacon key: refused, nothing sent.
	_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: &table, IndexName: aws.String(emailIndex),
		KeyConditionExpression: aws.String("email = :e"), ExpressionAttributeValues: map[string]types.AttributeValue{":e": s(beaconEmails[0])}})
	if !errors.Is(err, ErrUnsafeOperation) || !strings.Contains(err.Error(), "tenant") {
		t.Errorf("query without the tenant: %v, want ErrUnsafeOperation naming the key field", err)
	}
	t.Logf("refused: %v", err)
}

func TestMultiTenantBeaconsDynalite(t *testing.T) { forEachForm(t, testMultiTenantBeaconsDynalite) }

// gsiDescriber is an API whose DescribeTable tells the beacon table's keys
// and global secondary indexes (those of beaconTable); every other call
// goes to the embedded API.
type gsiDescriber struct{ API }

func (gsiDescriber) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	ks := func(pk, sk string) []types.KeySchemaElement {
		out := []types.KeySchemaElement{{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash}}
		if sk != "" {
			out = append(out, types.KeySchemaElement{AttributeName: aws.String(sk), KeyType: types.KeyTypeRange})
		}
		return out
	}
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{TableName: in.TableName, KeySchema: ks("pk", "sk"),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndexDescription{
			{IndexName: aws.String(emailIndex), KeySchema: ks("aws_dbe_b_email", "")},
			{IndexName: aws.String(kindEmailIndex), KeySchema: ks("pk", "aws_dbe_b_KindEmail")},
		}}}, nil
}

// TestBeaconQueryNeedsIndex: a key condition on a beaconed attribute is a
// condition on its stored beacon, which only a GSI has as a key: without
// IndexName the query is refused before it is sent, naming the beacon (and
// the index, when DescribeTable told it). No server: nothing is sent.
func TestBeaconQueryNeedsIndex(t *testing.T) {
	cases := []struct {
		name, keyCond, attr, stored, index string
	}{
		{"partition key", "email = :v", "email", "aws_dbe_b_email", emailIndex},
		{"sort key", "pk = :p AND begins_with(KindEmail, :k)", "KindEmail", "aws_dbe_b_KindEmail", kindEmailIndex},
		{"placeholder", "#e = :v", "email", "aws_dbe_b_email", emailIndex},
	}
	run := func(t *testing.T, c API, sp *spy, named bool) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				sp.reset()
				in := &dynamodb.QueryInput{TableName: aws.String("beacons"), KeyConditionExpression: &tc.keyCond,
					ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("tenant0"), ":v": s("ann@x.org"), ":k": s("K-admin")}}
				if strings.HasPrefix(tc.keyCond, "#") {
					in.ExpressionAttributeNames = map[string]string{"#e": "email"}
				}
				_, err := c.Query(ctxT(t), in)
				var ue *UnsafeOperationError
				if !errors.Is(err, ErrUnsafeOperation) || !errors.As(err, &ue) {
					t.Fatalf("err = %v, want an *UnsafeOperationError", err)
				}
				if ue.Op != "Query" || ue.Attribute != tc.attr {
					t.Errorf("Op, Attribute = %q, %q; want Query, %q", ue.Op, ue.Attribute, tc.attr)
				}
				msg := err.Error()
				for _, want := range []string{`"` + tc.attr + `"`, tc.stored, "IndexName"} {
					if !strings.Contains(msg, want) {
						t.Errorf("the error does not say %q: %v", want, msg)
					}
				}
				hint := fmt.Sprintf("use IndexName %q", tc.index)
				if strings.Contains(msg, hint) != named {
					t.Errorf("naming the index: %v, want %v: %v", !named, named, msg)
				}
				if strings.Contains(msg, "ann@x.org") {
					t.Errorf("the error holds a value: %v", msg)
				}
				if got := sp.dataCalls(); len(got) != 0 {
					t.Errorf("requests sent: %v", got)
				}
				// With the index, the same query is sent (memAPI reads
				// no index: its answer does not matter).
				in.IndexName = &tc.index
				_, err = c.Query(ctxT(t), in)
				if got := sp.dataCalls(); !slices.Equal(got, []string{"Query"}) || errors.Is(err, ErrUnsafeOperation) {
					t.Errorf("with IndexName: %v, sent %v", err, got)
				}
			})
		}
	}
	// The key names given: nothing tells the indexes.
	for _, fm := range forms {
		t.Run("form="+fm.name, func(t *testing.T) {
			mem := newMemAPI()
			mem.createTable("beacons", "pk", "sk")
			sp := &spy{next: mem}
			run(t, fm.client(t, sp, Config{Tables: map[string]TableConfig{"beacons": beaconConfig(t)}}), sp, false)
		})
	}
	// The wrapper learning the key names from DescribeTable learns the
	// indexes too, and names the one to use.
	t.Run("form=wrapper/described", func(t *testing.T) {
		mem := newMemAPI()
		mem.createTable("beacons", "pk", "sk")
		sp := &spy{next: gsiDescriber{mem}}
		tc := beaconConfig(t)
		tc.PartitionKey, tc.SortKey = "", ""
		run(t, mustNew(t, sp, Config{Tables: map[string]TableConfig{"beacons": tc}}), sp, true)
	})
}
