package ddbjson_test

import (
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/alloctest"
	"github.com/itemcrypto/go-itemcrypto/internal/avfuzz"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
)

// parsePerByte is the bound the package doc states: UnmarshalItem and
// UnmarshalValue allocate at most this many bytes per byte of input, plus
// parseSlack.
const (
	parsePerByte = 16
	parseSlack   = 16 << 10
)

// TestParseBound holds the bound on the worst shape of each of the ten
// types, and of lists and maps of them, at 1 MiB each.
func TestParseBound(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector (scripts/test runs this test without it)")
	}
	for _, tc := range avfuzz.JSONShapes(1 << 20) {
		t.Run(tc.Name, func(t *testing.T) {
			if _, err := ddbjson.UnmarshalItem(tc.JSON); err != nil {
				t.Fatal(err)
			}
			most := alloctest.Bytes(3, func() { ddbjson.UnmarshalItem(tc.JSON) })
			in := uint64(len(tc.JSON))
			t.Logf("%-40s %7d bytes in: %9d allocated (%.2f/byte)", tc.Name, in, most, float64(most)/float64(in))
			if most > parsePerByte*in+parseSlack {
				t.Errorf("UnmarshalItem allocated %d bytes for %d (%.2f/byte); bound %d/byte + %d", most, in, float64(most)/float64(in), parsePerByte, parseSlack)
			}
		})
	}
}
