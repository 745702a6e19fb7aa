//go:build race

package itemcrypto_test

// The race detector makes sync.Pool drop entries at random, so allocation
// counts are only meaningful without it; scripts/test runs the allocation
// tests once more without -race.
const raceEnabled = true
