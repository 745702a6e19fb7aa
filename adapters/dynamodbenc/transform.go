package dynamodbenc

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Every operation the client handles is a pair of transforms, written once
// and used by both forms: the wrapper [Client] calls them around its call to
// the API beneath it, and the SDK option ([NewOption]) around the rest of
// the SDK client's middleware stack.
//
//   - The request transform checks the caller's input (the guard rails),
//     then returns the request to send (encrypted, widened, rewritten onto
//     beacons; never the caller's input modified) and the response
//     transform, bound to what it learnt (the state: encryptor, caller's
//     projection, beacon filter, the caller's plaintext requests). An error
//     refuses the request: nothing is sent. A nil response transform means
//     the request passes through untouched (a table without configuration).
//   - The response transform gets DynamoDB's output, or its error, and
//     returns the caller's: items verified, decrypted and projected, beacon
//     false positives removed (Count recounted), UnprocessedItems and
//     UnprocessedKeys mapped back to the caller's requests, errors wrapped
//     in an [*OpError] and their old items decrypted.
//
// The transforms of the operations are listed once, in ops.

// transform is an operation's request transform.
type transform[In, Out any] func(e *engine, ctx context.Context, in *In, d describer) (*In, finish[Out], error)

// finish is an operation's response transform, bound to the state of its
// request. out is nil when err is not.
type finish[Out any] func(ctx context.Context, out *Out, err error) (*Out, error)

// ops is the table of the operations' transforms. DescribeTable and every
// operation not listed (CreateTable, ListTables, ...) carry no items and
// pass through both forms untouched.
var ops = struct {
	GetItem               transform[dynamodb.GetItemInput, dynamodb.GetItemOutput]
	PutItem               transform[dynamodb.PutItemInput, dynamodb.PutItemOutput]
	DeleteItem            transform[dynamodb.DeleteItemInput, dynamodb.DeleteItemOutput]
	UpdateItem            transform[dynamodb.UpdateItemInput, dynamodb.UpdateItemOutput]
	Query                 transform[dynamodb.QueryInput, dynamodb.QueryOutput]
	Scan                  transform[dynamodb.ScanInput, dynamodb.ScanOutput]
	BatchGetItem          transform[dynamodb.BatchGetItemInput, dynamodb.BatchGetItemOutput]
	BatchWriteItem        transform[dynamodb.BatchWriteItemInput, dynamodb.BatchWriteItemOutput]
	TransactGetItems      transform[dynamodb.TransactGetItemsInput, dynamodb.TransactGetItemsOutput]
	TransactWriteItems    transform[dynamodb.TransactWriteItemsInput, dynamodb.TransactWriteItemsOutput]
	ExecuteStatement      transform[dynamodb.ExecuteStatementInput, dynamodb.ExecuteStatementOutput]
	BatchExecuteStatement transform[dynamodb.BatchExecuteStatementInput, dynamodb.BatchExecuteStatementOutput]
	ExecuteTransaction    transform[dynamodb.ExecuteTransactionInput, dynamodb.ExecuteTransactionOutput]
}{
	GetItem:               (*engine).getItem,
	PutItem:               (*engine).putItem,
	DeleteItem:            (*engine).deleteItem,
	UpdateItem:            (*engine).updateItem,
	Query:                 (*engine).query,
	Scan:                  (*engine).scan,
	BatchGetItem:          (*engine).batchGetItem,
	BatchWriteItem:        (*engine).batchWriteItem,
	TransactGetItems:      (*engine).transactGetItems,
	TransactWriteItems:    (*engine).transactWriteItems,
	ExecuteStatement:      (*engine).executeStatement,
	BatchExecuteStatement: (*engine).batchExecuteStatement,
	ExecuteTransaction:    (*engine).executeTransaction,
}

// call is the wrapper's side: the request transform, the API call with the
// caller's optFns, the response transform.
func call[In, Out any](ctx context.Context, c *Client, tr transform[In, Out], in *In,
	api func(context.Context, *In, ...func(*dynamodb.Options)) (*Out, error), optFns []func(*dynamodb.Options)) (*Out, error) {
	req, fin, err := tr(c.engine, ctx, in, describer{c.api, optFns})
	if err != nil {
		return nil, err
	}
	out, err := api(ctx, req, optFns...)
	if fin == nil {
		return out, err
	}
	if err != nil {
		out = nil
	}
	return fin(ctx, out, err)
}

// passThrough is the transform of a request left untouched.
func passThrough[In, Out any](in *In) (*In, finish[Out], error) { return in, nil, nil }
