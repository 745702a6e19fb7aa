package dynamodbenc

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

func TestNewValidates(t *testing.T) {
	p := testProvider(t)
	mem := newMemAPI()
	for name, tc := range map[string]struct {
		api API
		cfg Config
	}{
		"nil api":         {nil, Config{}},
		"empty name":      {mem, Config{Tables: map[string]TableConfig{"": customerConfig(p, true)}}},
		"no provider":     {mem, Config{Tables: map[string]TableConfig{"t": {Default: actions.EncryptAndSign}}}},
		"sort key alone":  {mem, Config{Tables: map[string]TableConfig{"t": {Provider: p, Default: actions.EncryptAndSign, SortKey: "sk"}}}},
		"encrypted key":   {mem, Config{Tables: map[string]TableConfig{"t": {Provider: p, Default: actions.EncryptAndSign, PartitionKey: "pk", Overrides: map[string]actions.Action{"pk": actions.EncryptAndSign}}}}},
		"reserved name":   {mem, Config{Tables: map[string]TableConfig{"t": {Provider: p, Default: actions.EncryptAndSign, Overrides: map[string]actions.Action{itemcrypto.SignatureAttribute: actions.SignOnly}}}}},
		"unknown default": {mem, Config{Tables: map[string]TableConfig{"t": {Provider: p, Default: 7}}}},
	} {
		if _, err := New(tc.api, tc.cfg); err == nil {
			t.Errorf("New(%s) succeeded", name)
		}
	}
	if _, err := New(mem, Config{}); err != nil {
		t.Errorf("New(no tables) = %v", err)
	}
	// No Default: refused, naming the setting, with or without key names.
	for _, tc := range []TableConfig{{Provider: p}, {Provider: p, PartitionKey: "pk"}} {
		_, err := New(mem, Config{Tables: map[string]TableConfig{"customers": tc}})
		const want = `dynamodbenc: New: table "customers": Default: default action not set (choose EncryptAndSign, SignOnly or DoNothing; most tables want EncryptAndSign)`
		if err == nil || err.Error() != want || !errors.Is(err, actions.ErrDefaultNotSet) {
			t.Errorf("New without Default: err = %v;\nwant %s", err, want)
		}
	}
}

func TestKeysFromDescribeTable(t *testing.T) {
	ctx := ctxT(t)
	mem := newMemAPI()
	mem.createTable("t", "id", "")
	sp := &spy{next: mem}
	// An explicit EncryptAndSign on what DescribeTable says is the key fails
	// every request, with the policy's error.
	bad := TableConfig{Provider: testProvider(t), Default: actions.EncryptAndSign, Overrides: map[string]actions.Action{"id": actions.EncryptAndSign}}
	c := mustNew(t, sp, Config{Tables: map[string]TableConfig{"t": bad}})
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: item{"id": s("1")}})
	var opErr *OpError
	if !errors.Is(err, actions.ErrEncryptedKey) || !errors.As(err, &opErr) {
		t.Errorf("err = %v, want an *OpError matching actions.ErrEncryptedKey", err)
	}

	// A table with a partition key only.
	good := TableConfig{Provider: testProvider(t), Default: actions.EncryptAndSign}
	c = mustNew(t, sp, Config{Tables: map[string]TableConfig{"t": good}})
	it := item{"id": s("1"), "secret": s("x")}
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: it}); err != nil {
		t.Fatal(err)
	}
	out, err := mem.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: item{"id": s("1")}})
	if err != nil {
		t.Fatal(err)
	}
	if typeOf(out.Item["id"]) != "S" || typeOf(out.Item["secret"]) != "B" {
		t.Errorf("stored %s", show(out.Item))
	}
}

// describeFails fails DescribeTable until ok is set, and counts the calls.
type describeFails struct {
	API
	ok    atomic.Bool
	calls atomic.Int32
	block chan struct{}
}

func (d *describeFails) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, o ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	d.calls.Add(1)
	if d.block != nil {
		<-d.block
	}
	if !d.ok.Load() {
		return nil, errors.New("describe: throttled")
	}
	return d.API.DescribeTable(ctx, in, o...)
}

func TestDescribeTableRetriedAfterFailure(t *testing.T) {
	ctx := ctxT(t)
	mem := newMemAPI()
	mem.createTable("t", "pk", "sk")
	d := &describeFails{API: mem}
	c := mustNew(t, d, Config{Tables: map[string]TableConfig{"t": customerConfig(testProvider(t), false)}})
	put := func() error {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: customer("a", 1)})
		return err
	}
	if err := put(); err == nil {
		t.Fatal("PutItem succeeded without a key schema")
	}
	d.ok.Store(true)
	if err := put(); err != nil {
		t.Fatal(err)
	}
	if err := put(); err != nil {
		t.Fatal(err)
	}
	if got := d.calls.Load(); got != 2 {
		t.Errorf("DescribeTable called %d times, want 2 (a failure is not cached, a success is)", got)
	}
}

func TestDescribeTableWaitHonoursContext(t *testing.T) {
	mem := newMemAPI()
	mem.createTable("t", "pk", "sk")
	d := &describeFails{API: mem, block: make(chan struct{})}
	d.ok.Store(true)
	c := mustNew(t, d, Config{Tables: map[string]TableConfig{"t": customerConfig(testProvider(t), false)}})
	var wg sync.WaitGroup
	wg.Go(func() { // holds the lock inside DescribeTable
		if _, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("t"), Item: customer("a", 1)}); err != nil {
			t.Error(err)
		}
	})
	for d.calls.Load() == 0 {
		runtime.Gosched()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: customer("b", 1)})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("waiting PutItem err = %v, want context.Canceled", err)
	}
	close(d.block)
	wg.Wait()
}

func TestDescribeTableOnceConcurrent(t *testing.T) {
	mem := newMemAPI()
	mem.createTable("t", "pk", "sk")
	d := &describeFails{API: mem}
	d.ok.Store(true)
	c := mustNew(t, d, Config{Tables: map[string]TableConfig{"t": customerConfig(testProvider(t), false)}})
	ctx := ctxT(t)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: customer("a", i)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := d.calls.Load(); got != 1 {
		t.Errorf("DescribeTable called %d times, want 1", got)
	}
}

func testTableARN(t *testing.T, f form) {
	ctx := ctxT(t)
	mem := newMemAPI()
	arn := "arn:aws:dynamodb:us-east-1:123456789012:table/customers"
	mem.createTable(arn, "pk", "sk")
	c := f.client(t, mem, Config{Tables: map[string]TableConfig{"customers": customerConfig(testProvider(t), true)}})
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(arn), Item: customer("a", 1)}); err != nil {
		t.Fatal(err)
	}
	out, err := mem.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(arn), Key: key("a", 1)})
	if err != nil {
		t.Fatal(err)
	}
	if typeOf(out.Item["card"]) != "B" {
		t.Errorf("a request naming the table by its ARN was not encrypted")
	}
	_, err = c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "` + arn + `"`)})
	if !errors.Is(err, ErrUnsafeOperation) {
		t.Errorf("PartiQL on the ARN: err = %v", err)
	}
}

func TestTableARN(t *testing.T) { forEachForm(t, testTableARN) }

func testUnconfiguredPassThrough(t *testing.T, f form) {
	ctx := ctxT(t)
	mem := newMemAPI()
	mem.createTable("plain", "pk", "sk")
	sp := &spy{next: mem}
	c := f.client(t, sp, Config{Tables: map[string]TableConfig{"enc": customerConfig(testProvider(t), true)}})
	in := &dynamodb.PutItemInput{TableName: aws.String("plain"), Item: customer("a", 1)}
	if _, err := c.PutItem(ctx, in); err != nil {
		t.Fatal(err)
	}
	if sp.last("PutItem") != in {
		t.Errorf("the request on an unconfigured table was not passed as it is")
	}
	// PartiQL on other tables passes too.
	for _, stmt := range []string{`SELECT * FROM "plain"`, `SELECT * FROM "encrypted"`} {
		if _, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(stmt)}); err != nil {
			t.Errorf("ExecuteStatement(%s) = %v", stmt, err)
		}
	}
	// nil inputs reach the SDK, which reports them: beneath the wrapper,
	// the API's own answer; in the plain client, its input validation.
	_, err := c.GetItem(ctx, nil)
	var invalid smithy.InvalidParamsError
	if f.name == "wrapper" && !errors.Is(err, errMemNilInput) || f.name == "option" && !errors.As(err, &invalid) {
		t.Errorf("GetItem(nil) err = %v", err)
	}
}

func TestUnconfiguredPassThrough(t *testing.T) { forEachForm(t, testUnconfiguredPassThrough) }

// The caller's request is never modified.
func testInputsNotModified(t *testing.T, f form) {
	ctx := ctxT(t)
	mem := newMemAPI()
	mem.createTable("t", "pk", "sk")
	c := f.client(t, mem, Config{Tables: map[string]TableConfig{"t": customerConfig(testProvider(t), true)}})
	it := customer("a", 1)
	names := map[string]string{"#c": "card"}
	put := &dynamodb.PutItemInput{TableName: aws.String("t"), Item: it}
	if _, err := c.PutItem(ctx, put); err != nil {
		t.Fatal(err)
	}
	wantItem(t, "PutItemInput.Item", put.Item, customer("a", 1))
	get := &dynamodb.GetItemInput{TableName: aws.String("t"), Key: key("a", 1), ProjectionExpression: aws.String("#c"), ExpressionAttributeNames: names}
	out, err := c.GetItem(ctx, get)
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "projected", out.Item, item{"card": it["card"]})
	if aws.ToString(get.ProjectionExpression) != "#c" || len(names) != 1 || names["#c"] != "card" {
		t.Errorf("GetItemInput modified: %q %v", aws.ToString(get.ProjectionExpression), names)
	}
	upd := &dynamodb.UpdateItemInput{TableName: aws.String("t"), Key: key("a", 1), UpdateExpression: aws.String("SET visits = :n"),
		ExpressionAttributeNames: map[string]string{}}
	c.UpdateItem(ctx, upd) // memAPI does not implement it; only the input matters
	if upd.ConditionExpression != nil || len(upd.ExpressionAttributeNames) != 0 {
		t.Errorf("UpdateItemInput modified")
	}
}

func TestInputsNotModified(t *testing.T) { forEachForm(t, testInputsNotModified) }

func TestEachConcurrency(t *testing.T) {
	c := &Client{engine: &engine{opts: Options{Concurrency: 4}}}
	var running, peak atomic.Int32
	boom := errors.New("boom")
	idx, err := c.each(context.Background(), 50, func(ctx context.Context, i int) error {
		r := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if r <= p || peak.CompareAndSwap(p, r) {
				break
			}
		}
		if i == 20 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || idx != 20 {
		t.Errorf("each = %d, %v; want 20, boom", idx, err)
	}
	if peak.Load() > 4 {
		t.Errorf("%d at once, want at most 4", peak.Load())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.each(ctx, 50, func(ctx context.Context, i int) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("each(cancelled) = %v", err)
	}
}
