//go:build race

package rotate

const raceOn = true
