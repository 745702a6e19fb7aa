package dynamodbenc

import (
	stdcmp "cmp"
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TransactGetItems reads items of several tables atomically. For configured
// tables, ProjectionExpression is widened as in [Client.GetItem] and every
// returned item is verified and decrypted; one that fails fails the call
// with an [*ItemError] whose Index is its position in TransactItems.
func (c *Client) TransactGetItems(ctx context.Context, in *dynamodb.TransactGetItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactGetItemsOutput, error) {
	return call(ctx, c, ops.TransactGetItems, in, c.api.TransactGetItems, optFns)
}

func (e *engine) transactGetItems(ctx context.Context, in *dynamodb.TransactGetItemsInput, d describer) (*dynamodb.TransactGetItemsInput, finish[dynamodb.TransactGetItemsOutput], error) {
	const op = "TransactGetItems"
	if in == nil {
		return passThrough[dynamodb.TransactGetItemsInput, dynamodb.TransactGetItemsOutput](in)
	}
	var names []string
	for _, ti := range in.TransactItems {
		if ti.Get != nil && ti.Get.TableName != nil {
			names = append(names, *ti.Get.TableName)
		}
	}
	tables, err := e.prepareTables(ctx, op, names, d)
	if err != nil {
		return nil, nil, err
	}
	if len(tables) == 0 {
		return passThrough[dynamodb.TransactGetItemsInput, dynamodb.TransactGetItemsOutput](in)
	}
	req := *in
	req.TransactItems = make([]types.TransactGetItem, len(in.TransactItems))
	copy(req.TransactItems, in.TransactItems)
	projs := make([]*projection, len(in.TransactItems))
	var idx []int
	for i, ti := range in.TransactItems {
		if ti.Get == nil || ti.Get.TableName == nil {
			continue
		}
		tc, ok := tables[*ti.Get.TableName]
		if !ok {
			continue
		}
		proj, err := widen(tc.enc, ti.Get.ProjectionExpression, ti.Get.ExpressionAttributeNames)
		if err != nil {
			return nil, nil, tc.g.refuse("", "TransactItems[%d].Get.ProjectionExpression: %v", i, err)
		}
		get := *ti.Get
		get.ProjectionExpression, get.ExpressionAttributeNames = proj.expr, proj.names
		req.TransactItems[i] = types.TransactGetItem{Get: &get}
		projs[i] = &proj
		idx = append(idx, i)
	}
	return &req, func(ctx context.Context, out *dynamodb.TransactGetItemsOutput, err error) (*dynamodb.TransactGetItemsOutput, error) {
		if err != nil {
			return nil, &OpError{Op: op, Err: err}
		}
		if len(out.Responses) != len(in.TransactItems) {
			return nil, &OpError{Op: op, Err: fmt.Errorf("%d responses to %d requests: cannot tell which items to verify", len(out.Responses), len(in.TransactItems))}
		}
		_, err = e.each(ctx, len(idx), func(ctx context.Context, j int) error {
			i := idx[j]
			item := out.Responses[i].Item
			if item == nil {
				return nil
			}
			name := *in.TransactItems[i].Get.TableName
			plain, err := decryptOne(ctx, op, name, tables[name].enc, item, i, false)
			if err != nil {
				return err
			}
			out.Responses[i].Item = projs[i].trim(plain)
			return nil
		})
		if err != nil {
			if _, ok := err.(*ItemError); !ok {
				err = &OpError{Op: op, Err: err}
			}
			return nil, err
		}
		return out, nil
	}, nil
}

// writeTable is the table name of one TransactWriteItem.
func writeTable(ti types.TransactWriteItem) *string {
	switch {
	case ti.Put != nil:
		return ti.Put.TableName
	case ti.Update != nil:
		return ti.Update.TableName
	case ti.Delete != nil:
		return ti.Delete.TableName
	case ti.ConditionCheck != nil:
		return ti.ConditionCheck.TableName
	}
	return nil
}

// TransactWriteItems writes items of several tables atomically. On
// configured tables, before anything is sent: every Put is encrypted and
// signed; every Update is checked as [Client.UpdateItem] checks (DoNothing
// attributes only) and gets the same attribute_exists condition on the
// signature; every ConditionExpression (of a Put, Update, Delete or
// ConditionCheck) is checked as [Client.PutItem] checks. One refusal
// refuses the whole transaction. The old items of a
// TransactionCanceledException (ReturnValuesOnConditionCheckFailure
// ALL_OLD) are verified and decrypted, or removed when they do not verify.
func (c *Client) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return call(ctx, c, ops.TransactWriteItems, in, c.api.TransactWriteItems, optFns)
}

func (e *engine) transactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, d describer) (*dynamodb.TransactWriteItemsInput, finish[dynamodb.TransactWriteItemsOutput], error) {
	const op = "TransactWriteItems"
	if in == nil {
		return passThrough[dynamodb.TransactWriteItemsInput, dynamodb.TransactWriteItemsOutput](in)
	}
	var names []string
	for _, ti := range in.TransactItems {
		if n := writeTable(ti); n != nil {
			names = append(names, *n)
		}
	}
	tables, err := e.prepareTables(ctx, op, names, d)
	if err != nil {
		return nil, nil, err
	}
	if len(tables) == 0 {
		return passThrough[dynamodb.TransactWriteItemsInput, dynamodb.TransactWriteItemsOutput](in)
	}
	req := *in
	req.TransactItems = make([]types.TransactWriteItem, len(in.TransactItems))
	copy(req.TransactItems, in.TransactItems)
	var puts []int
	for i, ti := range in.TransactItems {
		n := writeTable(ti)
		if n == nil {
			continue
		}
		tc, ok := tables[*n]
		if !ok {
			continue
		}
		g := tc.g
		param := func(kind, p string) string { return fmt.Sprintf("TransactItems[%d].%s.%s", i, kind, p) }
		switch {
		case ti.Put != nil:
			if err := g.condition(param("Put", "ConditionExpression"), ti.Put.ConditionExpression, ti.Put.ExpressionAttributeNames); err != nil {
				return nil, nil, err
			}
			puts = append(puts, i)
		case ti.Update != nil:
			u := ti.Update
			if err := stdcmp.Or(
				g.condition(param("Update", "ConditionExpression"), u.ConditionExpression, u.ExpressionAttributeNames),
				g.update(param("Update", "UpdateExpression"), u.UpdateExpression, u.ExpressionAttributeNames),
			); err != nil {
				return nil, nil, err
			}
			nu := *u
			nu.ConditionExpression, nu.ExpressionAttributeNames = requireSigned(tc.enc, u.ConditionExpression, u.ExpressionAttributeNames)
			req.TransactItems[i] = types.TransactWriteItem{Update: &nu}
		case ti.Delete != nil:
			if err := g.condition(param("Delete", "ConditionExpression"), ti.Delete.ConditionExpression, ti.Delete.ExpressionAttributeNames); err != nil {
				return nil, nil, err
			}
		case ti.ConditionCheck != nil:
			cc := ti.ConditionCheck
			if err := g.condition(param("ConditionCheck", "ConditionExpression"), cc.ConditionExpression, cc.ExpressionAttributeNames); err != nil {
				return nil, nil, err
			}
		}
	}
	_, err = e.each(ctx, len(puts), func(ctx context.Context, j int) error {
		i := puts[j]
		put := in.TransactItems[i].Put
		tc := tables[*put.TableName]
		stored, err := tc.g.protect(ctx, put.Item)
		if err != nil {
			pk, sk := tc.enc.Policy().Keys()
			return &ItemError{Op: op, Table: *put.TableName, Index: i, Key: keyOf(put.Item, pk, sk), Err: err}
		}
		np := *put
		np.Item = stored
		req.TransactItems[i] = types.TransactWriteItem{Put: &np}
		return nil
	})
	if err != nil {
		if _, ok := err.(*ItemError); !ok {
			err = &OpError{Op: op, Err: err}
		}
		return nil, nil, err
	}
	return &req, func(ctx context.Context, out *dynamodb.TransactWriteItemsOutput, err error) (*dynamodb.TransactWriteItemsOutput, error) {
		if err == nil {
			return out, nil
		}
		var tce *types.TransactionCanceledException
		if errors.As(err, &tce) {
			for i := range tce.CancellationReasons {
				r := &tce.CancellationReasons[i]
				if len(r.Item) == 0 {
					continue
				}
				var tc configured
				var ok bool
				if i < len(in.TransactItems) {
					if n := writeTable(in.TransactItems[i]); n != nil {
						tc, ok = tables[*n]
					}
				}
				if !ok {
					// Not ours, or misaligned: never hand back an
					// unverified item of a configured table as plaintext.
					if i >= len(in.TransactItems) {
						r.Item = nil
					}
					continue
				}
				plain, derr := tc.enc.Decrypt(ctx, r.Item)
				if derr != nil {
					plain = nil
				}
				r.Item = plain
			}
		}
		return nil, &OpError{Op: op, Err: err}
	}, nil
}
