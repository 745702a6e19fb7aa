package dynamodbenc

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// The PartiQL operations carry items and conditions inside statement text
// and positional parameters, which the client does not rewrite: a statement
// on a configured table is refused, and the rest pass through.

// partiQLTable returns the first configured table (in name order) that stmt
// may refer to.
func (e *engine) partiQLTable(stmt *string) (string, bool) {
	if stmt == nil {
		return "", false
	}
	for _, name := range slices.Sorted(maps.Keys(e.tables)) {
		if mentionsTable(*stmt, name) {
			return name, true
		}
	}
	return "", false
}

func refusePartiQL(op, param, table string) error {
	return &UnsafeOperationError{Op: op, Table: table,
		Reason: param + " is a PartiQL statement on an encrypted table; PartiQL is not supported there, " +
			"use PutItem, GetItem, Query, Scan, the batch and the transaction operations"}
}

// ExecuteStatement runs a PartiQL statement. A statement that names a
// configured table (anywhere in its text) is refused with an
// [*UnsafeOperationError]; others pass through untouched.
func (c *Client) ExecuteStatement(ctx context.Context, in *dynamodb.ExecuteStatementInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ExecuteStatementOutput, error) {
	return call(ctx, c, ops.ExecuteStatement, in, c.api.ExecuteStatement, optFns)
}

func (e *engine) executeStatement(_ context.Context, in *dynamodb.ExecuteStatementInput, _ describer) (*dynamodb.ExecuteStatementInput, finish[dynamodb.ExecuteStatementOutput], error) {
	if in != nil {
		if t, ok := e.partiQLTable(in.Statement); ok {
			return nil, nil, refusePartiQL("ExecuteStatement", "Statement", t)
		}
	}
	return passThrough[dynamodb.ExecuteStatementInput, dynamodb.ExecuteStatementOutput](in)
}

// BatchExecuteStatement runs PartiQL statements. If any statement names a
// configured table, the whole batch is refused, as in
// [Client.ExecuteStatement].
func (c *Client) BatchExecuteStatement(ctx context.Context, in *dynamodb.BatchExecuteStatementInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchExecuteStatementOutput, error) {
	return call(ctx, c, ops.BatchExecuteStatement, in, c.api.BatchExecuteStatement, optFns)
}

func (e *engine) batchExecuteStatement(_ context.Context, in *dynamodb.BatchExecuteStatementInput, _ describer) (*dynamodb.BatchExecuteStatementInput, finish[dynamodb.BatchExecuteStatementOutput], error) {
	if in != nil {
		for i, s := range in.Statements {
			if t, ok := e.partiQLTable(s.Statement); ok {
				return nil, nil, refusePartiQL("BatchExecuteStatement", fmt.Sprintf("Statements[%d]", i), t)
			}
		}
	}
	return passThrough[dynamodb.BatchExecuteStatementInput, dynamodb.BatchExecuteStatementOutput](in)
}

// ExecuteTransaction runs PartiQL statements in a transaction. If any
// statement names a configured table, the whole transaction is refused, as
// in [Client.ExecuteStatement].
func (c *Client) ExecuteTransaction(ctx context.Context, in *dynamodb.ExecuteTransactionInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ExecuteTransactionOutput, error) {
	return call(ctx, c, ops.ExecuteTransaction, in, c.api.ExecuteTransaction, optFns)
}

func (e *engine) executeTransaction(_ context.Context, in *dynamodb.ExecuteTransactionInput, _ describer) (*dynamodb.ExecuteTransactionInput, finish[dynamodb.ExecuteTransactionOutput], error) {
	if in != nil {
		for i, s := range in.TransactStatements {
			if t, ok := e.partiQLTable(s.Statement); ok {
				return nil, nil, refusePartiQL("ExecuteTransaction", fmt.Sprintf("TransactStatements[%d]", i), t)
			}
		}
	}
	return passThrough[dynamodb.ExecuteTransactionInput, dynamodb.ExecuteTransactionOutput](in)
}

// DescribeTable passes through untouched.
func (c *Client) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return c.api.DescribeTable(ctx, in, optFns...)
}
