package mapenc

// BenchmarkMapenc runs the AWS Database Encryption SDK Go edition's workload
// (as bench/ does):
//
//	partition_key  S                      sign-only (partition key)
//	sort_key       N                      sign-only (sort key)
//	attribute1     M{"data": B(N bytes)}  encrypt-and-sign
//	attribute2     S                      sign-only
//	:attribute3    S                      do-nothing
//
// N = 1, 10, 100 KB, with the wrapped-aes provider (a fresh AES-256 content
// key per item wrapped under a KEK, HMAC-SHA256), through four APIs:
//
//	api=core    itemcrypto.Encryptor on the prebuilt attribute-value item
//	api=map     Codec.EncryptMap / DecryptMap on a map[string]any
//	api=struct  TypedCodec[benchItem].Encrypt / Decrypt on a tagged struct
//	api=json    TypedCodec[benchItem].EncryptJSON / DecryptJSON
//
// so that the adapter's overhead (attributevalue's conversion, the JSON
// form) is the difference from api=core. Each also reports cpu-ns/op, the
// process CPU time per operation (as bench/ does). Compare with
//
//	go test -run '^$' -bench Mapenc -benchmem -count 6 ./adapters/mapenc/ > out.txt
//	go tool benchstat -col /api out.txt

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
)

type benchData struct {
	Data []byte `dynamodbav:"data"`
}

type benchItem struct {
	PartitionKey string    `dynamodbav:"partition_key" itemcrypto:"partition"`
	SortKey      int       `dynamodbav:"sort_key" itemcrypto:"sort"`
	Attribute1   benchData `dynamodbav:"attribute1" itemcrypto:"encrypt"`
	Attribute2   string    `dynamodbav:"attribute2" itemcrypto:"sign"`
	Attribute3   string    `dynamodbav:":attribute3" itemcrypto:"nothing"`
}

func benchConfig(tb testing.TB) Config {
	tb.Helper()
	key := func(n int) []byte {
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			tb.Fatal(err)
		}
		return b
	}
	kek, err := cmp.NewAESKey(key(32))
	if err != nil {
		tb.Fatal(err)
	}
	mac, err := cmp.NewHMACKey("HmacSHA256", key(32))
	if err != nil {
		tb.Fatal(err)
	}
	p, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac, VerificationKey: mac})
	if err != nil {
		tb.Fatal(err)
	}
	return Config{
		TableName: "itemcrypto-bench", Provider: p,
		Default:      actions.SignOnly,
		Overrides:    map[string]actions.Action{"attribute1": actions.EncryptAndSign, ":attribute3": actions.DoNothing},
		PartitionKey: "partition_key", SortKey: "sort_key",
	}
}

func benchValues(payload []byte) (benchItem, map[string]any, map[string]types.AttributeValue) {
	s := benchItem{
		PartitionKey: "BenchmarkPartitionKey", SortKey: 1, Attribute1: benchData{payload},
		Attribute2: "sign me!", Attribute3: "ignore me!",
	}
	m := map[string]any{
		"partition_key": s.PartitionKey, "sort_key": s.SortKey,
		"attribute1": map[string]any{"data": payload}, "attribute2": s.Attribute2, ":attribute3": s.Attribute3,
	}
	item := map[string]types.AttributeValue{
		"partition_key": &types.AttributeValueMemberS{Value: s.PartitionKey},
		"sort_key":      &types.AttributeValueMemberN{Value: "1"},
		"attribute1": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"data": &types.AttributeValueMemberB{Value: payload},
		}},
		"attribute2":  &types.AttributeValueMemberS{Value: s.Attribute2},
		":attribute3": &types.AttributeValueMemberS{Value: s.Attribute3},
	}
	return s, m, item
}

// benchAPI is one API's encrypt and decrypt of the workload.
type benchAPI struct {
	name    string
	encrypt func(ctx context.Context) (any, error)
	decrypt func(ctx context.Context, stored any) ([]byte, error) // attribute1's data
}

func benchAPIs(tb testing.TB, payload []byte) []benchAPI {
	tb.Helper()
	c, err := New(benchConfig(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tc, err := Typed[benchItem](c)
	if err != nil {
		tb.Fatal(err)
	}
	s, m, item := benchValues(payload)
	core := c.Encryptor()
	return []benchAPI{
		{"core",
			func(ctx context.Context) (any, error) { return core.Encrypt(ctx, item) },
			func(ctx context.Context, stored any) ([]byte, error) {
				pt, err := core.Decrypt(ctx, stored.(map[string]types.AttributeValue))
				if err != nil {
					return nil, err
				}
				return pt["attribute1"].(*types.AttributeValueMemberM).Value["data"].(*types.AttributeValueMemberB).Value, nil
			}},
		{"map",
			func(ctx context.Context) (any, error) { return c.EncryptMap(ctx, m) },
			func(ctx context.Context, stored any) ([]byte, error) {
				pt, err := c.DecryptMap(ctx, stored.(map[string]types.AttributeValue))
				if err != nil {
					return nil, err
				}
				return pt["attribute1"].(map[string]any)["data"].([]byte), nil
			}},
		{"struct",
			func(ctx context.Context) (any, error) { return tc.Encrypt(ctx, s) },
			func(ctx context.Context, stored any) ([]byte, error) {
				v, err := tc.Decrypt(ctx, stored.(map[string]types.AttributeValue))
				if err != nil {
					return nil, err
				}
				return v.Attribute1.Data, nil
			}},
		{"json",
			func(ctx context.Context) (any, error) { return tc.EncryptJSON(ctx, s) },
			func(ctx context.Context, stored any) ([]byte, error) {
				v, err := tc.DecryptJSON(ctx, stored.([]byte))
				if err != nil {
					return nil, err
				}
				return v.Attribute1.Data, nil
			}},
	}
}

// TestBenchWorkload checks every API's encrypt and decrypt of the workload,
// and that all four write items the others read (same policy).
func TestBenchWorkload(t *testing.T) {
	ctx := context.Background()
	payload := make([]byte, 1<<10)
	rand.Read(payload)
	for _, api := range benchAPIs(t, payload) {
		stored, err := api.encrypt(ctx)
		if err != nil {
			t.Fatalf("%s: encrypt: %v", api.name, err)
		}
		data, err := api.decrypt(ctx, stored)
		if err != nil {
			t.Fatalf("%s: decrypt: %v", api.name, err)
		}
		if !bytes.Equal(data, payload) {
			t.Fatalf("%s: round trip changed the payload", api.name)
		}
	}
}

// measureCPU starts counting CPU time; the returned func, called after the
// timed loop, reports it per operation as cpu-ns/op, the steadier measure on
// a shared host where sec/op includes waiting for a CPU.
func measureCPU(b *testing.B) (stop func()) {
	start := cpuTime()
	return func() {
		if d := cpuTime() - start; d > 0 && b.N > 0 {
			b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

func BenchmarkMapenc(b *testing.B) {
	ctx := context.Background()
	for _, op := range []string{"encrypt", "decrypt"} {
		b.Run(op, func(b *testing.B) {
			for _, kb := range []int{1, 10, 100} {
				b.Run(fmt.Sprintf("size=%dKB", kb), func(b *testing.B) {
					payload := make([]byte, kb<<10)
					rand.Read(payload)
					for _, api := range benchAPIs(b, payload) {
						b.Run("api="+api.name, func(b *testing.B) {
							stored, err := api.encrypt(ctx)
							if err != nil {
								b.Fatal(err)
							}
							if data, err := api.decrypt(ctx, stored); err != nil || !bytes.Equal(data, payload) {
								b.Fatalf("decrypt: %v", err)
							}
							b.SetBytes(int64(len(payload)))
							b.ReportAllocs()
							defer measureCPU(b)()
							if op == "encrypt" {
								for b.Loop() {
									if _, err := api.encrypt(ctx); err != nil {
										b.Fatal(err)
									}
								}
								return
							}
							for b.Loop() {
								if _, err := api.decrypt(ctx, stored); err != nil {
									b.Fatal(err)
								}
							}
						})
					}
				})
			}
		})
	}
}
