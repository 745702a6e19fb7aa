package mapenc

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/alloctest"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/avfuzz"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// The bound UnmarshalJSON's doc states for DecryptJSON of a document that
// fails verification: jsonPerByte bytes allocated per byte of the document
// (parsing, at most 16, and verifying, at most 8), plus jsonPerMap for each
// map (M, or the item) that is not empty (the first group of 8 slots of a
// Go map of attribute values), plus 16 KiB; and whatever the document, at
// most jsonMost per byte plus 16 KiB.
const (
	jsonPerByte = 24
	jsonPerMap  = 288
	jsonMost    = 32
)

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

// TestDecryptJSONBound holds the bound on the worst shape of each of
// DynamoDB's ten types, and of lists and maps of them (avfuzz.JSONShapes:
// sets of empty and one-character members, lists of the smallest values,
// maps and items of many tiny entries, nesting to the limit). At 1 MiB,
// which Decrypt refuses as larger than an item can be once it has measured
// it; at 300 KiB, which it verifies; and at 100 KiB, where the map of tiny
// entries is just past a doubling of Go's map, its largest per entry.
func TestDecryptJSONBound(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector (scripts/test runs this test without it)")
	}
	key := make([]byte, 32)
	static, err := cmp.NewStatic(cmp.StaticConfig{SigningKey: must(cmp.NewHMACKey("HmacSHA256", key))})
	if err != nil {
		t.Fatal(err)
	}
	c := newCodec(t, Config{Default: actions.SignOnly, PartitionKey: "pk", Provider: static})
	ctx := context.Background()
	for _, size := range []int{1 << 20, 300 << 10, 100 << 10} {
		for _, tc := range avfuzz.JSONShapes(size) {
			t.Run(fmt.Sprint(size>>10, "KiB/", tc.Name), func(t *testing.T) {
				var out map[string]types.AttributeValue
				decrypt := func() error { return c.DecryptJSON(ctx, tc.JSON, &out) }
				if err := decrypt(); !errors.Is(err, itemcrypto.ErrAuthentication) {
					t.Fatalf("DecryptJSON = %v; want ErrAuthentication", err)
				}
				item, err := UnmarshalJSON(tc.JSON)
				if err != nil {
					t.Fatal(err)
				}
				most := alloctest.Bytes(3, func() { decrypt() })
				in, maps := uint64(len(tc.JSON)), nonEmptyMaps(item)
				t.Logf("%-40s %7d bytes in, %6d non-empty maps: %9d bytes (%5.2f/byte), %7.0f allocations",
					tc.Name, in, maps, most, float64(most)/float64(in), testing.AllocsPerRun(1, func() { decrypt() }))
				if most > jsonPerByte*in+jsonPerMap*maps+16<<10 {
					t.Errorf("DecryptJSON allocated %d bytes for %d with %d non-empty maps; bound %d/byte + %d/map + 16 KiB",
						most, in, maps, jsonPerByte, jsonPerMap)
				}
				if most > jsonMost*in+16<<10 {
					t.Errorf("DecryptJSON allocated %d bytes for %d (%.2f/byte); bound %d/byte + 16 KiB",
						most, in, float64(most)/float64(in), jsonMost)
				}
			})
		}
	}
}

// nonEmptyMaps counts the maps of item, itself included, that are not empty.
func nonEmptyMaps(item map[string]types.AttributeValue) uint64 {
	var n uint64
	if len(item) > 0 {
		n++
	}
	var walk func(types.AttributeValue)
	walk = func(v types.AttributeValue) {
		switch v := v.(type) {
		case *types.AttributeValueMemberM:
			n += nonEmptyMaps(v.Value)
		case *types.AttributeValueMemberL:
			for _, e := range v.Value {
				walk(e)
			}
		}
	}
	for _, v := range item {
		walk(v)
	}
	return n
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
