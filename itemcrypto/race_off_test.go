//go:build !race

package itemcrypto_test

const raceEnabled = false
