package search

import (
	"errors"
	"math"
)

// ErrTooFewValues: a field with fewer than 4 distinct values has no beacon
// length that both guarantees collisions and beats a scan; combine it with
// another field in a virtual field or compound beacon instead.
var ErrTooFewValues = errors.New("search: too few distinct values for a safe beacon length")

// LengthSuggestion is SuggestLength's answer.
type LengthSuggestion struct {
	// Distinct is the number of distinct values the rule was applied to.
	Distinct int
	// Min and Max bound the safe lengths: Min is the shortest length with
	// 2^Min > sqrt(Distinct), Max the longest with 2^Max < Distinct/2.
	Min, Max int
	// Suggested is Max: the fewest false positives that still guarantee
	// collisions. Go down toward Min for more privacy.
	Suggested int
	// ValuesPerBeacon is Distinct / 2^Suggested: on average, how many
	// distinct values share one beacon value (each query reads the items
	// of all of them, so about this many times the matching items).
	ValuesPerBeacon float64
	// MostCommonShare is the share of the samples taken by the most common
	// value (0 when not computed from samples). A value much more common than
	// 1/Distinct stands out whatever the length: consider beacon partitions.
	MostCommonShare float64
}

// SuggestLength applies the DB-ESDK's rule of thumb for a standard beacon's
// length (specification searchable-encryption/beacons.md, "Beacon Length";
// developer guide "Choosing a beacon length") to a sample of an attribute's
// plaintext values. For a field with X distinct values choose a length N
// with
//
//	sqrt(X) < 2^N < X/2
//
// The upper bound guarantees collisions: every beacon value is shared by at
// least two plaintext values on average, so a beacon alone does not reveal
// which items hold the same plaintext. The lower bound keeps queries useful:
// below it each query reads so many colliding items that it approaches a
// scan. Each bit less doubles the items a query reads and discards, and halves
// how likely two items with the same beacon are to hold the same value
// (e.g. 100,000 evenly spread zip codes: 9 to 15 bits).
//
// distinct, when greater than zero, is the number of distinct values of the
// whole attribute (a sample usually sees fewer than exist); otherwise the
// sample's own count is used. A skewed distribution leaks through any length
// (a value held by half the items has a beacon held by half the items):
// MostCommonShare shows it.
func SuggestLength(samples []string, distinct int) (LengthSuggestion, error) {
	counts := make(map[string]int, len(samples))
	top := 0
	for _, s := range samples {
		counts[s]++
		top = max(top, counts[s])
	}
	var sug LengthSuggestion
	if len(samples) > 0 {
		sug.MostCommonShare = float64(top) / float64(len(samples))
	}
	sug.Distinct = distinct
	if distinct <= 0 {
		sug.Distinct = len(counts)
	}
	x := float64(sug.Distinct)
	// Max: the largest N in 1..63 with 2^N < X/2.
	for n := 1; n <= 63 && math.Ldexp(1, n) < x/2; n++ {
		sug.Max = n
	}
	// Min: the smallest N with 2^N > sqrt(X).
	sug.Min = 1
	for sug.Min < 63 && math.Ldexp(1, sug.Min) <= math.Sqrt(x) {
		sug.Min++
	}
	if sug.Max == 0 || sug.Min > sug.Max {
		return sug, ErrTooFewValues
	}
	sug.Suggested = sug.Max
	sug.ValuesPerBeacon = x / math.Ldexp(1, sug.Suggested)
	return sug, nil
}
