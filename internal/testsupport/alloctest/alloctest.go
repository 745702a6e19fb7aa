// Package alloctest measures the bytes a function allocates, for the tests
// that hold this module's bounds on work and memory per input byte. It is for
// _test.go files only; nothing in the library imports it.
package alloctest

import "runtime"

// Bytes returns the fewest bytes one call of f allocated over runs calls
// (runs < 1 counts as 1), measured with the runtime's own statistics, never
// with timing. Before each call two garbage collections empty every
// sync.Pool and its victim cache, so the growth of pooled buffers is
// counted.
//
// The runtime's counter is process-wide: a goroutine left behind by an
// earlier test (a cache refresher, an HTTP server) can allocate during a
// call and only ever adds to the figure. The fewest over several runs is
// therefore the best measure of f itself, and a bound checked against it
// fails only when f really allocates more.
func Bytes(runs int, f func()) uint64 {
	least := ^uint64(0)
	for range max(runs, 1) {
		runtime.GC()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}
