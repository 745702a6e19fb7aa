//go:build !race

package rotate

// raceOn reports whether the race detector is on (allocation figures are
// meaningless under it).
const raceOn = false
