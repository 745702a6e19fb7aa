package dynamodbenc

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// NewOption returns an option of the SDK's DynamoDB client that makes the
// plain client protect the tables of cfg as a [Client] does:
//
//	opt, err := dynamodbenc.NewOption(cfg)
//	if err != nil { ... }
//	db := dynamodb.NewFromConfig(awsCfg, opt) // a *dynamodb.Client
//
// It is for code that holds a concrete *dynamodb.Client, or a library that
// builds its own client from an aws.Config or takes client options. The
// option installs a middleware at the start of the client's Initialize step,
// which sees each call's typed input before it is serialized and its typed
// output after it is deserialized, and runs there the same transforms as
// the [Client]'s methods: every operation, guarantee, guard rail and error
// of the wrapper (see the package documentation) holds, the SDK's
// paginators work on the plain client, and a request that cannot be made
// safe fails before it is sent. The caller's input is never modified, and
// the request is encrypted once per call, not once per retry.
//
// Differences from [New]:
//
//   - Every table of cfg must give its key names (TableConfig.PartitionKey,
//     and SortKey when the table has one), as the AWS Database Encryption
//     SDK's middleware requires: the middleware has no client of its own to
//     ask DescribeTable. NewOption refuses a configuration without them.
//   - Errors come wrapped in the SDK's *smithy.OperationError, as every
//     error of the plain client: errors.As and errors.Is reach the
//     [*OpError], [*UnsafeOperationError] and [*ItemError] inside (and,
//     through them, the SDK's and smithy's types), as they do with the
//     wrapper.
//
// A bad configuration fails here, never at the first request. The option can
// also be given to a single call (db.PutItem(ctx, in, opt)); applied twice
// to one call, it acts once.
func NewOption(cfg Config, optFns ...func(*Options)) (func(*dynamodb.Options), error) {
	for name, tc := range cfg.Tables {
		if tc.PartitionKey == "" {
			return nil, fmt.Errorf("dynamodbenc: NewOption: table %q: PartitionKey is required "+
				"(the option cannot call DescribeTable to learn the key names; New's Client can)", name)
		}
	}
	e, err := newEngine("NewOption", cfg, optFns)
	if err != nil {
		return nil, err
	}
	mw := &encryption{e: e, id: fmt.Sprintf("dynamodbenc.encryption#%d", optionSeq.Add(1))}
	add := func(stack *middleware.Stack) error {
		if _, ok := stack.Initialize.Get(mw.id); ok {
			return nil
		}
		return stack.Initialize.Add(mw, middleware.Before)
	}
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, add)
	}, nil
}

// optionSeq numbers the options, so that two of them (two configurations)
// can stack, while one given twice acts once.
var optionSeq atomic.Uint64

// encryption is the middleware of an option.
type encryption struct {
	e  *engine
	id string
}

func (m *encryption) ID() string { return m.id }

// HandleInitialize runs the operation's transforms (ops) around the rest of
// the stack. The operations are told apart by their input's type.
func (m *encryption) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error) {
	switch p := in.Parameters.(type) {
	case *dynamodb.GetItemInput:
		return handle(ctx, m.e, ops.GetItem, p, in, next)
	case *dynamodb.PutItemInput:
		return handle(ctx, m.e, ops.PutItem, p, in, next)
	case *dynamodb.DeleteItemInput:
		return handle(ctx, m.e, ops.DeleteItem, p, in, next)
	case *dynamodb.UpdateItemInput:
		return handle(ctx, m.e, ops.UpdateItem, p, in, next)
	case *dynamodb.QueryInput:
		return handle(ctx, m.e, ops.Query, p, in, next)
	case *dynamodb.ScanInput:
		return handle(ctx, m.e, ops.Scan, p, in, next)
	case *dynamodb.BatchGetItemInput:
		return handle(ctx, m.e, ops.BatchGetItem, p, in, next)
	case *dynamodb.BatchWriteItemInput:
		return handle(ctx, m.e, ops.BatchWriteItem, p, in, next)
	case *dynamodb.TransactGetItemsInput:
		return handle(ctx, m.e, ops.TransactGetItems, p, in, next)
	case *dynamodb.TransactWriteItemsInput:
		return handle(ctx, m.e, ops.TransactWriteItems, p, in, next)
	case *dynamodb.ExecuteStatementInput:
		return handle(ctx, m.e, ops.ExecuteStatement, p, in, next)
	case *dynamodb.BatchExecuteStatementInput:
		return handle(ctx, m.e, ops.BatchExecuteStatement, p, in, next)
	case *dynamodb.ExecuteTransactionInput:
		return handle(ctx, m.e, ops.ExecuteTransaction, p, in, next)
	}
	return next.HandleInitialize(ctx, in)
}

// handle is the middleware's side of call: the request transform, the rest
// of the stack with the transformed input, the response transform of the
// typed result.
func handle[In, Out any](ctx context.Context, e *engine, tr transform[In, Out], p *In, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error) {
	req, fin, err := tr(e, ctx, p, describer{})
	if err != nil {
		return middleware.InitializeOutput{}, middleware.Metadata{}, err
	}
	if fin == nil {
		return next.HandleInitialize(ctx, in)
	}
	in.Parameters = req
	out, md, err := next.HandleInitialize(ctx, in)
	var res *Out
	if err == nil {
		var ok bool
		if res, ok = out.Result.(*Out); !ok || res == nil {
			err = fmt.Errorf("the SDK returned %T, not a %T", out.Result, res)
		}
	}
	if res, err = fin(ctx, res, err); err != nil {
		return middleware.InitializeOutput{}, md, err
	}
	out.Result = res
	return out, md, nil
}
