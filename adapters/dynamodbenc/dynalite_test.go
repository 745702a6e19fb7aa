package dynamodbenc

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// Integration tests against dynalite (scripts/test starts it; without it
// they skip, and fail under CI=true). dynalite 4.0.0 has no
// TransactWriteItems, TransactGetItems or PartiQL: the transaction paths run
// over transactEmulator, which sends each of their items as a single request
// to dynalite, and PartiQL is only ever refused or passed through.

type env struct {
	raw   *dynamodb.Client
	table string
	c     API
}

// newEnv makes a table and a client of form f that protects it as
// customerConfig says (the wrapper learns the key names from DescribeTable).
func newEnv(t *testing.T, f form, optFns ...func(*Options)) env {
	t.Helper()
	raw := dynalite(t)
	table := newTable(t, raw)
	c := f.client(t, raw, Config{Tables: map[string]TableConfig{table: customerConfig(testProvider(t), false)}}, optFns...)
	return env{raw, table, c}
}

func (e env) put(t *testing.T, items ...item) {
	t.Helper()
	for _, it := range items {
		if _, err := e.c.PutItem(ctxT(t), &dynamodb.PutItemInput{TableName: &e.table, Item: it}); err != nil {
			t.Fatalf("PutItem: %v", err)
		}
	}
}

func (e env) rawGet(t *testing.T, k item) item {
	t.Helper()
	out, err := e.raw.GetItem(ctxT(t), &dynamodb.GetItemInput{TableName: &e.table, Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("raw GetItem: %v", err)
	}
	return out.Item
}

func testPutGetDynalite(t *testing.T, f form) {
	e := newEnv(t, f)
	ctx := ctxT(t)
	alice := customer("alice", 1)
	e.put(t, alice)

	got, err := e.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.table, Key: key("alice", 1), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "GetItem", got.Item, alice)

	stored := e.rawGet(t, key("alice", 1))
	for name, want := range map[string]string{"card": "B", "profile": "B", "email": "S", "visits": "N", "pk": "S", "sk": "N",
		itemcrypto.MaterialDescriptionAttribute: "B", itemcrypto.SignatureAttribute: "B"} {
		if got := typeOf(stored[name]); got != want {
			t.Errorf("stored %q is %s, want %s", name, got, want)
		}
	}

	missing, err := e.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.table, Key: key("nobody", 1)})
	if err != nil || missing.Item != nil {
		t.Errorf("GetItem(missing) = %v, %v; want no item", missing, err)
	}

	// ReturnValues ALL_OLD comes back decrypted.
	alice2 := customer("alice", 1)
	alice2["card"] = s("4111-9999")
	out, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &e.table, Item: alice2, ReturnValues: types.ReturnValueAllOld,
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "PutItem ALL_OLD", out.Attributes, alice)
	if out.ConsumedCapacity == nil {
		t.Errorf("ReturnConsumedCapacity did not pass through")
	}

	// Conditions on signed and (by existence) on encrypted attributes run.
	_, err = e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &e.table, Item: alice,
		ConditionExpression:       aws.String("email = :e AND attribute_exists(card) AND visits < :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": alice["email"], ":v": n("1000")}})
	if err != nil {
		t.Fatalf("PutItem with an allowed condition: %v", err)
	}

	// A failed condition is DynamoDB's error, wrapped; the old item it may
	// carry is decrypted.
	_, err = e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &e.table, Item: alice,
		ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *types.ConditionalCheckFailedException
	var opErr *OpError
	var apiErr smithy.APIError
	if !errors.As(err, &ccf) || !errors.As(err, &opErr) || !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want a ConditionalCheckFailedException in an *OpError", err)
	}
	if opErr.Op != "PutItem" || opErr.Table != e.table || apiErr.ErrorCode() != "ConditionalCheckFailedException" {
		t.Errorf("err = %+v (code %s)", opErr, apiErr.ErrorCode())
	}
	if ccf.Item != nil {
		wantItem(t, "ConditionalCheckFailedException.Item", ccf.Item, alice)
	} else {
		t.Logf("dynalite returned no item with the ConditionalCheckFailedException")
	}

	// The reserved attributes cannot be written in plaintext.
	bad := customer("bob", 1)
	bad[itemcrypto.SignatureAttribute] = b([]byte("x"))
	_, err = e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &e.table, Item: bad})
	if !errors.Is(err, itemcrypto.ErrReservedAttribute) || !errors.As(err, &opErr) {
		t.Errorf("PutItem(reserved attribute) err = %v", err)
	}
}

func TestPutGetDynalite(t *testing.T) { forEachForm(t, testPutGetDynalite) }

func typeOf(v types.AttributeValue) string {
	switch v.(type) {
	case *types.AttributeValueMemberS:
		return "S"
	case *types.AttributeValueMemberN:
		return "N"
	case *types.AttributeValueMemberB:
		return "B"
	case nil:
		return "missing"
	}
	return fmt.Sprintf("%T", v)
}

func testUpdateItemDynalite(t *testing.T, f form) {
	e := newEnv(t, f)
	ctx := ctxT(t)
	alice := customer("alice", 1)
	e.put(t, alice)

	out, err := e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &e.table, Key: key("alice", 1),
		UpdateExpression:          aws.String("SET #v = #v + :one"),
		ExpressionAttributeNames:  map[string]string{"#v": "visits"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": n("1")},
		ReturnValues:              types.ReturnValueAllNew})
	if err != nil {
		t.Fatal(err)
	}
	want := customer("alice", 1)
	want["visits"] = n("11")
	wantItem(t, "UpdateItem ALL_NEW", out.Attributes, want)

	out, err = e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &e.table, Key: key("alice", 1),
		UpdateExpression: aws.String("SET visits = :n"), ConditionExpression: aws.String("email = :e"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": n("42"), ":e": alice["email"]},
		ReturnValues:              types.ReturnValueUpdatedNew})
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "UpdateItem UPDATED_NEW", out.Attributes, item{"visits": n("42")})

	out, err = e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &e.table, Key: key("alice", 1),
		UpdateExpression: aws.String("REMOVE visits"), ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		t.Fatal(err)
	}
	want["visits"] = n("42")
	wantItem(t, "UpdateItem ALL_OLD", out.Attributes, want)

	got, err := e.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.table, Key: key("alice", 1), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetItem after updates: %v", err)
	}
	delete(want, "visits")
	wantItem(t, "GetItem after updates", got.Item, want)

	// An update never creates an unsigned item.
	_, err = e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &e.table, Key: key("ghost", 1),
		UpdateExpression: aws.String("SET visits = :n"), ExpressionAttributeValues: map[string]types.AttributeValue{":n": n("1")}})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Errorf("UpdateItem(missing item) err = %v, want ConditionalCheckFailedException", err)
	}
	if it := e.rawGet(t, key("ghost", 1)); it != nil {
		t.Errorf("UpdateItem created an unsigned item: %s", show(it))
	}
}

func TestUpdateItemDynalite(t *testing.T) { forEachForm(t, testUpdateItemDynalite) }

func testDeleteItemDynalite(t *testing.T, f form) {
	e := newEnv(t, f)
	ctx := ctxT(t)
	alice, bob := customer("alice", 1), customer("bob", 2)
	e.put(t, alice, bob)

	out, err := e.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &e.table, Key: key("alice", 1),
		ConditionExpression: aws.String("attribute_exists(card)"), ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "DeleteItem ALL_OLD", out.Attributes, alice)
	if it := e.rawGet(t, key("alice", 1)); it != nil {
		t.Errorf("item still there")
	}

	// A tampered old item: the delete happened, the returned item is refused.
	if _, err := e.raw.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &e.table, Key: key("bob", 2),
		UpdateExpression: aws.String("SET email = :x"), ExpressionAttributeValues: map[string]types.AttributeValue{":x": s("evil@example.com")}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &e.table, Key: key("bob", 2), ReturnValues: types.ReturnValueAllOld})
	var ie *ItemError
	if !errors.As(err, &ie) || !ie.Written || !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Fatalf("DeleteItem(tampered) err = %v, want a written *ItemError matching ErrAuthentication", err)
	}
	wantItem(t, "ItemError.Key", ie.Key, key("bob", 2))
	noValues(t, err, "bob", "evil@example.com")
}

func TestDeleteItemDynalite(t *testing.T) { forEachForm(t, testDeleteItemDynalite) }

// fill writes count items under partition pk, sk 0..count-1.
func (e env) fill(t *testing.T, pk string, count int) []item {
	t.Helper()
	var items []item
	for i := range count {
		it := customer(pk, i)
		items = append(items, it)
	}
	e.put(t, items...)
	return items
}

func testQueryScanPaginatorsDynalite(t *testing.T, f form) {
	for _, conc := range []int{1, 8} {
		t.Run(fmt.Sprintf("concurrency=%d", conc), func(t *testing.T) {
			e := newEnv(t, f, func(o *Options) { o.Concurrency = conc })
			ctx := ctxT(t)
			qs := e.fill(t, "q", 30)
			others := e.fill(t, "other", 5)

			// The SDK's own paginator drives the client.
			var got []item
			pages := 0
			p := dynamodb.NewQueryPaginator(e.c, &dynamodb.QueryInput{TableName: &e.table,
				KeyConditionExpression:    aws.String("pk = :p"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("q")},
				Limit:                     aws.Int32(7), ConsistentRead: aws.Bool(true)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				got = append(got, out.Items...)
			}
			if pages < 5 || len(got) != len(qs) {
				t.Fatalf("%d pages, %d items; want >= 5 pages, %d items", pages, len(got), len(qs))
			}
			for i := range qs {
				wantItem(t, fmt.Sprintf("query item %d", i), got[i], qs[i])
			}

			// Filters on do-nothing and sign-only attributes, descending.
			out, err := e.c.Query(ctx, &dynamodb.QueryInput{TableName: &e.table,
				KeyConditionExpression: aws.String("pk = :p AND sk BETWEEN :lo AND :hi"),
				FilterExpression:       aws.String("visits >= :min AND begins_with(email, :pre) AND attribute_exists(card)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("q"), ":lo": n("10"), ":hi": n("29"),
					":min": n("150"), ":pre": s("user2")},
				ScanIndexForward: aws.Bool(false)})
			if err != nil {
				t.Fatal(err)
			}
			var sks []string
			for _, it := range out.Items {
				sks = append(sks, it["sk"].(*types.AttributeValueMemberN).Value)
			}
			if want := []string{"29", "28", "27", "26", "25", "24", "23", "22", "21", "20"}; !slices.Equal(sks, want) {
				t.Errorf("filtered query = %v, want %v", sks, want)
			}

			count, err := e.c.Query(ctx, &dynamodb.QueryInput{TableName: &e.table, Select: types.SelectCount,
				KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("q")}})
			if err != nil || count.Count != 30 || len(count.Items) != 0 {
				t.Errorf("Select COUNT = %v items, count %v, err %v", len(count.Items), count.Count, err)
			}

			// Scan with the SDK paginator, and a parallel scan.
			all := append(slices.Clone(qs), others...)
			var scanned []item
			sp := dynamodb.NewScanPaginator(e.c, &dynamodb.ScanInput{TableName: &e.table, Limit: aws.Int32(9)})
			for sp.HasMorePages() {
				out, err := sp.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				scanned = append(scanned, out.Items...)
			}
			sameSet(t, "scan", scanned, all)

			var mu sync.Mutex
			var wg sync.WaitGroup
			scanned = nil
			for seg := range int32(3) {
				wg.Go(func() {
					p := dynamodb.NewScanPaginator(e.c, &dynamodb.ScanInput{TableName: &e.table, Segment: aws.Int32(seg),
						TotalSegments: aws.Int32(3), Limit: aws.Int32(4)})
					for p.HasMorePages() {
						out, err := p.NextPage(ctx)
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						scanned = append(scanned, out.Items...)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			sameSet(t, "parallel scan", scanned, all)
		})
	}
}

func TestQueryScanPaginatorsDynalite(t *testing.T) { forEachForm(t, testQueryScanPaginatorsDynalite) }

// sameSet compares two lists of items regardless of order.
func sameSet(t *testing.T, what string, got, want []item) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d items, want %d", what, len(got), len(want))
		return
	}
	used := make([]bool, len(want))
outer:
	for _, g := range got {
		for j, w := range want {
			if !used[j] && equalItems(g, w) {
				used[j] = true
				continue outer
			}
		}
		t.Errorf("%s: unexpected item %s", what, show(g))
	}
}

func testTamperedItemFailsWithKeyDynalite(t *testing.T, f form) {
	e := newEnv(t, f, func(o *Options) { o.Concurrency = 4 })
	ctx := ctxT(t)
	e.fill(t, "t", 10)
	// Someone edits a signed attribute behind the client's back.
	if _, err := e.raw.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &e.table, Key: key("t", 6),
		UpdateExpression: aws.String("SET email = :x"), ExpressionAttributeValues: map[string]types.AttributeValue{":x": s("evil@example.com")}}); err != nil {
		t.Fatal(err)
	}
	// And someone writes a plaintext item into the table.
	if _, err := e.raw.PutItem(ctx, &dynamodb.PutItemInput{TableName: &e.table, Item: customer("plain", 1)}); err != nil {
		t.Fatal(err)
	}

	check := func(what string, err error, wantKey item) {
		t.Helper()
		var ie *ItemError
		if !errors.As(err, &ie) || !errors.Is(err, itemcrypto.ErrAuthentication) {
			t.Errorf("%s: err = %v, want an *ItemError matching ErrAuthentication", what, err)
			return
		}
		wantItem(t, what+": ItemError.Key", ie.Key, wantKey)
		if ie.Table != e.table || !strings.Contains(err.Error(), "key pk, sk") {
			t.Errorf("%s: err = %v", what, err)
		}
		noValues(t, err, "evil@example.com", "user6@example.com", "4111-")
	}

	_, err := e.c.Query(ctx, &dynamodb.QueryInput{TableName: &e.table, KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("t")}})
	check("Query", err, key("t", 6))
	var ie *ItemError
	if errors.As(err, &ie) && ie.Index != 6 {
		t.Errorf("Query: ItemError.Index = %d, want 6", ie.Index)
	}

	_, err = e.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.table, Key: key("plain", 1)})
	check("GetItem(plaintext item)", err, key("plain", 1))

	_, err = e.c.Scan(ctx, &dynamodb.ScanInput{TableName: &e.table, FilterExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("plain")}})
	check("Scan", err, key("plain", 1))

	_, err = e.c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		e.table: {Keys: []map[string]types.AttributeValue{key("t", 1), key("t", 6)}}}})
	check("BatchGetItem", err, key("t", 6))

	tc := f.client(t, transactEmulator{e.raw}, Config{Tables: map[string]TableConfig{e.table: customerConfig(testProvider(t), true)}})
	_, err = tc.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
		{Get: &types.Get{TableName: &e.table, Key: key("plain", 1)}}}})
	check("TransactGetItems", err, key("plain", 1))
}

func TestTamperedItemFailsWithKeyDynalite(t *testing.T) {
	forEachForm(t, testTamperedItemFailsWithKeyDynalite)
}

func testPassThroughDynalite(t *testing.T, f form) {
	e := newEnv(t, f)
	ctx := ctxT(t)
	plainTable := newTable(t, e.raw)
	it := customer("p", 1)
	if _, err := e.c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &plainTable, Item: it}); err != nil {
		t.Fatal(err)
	}
	out, err := e.raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: &plainTable, Key: key("p", 1)})
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "unconfigured table, stored", out.Item, it)
	// Conditions and updates on any attribute pass through.
	if _, err := e.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &plainTable, Key: key("p", 1),
		UpdateExpression: aws.String("SET card = :c"), ConditionExpression: aws.String("card = :old"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": s("new"), ":old": it["card"]}}); err != nil {
		t.Fatal(err)
	}

	// DynamoDB's errors on unconfigured tables come back as they are: here
	// dynalite's own answer to PartiQL and transactions, which it lacks.
	_, err = e.c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "` + plainTable + `"`)})
	var apiErr smithy.APIError
	var opErr *OpError
	if !errors.As(err, &apiErr) || errors.As(err, &opErr) {
		t.Errorf("ExecuteStatement(unconfigured) err = %v, want dynalite's error untouched", err)
	} else {
		t.Logf("dynalite: %s", apiErr.ErrorCode())
	}
	_, err = e.c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &e.table, Item: customer("x", 1)}}}})
	if !errors.As(err, &apiErr) || !errors.As(err, &opErr) || opErr.Op != "TransactWriteItems" {
		t.Errorf("TransactWriteItems err = %v, want dynalite's error wrapped in an *OpError", err)
	}
}

func TestPassThroughDynalite(t *testing.T) { forEachForm(t, testPassThroughDynalite) }

func TestDescribeTableOnceDynalite(t *testing.T) {
	raw := dynalite(t)
	table := newTable(t, raw)
	sp := &spy{next: raw}
	c := mustNew(t, sp, Config{Tables: map[string]TableConfig{table: customerConfig(testProvider(t), false)}})
	ctx := ctxT(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: customer("c", i)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	described := 0
	for _, op := range sp.calls() {
		if op == "DescribeTable" {
			described++
		}
	}
	if described != 1 {
		t.Errorf("DescribeTable called %d times, want 1", described)
	}
}

func testSigningTableNameDynalite(t *testing.T, f form) {
	raw := dynalite(t)
	table := newTable(t, raw)
	ctx := ctxT(t)
	p := testProvider(t)
	tc := customerConfig(p, true)
	tc.SigningTableName = "CustomersAAD"
	c := f.client(t, raw, Config{Tables: map[string]TableConfig{table: tc}})
	it := customer("a", 1)
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: it}); err != nil {
		t.Fatal(err)
	}
	out, err := raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("a", 1)})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"CustomersAAD": true, table: false} {
		enc := coreEncryptor(t, name, p, "pk", "sk")
		plain, err := enc.Decrypt(ctx, out.Item)
		if want && err != nil {
			t.Errorf("core Decrypt under %q: %v", name, err)
		} else if want {
			wantItem(t, "core Decrypt", plain, it)
		} else if !errors.Is(err, itemcrypto.ErrAuthentication) {
			t.Errorf("core Decrypt under the real name %q: err = %v, want ErrAuthentication", name, err)
		}
	}
}

func TestSigningTableNameDynalite(t *testing.T) { forEachForm(t, testSigningTableNameDynalite) }

// coreEncryptor is the core's encryptor for customer items.
func coreEncryptor(t testing.TB, table string, p cmp.Provider, pk, sk string) *itemcrypto.Encryptor {
	t.Helper()
	tc := customerConfig(p, false)
	policy, err := actions.New(actions.Options{Default: tc.Default, Overrides: tc.Overrides, PartitionKey: pk, SortKey: sk})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := itemcrypto.New(itemcrypto.Config{TableName: table, Policy: policy, Provider: p})
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// The legacy KeyConditions of a Query (which guregu/dynamo sends) are
// translated into the equivalent KeyConditionExpression, so they get the
// expression's guard rails and work on an encrypted table.
func testKeyConditionsDynalite(t *testing.T, f form) {
	e := newEnv(t, f)
	ctx := ctxT(t)
	items := e.fill(t, "k", 10)
	out, err := e.c.Query(ctx, &dynamodb.QueryInput{TableName: &e.table, KeyConditions: map[string]types.Condition{
		"pk": {ComparisonOperator: types.ComparisonOperatorEq, AttributeValueList: []types.AttributeValue{s("k")}},
		"sk": {ComparisonOperator: types.ComparisonOperatorBetween, AttributeValueList: []types.AttributeValue{n("3"), n("5")}},
	}, FilterExpression: aws.String("#v > :min"), ExpressionAttributeNames: map[string]string{"#v": "visits"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":min": n("30")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 2 {
		t.Fatalf("%d items, want 2", len(out.Items))
	}
	wantItem(t, "item 0", out.Items[0], items[4])
	wantItem(t, "item 1", out.Items[1], items[5])
}

func TestKeyConditionsDynalite(t *testing.T) { forEachForm(t, testKeyConditionsDynalite) }
