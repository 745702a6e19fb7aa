package mapenc

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/alloctest"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/avfuzz"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// jsonPerByte is the bound doc.go states for DecryptJSON of a document
// that fails verification: bytes allocated per byte of the document, plus
// 16 KiB (parsing, at most 16, and verifying, at most 8).
const jsonPerByte = 24

// TestDecryptJSONBoundedCost: DecryptJSON of each adversarial document of
// avfuzz.Amplifiers (the 64 KB of "Ne65000" set members among them)
// fails, and allocates within the stated bound (runtime.MemStats, pools
// emptied first).
func TestDecryptJSONBoundedCost(t *testing.T) {
	key := make([]byte, 32)
	static, err := cmp.NewStatic(cmp.StaticConfig{SigningKey: must(cmp.NewHMACKey("HmacSHA256", key))})
	if err != nil {
		t.Fatal(err)
	}
	c := newCodec(t, Config{Default: actions.SignOnly, PartitionKey: "pk", Provider: static})
	ctx := context.Background()
	for _, tc := range avfuzz.Amplifiers() {
		t.Run(tc.Name, func(t *testing.T) {
			var out map[string]types.AttributeValue
			decrypt := func() error { return c.DecryptJSON(ctx, tc.JSON, &out) }
			if err := decrypt(); err == nil || !errors.Is(err, itemcrypto.ErrAuthentication) && !errors.Is(err, ErrInvalidJSON) {
				t.Fatalf("DecryptJSON = %v; want ErrAuthentication or ErrInvalidJSON", err)
			}
			most := alloctest.Bytes(3, func() { decrypt() })
			in := uint64(len(tc.JSON))
			t.Logf("%6d bytes in: %8d allocated (%.2f/byte)", in, most, float64(most)/float64(in))
			if most > jsonPerByte*in+16<<10 {
				t.Errorf("DecryptJSON allocated %d bytes for %d; bound %d/byte + 16 KiB", most, in, jsonPerByte)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
