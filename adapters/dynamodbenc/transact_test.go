package dynamodbenc

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// TestTransactions runs the transaction happy paths over the in-memory
// fake and over dynalite through transactEmulator (dynalite 4.0.0 has no
// TransactWriteItems or TransactGetItems; the emulator sends each item as a
// single request, so dynalite still validates and executes what the client
// builds, its added conditions and placeholders included).
func testTransactions(t *testing.T, f form) {
	backends := map[string]func(t *testing.T) (API, func(t *testing.T) string, bool){
		"memory": func(t *testing.T) (API, func(t *testing.T) string, bool) {
			mem := newMemAPI()
			mem.createTable("enc", "pk", "sk")
			mem.createTable("plain", "pk", "sk")
			names := []string{"enc", "plain"}
			return mem, func(t *testing.T) string { n := names[0]; names = names[1:]; return n }, false
		},
		"dynalite": func(t *testing.T) (API, func(t *testing.T) string, bool) {
			raw := dynalite(t)
			return transactEmulator{raw}, func(t *testing.T) string { return newTable(t, raw) }, true
		},
	}
	for bname, backend := range backends {
		t.Run(bname, func(t *testing.T) {
			api, mkTable, updates := backend(t)
			enc, plain := mkTable(t), mkTable(t)
			sp := &spy{next: api}
			c := f.client(t, sp, Config{Tables: map[string]TableConfig{enc: customerConfig(testProvider(t), false)}},
				func(o *Options) { o.Concurrency = 3 })
			ctx := ctxT(t)
			a, b0, gone := customer("a", 1), customer("b", 2), customer("gone", 3)
			if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &enc, Item: gone}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &enc, Item: a}); err != nil {
				t.Fatal(err)
			}
			_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
				ClientRequestToken: aws.String("token-1"),
				TransactItems: []types.TransactWriteItem{
					{Put: &types.Put{TableName: &enc, Item: b0, ConditionExpression: aws.String("attribute_not_exists(card)")}},
					{Put: &types.Put{TableName: &plain, Item: customer("p", 1)}},
					{Update: &types.Update{TableName: &enc, Key: key("a", 1), UpdateExpression: aws.String("SET visits = :n"),
						ConditionExpression:       aws.String("email = :e"),
						ExpressionAttributeValues: map[string]types.AttributeValue{":n": n("99"), ":e": a["email"]}}},
					{Delete: &types.Delete{TableName: &enc, Key: key("gone", 3), ConditionExpression: aws.String("attribute_exists(card)")}},
					{ConditionCheck: &types.ConditionCheck{TableName: &enc, Key: key("a", 1), ConditionExpression: aws.String("visits > :z"),
						ExpressionAttributeValues: map[string]types.AttributeValue{":z": n("0")}}},
				}})
			if err != nil {
				t.Fatal(err)
			}

			// What was sent: the Put encrypted, the Update with its added
			// condition, the unconfigured table's Put untouched.
			if in, ok := sp.last("TransactWriteItems").(*dynamodb.TransactWriteItemsInput); ok {
				if _, signed := in.TransactItems[0].Put.Item[itemcrypto.SignatureAttribute]; !signed {
					t.Errorf("Put sent unencrypted")
				}
				if _, signed := in.TransactItems[1].Put.Item[itemcrypto.SignatureAttribute]; signed {
					t.Errorf("Put on the unconfigured table was encrypted")
				}
				u := in.TransactItems[2].Update
				if cond := aws.ToString(u.ConditionExpression); !strings.HasPrefix(cond, "(email = :e) AND attribute_exists(#dynamodbenc") {
					t.Errorf("Update condition sent = %q", cond)
				}
				if aws.ToString(in.ClientRequestToken) != "token-1" {
					t.Errorf("ClientRequestToken did not pass through")
				}
			} else if bname == "memory" {
				t.Fatal("no TransactWriteItems request recorded")
			}

			out, err := c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
				{Get: &types.Get{TableName: &enc, Key: key("a", 1)}},
				{Get: &types.Get{TableName: &enc, Key: key("b", 2)}},
				{Get: &types.Get{TableName: &plain, Key: key("p", 1)}},
				{Get: &types.Get{TableName: &enc, Key: key("gone", 3)}},
				{Get: &types.Get{TableName: &enc, Key: key("b", 2), ProjectionExpression: aws.String("card")}},
			}})
			if err != nil {
				t.Fatal(err)
			}
			wantA := customer("a", 1)
			if updates {
				wantA["visits"] = n("99")
			}
			wantItem(t, "a", out.Responses[0].Item, wantA)
			wantItem(t, "b", out.Responses[1].Item, b0)
			wantItem(t, "plain", out.Responses[2].Item, customer("p", 1))
			if out.Responses[3].Item != nil {
				t.Errorf("deleted item still there")
			}
			wantItem(t, "projected", out.Responses[4].Item, item{"card": b0["card"]})
		})
	}
}

func TestTransactions(t *testing.T) { forEachForm(t, testTransactions) }

// failing returns the given error from PutItem, UpdateItem, DeleteItem
// and TransactWriteItems.
type failing struct {
	API
	err error
}

func (f failing) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, f.err
}
func (f failing) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, f.err
}
func (f failing) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, f.err
}
func (f failing) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return nil, f.err
}

// TestOldItemsInErrors: the old items DynamoDB returns with a failed
// condition (ReturnValuesOnConditionCheckFailure ALL_OLD) come back
// decrypted, or not at all when they do not verify. dynalite 4.0.0 returns
// no such item, so this runs over a fake.
func testOldItemsInErrors(t *testing.T, f form) {
	ctx := ctxT(t)
	p := testProvider(t)
	enc := coreEncryptor(t, "t", p, "pk", "sk")
	old := customer("a", 1)
	stored, err := enc.Encrypt(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	tampered := map[string]types.AttributeValue{}
	for k, v := range stored {
		tampered[k] = v
	}
	tampered["email"] = s("evil@example.com")

	for _, tc := range []struct {
		name   string
		stored item
		want   item
	}{{"verified", stored, old}, {"tampered", tampered, nil}} {
		t.Run(tc.name, func(t *testing.T) {
			calls := map[string]func(c API) error{
				"PutItem": func(c API) error {
					_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: old})
					return err
				},
				"UpdateItem": func(c API) error {
					_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("t"), Key: key("a", 1),
						UpdateExpression: aws.String("SET visits = :n"), ExpressionAttributeValues: map[string]types.AttributeValue{":n": n("1")}})
					return err
				},
				"DeleteItem": func(c API) error {
					_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("t"), Key: key("a", 1)})
					return err
				},
			}
			for op, call := range calls {
				ccf := &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed"), Item: tc.stored}
				c := f.client(t, failing{err: ccf}, Config{Tables: map[string]TableConfig{"t": customerConfig(p, true)}})
				err := call(c)
				var got *types.ConditionalCheckFailedException
				var opErr *OpError
				if !errors.As(err, &got) || !errors.As(err, &opErr) || opErr.Op != op {
					t.Fatalf("%s err = %v", op, err)
				}
				if tc.want == nil && got.Item != nil {
					t.Errorf("%s: unverified item handed back", op)
				} else if tc.want != nil {
					wantItem(t, op, got.Item, tc.want)
				}
			}

			tce := &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"),
				CancellationReasons: []types.CancellationReason{
					{Code: aws.String("None")},
					{Code: aws.String("ConditionalCheckFailed"), Item: tc.stored},
					{Code: aws.String("ConditionalCheckFailed"), Item: customer("plain", 1)},
				}}
			c := f.client(t, failing{err: tce}, Config{Tables: map[string]TableConfig{"t": customerConfig(p, true)}})
			_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: aws.String("t"), Item: customer("b", 2)}},
				{Delete: &types.Delete{TableName: aws.String("t"), Key: key("a", 1), ConditionExpression: aws.String("attribute_exists(pk)")}},
				{Put: &types.Put{TableName: aws.String("other"), Item: customer("plain", 1)}},
			}})
			var got *types.TransactionCanceledException
			if !errors.As(err, &got) {
				t.Fatalf("TransactWriteItems err = %v", err)
			}
			if tc.want == nil && got.CancellationReasons[1].Item != nil {
				t.Errorf("TransactWriteItems: unverified item handed back")
			} else if tc.want != nil {
				wantItem(t, "TransactWriteItems", got.CancellationReasons[1].Item, tc.want)
			}
			wantItem(t, "unconfigured table's reason", got.CancellationReasons[2].Item, customer("plain", 1))
		})
	}
}

func TestOldItemsInErrors(t *testing.T) { forEachForm(t, testOldItemsInErrors) }
