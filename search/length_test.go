package search

import (
	"errors"
	"fmt"
	"testing"
)

func TestSuggestLength(t *testing.T) {
	for _, tc := range []struct {
		distinct, min, max int
	}{
		{100000, 9, 15}, // the specification's zip code example
		{4, 2, 0},       // too few: no safe length
		{8, 2, 1},
		{16, 3, 2}, // 2^3 > 4 but 2^3 is not < 8: none
		{64, 4, 4},
		{1 << 20, 11, 18},
	} {
		sug, err := SuggestLength(nil, tc.distinct)
		if sug.Min != tc.min || sug.Max != tc.max {
			t.Errorf("X=%d: min %d max %d, want %d %d", tc.distinct, sug.Min, sug.Max, tc.min, tc.max)
		}
		if (tc.min > tc.max) != errors.Is(err, ErrTooFewValues) {
			t.Errorf("X=%d: err %v", tc.distinct, err)
		}
		if err == nil && (sug.Suggested != tc.max || sug.ValuesPerBeacon < 2) {
			t.Errorf("X=%d: suggested %d, %.2f values per beacon", tc.distinct, sug.Suggested, sug.ValuesPerBeacon)
		}
	}
	// From samples: 1000 distinct values, one of them in half the samples.
	var samples []string
	for i := range 1000 {
		samples = append(samples, fmt.Sprint(i), "common")
	}
	sug, err := SuggestLength(samples, 0)
	if err != nil || sug.Distinct != 1001 || sug.Max != 8 || sug.Min != 5 || sug.MostCommonShare != 0.5 {
		t.Errorf("samples: %+v, %v", sug, err)
	}
}
