package dynamodbenc

import (
	stdcmp "cmp"
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// prepare returns the encryptor of a configured table and the guard of the
// request.
func (c *Client) prepare(ctx context.Context, op string, t *table, tableName *string, optFns []func(*dynamodb.Options)) (*itemcrypto.Encryptor, guard, error) {
	name := derefName(tableName)
	b, err := t.state(ctx, c.api, optFns)
	if err != nil {
		return nil, guard{}, &OpError{Op: op, Table: name, Err: err}
	}
	return b.enc, guard{op: op, table: name, policy: b.enc.Policy(), enc: b.enc, search: b.search}, nil
}

func derefName(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// decryptOne verifies and decrypts an item DynamoDB returned.
func decryptOne(ctx context.Context, op, table string, enc *itemcrypto.Encryptor, item map[string]types.AttributeValue, index int, written bool) (map[string]types.AttributeValue, error) {
	plain, err := enc.Decrypt(ctx, item)
	if err != nil {
		pk, sk := enc.Policy().Keys()
		return nil, &ItemError{Op: op, Table: table, Index: index, Key: keyOf(item, pk, sk), Written: written, Err: err}
	}
	return plain, nil
}

// conditionItem decrypts, in place, the old item DynamoDB returns in a
// ConditionalCheckFailedException when the request asked for it
// (ReturnValuesOnConditionCheckFailure ALL_OLD). An item that does not
// verify is removed: unverified data never reaches the caller.
func conditionItem(ctx context.Context, enc *itemcrypto.Encryptor, err error) {
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) || len(ccf.Item) == 0 {
		return
	}
	plain, derr := enc.Decrypt(ctx, ccf.Item)
	if derr != nil {
		plain = nil
	}
	ccf.Item = plain
}

// PutItem encrypts and signs in.Item and writes it. ConditionExpression may
// not name an encrypted attribute (attribute_exists and attribute_not_exists
// excepted); the old item of ReturnValues ALL_OLD is verified and decrypted.
func (c *Client) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	const op = "PutItem"
	if in == nil {
		return c.api.PutItem(ctx, in, optFns...)
	}
	t := c.lookup(in.TableName)
	if t == nil {
		return c.api.PutItem(ctx, in, optFns...)
	}
	enc, g, err := c.prepare(ctx, op, t, in.TableName, optFns)
	if err != nil {
		return nil, err
	}
	if err := stdcmp.Or(
		g.legacy(len(in.Expected) > 0, "Expected"),
		g.legacy(in.ConditionalOperator != "", "ConditionalOperator"),
		g.condition("ConditionExpression", in.ConditionExpression, in.ExpressionAttributeNames),
	); err != nil {
		return nil, err
	}
	stored, err := g.protect(ctx, in.Item)
	if err != nil {
		return nil, &OpError{Op: op, Table: g.table, Err: err}
	}
	req := *in
	req.Item = stored
	out, err := c.api.PutItem(ctx, &req, optFns...)
	if err != nil {
		conditionItem(ctx, enc, err)
		return nil, &OpError{Op: op, Table: g.table, Err: err}
	}
	if len(out.Attributes) > 0 {
		if out.Attributes, err = decryptOne(ctx, op, g.table, enc, out.Attributes, 0, true); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetItem reads an item and returns it verified and decrypted. A
// ProjectionExpression is widened to the attributes the signature needs and
// applied to the plaintext.
func (c *Client) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	const op = "GetItem"
	if in == nil {
		return c.api.GetItem(ctx, in, optFns...)
	}
	t := c.lookup(in.TableName)
	if t == nil {
		return c.api.GetItem(ctx, in, optFns...)
	}
	enc, g, err := c.prepare(ctx, op, t, in.TableName, optFns)
	if err != nil {
		return nil, err
	}
	if err := g.legacy(len(in.AttributesToGet) > 0, "AttributesToGet"); err != nil {
		return nil, err
	}
	proj, err := widen(enc, in.ProjectionExpression, in.ExpressionAttributeNames)
	if err != nil {
		return nil, g.refuse("", "ProjectionExpression: %v", err)
	}
	req := *in
	req.ProjectionExpression, req.ExpressionAttributeNames = proj.expr, proj.names
	out, err := c.api.GetItem(ctx, &req, optFns...)
	if err != nil {
		return nil, &OpError{Op: op, Table: g.table, Err: err}
	}
	if out.Item != nil {
		plain, err := decryptOne(ctx, op, g.table, enc, out.Item, 0, false)
		if err != nil {
			return nil, err
		}
		out.Item = proj.trim(plain)
	}
	return out, nil
}

// DeleteItem deletes an item. ConditionExpression may not name an encrypted
// attribute (attribute_exists and attribute_not_exists excepted); the old
// item of ReturnValues ALL_OLD is verified and decrypted.
func (c *Client) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	const op = "DeleteItem"
	if in == nil {
		return c.api.DeleteItem(ctx, in, optFns...)
	}
	t := c.lookup(in.TableName)
	if t == nil {
		return c.api.DeleteItem(ctx, in, optFns...)
	}
	enc, g, err := c.prepare(ctx, op, t, in.TableName, optFns)
	if err != nil {
		return nil, err
	}
	if err := stdcmp.Or(
		g.legacy(len(in.Expected) > 0, "Expected"),
		g.legacy(in.ConditionalOperator != "", "ConditionalOperator"),
		g.condition("ConditionExpression", in.ConditionExpression, in.ExpressionAttributeNames),
	); err != nil {
		return nil, err
	}
	out, err := c.api.DeleteItem(ctx, in, optFns...)
	if err != nil {
		conditionItem(ctx, enc, err)
		return nil, &OpError{Op: op, Table: g.table, Err: err}
	}
	if len(out.Attributes) > 0 {
		if out.Attributes, err = decryptOne(ctx, op, g.table, enc, out.Attributes, 0, true); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// UpdateItem updates an item in place, which the signature over the whole
// item allows only for DoNothing attributes: an UpdateExpression that touches
// any other attribute (or a key, or a reserved attribute) is refused with an
// [*UnsafeOperationError] before anything is sent, and so is a
// ConditionExpression that names an encrypted attribute. The client adds
// attribute_exists(*amzn-ddb-map-sig*) to the condition, so an update never
// creates an unsigned item: updating an item that does not exist fails with
// ConditionalCheckFailedException. ReturnValues ALL_OLD and ALL_NEW are
// verified and decrypted; UPDATED_OLD and UPDATED_NEW hold only DoNothing
// attributes and are returned as they are.
func (c *Client) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	const op = "UpdateItem"
	if in == nil {
		return c.api.UpdateItem(ctx, in, optFns...)
	}
	t := c.lookup(in.TableName)
	if t == nil {
		return c.api.UpdateItem(ctx, in, optFns...)
	}
	enc, g, err := c.prepare(ctx, op, t, in.TableName, optFns)
	if err != nil {
		return nil, err
	}
	if err := stdcmp.Or(
		g.legacy(len(in.AttributeUpdates) > 0, "AttributeUpdates"),
		g.legacy(len(in.Expected) > 0, "Expected"),
		g.legacy(in.ConditionalOperator != "", "ConditionalOperator"),
		g.condition("ConditionExpression", in.ConditionExpression, in.ExpressionAttributeNames),
		g.update("UpdateExpression", in.UpdateExpression, in.ExpressionAttributeNames),
	); err != nil {
		return nil, err
	}
	req := *in
	req.ConditionExpression, req.ExpressionAttributeNames = requireSigned(enc, in.ConditionExpression, in.ExpressionAttributeNames)
	out, err := c.api.UpdateItem(ctx, &req, optFns...)
	if err != nil {
		conditionItem(ctx, enc, err)
		return nil, &OpError{Op: op, Table: g.table, Err: err}
	}
	switch in.ReturnValues {
	case types.ReturnValueAllOld, types.ReturnValueAllNew:
		if len(out.Attributes) > 0 {
			if out.Attributes, err = decryptOne(ctx, op, g.table, enc, out.Attributes, 0, true); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
