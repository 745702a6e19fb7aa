package dynamodbenc

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/mapenc"
	"github.com/itemcrypto/go-itemcrypto/cmp"
)

// account is the typed item of the Table tests, on a pk (S) / sk (N) table.
type account struct {
	Customer string `dynamodbav:"pk" itemcrypto:"partition"`
	Seq      int    `dynamodbav:"sk" itemcrypto:"sort"`
	Name     string `dynamodbav:"name"`
	SSN      string `dynamodbav:"ssn" itemcrypto:"encrypt"`
	Visits   int    `dynamodbav:"visits" itemcrypto:"nothing"`
}

// accountConfig is a TableConfig built from account's tags, as the docs
// say to build it.
func accountConfig(t testing.TB, p cmp.Provider, def actions.Action) TableConfig {
	t.Helper()
	o, err := mapenc.StructPolicy(reflect.TypeFor[account](), actions.Options{Default: def})
	if err != nil {
		t.Fatal(err)
	}
	return TableConfig{Provider: p, Default: o.Default, Overrides: o.Overrides, PartitionKey: o.PartitionKey, SortKey: o.SortKey}
}

func wantTagConflict(t *testing.T, err error, field string) {
	t.Helper()
	var te *mapenc.TagError
	if !errors.Is(err, mapenc.ErrTagConflict) || !errors.As(err, &te) {
		t.Fatalf("err = %v, want a *mapenc.TagError matching ErrTagConflict", err)
	}
	if te.Field != field {
		t.Errorf("TagError.Field = %q, want %q (%v)", te.Field, field, err)
	}
}

// The reviewer's scenario: SSN tagged encrypt, the table's Default SignOnly
// without an override. The client cannot see tags and would store the SSN
// in plaintext, so NewTable refuses the type.
func TestTableRefusesTagsTheConfigLacks(t *testing.T) {
	mem := newMemAPI()
	mem.createTable("accounts", "pk", "sk")
	p := testProvider(t)
	c := mustNew(t, mem, Config{Tables: map[string]TableConfig{
		"accounts": {Provider: p, Default: actions.SignOnly, PartitionKey: "pk", SortKey: "sk"},
	}})
	_, err := NewTable[account](c, "accounts")
	wantTagConflict(t, err, "SSN")
	t.Log(err)

	// The same with the type behind a pointer.
	_, err = NewTable[*account](c, "accounts")
	wantTagConflict(t, err, "SSN")
}

func TestTableTagChecks(t *testing.T) {
	p := testProvider(t)
	type otherKey struct {
		ID  string `dynamodbav:"id" itemcrypto:"partition"`
		SSN string `dynamodbav:"ssn" itemcrypto:"encrypt"`
	}
	type signedUnderSign struct {
		PK   string `dynamodbav:"pk" itemcrypto:"partition"`
		Name string `dynamodbav:"name" itemcrypto:"sign"`
	}
	type encryptedKey struct {
		PK string `dynamodbav:"pk" itemcrypto:"encrypt"`
	}
	type badTag struct {
		PK string `dynamodbav:"pk" itemcrypto:"encrypted"`
	}
	type untagged struct {
		PK  string `dynamodbav:"pk"`
		SK  int    `dynamodbav:"sk"`
		SSN string `dynamodbav:"ssn"`
	}
	cfg := func(def actions.Action, overrides map[string]actions.Action) *Client {
		return mustNew(t, newMemAPI(), Config{Tables: map[string]TableConfig{
			"t": {Provider: p, Default: def, Overrides: overrides, PartitionKey: "pk", SortKey: "sk"},
		}})
	}
	t.Run("another key name", func(t *testing.T) {
		_, err := NewTable[otherKey](cfg(actions.EncryptAndSign, nil), "t")
		wantTagConflict(t, err, "ID")
	})
	t.Run("an override says otherwise", func(t *testing.T) {
		_, err := NewTable[account](cfg(actions.EncryptAndSign, map[string]actions.Action{"ssn": actions.SignOnly, "visits": actions.DoNothing}), "t")
		wantTagConflict(t, err, "SSN")
	})
	t.Run("a tag repeating the default", func(t *testing.T) {
		if _, err := NewTable[signedUnderSign](cfg(actions.SignOnly, nil), "t"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a tag the default contradicts", func(t *testing.T) {
		_, err := NewTable[signedUnderSign](cfg(actions.EncryptAndSign, nil), "t")
		wantTagConflict(t, err, "Name")
	})
	t.Run("an encrypted key", func(t *testing.T) {
		_, err := NewTable[encryptedKey](cfg(actions.EncryptAndSign, nil), "t")
		if !errors.Is(err, mapenc.ErrTagConflict) {
			t.Fatalf("err = %v, want ErrTagConflict", err)
		}
	})
	t.Run("an unreadable tag", func(t *testing.T) {
		_, err := NewTable[badTag](cfg(actions.EncryptAndSign, nil), "t")
		if !errors.Is(err, mapenc.ErrInvalidTag) {
			t.Fatalf("err = %v, want ErrInvalidTag", err)
		}
	})
	t.Run("no tags", func(t *testing.T) {
		if _, err := NewTable[untagged](cfg(actions.SignOnly, nil), "t"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the config built from the tags", func(t *testing.T) {
		c := mustNew(t, newMemAPI(), Config{Tables: map[string]TableConfig{"t": accountConfig(t, p, actions.SignOnly)}})
		if _, err := NewTable[account](c, "t"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("unconfigured table", func(t *testing.T) {
		_, err := NewTable[account](cfg(actions.EncryptAndSign, nil), "other")
		if !errors.Is(err, ErrTableNotConfigured) {
			t.Fatalf("err = %v, want ErrTableNotConfigured", err)
		}
	})
	t.Run("not a struct", func(t *testing.T) {
		_, err := NewTable[map[string]any](cfg(actions.EncryptAndSign, nil), "t")
		if !errors.Is(err, mapenc.ErrUnsupportedType) {
			t.Fatalf("err = %v, want mapenc.ErrUnsupportedType", err)
		}
	})
}

// Without PartitionKey in the TableConfig the key names come from
// DescribeTable: the check runs on first use, and fails every operation.
func TestTableCheckOnFirstUse(t *testing.T) {
	ctx := ctxT(t)
	mem := newMemAPI()
	mem.createTable("t", "pk", "sk")
	p := testProvider(t)
	c := mustNew(t, mem, Config{Tables: map[string]TableConfig{"t": {Provider: p, Default: actions.SignOnly}}})
	tb, err := NewTable[account](c, "t")
	if err != nil {
		t.Fatalf("NewTable: %v (the check waits for the key names)", err)
	}
	for range 2 {
		err = tb.Put(ctx, account{Customer: "c", Seq: 1, SSN: "078-05-1120"})
		wantTagConflict(t, err, "SSN")
	}
	if len(mem.tables["t"].items) != 0 {
		t.Fatal("an item was written")
	}

	// Tags naming other keys than DescribeTable's.
	mem.createTable("u", "id", "")
	c = mustNew(t, mem, Config{Tables: map[string]TableConfig{"u": {Provider: p, Default: actions.EncryptAndSign, Overrides: map[string]actions.Action{"visits": actions.DoNothing}}}})
	tb, err = NewTable[account](c, "u")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tb.Get(ctx, account{Customer: "c", Seq: 1})
	wantTagConflict(t, err, "Customer")
}

// An attribute outside the signature whose name folds to a signed field's
// ("ssn" for field SSN without a tag name) must not reach the field.
func TestTableFoldedNames(t *testing.T) {
	type rec struct {
		PK  string `dynamodbav:"pk" itemcrypto:"partition"`
		SSN string `itemcrypto:"encrypt"` // attribute "SSN"
	}
	ctx := ctxT(t)
	mem := newMemAPI()
	mem.createTable("t", "pk", "")
	c := mustNew(t, mem, Config{Tables: map[string]TableConfig{"t": {
		Provider: testProvider(t), Default: actions.EncryptAndSign, PartitionKey: "pk",
		Overrides: map[string]actions.Action{"ssn": actions.DoNothing},
	}}})
	tb, err := NewTable[rec](c, "t")
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.Put(ctx, rec{PK: "a", SSN: "real"}); err != nil {
		t.Fatal(err)
	}
	// An attacker adds the unsigned "ssn" beside the item's "SSN".
	for _, it := range mem.tables["t"].items {
		it["ssn"] = s("forged")
	}
	for range 20 { // map order is random
		got, err := tb.Get(ctx, map[string]types.AttributeValue{"pk": s("a")})
		if err != nil {
			t.Fatal(err)
		}
		if got.SSN != "real" {
			t.Fatalf("SSN = %q: the unsigned attribute was decoded into the signed field", got.SSN)
		}
	}
}

type neverProcessed struct{ API }

func (neverProcessed) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return &dynamodb.BatchWriteItemOutput{UnprocessedItems: in.RequestItems}, nil
}

func (neverProcessed) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return &dynamodb.BatchGetItemOutput{UnprocessedKeys: in.RequestItems}, nil
}

func TestTableBatchUnprocessed(t *testing.T) {
	ctx := ctxT(t)
	mem := newMemAPI()
	mem.createTable("t", "pk", "sk")
	c := mustNew(t, neverProcessed{mem}, Config{Tables: map[string]TableConfig{"t": accountConfig(t, testProvider(t), actions.EncryptAndSign)}})
	tb, err := NewTable[account](c, "t", func(o *TableOptions) { o.BatchAttempts, o.BatchBackoff = 3, time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	vs := make([]account, 30)
	for i := range vs {
		vs[i] = account{Customer: "c", Seq: i}
	}
	err = tb.BatchPut(ctx, vs)
	var ue *UnprocessedError
	if !errors.Is(err, ErrUnprocessed) || !errors.As(err, &ue) || ue.Unprocessed != 25 || ue.Remaining != 30 {
		t.Fatalf("BatchPut: %v (%+v), want an *UnprocessedError of 25 and 30", err, ue)
	}
	keys := make([]any, 30)
	for i := range keys {
		keys[i] = account{Customer: "c", Seq: i}
	}
	_, err = tb.BatchGet(ctx, keys)
	if !errors.Is(err, ErrUnprocessed) || !errors.As(err, &ue) || ue.Unprocessed != 30 || ue.Op != "BatchGet" {
		t.Fatalf("BatchGet: %v (%+v)", err, ue)
	}
}

// pageCounter counts the pages read.
type pageCounter struct {
	API
	queries, scans atomic.Int32
}

func (c *pageCounter) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.queries.Add(1)
	return c.API.Query(ctx, in, o...)
}

func (c *pageCounter) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	c.scans.Add(1)
	return c.API.Scan(ctx, in, o...)
}

func TestTableDynalite(t *testing.T) {
	raw := dynalite(t)
	ctx := ctxT(t)
	name := newTable(t, raw)
	api := &pageCounter{API: halfBatch{raw}}
	c := mustNew(t, api, Config{Tables: map[string]TableConfig{name: accountConfig(t, testProvider(t), actions.SignOnly)}})
	tb, err := NewTable[account](c, name, func(o *TableOptions) { o.BatchBackoff = time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}

	ada := account{Customer: "ada", Seq: 1, Name: "Ada", SSN: "078-05-1120", Visits: 3}
	if err := tb.Put(ctx, ada); err != nil {
		t.Fatal(err)
	}
	stored := item(nil)
	{
		out, err := raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: &name, Key: key("ada", 1), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		stored = out.Item
	}
	if _, ok := stored["ssn"].(*types.AttributeValueMemberB); !ok {
		t.Fatalf("ssn stored as %T, want binary ciphertext", stored["ssn"])
	}
	if v, ok := stored["name"].(*types.AttributeValueMemberS); !ok || v.Value != "Ada" {
		t.Fatalf("name stored as %v, want the signed plaintext", stored["name"])
	}
	got, err := tb.GetItem(ctx, account{Customer: "ada", Seq: 1}, &dynamodb.GetItemInput{ConsistentRead: aws.Bool(true)})
	if err != nil || got != ada {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, ada)
	}
	if _, err := tb.Get(ctx, map[string]any{"pk": "nobody"}); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Get without the sort key: %v, want ErrInvalidKey", err)
	}
	if _, err := tb.Get(ctx, map[string]any{"pk": "nobody", "sk": 1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a missing item: %v, want ErrNotFound", err)
	}

	// Batches, over halfBatch: every request leaves half unprocessed.
	var many []account
	var keys []any
	for i := range 60 {
		v := account{Customer: fmt.Sprintf("c%d", i%2), Seq: i, Name: fmt.Sprint("n", i), SSN: fmt.Sprint("ssn-", i)}
		many = append(many, v)
		keys = append(keys, v)
	}
	if err := tb.BatchPut(ctx, many); err != nil {
		t.Fatal(err)
	}
	back, err := tb.BatchGet(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(back, func(a, b account) int { return a.Seq - b.Seq })
	if !slices.Equal(back, many) {
		t.Fatalf("BatchGet returned %d items, not the %d put", len(back), len(many))
	}

	// Query across pages of 4.
	in := &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("pk = :c"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": s("c1")},
		Limit:                     aws.Int32(4),
	}
	var q []account
	for v, err := range tb.Query(ctx, in) {
		if err != nil {
			t.Fatal(err)
		}
		q = append(q, v)
	}
	if len(q) != 30 || api.queries.Load() < 8 {
		t.Fatalf("Query: %d items in %d pages, want 30 in 8 or more", len(q), api.queries.Load())
	}
	for i, v := range q {
		if v != many[2*i+1] {
			t.Fatalf("Query item %d = %+v, want %+v", i, v, many[2*i+1])
		}
	}
	if in.ExclusiveStartKey != nil {
		t.Error("Query modified the caller's input")
	}
	// Breaking stops reading pages.
	before := api.queries.Load()
	for range tb.Query(ctx, in) {
		break
	}
	if n := api.queries.Load() - before; n != 1 {
		t.Errorf("a loop that breaks at once read %d pages", n)
	}
	// A filter on an encrypted attribute is refused by the client.
	for _, err := range tb.Query(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("pk = :c"),
		FilterExpression:          aws.String("ssn = :s"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": s("c1"), ":s": s("x")},
	}) {
		if !errors.Is(err, ErrUnsafeOperation) {
			t.Fatalf("err = %v, want ErrUnsafeOperation", err)
		}
	}

	// Scan across pages of 7.
	n := 0
	for v, err := range tb.Scan(ctx, &dynamodb.ScanInput{Limit: aws.Int32(7)}) {
		if err != nil {
			t.Fatal(err)
		}
		if v.SSN == "" {
			t.Fatalf("scanned %+v without its SSN", v)
		}
		n++
	}
	if n != 61 || api.scans.Load() < 9 {
		t.Fatalf("Scan: %d items in %d pages, want 61 in 9 or more", n, api.scans.Load())
	}

	// A tampered item fails the read with the client's *ItemError.
	stored["name"] = s("Eve")
	if _, err := raw.PutItem(ctx, &dynamodb.PutItemInput{TableName: &name, Item: stored}); err != nil {
		t.Fatal(err)
	}
	var ie *ItemError
	if _, err := tb.GetItem(ctx, ada, &dynamodb.GetItemInput{ConsistentRead: aws.Bool(true)}); !errors.As(err, &ie) {
		t.Fatalf("Get of a tampered item: %v, want an *ItemError", err)
	}

	if err := tb.Delete(ctx, ada); err != nil {
		t.Fatal(err)
	}
	if _, err := tb.GetItem(ctx, ada, &dynamodb.GetItemInput{ConsistentRead: aws.Bool(true)}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
}
