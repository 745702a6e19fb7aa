//go:build race

package ddbexpr

const raceEnabled = true
