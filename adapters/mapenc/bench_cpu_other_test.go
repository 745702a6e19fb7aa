//go:build !unix

package mapenc

import "time"

// cpuTime is unavailable here: no cpu-ns/op metric.
func cpuTime() time.Duration { return 0 }
