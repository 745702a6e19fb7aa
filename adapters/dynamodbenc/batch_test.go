package dynamodbenc

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// batchBackends are the APIs the batch tests run over: dynalite (when
// available) and the in-memory fake, each also behind halfBatch, which
// leaves half of every request unprocessed.
func batchBackends(t *testing.T) map[string]func(t *testing.T) (API, func(t *testing.T) string) {
	return map[string]func(t *testing.T) (API, func(t *testing.T) string){
		"memory": func(t *testing.T) (API, func(t *testing.T) string) {
			mem := newMemAPI()
			i := 0
			return mem, func(t *testing.T) string {
				i++
				name := fmt.Sprintf("t%d", i)
				mem.createTable(name, "pk", "sk")
				return name
			}
		},
		"dynalite": func(t *testing.T) (API, func(t *testing.T) string) {
			raw := dynalite(t)
			return raw, func(t *testing.T) string { return newTable(t, raw) }
		},
	}
}

func testBatchWriteGet(t *testing.T, f form) {
	for bname, backend := range batchBackends(t) {
		for _, half := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/unprocessed=%v", bname, half), func(t *testing.T) {
				api, mkTable := backend(t)
				enc1, enc2, plain := mkTable(t), mkTable(t), mkTable(t)
				raw := api
				if half {
					api = halfBatch{api}
				}
				p := testProvider(t)
				c := f.client(t, api, Config{Tables: map[string]TableConfig{
					enc1: customerConfig(p, false), enc2: customerConfig(p, true)}},
					func(o *Options) { o.Concurrency = 4 })
				ctx := ctxT(t)

				// Ten puts per table; the first two of enc1 then get deleted.
				want := map[string][]item{}
				req := map[string][]types.WriteRequest{}
				for _, tb := range []string{enc1, enc2, plain} {
					for i := range 8 {
						it := customer(tb, i)
						want[tb] = append(want[tb], it)
						req[tb] = append(req[tb], types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
					}
				}
				sent := 0
				for len(req) > 0 {
					sent++
					if sent > 10 {
						t.Fatal("unprocessed items never drain")
					}
					out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: req})
					if err != nil {
						t.Fatal(err)
					}
					// Unprocessed puts are the caller's own plaintext requests.
					for tb, wrs := range out.UnprocessedItems {
						for _, wr := range wrs {
							if wr.PutRequest == nil {
								continue
							}
							if _, ok := wr.PutRequest.Item[itemcrypto.SignatureAttribute]; ok {
								t.Fatalf("unprocessed item of %s comes back encrypted", tb)
							}
							if !containsItem(req[tb], wr.PutRequest.Item) {
								t.Fatalf("unprocessed item of %s is not one of the caller's: %s", tb, show(wr.PutRequest.Item))
							}
						}
					}
					req = out.UnprocessedItems
				}
				if half && sent < 3 {
					t.Errorf("sent %d times; halfBatch should have left items unprocessed", sent)
				}

				// Everything is stored: encrypted in enc1 and enc2, plain in plain.
				for tb, items := range want {
					for _, it := range items {
						out, err := raw.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tb), Key: keyOf(it, "pk", "sk")})
						if err != nil {
							t.Fatal(err)
						}
						_, signed := out.Item[itemcrypto.SignatureAttribute]
						if signed != (tb != plain) {
							t.Errorf("%s: stored item signed = %v", tb, signed)
						}
					}
				}

				// Deletes pass through (and come back unprocessed as they were).
				dreq := map[string][]types.WriteRequest{enc1: {
					{DeleteRequest: &types.DeleteRequest{Key: key(enc1, 0)}},
					{DeleteRequest: &types.DeleteRequest{Key: key(enc1, 1)}},
					{PutRequest: &types.PutRequest{Item: want[enc1][2]}},
				}}
				for len(dreq) > 0 {
					out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: dreq})
					if err != nil {
						t.Fatal(err)
					}
					dreq = out.UnprocessedItems
				}
				want[enc1] = want[enc1][2:]

				// BatchGetItem with the SDK paginator; UnprocessedKeys keep
				// the caller's projection.
				breq := map[string]types.KeysAndAttributes{}
				for _, tb := range []string{enc1, enc2, plain} {
					ka := types.KeysAndAttributes{ConsistentRead: aws.Bool(true),
						ProjectionExpression: aws.String("pk, sk, #c, email"), ExpressionAttributeNames: map[string]string{"#c": "card"}}
					for i := range 8 {
						ka.Keys = append(ka.Keys, key(tb, i))
					}
					breq[tb] = ka
				}
				got := map[string][]item{}
				pages := 0
				pg := dynamodb.NewBatchGetItemPaginator(c, &dynamodb.BatchGetItemInput{RequestItems: breq})
				for pg.HasMorePages() {
					out, err := pg.NextPage(ctx)
					if err != nil {
						t.Fatal(err)
					}
					pages++
					for tb, items := range out.Responses {
						got[tb] = append(got[tb], items...)
					}
					for tb, ka := range out.UnprocessedKeys {
						if aws.ToString(ka.ProjectionExpression) != "pk, sk, #c, email" || len(ka.ExpressionAttributeNames) != 1 {
							t.Errorf("UnprocessedKeys[%s] lost the caller's projection: %q %v", tb, aws.ToString(ka.ProjectionExpression), ka.ExpressionAttributeNames)
						}
					}
				}
				if half && pages < 3 {
					t.Errorf("%d pages; halfBatch should have left keys unprocessed", pages)
				}
				for tb, items := range want {
					var projected []item
					for _, it := range items {
						projected = append(projected, item{"pk": it["pk"], "sk": it["sk"], "card": it["card"], "email": it["email"]})
					}
					sameSet(t, "BatchGetItem "+tb, got[tb], projected)
				}
			})
		}
	}
}

func TestBatchWriteGet(t *testing.T) { forEachForm(t, testBatchWriteGet) }

func containsItem(wrs []types.WriteRequest, it item) bool {
	for _, wr := range wrs {
		if wr.PutRequest != nil && equalItems(wr.PutRequest.Item, it) {
			return true
		}
	}
	return false
}

func testBatchWriteItemRefusesBadItem(t *testing.T, f form) {
	mem := newMemAPI()
	mem.createTable("t", "pk", "sk")
	sp := &spy{next: mem}
	c := f.client(t, sp, Config{Tables: map[string]TableConfig{"t": customerConfig(testProvider(t), true)}})
	noKey := customer("a", 2)
	delete(noKey, "sk")
	_, err := c.BatchWriteItem(ctxT(t), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"t": {
		{PutRequest: &types.PutRequest{Item: customer("a", 1)}},
		{PutRequest: &types.PutRequest{Item: noKey}},
	}}})
	var ie *ItemError
	if !errors.As(err, &ie) || ie.Index != 1 || ie.Table != "t" || !errors.Is(err, itemcrypto.ErrMissingKeyAttribute) {
		t.Fatalf("err = %v, want an *ItemError for item 1 matching ErrMissingKeyAttribute", err)
	}
	if got := sp.dataCalls(); len(got) != 0 {
		t.Errorf("sent %v", got)
	}
}

func TestBatchWriteItemRefusesBadItem(t *testing.T) { forEachForm(t, testBatchWriteItemRefusesBadItem) }
