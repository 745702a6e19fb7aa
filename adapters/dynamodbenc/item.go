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
func (e *engine) prepare(ctx context.Context, op string, t *table, tableName *string, d describer) (*itemcrypto.Encryptor, guard, error) {
	name := derefName(tableName)
	b, err := t.state(ctx, d)
	if err != nil {
		return nil, guard{}, &OpError{Op: op, Table: name, Err: err}
	}
	return b.enc, guard{op: op, table: name, policy: b.enc.Policy(), enc: b.enc, search: b.search, indexes: b.indexes}, nil
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
	return call(ctx, c, ops.PutItem, in, c.api.PutItem, optFns)
}

// writtenItem is the response transform of PutItem, DeleteItem and
// UpdateItem: the old item of a failed condition decrypted, DynamoDB's error
// wrapped, the returned attributes verified and decrypted when decrypt says
// they are a whole item.
func writtenItem[Out any](op string, enc *itemcrypto.Encryptor, g guard, attrs func(*Out) *map[string]types.AttributeValue, decrypt bool) finish[Out] {
	return func(ctx context.Context, out *Out, err error) (*Out, error) {
		if err != nil {
			conditionItem(ctx, enc, err)
			return nil, &OpError{Op: op, Table: g.table, Err: err}
		}
		if a := attrs(out); decrypt && len(*a) > 0 {
			if *a, err = decryptOne(ctx, op, g.table, enc, *a, 0, true); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

func (e *engine) putItem(ctx context.Context, in *dynamodb.PutItemInput, d describer) (*dynamodb.PutItemInput, finish[dynamodb.PutItemOutput], error) {
	const op = "PutItem"
	if in == nil {
		return passThrough[dynamodb.PutItemInput, dynamodb.PutItemOutput](in)
	}
	t := e.lookup(in.TableName)
	if t == nil {
		return passThrough[dynamodb.PutItemInput, dynamodb.PutItemOutput](in)
	}
	enc, g, err := e.prepare(ctx, op, t, in.TableName, d)
	if err != nil {
		return nil, nil, err
	}
	if err := stdcmp.Or(
		g.legacy(len(in.Expected) > 0, "Expected"),
		g.legacy(in.ConditionalOperator != "", "ConditionalOperator"),
		g.condition("ConditionExpression", in.ConditionExpression, in.ExpressionAttributeNames),
	); err != nil {
		return nil, nil, err
	}
	stored, err := g.protect(ctx, in.Item)
	if err != nil {
		return nil, nil, &OpError{Op: op, Table: g.table, Err: err}
	}
	req := *in
	req.Item = stored
	return &req, writtenItem(op, enc, g, func(o *dynamodb.PutItemOutput) *map[string]types.AttributeValue { return &o.Attributes }, true), nil
}

// GetItem reads an item and returns it verified and decrypted. A
// ProjectionExpression is widened to the attributes the signature needs and
// applied to the plaintext.
func (c *Client) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return call(ctx, c, ops.GetItem, in, c.api.GetItem, optFns)
}

func (e *engine) getItem(ctx context.Context, in *dynamodb.GetItemInput, d describer) (*dynamodb.GetItemInput, finish[dynamodb.GetItemOutput], error) {
	const op = "GetItem"
	if in == nil {
		return passThrough[dynamodb.GetItemInput, dynamodb.GetItemOutput](in)
	}
	t := e.lookup(in.TableName)
	if t == nil {
		return passThrough[dynamodb.GetItemInput, dynamodb.GetItemOutput](in)
	}
	enc, g, err := e.prepare(ctx, op, t, in.TableName, d)
	if err != nil {
		return nil, nil, err
	}
	if err := g.legacy(len(in.AttributesToGet) > 0, "AttributesToGet"); err != nil {
		return nil, nil, err
	}
	proj, err := widen(enc, in.ProjectionExpression, in.ExpressionAttributeNames)
	if err != nil {
		return nil, nil, g.refuse("", "ProjectionExpression: %v", err)
	}
	req := *in
	req.ProjectionExpression, req.ExpressionAttributeNames = proj.expr, proj.names
	return &req, func(ctx context.Context, out *dynamodb.GetItemOutput, err error) (*dynamodb.GetItemOutput, error) {
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
	}, nil
}

// DeleteItem deletes an item. ConditionExpression may not name an encrypted
// attribute (attribute_exists and attribute_not_exists excepted); the old
// item of ReturnValues ALL_OLD is verified and decrypted.
func (c *Client) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return call(ctx, c, ops.DeleteItem, in, c.api.DeleteItem, optFns)
}

func (e *engine) deleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, d describer) (*dynamodb.DeleteItemInput, finish[dynamodb.DeleteItemOutput], error) {
	const op = "DeleteItem"
	if in == nil {
		return passThrough[dynamodb.DeleteItemInput, dynamodb.DeleteItemOutput](in)
	}
	t := e.lookup(in.TableName)
	if t == nil {
		return passThrough[dynamodb.DeleteItemInput, dynamodb.DeleteItemOutput](in)
	}
	enc, g, err := e.prepare(ctx, op, t, in.TableName, d)
	if err != nil {
		return nil, nil, err
	}
	if err := stdcmp.Or(
		g.legacy(len(in.Expected) > 0, "Expected"),
		g.legacy(in.ConditionalOperator != "", "ConditionalOperator"),
		g.condition("ConditionExpression", in.ConditionExpression, in.ExpressionAttributeNames),
	); err != nil {
		return nil, nil, err
	}
	return in, writtenItem(op, enc, g, func(o *dynamodb.DeleteItemOutput) *map[string]types.AttributeValue { return &o.Attributes }, true), nil
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
	return call(ctx, c, ops.UpdateItem, in, c.api.UpdateItem, optFns)
}

func (e *engine) updateItem(ctx context.Context, in *dynamodb.UpdateItemInput, d describer) (*dynamodb.UpdateItemInput, finish[dynamodb.UpdateItemOutput], error) {
	const op = "UpdateItem"
	if in == nil {
		return passThrough[dynamodb.UpdateItemInput, dynamodb.UpdateItemOutput](in)
	}
	t := e.lookup(in.TableName)
	if t == nil {
		return passThrough[dynamodb.UpdateItemInput, dynamodb.UpdateItemOutput](in)
	}
	enc, g, err := e.prepare(ctx, op, t, in.TableName, d)
	if err != nil {
		return nil, nil, err
	}
	if err := stdcmp.Or(
		g.legacy(len(in.AttributeUpdates) > 0, "AttributeUpdates"),
		g.legacy(len(in.Expected) > 0, "Expected"),
		g.legacy(in.ConditionalOperator != "", "ConditionalOperator"),
		g.condition("ConditionExpression", in.ConditionExpression, in.ExpressionAttributeNames),
		g.update("UpdateExpression", in.UpdateExpression, in.ExpressionAttributeNames),
	); err != nil {
		return nil, nil, err
	}
	req := *in
	req.ConditionExpression, req.ExpressionAttributeNames = requireSigned(enc, in.ConditionExpression, in.ExpressionAttributeNames)
	whole := in.ReturnValues == types.ReturnValueAllOld || in.ReturnValues == types.ReturnValueAllNew
	return &req, writtenItem(op, enc, g, func(o *dynamodb.UpdateItemOutput) *map[string]types.AttributeValue { return &o.Attributes }, whole), nil
}
