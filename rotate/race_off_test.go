//go:build !race

package rotate_test

const raceEnabled = false
