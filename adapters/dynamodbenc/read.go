package dynamodbenc

import (
	stdcmp "cmp"
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// decryptItems verifies and decrypts items in place (and applies the
// caller's projection). The first item that fails fails them all, with an
// [*ItemError] naming its key.
func (c *Client) decryptItems(ctx context.Context, op, table string, enc *itemcrypto.Encryptor, items []map[string]types.AttributeValue, proj *projection) error {
	plain := make([]map[string]types.AttributeValue, len(items))
	_, err := c.each(ctx, len(items), func(ctx context.Context, i int) error {
		p, err := decryptOne(ctx, op, table, enc, items[i], i, false)
		if err != nil {
			return err
		}
		plain[i] = proj.trim(p)
		return nil
	})
	if err != nil {
		if _, ok := err.(*ItemError); !ok {
			err = &OpError{Op: op, Table: table, Err: err}
		}
		return err
	}
	copy(items, plain)
	return nil
}

// Query queries a table or index and returns its items verified and
// decrypted. KeyConditionExpression and FilterExpression may not name an
// encrypted attribute (attribute_exists and attribute_not_exists excepted);
// a ProjectionExpression is widened to the attributes the signature needs
// and applied to the plaintext. An item that fails verification fails the
// call with an [*ItemError] naming its key. Works with
// dynamodb.NewQueryPaginator.
func (c *Client) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	const op = "Query"
	if in == nil {
		return c.api.Query(ctx, in, optFns...)
	}
	t := c.lookup(in.TableName)
	if t == nil {
		return c.api.Query(ctx, in, optFns...)
	}
	enc, g, err := c.prepare(ctx, op, t, in.TableName, optFns)
	if err != nil {
		return nil, err
	}
	if err := stdcmp.Or(
		g.legacy(len(in.AttributesToGet) > 0, "AttributesToGet"),
		g.legacy(len(in.KeyConditions) > 0, "KeyConditions"),
		g.legacy(len(in.QueryFilter) > 0, "QueryFilter"),
		g.legacy(in.ConditionalOperator != "", "ConditionalOperator"),
		g.condition("KeyConditionExpression", in.KeyConditionExpression, in.ExpressionAttributeNames),
		g.condition("FilterExpression", in.FilterExpression, in.ExpressionAttributeNames),
	); err != nil {
		return nil, err
	}
	proj, err := widen(enc, in.ProjectionExpression, in.ExpressionAttributeNames, in.KeyConditionExpression, in.FilterExpression)
	if err != nil {
		return nil, g.refuse("", "ProjectionExpression: %v", err)
	}
	req := *in
	req.ProjectionExpression, req.ExpressionAttributeNames = proj.expr, proj.names
	if proj.wholeItem && req.Select == types.SelectSpecificAttributes {
		req.Select = ""
	}
	out, err := c.api.Query(ctx, &req, optFns...)
	if err != nil {
		return nil, &OpError{Op: op, Table: g.table, Err: err}
	}
	if err := c.decryptItems(ctx, op, g.table, enc, out.Items, &proj); err != nil {
		return nil, err
	}
	return out, nil
}

// Scan scans a table or index and returns its items verified and
// decrypted, with the rules of [Client.Query] (FilterExpression,
// ProjectionExpression, items that fail verification). Works with
// dynamodb.NewScanPaginator and parallel scans (Segment, TotalSegments).
func (c *Client) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	const op = "Scan"
	if in == nil {
		return c.api.Scan(ctx, in, optFns...)
	}
	t := c.lookup(in.TableName)
	if t == nil {
		return c.api.Scan(ctx, in, optFns...)
	}
	enc, g, err := c.prepare(ctx, op, t, in.TableName, optFns)
	if err != nil {
		return nil, err
	}
	if err := stdcmp.Or(
		g.legacy(len(in.AttributesToGet) > 0, "AttributesToGet"),
		g.legacy(len(in.ScanFilter) > 0, "ScanFilter"),
		g.legacy(in.ConditionalOperator != "", "ConditionalOperator"),
		g.condition("FilterExpression", in.FilterExpression, in.ExpressionAttributeNames),
	); err != nil {
		return nil, err
	}
	proj, err := widen(enc, in.ProjectionExpression, in.ExpressionAttributeNames, in.FilterExpression)
	if err != nil {
		return nil, g.refuse("", "ProjectionExpression: %v", err)
	}
	req := *in
	req.ProjectionExpression, req.ExpressionAttributeNames = proj.expr, proj.names
	if proj.wholeItem && req.Select == types.SelectSpecificAttributes {
		req.Select = ""
	}
	out, err := c.api.Scan(ctx, &req, optFns...)
	if err != nil {
		return nil, &OpError{Op: op, Table: g.table, Err: err}
	}
	if err := c.decryptItems(ctx, op, g.table, enc, out.Items, &proj); err != nil {
		return nil, err
	}
	return out, nil
}
