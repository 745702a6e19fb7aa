package dynamodbenc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// BenchmarkRoundTripDynalite measures one PutItem and one GetItem of an
// item against dynalite:
//
//   - client=sdk: the plain SDK client (the baseline);
//   - client=dynamodbenc/table=plain: through the client, on a table without
//     configuration (what the wrapper alone costs);
//   - client=dynamodbenc/table=encrypted: through the client, encrypted and
//     signed on the way in, verified and decrypted on the way out (wrapped
//     provider: AES-256 content key per item, AES key wrap, HMAC-SHA256);
//   - client=core-only: the same Encrypt and Decrypt with no I/O, for
//     scale.
//
// The item: two keys, a sign-only and a do-nothing attribute, and one
// encrypted attribute of size bytes. The overhead per item is the
// difference between table=encrypted and client=sdk.
func BenchmarkRoundTripDynalite(b *testing.B) {
	raw := dynalite(b)
	plainTable, encTable := newTable(b, raw), newTable(b, raw)
	p := testProvider(b)
	c := mustNew(b, raw, Config{Tables: map[string]TableConfig{encTable: customerConfig(p, true)}})
	core := coreEncryptor(b, encTable, p, "pk", "sk")
	ctx := context.Background()
	for _, size := range []int{1 << 10, 10 << 10} {
		it := item{
			"pk":     s("bench"),
			"sk":     n("0"),
			"email":  s("user@example.com"),
			"visits": n("17"),
			"card":   &types.AttributeValueMemberB{Value: bytes.Repeat([]byte{0xA5}, size)},
		}
		for _, bc := range []struct {
			name  string
			api   API
			table string
		}{
			{"client=sdk", raw, plainTable},
			{"client=dynamodbenc/table=plain", c, plainTable},
			{"client=dynamodbenc/table=encrypted", c, encTable},
		} {
			b.Run(fmt.Sprintf("%s/size=%dKB", bc.name, size>>10), func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					it["sk"] = n(fmt.Sprint(i % 64))
					i++
					if _, err := bc.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(bc.table), Item: it}); err != nil {
						b.Fatal(err)
					}
					out, err := bc.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(bc.table),
						Key: map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]}})
					if err != nil || out.Item == nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(fmt.Sprintf("client=core-only/size=%dKB", size>>10), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				stored, err := core.Encrypt(ctx, it)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := core.Decrypt(ctx, stored); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRoundTripMemory is BenchmarkRoundTripDynalite over the in-memory
// fake instead of a server: with no network in the way, the difference
// between client=api and client=dynamodbenc is the whole per-item cost of
// the client (checks, copies, encryption and decryption), stable enough to
// compare between runs.
func BenchmarkRoundTripMemory(b *testing.B) {
	mem := newMemAPI()
	mem.createTable("plain", "pk", "sk")
	mem.createTable("enc", "pk", "sk")
	p := testProvider(b)
	c := mustNew(b, mem, Config{Tables: map[string]TableConfig{"enc": customerConfig(p, true)}})
	ctx := context.Background()
	for _, size := range []int{1 << 10, 10 << 10} {
		it := item{
			"pk":     s("bench"),
			"sk":     n("0"),
			"email":  s("user@example.com"),
			"visits": n("17"),
			"card":   &types.AttributeValueMemberB{Value: bytes.Repeat([]byte{0xA5}, size)},
		}
		for _, bc := range []struct {
			name  string
			api   API
			table string
		}{
			{"client=api", mem, "plain"},
			{"client=dynamodbenc/table=plain", c, "plain"},
			{"client=dynamodbenc/table=encrypted", c, "enc"},
		} {
			b.Run(fmt.Sprintf("%s/size=%dKB", bc.name, size>>10), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := bc.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(bc.table), Item: it}); err != nil {
						b.Fatal(err)
					}
					out, err := bc.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(bc.table),
						Key: map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]}})
					if err != nil || out.Item == nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkForms compares the two forms of the package, the wrapper (New's
// *Client over a *dynamodb.Client) and the option (NewOption on the plain
// *dynamodb.Client), on PutItem, GetItem and a Query of a ten-item
// partition of an encrypted table (1 KB encrypted attribute):
//
//   - backend=memory: both SDK clients are answered by the in-memory fake
//     at the end of their Initialize step (serveFrom), so what is measured
//     is the SDK's stack, the transforms and the cryptography, not I/O;
//   - backend=dynalite: both send over HTTP to dynalite.
//
// The forms run the same transforms; the difference is where they are
// called from (a method of the wrapper around the SDK's call, or a
// middleware inside it).
func BenchmarkForms(b *testing.B) {
	it := item{
		"pk":     s("bench"),
		"sk":     n("0"),
		"email":  s("user@example.com"),
		"visits": n("17"),
		"card":   &types.AttributeValueMemberB{Value: bytes.Repeat([]byte{0xA5}, 1<<10)},
	}
	backends := []struct {
		name  string
		setup func(b *testing.B) (*dynamodb.Client, string)
	}{
		{"memory", func(b *testing.B) (*dynamodb.Client, string) {
			mem := newMemAPI()
			mem.createTable("t", "pk", "sk")
			return dynamodb.New(stubOptions(), serveFrom(mem)), "t"
		}},
		{"dynalite", func(b *testing.B) (*dynamodb.Client, string) {
			raw := dynalite(b)
			return raw, newTable(b, raw)
		}},
	}
	ctx := context.Background()
	for _, be := range backends {
		b.Run("backend="+be.name, func(b *testing.B) {
			sdk, table := be.setup(b)
			p := testProvider(b)
			cfg := Config{Tables: map[string]TableConfig{table: customerConfig(p, true)}}
			clients := map[string]API{}
			for _, f := range forms {
				clients[f.name] = f.client(b, sdk, cfg)
			}
			// The partition the queries read, written once.
			for i := range 10 {
				q := maps.Clone(it)
				q["pk"], q["sk"] = s("query"), n(fmt.Sprint(i))
				if _, err := clients["wrapper"].PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: q}); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := clients["wrapper"].PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: it}); err != nil {
				b.Fatal(err)
			}
			for _, op := range []string{"Put", "Get", "Query"} {
				for _, f := range forms {
					c := clients[f.name]
					b.Run("op="+op+"/form="+f.name, func(b *testing.B) {
						b.ReportAllocs()
						for b.Loop() {
							var err error
							switch op {
							case "Put":
								_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: it})
							case "Get":
								var out *dynamodb.GetItemOutput
								out, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: item{"pk": it["pk"], "sk": it["sk"]}})
								if err == nil && out.Item == nil {
									err = errors.New("no item")
								}
							case "Query":
								var out *dynamodb.QueryOutput
								out, err = c.Query(ctx, &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: aws.String("pk = :p"),
									ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("query")}})
								if err == nil && len(out.Items) != 10 {
									err = fmt.Errorf("%d items", len(out.Items))
								}
							}
							if err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			}
		})
	}
}
