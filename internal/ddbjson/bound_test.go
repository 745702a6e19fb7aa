package ddbjson_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/alloctest"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/avfuzz"
)

// The bound the package doc states: UnmarshalItem and UnmarshalValue
// allocate at most parsePerByte bytes per byte of input, plus parsePerMap
// for each map (M, or the item) that is not empty, plus parseSlack; and
// whatever the input, at most parseMost per byte plus parseSlack.
const (
	parsePerByte = 16
	parsePerMap  = 288 // the first group of 8 slots of a Go map of attribute values
	parseMost    = 32
	parseSlack   = 16 << 10
)

// TestParseBound holds the bound on the worst shape of each of the ten
// types, and of lists and maps of them (avfuzz.JSONShapes): sets of empty
// and one-character members, lists of the smallest values, maps and items of
// many tiny entries, lists and maps nested to the limit. At 1 MiB, and at
// 100 KiB, where the map of tiny entries (7,300 entries of two-character
// names) is just past a doubling of Go's map, its largest per entry.
func TestParseBound(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector (scripts/test runs this test without it)")
	}
	for _, size := range []int{1 << 20, 100 << 10} {
		for _, tc := range avfuzz.JSONShapes(size) {
			t.Run(fmt.Sprint(size>>10, "KiB/", tc.Name), func(t *testing.T) {
				item, err := ddbjson.UnmarshalItem(tc.JSON)
				if err != nil {
					t.Fatal(err)
				}
				parse := func() { ddbjson.UnmarshalItem(tc.JSON) }
				most := alloctest.Bytes(3, parse)
				in, maps := uint64(len(tc.JSON)), nonEmptyMaps(item)
				t.Logf("%-40s %7d bytes in, %6d non-empty maps: %9d bytes (%5.2f/byte), %7.0f allocations",
					tc.Name, in, maps, most, float64(most)/float64(in), testing.AllocsPerRun(1, parse))
				if most > parsePerByte*in+parsePerMap*maps+parseSlack {
					t.Errorf("UnmarshalItem allocated %d bytes for %d with %d non-empty maps; bound %d/byte + %d/map + %d",
						most, in, maps, parsePerByte, parsePerMap, parseSlack)
				}
				if most > parseMost*in+parseSlack {
					t.Errorf("UnmarshalItem allocated %d bytes for %d (%.2f/byte); bound %d/byte + %d",
						most, in, float64(most)/float64(in), parseMost, parseSlack)
				}
			})
		}
	}
}

// TestParseBoundValue: UnmarshalValue, the same parser, holds the same
// bound on the worst shapes of the sets, lists and maps.
func TestParseBoundValue(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector (scripts/test runs this test without it)")
	}
	for _, tc := range []struct{ name, open, elem, close string }{
		{"SS of empty members", `{"SS":[`, `""`, `]}`},
		{"BS of empty members", `{"BS":[`, `""`, `]}`},
		{"list of empty maps", `{"L":[`, `{"M":{}}`, `]}`},
		{"list of maps of one empty map", `{"L":[`, `{"M":{"":{"M":{}}}}`, `]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.open)
			for len(data) < 1<<20 {
				data = append(data, tc.elem...)
				data = append(data, ',')
			}
			data = append(data[:len(data)-1], tc.close...)
			v, err := ddbjson.UnmarshalValue(data)
			if err != nil {
				t.Fatal(err)
			}
			most := alloctest.Bytes(3, func() { ddbjson.UnmarshalValue(data) })
			in, maps := uint64(len(data)), nonEmptyMapsIn(v)
			t.Logf("%7d bytes in: %9d bytes (%.2f/byte)", in, most, float64(most)/float64(in))
			if most > parsePerByte*in+parsePerMap*maps+parseSlack || most > parseMost*in+parseSlack {
				t.Errorf("UnmarshalValue allocated %d bytes for %d with %d non-empty maps", most, in, maps)
			}
		})
	}
}

func nonEmptyMaps(item map[string]types.AttributeValue) uint64 {
	var n uint64
	if len(item) > 0 {
		n++
	}
	for _, v := range item {
		n += nonEmptyMapsIn(v)
	}
	return n
}

func nonEmptyMapsIn(v types.AttributeValue) uint64 {
	switch v := v.(type) {
	case *types.AttributeValueMemberM:
		return nonEmptyMaps(v.Value)
	case *types.AttributeValueMemberL:
		var n uint64
		for _, e := range v.Value {
			n += nonEmptyMapsIn(e)
		}
		return n
	}
	return 0
}
