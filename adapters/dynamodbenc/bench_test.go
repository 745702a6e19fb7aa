package dynamodbenc

import (
	"bytes"
	"context"
	"fmt"
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
