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
func (c *Client) partiQLTable(stmt *string) (string, bool) {
	if stmt == nil {
		return "", false
	}
	for _, name := range slices.Sorted(maps.Keys(c.tables)) {
		if mentionsTable(*stmt, name) {
			return name, true
		}
	}
	return "", false
}

func (c *Client) refusePartiQL(op, param, table string) error {
	return &UnsafeOperationError{Op: op, Table: table,
		Reason: param + " is a PartiQL statement on an encrypted table; PartiQL is not supported there, " +
			"use PutItem, GetItem, Query, Scan, the batch and the transaction operations"}
}

// ExecuteStatement runs a PartiQL statement. A statement that names a
// configured table (anywhere in its text) is refused with an
// [*UnsafeOperationError]; others pass through untouched.
func (c *Client) ExecuteStatement(ctx context.Context, in *dynamodb.ExecuteStatementInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ExecuteStatementOutput, error) {
	if in != nil {
		if t, ok := c.partiQLTable(in.Statement); ok {
			return nil, c.refusePartiQL("ExecuteStatement", "Statement", t)
		}
	}
	return c.api.ExecuteStatement(ctx, in, optFns...)
}

// BatchExecuteStatement runs PartiQL statements. If any statement names a
// configured table, the whole batch is refused, as in
// [Client.ExecuteStatement].
func (c *Client) BatchExecuteStatement(ctx context.Context, in *dynamodb.BatchExecuteStatementInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchExecuteStatementOutput, error) {
	if in != nil {
		for i, s := range in.Statements {
			if t, ok := c.partiQLTable(s.Statement); ok {
				return nil, c.refusePartiQL("BatchExecuteStatement", fmt.Sprintf("Statements[%d]", i), t)
			}
		}
	}
	return c.api.BatchExecuteStatement(ctx, in, optFns...)
}

// ExecuteTransaction runs PartiQL statements in a transaction. If any
// statement names a configured table, the whole transaction is refused, as
// in [Client.ExecuteStatement].
func (c *Client) ExecuteTransaction(ctx context.Context, in *dynamodb.ExecuteTransactionInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ExecuteTransactionOutput, error) {
	if in != nil {
		for i, s := range in.TransactStatements {
			if t, ok := c.partiQLTable(s.Statement); ok {
				return nil, c.refusePartiQL("ExecuteTransaction", fmt.Sprintf("TransactStatements[%d]", i), t)
			}
		}
	}
	return c.api.ExecuteTransaction(ctx, in, optFns...)
}

// DescribeTable passes through untouched.
func (c *Client) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return c.api.DescribeTable(ctx, in, optFns...)
}
