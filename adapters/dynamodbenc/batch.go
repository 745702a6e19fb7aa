package dynamodbenc

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// configured is a configured table of a multi-table request, ready to use.
type configured struct {
	t   *table
	enc *itemcrypto.Encryptor
	g   guard
}

// responseTable finds the request's name for a table DynamoDB's response
// names (the same name, or the table's name where the request gave its ARN).
// ok is false for an unconfigured table; an error is returned for a
// configured table the request did not name.
func responseTable(e *engine, tables map[string]configured, name string) (string, bool, error) {
	if _, ok := tables[name]; ok {
		return name, true, nil
	}
	t := e.lookup(&name)
	if t == nil {
		return "", false, nil
	}
	for reqName, tc := range tables {
		if tc.t == t {
			return reqName, true, nil
		}
	}
	return "", false, fmt.Errorf("the response names the configured table %q, which the request did not", name)
}

// prepareTables resolves the configured tables among names (request order
// does not matter: they are visited sorted, so errors are deterministic).
func (e *engine) prepareTables(ctx context.Context, op string, names []string, d describer) (map[string]configured, error) {
	var out map[string]configured
	for _, name := range slices.Sorted(slices.Values(names)) {
		if _, done := out[name]; done {
			continue
		}
		t := e.lookup(&name)
		if t == nil {
			continue
		}
		enc, g, err := e.prepare(ctx, op, t, &name, d)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = map[string]configured{}
		}
		out[name] = configured{t, enc, g}
	}
	return out, nil
}

// BatchGetItem reads items of several tables. For configured tables,
// ProjectionExpression is widened as in [Client.GetItem], every returned
// item is verified and decrypted (one that fails fails the call with an
// [*ItemError]), and UnprocessedKeys carry the caller's own projection, so
// that they can be sent again as they are (dynamodb.NewBatchGetItemPaginator
// does).
func (c *Client) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return call(ctx, c, ops.BatchGetItem, in, c.api.BatchGetItem, optFns)
}

func (e *engine) batchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, d describer) (*dynamodb.BatchGetItemInput, finish[dynamodb.BatchGetItemOutput], error) {
	const op = "BatchGetItem"
	if in == nil {
		return passThrough[dynamodb.BatchGetItemInput, dynamodb.BatchGetItemOutput](in)
	}
	tables, err := e.prepareTables(ctx, op, slices.Collect(maps.Keys(in.RequestItems)), d)
	if err != nil {
		return nil, nil, err
	}
	if len(tables) == 0 {
		return passThrough[dynamodb.BatchGetItemInput, dynamodb.BatchGetItemOutput](in)
	}
	projs := make(map[string]*projection, len(tables))
	req := *in
	req.RequestItems = make(map[string]types.KeysAndAttributes, len(in.RequestItems))
	for name, ka := range in.RequestItems {
		tc, ok := tables[name]
		if !ok {
			req.RequestItems[name] = ka
			continue
		}
		if err := tc.g.legacy(len(ka.AttributesToGet) > 0, "AttributesToGet"); err != nil {
			return nil, nil, err
		}
		proj, err := widen(tc.enc, ka.ProjectionExpression, ka.ExpressionAttributeNames)
		if err != nil {
			return nil, nil, tc.g.refuse("", "ProjectionExpression: %v", err)
		}
		projs[name] = &proj
		ka.ProjectionExpression, ka.ExpressionAttributeNames = proj.expr, proj.names
		req.RequestItems[name] = ka
	}
	return &req, func(ctx context.Context, out *dynamodb.BatchGetItemOutput, err error) (*dynamodb.BatchGetItemOutput, error) {
		if err != nil {
			return nil, &OpError{Op: op, Err: err}
		}
		for name, items := range out.Responses {
			reqName, ok, err := responseTable(e, tables, name)
			if err != nil {
				return nil, &OpError{Op: op, Table: name, Err: err}
			}
			if !ok {
				continue
			}
			if _, err := e.decryptItems(ctx, op, name, tables[reqName].enc, items, projs[reqName], nil); err != nil {
				return nil, err
			}
		}
		for name, ka := range out.UnprocessedKeys {
			reqName, ok, err := responseTable(e, tables, name)
			if err != nil {
				return nil, &OpError{Op: op, Table: name, Err: err}
			}
			if ok {
				orig := in.RequestItems[reqName]
				orig.Keys = ka.Keys
				out.UnprocessedKeys[name] = orig
			}
		}
		return out, nil
	}, nil
}

// BatchWriteItem writes and deletes items of several tables. Every put on a
// configured table is encrypted and signed before anything is sent; deletes
// pass as they are. UnprocessedItems are returned as the caller's own
// plaintext requests, so that they can be sent again as they are.
func (c *Client) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return call(ctx, c, ops.BatchWriteItem, in, c.api.BatchWriteItem, optFns)
}

func (e *engine) batchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, d describer) (*dynamodb.BatchWriteItemInput, finish[dynamodb.BatchWriteItemOutput], error) {
	const op = "BatchWriteItem"
	if in == nil {
		return passThrough[dynamodb.BatchWriteItemInput, dynamodb.BatchWriteItemOutput](in)
	}
	tables, err := e.prepareTables(ctx, op, slices.Collect(maps.Keys(in.RequestItems)), d)
	if err != nil {
		return nil, nil, err
	}
	if len(tables) == 0 {
		return passThrough[dynamodb.BatchWriteItemInput, dynamodb.BatchWriteItemOutput](in)
	}
	type job struct {
		table string
		i     int
	}
	var jobs []job
	req := *in
	req.RequestItems = make(map[string][]types.WriteRequest, len(in.RequestItems))
	for name, wrs := range in.RequestItems {
		if _, ok := tables[name]; !ok {
			req.RequestItems[name] = wrs
			continue
		}
		req.RequestItems[name] = slices.Clone(wrs)
		for i, wr := range wrs {
			if wr.PutRequest != nil {
				jobs = append(jobs, job{name, i})
			}
		}
	}
	_, err = e.each(ctx, len(jobs), func(ctx context.Context, j int) error {
		name, i := jobs[j].table, jobs[j].i
		tc := tables[name]
		stored, err := tc.g.protect(ctx, in.RequestItems[name][i].PutRequest.Item)
		if err != nil {
			pk, sk := tc.enc.Policy().Keys()
			return &ItemError{Op: op, Table: name, Index: i, Key: keyOf(in.RequestItems[name][i].PutRequest.Item, pk, sk), Err: err}
		}
		req.RequestItems[name][i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: stored}}
		return nil
	})
	if err != nil {
		if _, ok := err.(*ItemError); !ok {
			err = &OpError{Op: op, Err: err}
		}
		return nil, nil, err
	}
	return &req, func(ctx context.Context, out *dynamodb.BatchWriteItemOutput, err error) (*dynamodb.BatchWriteItemOutput, error) {
		if err != nil {
			return nil, &OpError{Op: op, Err: err}
		}
		for name, wrs := range out.UnprocessedItems {
			reqName, ok, err := responseTable(e, tables, name)
			if err != nil {
				return nil, &OpError{Op: op, Table: name, Err: err}
			}
			if !ok {
				continue
			}
			restored, err := restoreWrites(ctx, name, tables[reqName].enc, in.RequestItems[reqName], wrs)
			if err != nil {
				return nil, err
			}
			out.UnprocessedItems[name] = restored
		}
		return out, nil
	}, nil
}

// restoreWrites maps unprocessed (encrypted) puts back to the caller's
// plaintext requests, by primary key. A put that matches none (DynamoDB
// returns what it was sent, so this should not happen) is decrypted back.
func restoreWrites(ctx context.Context, table string, enc *itemcrypto.Encryptor, sent, unprocessed []types.WriteRequest) ([]types.WriteRequest, error) {
	pk, sk := enc.Policy().Keys()
	byKey := make(map[string]types.WriteRequest, len(sent))
	for _, wr := range sent {
		if wr.PutRequest != nil {
			if k, ok := keyString(wr.PutRequest.Item, pk, sk); ok {
				byKey[k] = wr
			}
		}
	}
	out := make([]types.WriteRequest, len(unprocessed))
	for i, wr := range unprocessed {
		if wr.PutRequest == nil {
			out[i] = wr
			continue
		}
		if k, ok := keyString(wr.PutRequest.Item, pk, sk); ok {
			if orig, ok := byKey[k]; ok {
				out[i] = orig
				continue
			}
		}
		plain, err := enc.Decrypt(ctx, wr.PutRequest.Item)
		if err != nil {
			return nil, &ItemError{Op: "BatchWriteItem", Table: table, Index: i, Key: keyOf(wr.PutRequest.Item, pk, sk),
				Err: fmt.Errorf("an unprocessed item matches no request and does not decrypt: %w", err)}
		}
		out[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: plain}}
	}
	return out, nil
}

// keyString is a canonical form of an item's primary key (numbers
// canonicalised), to match items by key.
func keyString(item map[string]types.AttributeValue, pk, sk string) (string, bool) {
	var b strings.Builder
	for _, k := range []string{pk, sk} {
		if k == "" {
			continue
		}
		v, ok := item[k]
		if !ok {
			return "", false
		}
		s, err := ddbserial.Marshal(v)
		if err != nil {
			return "", false
		}
		fmt.Fprintf(&b, "%d:%s", len(s), s)
	}
	return b.String(), true
}
