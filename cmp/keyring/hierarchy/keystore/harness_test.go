package keystore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy/keystore"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
)

// transactDynalite gives the store TransactWriteItems over dynalite, which
// does not implement it. Under one lock it runs each Put of a transaction as
// a conditional PutItem, in order; when one fails it undoes the puts already
// made (restoring the items they replaced) and fails as DynamoDB does, with
// a TransactionCanceledException whose CancellationReasons say which item's
// condition failed. Every writer of a test goes through one double, so the
// lock makes the transactions atomic and isolated from each other. It
// records every transaction it was given.
type transactDynalite struct {
	*dynamodb.Client
	mu    sync.Mutex
	calls []*dynamodb.TransactWriteItemsInput
}

func (d *transactDynalite) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, in)
	type undo struct {
		table string
		key   map[string]types.AttributeValue
		prior map[string]types.AttributeValue
	}
	var done []undo
	rollback := func() error {
		for i := len(done) - 1; i >= 0; i-- {
			u := done[i]
			var err error
			if u.prior == nil {
				_, err = d.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &u.table, Key: u.key})
			} else {
				_, err = d.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &u.table, Item: u.prior})
			}
			if err != nil {
				return fmt.Errorf("transactDynalite: rollback: %w", err)
			}
		}
		return nil
	}
	reasons := make([]types.CancellationReason, len(in.TransactItems))
	for i := range reasons {
		reasons[i].Code = aws.String("None")
	}
	for i, ti := range in.TransactItems {
		p := ti.Put
		if p == nil {
			return nil, errors.New("transactDynalite: only Put is supported")
		}
		key := map[string]types.AttributeValue{keystore.AttrBranchKeyID: p.Item[keystore.AttrBranchKeyID], keystore.AttrType: p.Item[keystore.AttrType]}
		prior, err := d.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: p.TableName, Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, errors.Join(err, rollback())
		}
		_, err = d.Client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: p.TableName, Item: p.Item, ConditionExpression: p.ConditionExpression,
			ExpressionAttributeNames: p.ExpressionAttributeNames, ExpressionAttributeValues: p.ExpressionAttributeValues,
		})
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			reasons[i] = types.CancellationReason{Code: aws.String("ConditionalCheckFailed"), Message: aws.String("The conditional request failed")}
			if err := rollback(); err != nil {
				return nil, err
			}
			return nil, &types.TransactionCanceledException{
				Message:             aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons"),
				CancellationReasons: reasons,
			}
		}
		if err != nil {
			return nil, errors.Join(err, rollback())
		}
		done = append(done, undo{table: *p.TableName, key: key, prior: prior.Item})
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func (d *transactDynalite) transactions() []*dynamodb.TransactWriteItemsInput {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]*dynamodb.TransactWriteItemsInput(nil), d.calls...)
}

// env is one key store table on dynalite and a fake KMS with one key.
type env struct {
	ddb    *transactDynalite
	kms    *kmstest.Server
	keyARN string
	table  string
	store  *keystore.Store
}

const logicalName = "logical-keystore"

func newEnv(t *testing.T, optFns ...func(*keystore.Options)) *env {
	t.Helper()
	e := &env{ddb: &transactDynalite{Client: testenv.DynamoDBClient(t)}, kms: kmstest.NewServer(t)}
	_, e.keyARN = e.kms.CreateKey()
	e.table = testenv.TableName(t)
	e.store = e.newStore(t, append([]func(*keystore.Options){func(o *keystore.Options) {
		o.KMS = keystore.KeyARN(e.keyARN)
	}}, optFns...)...)
	testenv.CreatedTable(t, e.ddb.Client, e.table, func(ctx context.Context) error {
		_, err := e.store.CreateKeyStore(ctx)
		return err
	})
	return e
}

// newStore is another store over the same table and KMS.
func (e *env) newStore(t *testing.T, optFns ...func(*keystore.Options)) *keystore.Store {
	t.Helper()
	s, err := keystore.New(e.ddb, e.kms.Client(), append([]func(*keystore.Options){func(o *keystore.Options) {
		o.TableName = e.table
		o.LogicalName = logicalName
		o.GrantTokens = []string{"grant-1"}
		o.Now = func() time.Time { return time.Date(2026, 3, 4, 5, 6, 7, 891234000, time.FixedZone("X", 3600)) }
	}}, optFns...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) rawItem(t *testing.T, id, typ string) map[string]types.AttributeValue {
	t.Helper()
	out, err := e.ddb.Client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: &e.table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			keystore.AttrBranchKeyID: &types.AttributeValueMemberS{Value: id},
			keystore.AttrType:        &types.AttributeValueMemberS{Value: typ},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func (e *env) putRaw(t *testing.T, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := e.ddb.Client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &e.table, Item: item}); err != nil {
		t.Fatal(err)
	}
}

// items returns every item of branch key id, by type.
func (e *env) items(t *testing.T, id string) map[string]map[string]types.AttributeValue {
	t.Helper()
	out, err := e.ddb.Client.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 &e.table,
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#id = :id"),
		ExpressionAttributeNames:  map[string]string{"#id": keystore.AttrBranchKeyID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: id}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]map[string]types.AttributeValue{}
	for _, it := range out.Items {
		m[it[keystore.AttrType].(*types.AttributeValueMemberS).Value] = it
	}
	return m
}

func str(item map[string]types.AttributeValue, name string) string {
	if s, ok := item[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
