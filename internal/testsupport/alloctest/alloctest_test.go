package alloctest

import "testing"

var sink []byte

func TestBytes(t *testing.T) {
	for _, n := range []int{0, 1 << 10, 1 << 20} {
		got := Bytes(3, func() { sink = make([]byte, n) })
		if got < uint64(n) || got > uint64(n)+4<<10 {
			t.Errorf("make([]byte, %d): Bytes = %d", n, got)
		}
	}
	calls := 0
	Bytes(0, func() { calls++ })
	if calls != 1 {
		t.Errorf("runs 0: %d calls, want 1", calls)
	}
}
