//go:build !race

package dbe_test

const raceEnabled = false
