//go:build !race

package ddbjson_test

const raceEnabled = false
