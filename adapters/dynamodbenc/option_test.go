package dynamodbenc

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// countingHTTP records the operation of every HTTP request a client sends.
type countingHTTP struct {
	next dynamodb.HTTPClient
	mu   sync.Mutex
	ops  []string
}

func (c *countingHTTP) Do(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.ops = append(c.ops, strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810."))
	c.mu.Unlock()
	return c.next.Do(r)
}

func (c *countingHTTP) sent() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ops)
}

// optionDynalite is a plain client of dynalite with the option for table,
// and the HTTP requests it sends.
func optionDynalite(t *testing.T, raw *dynamodb.Client, table string) (*dynamodb.Client, *countingHTTP) {
	t.Helper()
	opt, err := NewOption(Config{Tables: map[string]TableConfig{table: customerConfig(testProvider(t), true)}})
	if err != nil {
		t.Fatal(err)
	}
	hc := &countingHTTP{}
	return dynamodb.New(raw.Options(), opt, func(o *dynamodb.Options) { hc.next = o.HTTPClient; o.HTTPClient = hc }), hc
}

func TestNewOptionValidates(t *testing.T) {
	p := testProvider(t)
	for name, cfg := range map[string]Config{
		"no key names":    {Tables: map[string]TableConfig{"t": customerConfig(p, false)}},
		"no Default":      {Tables: map[string]TableConfig{"t": {Provider: p, PartitionKey: "pk"}}},
		"no Provider":     {Tables: map[string]TableConfig{"t": {Default: actions.EncryptAndSign, PartitionKey: "pk"}}},
		"encrypted key":   {Tables: map[string]TableConfig{"t": {Provider: p, Default: actions.SignOnly, PartitionKey: "pk", Overrides: map[string]actions.Action{"pk": actions.EncryptAndSign}}}},
		"empty tablename": {Tables: map[string]TableConfig{"": customerConfig(p, true)}},
	} {
		opt, err := NewOption(cfg)
		if err == nil || opt != nil || !strings.HasPrefix(err.Error(), "dynamodbenc: NewOption: ") {
			t.Errorf("%s: NewOption = %v, %v; want an error", name, opt != nil, err)
		}
	}
	if _, err := NewOption(Config{}); err != nil {
		t.Errorf("NewOption(no tables) = %v", err)
	}
}

// TestOptionRefusesBeforeSendingDynalite: a request the option cannot make
// safe fails in the client, and dynalite never sees it (no HTTP request at
// all: the option learns no key schema); the error is the wrapper's, inside
// the SDK's *smithy.OperationError.
func TestOptionRefusesBeforeSendingDynalite(t *testing.T) {
	raw := dynalite(t)
	table := newTable(t, raw)
	c, hc := optionDynalite(t, raw, table)
	for _, tc := range guardCases() {
		t.Run(tc.name, func(t *testing.T) {
			before := len(hc.sent())
			err := tc.call(ctxT(t), c, table)
			var ue *UnsafeOperationError
			var oe *smithy.OperationError
			if !errors.Is(err, ErrUnsafeOperation) || !errors.As(err, &ue) || !errors.As(err, &oe) {
				t.Fatalf("err = %v, want an *UnsafeOperationError in a *smithy.OperationError", err)
			}
			if ue.Op != tc.op || oe.OperationName != tc.op {
				t.Errorf("err = %+v in %s", ue, oe.OperationName)
			}
			if got := hc.sent()[before:]; len(got) != 0 {
				t.Errorf("HTTP requests sent before the refusal: %v", got)
			}
		})
	}
	// A put that cannot be encrypted is not sent either.
	bad := customer("a", 1)
	bad[itemcrypto.SignatureAttribute] = b([]byte("x"))
	before := len(hc.sent())
	_, err := c.PutItem(ctxT(t), &dynamodb.PutItemInput{TableName: &table, Item: bad})
	var opErr *OpError
	if !errors.Is(err, itemcrypto.ErrReservedAttribute) || !errors.As(err, &opErr) || len(hc.sent()) != before {
		t.Errorf("PutItem(reserved attribute) err = %v, sent %v", err, hc.sent()[before:])
	}
}

// TestOptionPlainClientDynalite: what the plain client with the option
// stores is encrypted, the SDK's paginators drive it, DynamoDB's errors
// reach the caller's errors.As through both wrappings, and the option given
// again to one call acts once.
func TestOptionPlainClientDynalite(t *testing.T) {
	raw := dynalite(t)
	table := newTable(t, raw)
	c, hc := optionDynalite(t, raw, table)
	ctx := ctxT(t)
	var want []item
	for i := range 12 {
		it := customer("p", i)
		want = append(want, it)
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	if got := hc.sent(); len(got) != 12 || slices.Contains(got, "DescribeTable") {
		t.Errorf("HTTP requests: %v, want 12 PutItem", got)
	}
	stored, err := raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("p", 3)})
	if err != nil {
		t.Fatal(err)
	}
	if typeOf(stored.Item["card"]) != "B" || stored.Item[itemcrypto.SignatureAttribute] == nil {
		t.Fatalf("stored item is not encrypted: %s", show(stored.Item))
	}

	var got []item
	p := dynamodb.NewQueryPaginator(c, &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("p")}, Limit: aws.Int32(5),
		ProjectionExpression: aws.String("pk, sk, card")})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, out.Items...)
	}
	if len(got) != len(want) {
		t.Fatalf("query paginator: %d items, want %d", len(got), len(want))
	}
	for i, it := range got {
		wantItem(t, "query item", it, item{"pk": want[i]["pk"], "sk": want[i]["sk"], "card": want[i]["card"]})
	}

	// The option again, on one call: the item is encrypted once.
	opt, err := NewOption(Config{Tables: map[string]TableConfig{table: customerConfig(testProvider(t), true)}})
	if err != nil {
		t.Fatal(err)
	}
	plain := dynamodb.New(raw.Options())
	if _, err := plain.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: customer("once", 1)}, opt, opt); err != nil {
		t.Fatal(err)
	}
	out, err := plain.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("once", 1)}, opt)
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "option per call", out.Item, customer("once", 1))

	// DynamoDB's error: an *OpError, a ConditionalCheckFailedException and
	// a smithy.APIError, through the SDK's *smithy.OperationError.
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: want[0], ConditionExpression: aws.String("attribute_not_exists(pk)")})
	var ccf *types.ConditionalCheckFailedException
	var opErr *OpError
	var apiErr smithy.APIError
	var oe *smithy.OperationError
	if !errors.As(err, &ccf) || !errors.As(err, &opErr) || !errors.As(err, &apiErr) || !errors.As(err, &oe) || opErr.Op != "PutItem" {
		t.Errorf("err = %v", err)
	}
	// A tampered item fails the read with its key.
	if _, err := raw.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: key("p", 2),
		UpdateExpression: aws.String("SET email = :x"), ExpressionAttributeValues: map[string]types.AttributeValue{":x": s("evil@example.com")}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("p", 2)})
	var ie *ItemError
	if !errors.As(err, &ie) || !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Errorf("GetItem(tampered) err = %v", err)
	}
}
