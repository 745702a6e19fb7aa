package cmp

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// ttlCache is a size-bounded LRU whose entries also expire after ttl,
// checked on read: no background goroutine, so a provider that is dropped
// leaves nothing running. Safe for concurrent use.
type ttlCache[K comparable, V any] struct {
	c   *lru.Cache[K, ttlEntry[V]]
	ttl time.Duration
	now func() time.Time
}

type ttlEntry[V any] struct {
	v  V
	at time.Time
}

// newTTLCache returns a cache of size entries; onEvict (may be nil) runs for
// every entry that leaves it, by expiry, size, removal or purge.
func newTTLCache[K comparable, V any](size int, ttl time.Duration, onEvict func(K, V)) *ttlCache[K, V] {
	var cb func(K, ttlEntry[V])
	if onEvict != nil {
		cb = func(k K, e ttlEntry[V]) { onEvict(k, e.v) }
	}
	c, err := lru.NewWithEvict[K, ttlEntry[V]](size, cb)
	if err != nil {
		panic(err) // size <= 0: callers validate it
	}
	return &ttlCache[K, V]{c: c, ttl: ttl, now: time.Now}
}

func (t *ttlCache[K, V]) Get(k K) (V, bool) {
	e, ok := t.c.Get(k)
	if ok && t.now().Sub(e.at) < t.ttl {
		return e.v, true
	}
	if ok {
		t.c.Remove(k)
	}
	var zero V
	return zero, false
}

func (t *ttlCache[K, V]) Add(k K, v V) { t.c.Add(k, ttlEntry[V]{v: v, at: t.now()}) }

func (t *ttlCache[K, V]) Purge() { t.c.Purge() }
