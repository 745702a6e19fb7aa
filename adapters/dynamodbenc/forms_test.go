package dynamodbenc

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// The package has two forms, which the integration tests run alike: the
// wrapper (New's *Client over an API) and the option (NewOption on a plain
// *dynamodb.Client). Both satisfy API.

// form builds a client of one form that protects cfg's tables and sends its
// requests to next.
type form struct {
	name   string
	client func(t testing.TB, next API, cfg Config, optFns ...func(*Options)) API
}

var forms = []form{
	{"wrapper", func(t testing.TB, next API, cfg Config, optFns ...func(*Options)) API {
		return mustNew(t, next, cfg, optFns...)
	}},
	{"option", optionClient},
}

// forEachForm runs f as a subtest of each form.
func forEachForm(t *testing.T, f func(t *testing.T, fm form)) {
	for _, fm := range forms {
		t.Run("form="+fm.name, func(t *testing.T) { f(t, fm) })
	}
}

// optionClient is a plain *dynamodb.Client with the option. Over a
// *dynamodb.Client (dynalite), it is a copy of that client's options plus
// the option, so its requests go over HTTP; over any other API (a fake, a
// spy, an emulator), its stack hands each typed input to next instead of
// serializing it (serveFrom). The key names the option requires are taken
// from next's DescribeTable when cfg does not give them.
func optionClient(t testing.TB, next API, cfg Config, optFns ...func(*Options)) API {
	t.Helper()
	cfg = withKeyNames(t, next, cfg)
	opt, err := NewOption(cfg, optFns...)
	if err != nil {
		t.Fatalf("NewOption: %v", err)
	}
	if raw, ok := next.(*dynamodb.Client); ok {
		return dynamodb.New(raw.Options(), opt)
	}
	return dynamodb.New(stubOptions(), opt, serveFrom(next))
}

// withKeyNames fills in the key names of the tables of cfg that lack them.
func withKeyNames(t testing.TB, api API, cfg Config) Config {
	t.Helper()
	out := Config{Tables: make(map[string]TableConfig, len(cfg.Tables))}
	for name, tc := range cfg.Tables {
		if tc.PartitionKey == "" {
			d, err := api.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: &name})
			if err != nil {
				t.Fatalf("DescribeTable(%s): %v", name, err)
			}
			for _, k := range d.Table.KeySchema {
				switch k.KeyType {
				case types.KeyTypeHash:
					tc.PartitionKey = *k.AttributeName
				case types.KeyTypeRange:
					tc.SortKey = *k.AttributeName
				}
			}
		}
		out.Tables[name] = tc
	}
	return out
}

// stubOptions are the options of a client whose requests never leave the
// process.
func stubOptions() dynamodb.Options {
	return dynamodb.Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("fake", "fake", "")}
}

// serveFrom is a client option that answers every call from api, at the
// end of the Initialize step (after the option's middleware and the SDK's
// input validation): the typed input goes to api, its typed output comes
// back, and nothing is serialized or sent.
func serveFrom(api API) func(*dynamodb.Options) {
	mw := middleware.InitializeMiddlewareFunc("dynamodbenc-test.serveFrom", func(ctx context.Context, in middleware.InitializeInput, _ middleware.InitializeHandler) (
		middleware.InitializeOutput, middleware.Metadata, error) {
		out, err := dispatch(ctx, api, in.Parameters)
		if err != nil {
			return middleware.InitializeOutput{}, middleware.Metadata{}, err
		}
		return middleware.InitializeOutput{Result: out}, middleware.Metadata{}, nil
	})
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error { return s.Initialize.Add(mw, middleware.After) })
	}
}

// dispatch calls api's method for a typed input.
func dispatch(ctx context.Context, api API, in any) (any, error) {
	switch in := in.(type) {
	case *dynamodb.GetItemInput:
		return api.GetItem(ctx, in)
	case *dynamodb.PutItemInput:
		return api.PutItem(ctx, in)
	case *dynamodb.DeleteItemInput:
		return api.DeleteItem(ctx, in)
	case *dynamodb.UpdateItemInput:
		return api.UpdateItem(ctx, in)
	case *dynamodb.QueryInput:
		return api.Query(ctx, in)
	case *dynamodb.ScanInput:
		return api.Scan(ctx, in)
	case *dynamodb.BatchGetItemInput:
		return api.BatchGetItem(ctx, in)
	case *dynamodb.BatchWriteItemInput:
		return api.BatchWriteItem(ctx, in)
	case *dynamodb.TransactGetItemsInput:
		return api.TransactGetItems(ctx, in)
	case *dynamodb.TransactWriteItemsInput:
		return api.TransactWriteItems(ctx, in)
	case *dynamodb.ExecuteStatementInput:
		return api.ExecuteStatement(ctx, in)
	case *dynamodb.BatchExecuteStatementInput:
		return api.BatchExecuteStatement(ctx, in)
	case *dynamodb.ExecuteTransactionInput:
		return api.ExecuteTransaction(ctx, in)
	case *dynamodb.DescribeTableInput:
		return api.DescribeTable(ctx, in)
	}
	return nil, fmt.Errorf("serveFrom: no method for %T", in)
}
