// Package bufpool lends byte buffers for serialized plaintext. A buffer is
// cleared (its whole capacity) before it goes back, so no plaintext outlives
// its use; buffers above 1 MiB are cleared and left to the GC.
package bufpool

import "sync"

var pool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// Get returns an empty buffer and its handle for Put.
func Get() (*[]byte, []byte) {
	p := pool.Get().(*[]byte)
	return p, (*p)[:0]
}

// Put clears b (which grew from the buffer of p) and returns it.
func Put(p *[]byte, b []byte) {
	clear(b[:cap(b)])
	if cap(b) > 1<<20 {
		return
	}
	*p = b[:0]
	pool.Put(p)
}
