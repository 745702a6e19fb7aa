//go:build race

package mapenc

const raceEnabled = true
