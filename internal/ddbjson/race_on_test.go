//go:build race

package ddbjson_test

// The race detector changes what the runtime allocates, so allocation
// counts are only meaningful without it; scripts/test runs the allocation
// tests once more without -race.
const raceEnabled = true
