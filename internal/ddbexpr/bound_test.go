package ddbexpr

import (
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/alloctest"
)

// boundInputs are expressions near MaxExprLen of the shapes that cost
// Parse the most per byte.
func boundInputs() map[string]string {
	pad := func(s string) string { return s + strings.Repeat(" ", MaxExprLen-len(s)) }
	return map[string]string{
		"short names":   repeatJoin("a = :v", " AND ", 150),
		"in lists":      repeatJoin("a IN ("+repeatJoin(":v", ",", 99)+")", " OR ", 13),
		"deep paths":    repeatJoin("a"+strings.Repeat(".b", 31)+" = :v", " OR ", 56),
		"index paths":   repeatJoin("a"+strings.Repeat("[1]", 31)+" = :v", " OR ", 39),
		"nesting":       strings.Repeat("(a=:v OR ", MaxNesting) + "a=:v" + strings.Repeat(")", MaxNesting),
		"nots":          strings.Repeat("NOT (", MaxNesting/2-1) + "NOT a=:v" + strings.Repeat(")", MaxNesting/2-1),
		"redundant":     strings.Repeat("(", MaxNesting) + "a = :v" + strings.Repeat(")", MaxNesting),
		"functions":     repeatJoin("begins_with(#n.#c, :p)", " OR ", 150),
		"sizes":         repeatJoin("size(a) < size(b)", " OR ", 75),
		"padding":       pad("a = :v"),
		"placeholders":  repeatJoin("#n = :v", " AND ", 150),
		"long names":    pad(strings.Repeat("x", 4000) + " = :v"),
		"between":       repeatJoin("a BETWEEN :lo AND :hi", " AND ", 150),
		"comma refused": strings.Repeat(",", MaxExprLen),
		"tiny":          "a=:v",
		"refused late":  repeatJoin("a"+strings.Repeat(".b", 31)+" = :v", " OR ", 55) + " OR",
	}
}

// TestParseAllocBound holds the bound the package documentation states:
// for n input bytes, accepted or refused, Parse allocates at most
// 1 KiB + 32·n bytes in at most 8 + n/2 allocations.
func TestParseAllocBound(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	const fixedBytes, perByteBytes, fixedAllocs = 1024, 32, 8
	values := testValues()
	for name, expr := range boundInputs() {
		if len(expr) > MaxExprLen {
			t.Fatalf("%s: %d bytes, more than the limit", name, len(expr))
		}
		_, parseErr := Parse(expr, testNames, values)
		allocs := testing.AllocsPerRun(20, func() { _, _ = Parse(expr, testNames, values) })
		bytes := float64(alloctest.Bytes(3, func() { _, _ = Parse(expr, testNames, values) }))
		t.Logf("%-13s %4d bytes in: %6.0f bytes, %5.0f allocs (%.1f B/byte, %.2f allocs/byte) err=%v",
			name, len(expr), bytes, allocs, bytes/float64(len(expr)), allocs/float64(len(expr)), parseErr != nil)
		if limit := float64(fixedBytes + perByteBytes*len(expr)); bytes > limit {
			t.Errorf("%s: %.0f bytes for %d input bytes, more than %.0f", name, bytes, len(expr), limit)
		}
		if limit := float64(fixedAllocs + len(expr)/2); allocs > limit {
			t.Errorf("%s: %.0f allocations for %d input bytes, more than %.0f", name, allocs, len(expr), limit)
		}
	}
}
