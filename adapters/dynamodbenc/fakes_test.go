package dynamodbenc

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ---------------------------------------------------------------------------
// spy records every request that reaches the API beneath the client, and
// passes it on to next.

type spy struct {
	next API
	mu   sync.Mutex
	ops  []string
	ins  []any
}

func (s *spy) rec(op string, in any) {
	s.mu.Lock()
	s.ops = append(s.ops, op)
	s.ins = append(s.ins, in)
	s.mu.Unlock()
}

// calls returns the operations sent so far.
func (s *spy) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ops)
}

// dataCalls is calls without DescribeTable.
func (s *spy) dataCalls() []string {
	var out []string
	for _, op := range s.calls() {
		if op != "DescribeTable" {
			out = append(out, op)
		}
	}
	return out
}

// last returns the last request of the operation.
func (s *spy) last(op string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.ops) - 1; i >= 0; i-- {
		if s.ops[i] == op {
			return s.ins[i]
		}
	}
	return nil
}

func (s *spy) reset() {
	s.mu.Lock()
	s.ops, s.ins = nil, nil
	s.mu.Unlock()
}

func (s *spy) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	s.rec("GetItem", in)
	return s.next.GetItem(ctx, in, o...)
}
func (s *spy) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	s.rec("PutItem", in)
	return s.next.PutItem(ctx, in, o...)
}
func (s *spy) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	s.rec("DeleteItem", in)
	return s.next.DeleteItem(ctx, in, o...)
}
func (s *spy) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	s.rec("UpdateItem", in)
	return s.next.UpdateItem(ctx, in, o...)
}
func (s *spy) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	s.rec("Query", in)
	return s.next.Query(ctx, in, o...)
}
func (s *spy) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	s.rec("Scan", in)
	return s.next.Scan(ctx, in, o...)
}
func (s *spy) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	s.rec("BatchGetItem", in)
	return s.next.BatchGetItem(ctx, in, o...)
}
func (s *spy) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	s.rec("BatchWriteItem", in)
	return s.next.BatchWriteItem(ctx, in, o...)
}
func (s *spy) TransactGetItems(ctx context.Context, in *dynamodb.TransactGetItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactGetItemsOutput, error) {
	s.rec("TransactGetItems", in)
	return s.next.TransactGetItems(ctx, in, o...)
}
func (s *spy) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	s.rec("TransactWriteItems", in)
	return s.next.TransactWriteItems(ctx, in, o...)
}
func (s *spy) ExecuteStatement(ctx context.Context, in *dynamodb.ExecuteStatementInput, o ...func(*dynamodb.Options)) (*dynamodb.ExecuteStatementOutput, error) {
	s.rec("ExecuteStatement", in)
	return s.next.ExecuteStatement(ctx, in, o...)
}
func (s *spy) BatchExecuteStatement(ctx context.Context, in *dynamodb.BatchExecuteStatementInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchExecuteStatementOutput, error) {
	s.rec("BatchExecuteStatement", in)
	return s.next.BatchExecuteStatement(ctx, in, o...)
}
func (s *spy) ExecuteTransaction(ctx context.Context, in *dynamodb.ExecuteTransactionInput, o ...func(*dynamodb.Options)) (*dynamodb.ExecuteTransactionOutput, error) {
	s.rec("ExecuteTransaction", in)
	return s.next.ExecuteTransaction(ctx, in, o...)
}
func (s *spy) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, o ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	s.rec("DescribeTable", in)
	return s.next.DescribeTable(ctx, in, o...)
}

// ---------------------------------------------------------------------------
// memAPI is a tiny in-memory DynamoDB for hermetic tests. Projections are
// applied with the package's own projectItem (whose fidelity to DynamoDB is
// checked against dynalite in TestProjectionDynalite); conditions and
// filters are ignored, and Query only reads a partition. UpdateItem is not
// implemented; a transaction's Update and ConditionCheck are ignored.

type memTable struct {
	pk, sk string
	items  map[string]map[string]types.AttributeValue
}

type memAPI struct {
	mu     sync.Mutex
	tables map[string]*memTable
}

func newMemAPI() *memAPI { return &memAPI{tables: map[string]*memTable{}} }

func (m *memAPI) createTable(name, pk, sk string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tables[name] = &memTable{pk: pk, sk: sk, items: map[string]map[string]types.AttributeValue{}}
}

func (m *memAPI) table(name *string) (*memTable, error) {
	t, ok := m.tables[aws.ToString(name)]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("memAPI: no table " + aws.ToString(name))}
	}
	return t, nil
}

func (t *memTable) key(item map[string]types.AttributeValue) (string, error) {
	k, ok := keyString(item, t.pk, t.sk)
	if !ok {
		return "", errors.New("memAPI: key attributes missing")
	}
	return k, nil
}

func (t *memTable) put(item map[string]types.AttributeValue) (old map[string]types.AttributeValue, err error) {
	k, err := t.key(item)
	if err != nil {
		return nil, err
	}
	old = t.items[k]
	t.items[k] = maps.Clone(item)
	return old, nil
}

func (t *memTable) get(key map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	k, err := t.key(key)
	if err != nil {
		return nil, err
	}
	return maps.Clone(t.items[k]), nil
}

func (t *memTable) del(key map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	k, err := t.key(key)
	if err != nil {
		return nil, err
	}
	old := t.items[k]
	delete(t.items, k)
	return old, nil
}

var (
	errMemUnsupported = errors.New("memAPI: operation not implemented")
	errMemNilInput    = errors.New("memAPI: nil input")
)

// project applies a request's projection to a stored item.
func project(it item, expr *string, names map[string]string) (item, error) {
	if it == nil || expr == nil {
		return it, nil
	}
	paths, _, err := parseProjection(*expr, names)
	if err != nil {
		return nil, fmt.Errorf("memAPI: ValidationException: %w", err)
	}
	return projectItem(it, paths), nil
}

func (m *memAPI) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if in == nil {
		return nil, errMemNilInput
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.table(in.TableName)
	if err != nil {
		return nil, err
	}
	it, err := t.get(in.Key)
	if err != nil {
		return nil, err
	}
	if it, err = project(it, in.ProjectionExpression, in.ExpressionAttributeNames); err != nil {
		return nil, err
	}
	return &dynamodb.GetItemOutput{Item: it}, nil
}

func (m *memAPI) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.table(in.TableName)
	if err != nil {
		return nil, err
	}
	old, err := t.put(in.Item)
	if err != nil {
		return nil, err
	}
	out := &dynamodb.PutItemOutput{}
	if in.ReturnValues == types.ReturnValueAllOld {
		out.Attributes = old
	}
	return out, nil
}

func (m *memAPI) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.table(in.TableName)
	if err != nil {
		return nil, err
	}
	old, err := t.del(in.Key)
	if err != nil {
		return nil, err
	}
	out := &dynamodb.DeleteItemOutput{}
	if in.ReturnValues == types.ReturnValueAllOld {
		out.Attributes = old
	}
	return out, nil
}

func (m *memAPI) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, errMemUnsupported
}

// keyEquals reads the "name = :value" a key condition starts with.
var keyEquals = regexp.MustCompile(`^\s*(#?\w+)\s*=\s*(:\w+)`)

// Query returns, in key order, the items of the partition whose key the
// KeyConditionExpression's first "name = :value" names; the rest of the
// conditions (and IndexName, Limit) are ignored.
func (m *memAPI) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.table(in.TableName)
	if err != nil {
		return nil, err
	}
	match := keyEquals.FindStringSubmatch(aws.ToString(in.KeyConditionExpression))
	if match == nil {
		return nil, errMemUnsupported
	}
	name := match[1]
	if strings.HasPrefix(name, "#") {
		name = in.ExpressionAttributeNames[name]
	}
	want, ok := in.ExpressionAttributeValues[match[2]]
	if name != t.pk || !ok {
		return nil, errMemUnsupported
	}
	wantKey, _ := keyString(map[string]types.AttributeValue{t.pk: want}, t.pk, "")
	out := &dynamodb.QueryOutput{}
	for _, k := range slices.Sorted(maps.Keys(t.items)) {
		if pk, _ := keyString(t.items[k], t.pk, ""); pk != wantKey {
			continue
		}
		it, err := project(maps.Clone(t.items[k]), in.ProjectionExpression, in.ExpressionAttributeNames)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, it)
	}
	out.Count, out.ScannedCount = int32(len(out.Items)), int32(len(out.Items))
	return out, nil
}

// Scan returns every item of the table, in key order.
func (m *memAPI) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.table(in.TableName)
	if err != nil {
		return nil, err
	}
	out := &dynamodb.ScanOutput{}
	for _, k := range slices.Sorted(maps.Keys(t.items)) {
		it, err := project(maps.Clone(t.items[k]), in.ProjectionExpression, in.ExpressionAttributeNames)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, it)
	}
	out.Count, out.ScannedCount = int32(len(out.Items)), int32(len(out.Items))
	return out, nil
}

func (m *memAPI) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
	for name, ka := range in.RequestItems {
		t, err := m.table(&name)
		if err != nil {
			return nil, err
		}
		for _, key := range ka.Keys {
			it, err := t.get(key)
			if err != nil {
				return nil, err
			}
			if it, err = project(it, ka.ProjectionExpression, ka.ExpressionAttributeNames); err != nil {
				return nil, err
			}
			if it != nil {
				out.Responses[name] = append(out.Responses[name], it)
			}
		}
	}
	return out, nil
}

func (m *memAPI) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, wrs := range in.RequestItems {
		t, err := m.table(&name)
		if err != nil {
			return nil, err
		}
		for _, wr := range wrs {
			switch {
			case wr.PutRequest != nil:
				_, err = t.put(wr.PutRequest.Item)
			case wr.DeleteRequest != nil:
				_, err = t.del(wr.DeleteRequest.Key)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{}}, nil
}

func (m *memAPI) TransactGetItems(_ context.Context, in *dynamodb.TransactGetItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactGetItemsOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := &dynamodb.TransactGetItemsOutput{}
	for _, ti := range in.TransactItems {
		t, err := m.table(ti.Get.TableName)
		if err != nil {
			return nil, err
		}
		it, err := t.get(ti.Get.Key)
		if err != nil {
			return nil, err
		}
		if it, err = project(it, ti.Get.ProjectionExpression, ti.Get.ExpressionAttributeNames); err != nil {
			return nil, err
		}
		out.Responses = append(out.Responses, types.ItemResponse{Item: it})
	}
	return out, nil
}

func (m *memAPI) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ti := range in.TransactItems {
		t, err := m.table(writeTable(ti))
		if err != nil {
			return nil, err
		}
		switch {
		case ti.Put != nil:
			_, err = t.put(ti.Put.Item)
		case ti.Delete != nil:
			_, err = t.del(ti.Delete.Key)
		}
		if err != nil {
			return nil, err
		}
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func (m *memAPI) ExecuteStatement(context.Context, *dynamodb.ExecuteStatementInput, ...func(*dynamodb.Options)) (*dynamodb.ExecuteStatementOutput, error) {
	return &dynamodb.ExecuteStatementOutput{}, nil
}

func (m *memAPI) BatchExecuteStatement(context.Context, *dynamodb.BatchExecuteStatementInput, ...func(*dynamodb.Options)) (*dynamodb.BatchExecuteStatementOutput, error) {
	return &dynamodb.BatchExecuteStatementOutput{}, nil
}

func (m *memAPI) ExecuteTransaction(context.Context, *dynamodb.ExecuteTransactionInput, ...func(*dynamodb.Options)) (*dynamodb.ExecuteTransactionOutput, error) {
	return &dynamodb.ExecuteTransactionOutput{}, nil
}

func (m *memAPI) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.table(in.TableName)
	if err != nil {
		return nil, err
	}
	td := &types.TableDescription{TableName: in.TableName, TableStatus: types.TableStatusActive,
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String(t.pk), KeyType: types.KeyTypeHash}}}
	if t.sk != "" {
		td.KeySchema = append(td.KeySchema, types.KeySchemaElement{AttributeName: aws.String(t.sk), KeyType: types.KeyTypeRange})
	}
	return &dynamodb.DescribeTableOutput{Table: td}, nil
}

// ---------------------------------------------------------------------------
// transactEmulator runs TransactWriteItems and TransactGetItems as single
// requests, for servers (dynalite 4.0.0) that do not implement them. It is
// not atomic; it lets the transaction paths be checked against a real
// implementation of the DynamoDB API: every request the client builds (its
// rewritten projections and conditions included) is validated and executed
// by the server. A ConditionCheck is not executed (the single-item API has
// no read with a condition). A failed condition becomes a
// TransactionCanceledException, as the real operation reports it.

type transactEmulator struct {
	API
}

func (e transactEmulator) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	reasons := make([]types.CancellationReason, len(in.TransactItems))
	for i := range reasons {
		reasons[i].Code = aws.String("None")
	}
	for i, ti := range in.TransactItems {
		var err error
		switch {
		case ti.Put != nil:
			p := ti.Put
			_, err = e.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: p.TableName, Item: p.Item,
				ConditionExpression: p.ConditionExpression, ExpressionAttributeNames: p.ExpressionAttributeNames,
				ExpressionAttributeValues:           p.ExpressionAttributeValues,
				ReturnValuesOnConditionCheckFailure: p.ReturnValuesOnConditionCheckFailure}, o...)
		case ti.Update != nil:
			u := ti.Update
			_, err = e.API.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: u.TableName, Key: u.Key,
				UpdateExpression: u.UpdateExpression, ConditionExpression: u.ConditionExpression,
				ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues,
				ReturnValuesOnConditionCheckFailure: u.ReturnValuesOnConditionCheckFailure}, o...)
		case ti.Delete != nil:
			d := ti.Delete
			_, err = e.API.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: d.TableName, Key: d.Key,
				ConditionExpression: d.ConditionExpression, ExpressionAttributeNames: d.ExpressionAttributeNames,
				ExpressionAttributeValues:           d.ExpressionAttributeValues,
				ReturnValuesOnConditionCheckFailure: d.ReturnValuesOnConditionCheckFailure}, o...)
		}
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			reasons[i] = types.CancellationReason{Code: aws.String("ConditionalCheckFailed"), Item: ccf.Item, Message: ccf.Message}
			return nil, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled (emulated)"), CancellationReasons: reasons}
		}
		if err != nil {
			return nil, fmt.Errorf("transactEmulator: item %d: %w", i, err)
		}
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func (e transactEmulator) TransactGetItems(ctx context.Context, in *dynamodb.TransactGetItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactGetItemsOutput, error) {
	out := &dynamodb.TransactGetItemsOutput{}
	for i, ti := range in.TransactItems {
		g := ti.Get
		r, err := e.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: g.TableName, Key: g.Key, ConsistentRead: aws.Bool(true),
			ProjectionExpression: g.ProjectionExpression, ExpressionAttributeNames: g.ExpressionAttributeNames}, o...)
		if err != nil {
			return nil, fmt.Errorf("transactEmulator: item %d: %w", i, err)
		}
		out.Responses = append(out.Responses, types.ItemResponse{Item: r.Item})
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// halfBatch processes only the first half (rounded up) of each table's
// requests of a BatchWriteItem or BatchGetItem and returns the rest as
// unprocessed, as DynamoDB does under throttling.

type halfBatch struct {
	API
}

func (h halfBatch) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	send := map[string][]types.WriteRequest{}
	rest := map[string][]types.WriteRequest{}
	for name, wrs := range in.RequestItems {
		n := (len(wrs) + 1) / 2
		send[name] = wrs[:n]
		if n < len(wrs) {
			rest[name] = wrs[n:]
		}
	}
	req := *in
	req.RequestItems = send
	out, err := h.API.BatchWriteItem(ctx, &req, o...)
	if err != nil {
		return nil, err
	}
	out.UnprocessedItems = rest
	return out, nil
}

func (h halfBatch) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	send := map[string]types.KeysAndAttributes{}
	rest := map[string]types.KeysAndAttributes{}
	for name, ka := range in.RequestItems {
		n := (len(ka.Keys) + 1) / 2
		s := ka
		s.Keys = ka.Keys[:n]
		send[name] = s
		if n < len(ka.Keys) {
			r := ka
			r.Keys = ka.Keys[n:]
			rest[name] = r
		}
	}
	req := *in
	req.RequestItems = send
	out, err := h.API.BatchGetItem(ctx, &req, o...)
	if err != nil {
		return nil, err
	}
	out.UnprocessedKeys = rest
	return out, nil
}
