package dynamodbenc

import (
	stdcmp "cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// decryptItems verifies and decrypts a page of items and applies the
// caller's projection. With beacons (rf not nil) it drops the items that
// only a beacon collision brought (rf.Keep evaluates the caller's original
// conditions on the plaintext) and, for a multi-tenant query, the items of
// other tenants' branch keys, as the DB-ESDK does. The first item that fails
// fails the page, with an [*ItemError] naming its key; the items kept are
// returned in their order.
func (e *engine) decryptItems(ctx context.Context, op, table string, enc *itemcrypto.Encryptor, items []map[string]types.AttributeValue, proj *projection, rf *search.ResultFilter) ([]map[string]types.AttributeValue, error) {
	plain := make([]map[string]types.AttributeValue, len(items))
	keep := make([]bool, len(items))
	_, err := e.each(ctx, len(items), func(ctx context.Context, i int) error {
		if rf != nil && !rf.KeyMatches(items[i]) {
			return nil
		}
		p, err := decryptOne(ctx, op, table, enc, items[i], i, false)
		if err != nil {
			return err
		}
		if rf != nil {
			ok, err := rf.Keep(p)
			if err != nil {
				pk, sk := enc.Policy().Keys()
				return &ItemError{Op: op, Table: table, Index: i, Key: keyOf(items[i], pk, sk), Err: err}
			}
			if !ok {
				return nil
			}
		}
		plain[i], keep[i] = proj.trim(p), true
		return nil
	})
	if err != nil {
		if _, ok := err.(*ItemError); !ok {
			err = &OpError{Op: op, Table: table, Err: err}
		}
		return nil, err
	}
	out := items[:0]
	for i, p := range plain {
		if keep[i] {
			out = append(out, p)
		}
	}
	clear(items[len(out):])
	return out, nil
}

// finishPage decrypts a Query or Scan page in place (decryptItems) and,
// when beacons filtered it, sets its Count to the items kept.
func (e *engine) finishPage(ctx context.Context, g guard, enc *itemcrypto.Encryptor, items *[]map[string]types.AttributeValue, count *int32, p *readPlan) error {
	kept, err := e.decryptItems(ctx, g.op, g.table, enc, *items, &p.proj, p.rf)
	if err != nil {
		return err
	}
	*items = kept
	if p.rf != nil {
		*count = int32(len(kept))
	}
	return nil
}

// readPlan is the part of a Query or Scan request the client changes: the
// projection widened to what verification needs, and the conditions
// rewritten to the table's beacons.
type readPlan struct {
	proj projection
	// names, values, keyCond and filter are the request's, rewritten.
	names           map[string]string
	values          map[string]types.AttributeValue
	keyCond, filter *string
	sel             types.Select
	rf              *search.ResultFilter
}

// plan checks and rewrites the expressions of a Query (keyCond set) or a
// Scan. transform is the search package's rewriting of the widened request
// for the table's beacons (nil without them); it receives the widened
// projection and names and returns the rewritten request's conditions.
func (g guard) plan(in readPlan, projection *string, legacy error, transform func(widened readPlan) (readPlan, error)) (readPlan, error) {
	if legacy != nil {
		return readPlan{}, legacy
	}
	proj, err := widen(g.enc, projection, in.names, in.keyCond, in.filter)
	if err != nil {
		return readPlan{}, g.refuse("", "ProjectionExpression: %v", err)
	}
	out := in
	out.proj, out.names = proj, proj.names
	if proj.wholeItem && out.sel == types.SelectSpecificAttributes {
		out.sel = ""
	}
	if g.search != nil {
		if out, err = transform(out); err != nil {
			return readPlan{}, g.refuseQuery(err)
		}
		out.proj = proj
		if out.rf != nil && out.sel == types.SelectCount {
			return readPlan{}, g.refuse("", "Select COUNT with a condition on beacons: the count would include the items "+
				"whose truncated beacons merely collide; query the items (with a small ProjectionExpression) and count them")
		}
	}
	// After rewriting, what is left must not compare ciphertext.
	if err := stdcmp.Or(
		g.condition("KeyConditionExpression", out.keyCond, out.names),
		g.condition("FilterExpression", out.filter, out.names),
	); err != nil {
		return readPlan{}, err
	}
	return out, nil
}

// Query queries a table or index and returns its items verified and
// decrypted. KeyConditionExpression and FilterExpression may not name an
// encrypted attribute (attribute_exists and attribute_not_exists excepted)
// unless the table's Search configuration gives it a beacon: such a
// condition is rewritten to the beacon (aws_dbe_b_NAME). A key condition on
// a beacon needs IndexName, a global secondary index whose partition or
// sort key is the beacon: without it the query is refused before it is
// sent (with an [*UnsafeOperationError] naming the beacon, and the index
// when DescribeTable told the client its indexes). The items that
// only a beacon collision brought are removed from the page after
// decryption (Count counts the items returned; ScannedCount and
// LastEvaluatedKey are DynamoDB's). A ProjectionExpression is widened to
// the attributes the signature needs and applied to the plaintext. An item
// that fails verification fails the call with an [*ItemError] naming its
// key. Works with dynamodb.NewQueryPaginator.
func (c *Client) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return call(ctx, c, ops.Query, in, c.api.Query, optFns)
}

func (e *engine) query(ctx context.Context, in *dynamodb.QueryInput, d describer) (*dynamodb.QueryInput, finish[dynamodb.QueryOutput], error) {
	const op = "Query"
	if in == nil {
		return passThrough[dynamodb.QueryInput, dynamodb.QueryOutput](in)
	}
	t := e.lookup(in.TableName)
	if t == nil {
		return passThrough[dynamodb.QueryInput, dynamodb.QueryOutput](in)
	}
	enc, g, err := e.prepare(ctx, op, t, in.TableName, d)
	if err != nil {
		return nil, nil, err
	}
	if len(in.KeyConditions) > 0 && aws.ToString(in.KeyConditionExpression) == "" {
		if in, err = keyConditionsExpr(in); err != nil {
			return nil, nil, g.refuse("", "KeyConditions: %v", err)
		}
	}
	p, err := g.plan(readPlan{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues, keyCond: in.KeyConditionExpression, filter: in.FilterExpression, sel: in.Select},
		in.ProjectionExpression,
		stdcmp.Or(
			g.legacy(len(in.AttributesToGet) > 0, "AttributesToGet"),
			g.legacy(len(in.KeyConditions) > 0, "KeyConditions"),
			g.legacy(len(in.QueryFilter) > 0, "QueryFilter"),
			g.legacy(in.ConditionalOperator != "", "ConditionalOperator"),
		),
		func(w readPlan) (readPlan, error) {
			req := *in
			req.ProjectionExpression, req.ExpressionAttributeNames, req.Select = w.proj.expr, w.names, w.sel
			q, rf, err := g.search.TransformQuery(ctx, &req)
			if err != nil {
				return readPlan{}, err
			}
			return readPlan{names: q.ExpressionAttributeNames, values: q.ExpressionAttributeValues, keyCond: q.KeyConditionExpression, filter: q.FilterExpression, sel: q.Select, rf: rf}, nil
		})
	if err != nil {
		return nil, nil, err
	}
	if g.search != nil && in.IndexName == nil {
		if err := g.beaconIndex(p.keyCond, p.names); err != nil {
			return nil, nil, err
		}
	}
	req := *in
	req.ProjectionExpression, req.ExpressionAttributeNames, req.ExpressionAttributeValues = p.proj.expr, p.names, p.values
	req.KeyConditionExpression, req.FilterExpression, req.Select = p.keyCond, p.filter, p.sel
	return &req, func(ctx context.Context, out *dynamodb.QueryOutput, err error) (*dynamodb.QueryOutput, error) {
		if err != nil {
			return nil, &OpError{Op: op, Table: g.table, Err: err}
		}
		if err := e.finishPage(ctx, g, enc, &out.Items, &out.Count, &p); err != nil {
			return nil, err
		}
		return out, nil
	}, nil
}

// Scan scans a table or index and returns its items verified and
// decrypted, with the rules of [Client.Query] (FilterExpression and
// beacons, ProjectionExpression, items that fail verification). Works with
// dynamodb.NewScanPaginator and parallel scans (Segment, TotalSegments).
func (c *Client) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return call(ctx, c, ops.Scan, in, c.api.Scan, optFns)
}

func (e *engine) scan(ctx context.Context, in *dynamodb.ScanInput, d describer) (*dynamodb.ScanInput, finish[dynamodb.ScanOutput], error) {
	const op = "Scan"
	if in == nil {
		return passThrough[dynamodb.ScanInput, dynamodb.ScanOutput](in)
	}
	t := e.lookup(in.TableName)
	if t == nil {
		return passThrough[dynamodb.ScanInput, dynamodb.ScanOutput](in)
	}
	enc, g, err := e.prepare(ctx, op, t, in.TableName, d)
	if err != nil {
		return nil, nil, err
	}
	p, err := g.plan(readPlan{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues, filter: in.FilterExpression, sel: in.Select},
		in.ProjectionExpression,
		stdcmp.Or(
			g.legacy(len(in.AttributesToGet) > 0, "AttributesToGet"),
			g.legacy(len(in.ScanFilter) > 0, "ScanFilter"),
			g.legacy(in.ConditionalOperator != "", "ConditionalOperator"),
		),
		func(w readPlan) (readPlan, error) {
			req := *in
			req.ProjectionExpression, req.ExpressionAttributeNames, req.Select = w.proj.expr, w.names, w.sel
			q, rf, err := g.search.TransformScan(ctx, &req)
			if err != nil {
				return readPlan{}, err
			}
			return readPlan{names: q.ExpressionAttributeNames, values: q.ExpressionAttributeValues, filter: q.FilterExpression, sel: q.Select, rf: rf}, nil
		})
	if err != nil {
		return nil, nil, err
	}
	req := *in
	req.ProjectionExpression, req.ExpressionAttributeNames, req.ExpressionAttributeValues = p.proj.expr, p.names, p.values
	req.FilterExpression, req.Select = p.filter, p.sel
	return &req, func(ctx context.Context, out *dynamodb.ScanOutput, err error) (*dynamodb.ScanOutput, error) {
		if err != nil {
			return nil, &OpError{Op: op, Table: g.table, Err: err}
		}
		if err := e.finishPage(ctx, g, enc, &out.Items, &out.Count, &p); err != nil {
			return nil, err
		}
		return out, nil
	}, nil
}

// keyConditionsExpr returns a copy of a Query whose legacy KeyConditions
// (libraries such as guregu/dynamo send them) are replaced by the
// KeyConditionExpression they are equivalent to, so that the guard rails
// and the beacons apply to it as to any expression. A query with both is
// left alone: the legacy check refuses it, as DynamoDB would.
func keyConditionsExpr(in *dynamodb.QueryInput) (*dynamodb.QueryInput, error) {
	names := make(map[string]string, len(in.ExpressionAttributeNames)+len(in.KeyConditions))
	maps.Copy(names, in.ExpressionAttributeNames)
	values := make(map[string]types.AttributeValue, len(in.ExpressionAttributeValues)+len(in.KeyConditions)+1)
	maps.Copy(values, in.ExpressionAttributeValues)
	np := freshPrefix(in.ExpressionAttributeNames) + "k"
	vp := ":" + freshPrefix(valueNames(in.ExpressionAttributeValues))[1:] + "k"
	var parts []string
	for i, attr := range slices.Sorted(maps.Keys(in.KeyConditions)) {
		c := in.KeyConditions[attr]
		name := np + strconv.Itoa(i)
		names[name] = attr
		args := make([]string, len(c.AttributeValueList))
		for j, v := range c.AttributeValueList {
			args[j] = vp + strconv.Itoa(i) + "_" + strconv.Itoa(j)
			values[args[j]] = v
		}
		want := 1
		var part string
		switch c.ComparisonOperator {
		case types.ComparisonOperatorEq, types.ComparisonOperatorLe, types.ComparisonOperatorLt, types.ComparisonOperatorGe, types.ComparisonOperatorGt:
			if len(args) == want {
				part = name + " " + map[types.ComparisonOperator]string{types.ComparisonOperatorEq: "=", types.ComparisonOperatorLe: "<=",
					types.ComparisonOperatorLt: "<", types.ComparisonOperatorGe: ">=", types.ComparisonOperatorGt: ">"}[c.ComparisonOperator] + " " + args[0]
			}
		case types.ComparisonOperatorBeginsWith:
			if len(args) == want {
				part = "begins_with(" + name + ", " + args[0] + ")"
			}
		case types.ComparisonOperatorBetween:
			if want = 2; len(args) == want {
				part = name + " BETWEEN " + args[0] + " AND " + args[1]
			}
		default:
			return nil, fmt.Errorf("the comparison operator %q of attribute %q is not one of a key condition", c.ComparisonOperator, attr)
		}
		if part == "" {
			return nil, fmt.Errorf("%s on attribute %q takes %d values, not %d", c.ComparisonOperator, attr, want, len(args))
		}
		parts = append(parts, part)
	}
	out := *in
	expr := strings.Join(parts, " AND ")
	out.KeyConditions, out.KeyConditionExpression = nil, &expr
	out.ExpressionAttributeNames, out.ExpressionAttributeValues = names, values
	return &out, nil
}

// valueNames is the set of a request's :placeholders, as freshPrefix takes
// it (their ":" replaced by "#").
func valueNames(values map[string]types.AttributeValue) map[string]string {
	out := make(map[string]string, len(values))
	for k := range values {
		out["#"+strings.TrimPrefix(k, ":")] = ""
	}
	return out
}
