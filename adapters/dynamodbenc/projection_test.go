package dynamodbenc

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
)

// TestProjectionDynalite checks the widened-then-trimmed projections
// against dynalite's own: the same items are written in plaintext to an
// unconfigured table and encrypted to two configured ones (default
// EncryptAndSign: the whole item is read; default DoNothing: the projection
// gains the signed attributes), and every read with a projection must return
// the same from all three.
func testProjectionDynalite(t *testing.T, f form) {
	raw := dynalite(t)
	ctx := ctxT(t)
	plain, encAll, encSome := newTable(t, raw), newTable(t, raw), newTable(t, raw)
	p := testProvider(t)
	some := TableConfig{Provider: p, Default: actions.DoNothing, Overrides: map[string]actions.Action{
		"card": actions.EncryptAndSign, "profile": actions.EncryptAndSign, "email": actions.SignOnly}}
	// Through the transaction emulator, so that TransactGetItems runs too.
	c := f.client(t, transactEmulator{raw}, Config{Tables: map[string]TableConfig{
		encAll: customerConfig(p, false), encSome: some}})
	tables := []string{plain, encAll, encSome}
	var items []item
	for i := range 3 {
		it := customer("p", i)
		it["hist"] = l(n("1"), m(item{"a": s("x"), "b": s("y")}), n("3"))
		items = append(items, it)
		for _, tb := range tables {
			if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tb), Item: it}); err != nil {
				t.Fatal(err)
			}
		}
	}

	cases := []struct {
		expr  string
		names map[string]string
	}{
		{"email", nil},
		{"card, visits", nil},
		{"#p.#n", map[string]string{"#p": "profile", "#n": "name"}},
		{"profile.tags[1], profile.tags[0]", nil},
		{"profile.addr.city, profile.tags[2], sk", nil},
		{"sk, card, email, hist[1].b, hist[2]", nil},
		{"absent, profile.nope, profile.tags[7]", nil},
		{"#s", map[string]string{"#s": "*amzn-ddb-map-sig*"}},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			get := func(tb string) item {
				out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tb), Key: key("p", 1),
					ProjectionExpression: aws.String(tc.expr), ExpressionAttributeNames: tc.names})
				if err != nil {
					t.Fatalf("GetItem %s: %v", tb, err)
				}
				return out.Item
			}
			want := get(plain)
			for _, tb := range tables[1:] {
				wantItem(t, "GetItem", get(tb), want)
			}

			// Query: a key condition whose placeholder the projection shares,
			// and a filter with one of its own.
			query := func(tb string) []item {
				names := map[string]string{"#k": "pk", "#f": "visits"}
				for k, v := range tc.names {
					names[k] = v
				}
				out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(tb),
					KeyConditionExpression: aws.String("#k = :p"), FilterExpression: aws.String("#f >= :z"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("p"), ":z": n("0")},
					ProjectionExpression:      aws.String("#k, " + tc.expr), ExpressionAttributeNames: names,
					Select: types.SelectSpecificAttributes})
				if err != nil {
					t.Fatalf("Query %s: %v", tb, err)
				}
				return out.Items
			}
			wantQ := query(plain)
			for _, tb := range tables[1:] {
				got := query(tb)
				if len(got) != len(wantQ) {
					t.Fatalf("Query %s: %d items, want %d", tb, len(got), len(wantQ))
				}
				for i := range got {
					wantItem(t, "Query", got[i], wantQ[i])
				}
			}

			scan := func(tb string) []item {
				out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(tb),
					ProjectionExpression: aws.String(tc.expr), ExpressionAttributeNames: tc.names})
				if err != nil {
					t.Fatalf("Scan %s: %v", tb, err)
				}
				return out.Items
			}
			wantS := scan(plain)
			for _, tb := range tables[1:] {
				sameSet(t, "Scan", scan(tb), wantS)
			}

			req := map[string]types.KeysAndAttributes{}
			for _, tb := range tables {
				req[tb] = types.KeysAndAttributes{Keys: []map[string]types.AttributeValue{key("p", 0), key("p", 2)},
					ProjectionExpression: aws.String(tc.expr), ExpressionAttributeNames: tc.names, ConsistentRead: aws.Bool(true)}
			}
			bg, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				t.Fatal(err)
			}
			for _, tb := range tables[1:] {
				sameSet(t, "BatchGetItem", bg.Responses[tb], bg.Responses[plain])
			}

			var gets []types.TransactGetItem
			for _, tb := range tables {
				gets = append(gets, types.TransactGetItem{Get: &types.Get{TableName: aws.String(tb), Key: key("p", 2),
					ProjectionExpression: aws.String(tc.expr), ExpressionAttributeNames: tc.names}})
			}
			tg, err := c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: gets})
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i < len(tables); i++ {
				wantItem(t, "TransactGetItems", tg.Responses[i].Item, tg.Responses[0].Item)
			}
		})
	}

	// Without a projection, items come back whole.
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &encSome, Key: key("p", 1)})
	if err != nil {
		t.Fatal(err)
	}
	wantItem(t, "GetItem without projection", out.Item, items[1])

	// A projection the client cannot read is refused before sending.
	_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &encAll, Key: key("p", 1), ProjectionExpression: aws.String("size(card)")})
	if !errors.Is(err, ErrUnsafeOperation) {
		t.Errorf("GetItem(bad projection) err = %v", err)
	}
}

func TestProjectionDynalite(t *testing.T) { forEachForm(t, testProjectionDynalite) }
