// Package flight shares one call among the concurrent callers that ask for
// the same key (a key-store read, a KMS call, a provider's materials) so
// that a cache miss under load makes one request, not one per caller.
//
// Unlike golang.org/x/sync/singleflight, the shared call belongs to no one
// caller: it runs under a context that carries the first caller's values
// but none of its deadline or cancellation, and it is cancelled only when
// every caller waiting for it has given up. One caller that times out never
// fails the others, and a call nobody waits for any more does not run on.
package flight

import (
	"context"
	"sync"
)

// Group runs calls by key. The zero Group is ready to use; it must not be
// copied after first use.
type Group[V any] struct {
	mu    sync.Mutex
	calls map[string]*call[V]
}

type call[V any] struct {
	done    chan struct{}
	val     V
	err     error
	waiters int  // callers waiting; the call is cancelled when it drops to 0
	pinned  bool // started by Start: runs to its end whoever waits
	cancel  context.CancelFunc
}

// Do returns the result of fn for key, running fn at most once for all the
// callers that ask while it runs. fn runs in a goroutine of its own under a
// context with ctx's values, without its deadline or cancellation, which
// is cancelled when the last waiting caller gives up. Do returns when fn
// does, or with ctx.Err() when ctx ends first.
func (g *Group[V]) Do(ctx context.Context, key string, fn func(context.Context) (V, error)) (V, error) {
	g.mu.Lock()
	c := g.join(ctx, key, fn)
	c.waiters++
	g.mu.Unlock()
	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		g.mu.Lock()
		c.waiters--
		if c.waiters == 0 && !c.pinned {
			c.cancel()
			if g.calls[key] == c {
				// A later caller starts afresh rather than joining a call
				// that is being cancelled.
				delete(g.calls, key)
			}
		}
		g.mu.Unlock()
		var zero V
		return zero, ctx.Err()
	}
}

// Start runs fn for key in the background unless a call for key is already
// running, and returns at once. The call runs to its end whatever its
// waiters do (a refresh ahead of expiry that no caller waits for); callers
// of Do with the same key meanwhile share it.
func (g *Group[V]) Start(ctx context.Context, key string, fn func(context.Context) (V, error)) {
	g.mu.Lock()
	g.join(ctx, key, fn).pinned = true
	g.mu.Unlock()
}

// join returns the running call for key, starting one if there is none.
// g.mu is held.
func (g *Group[V]) join(ctx context.Context, key string, fn func(context.Context) (V, error)) *call[V] {
	if c, ok := g.calls[key]; ok {
		return c
	}
	if g.calls == nil {
		g.calls = make(map[string]*call[V])
	}
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c := &call[V]{done: make(chan struct{}), cancel: cancel}
	g.calls[key] = c
	go func() {
		defer cancel()
		v, err := fn(fctx)
		g.mu.Lock()
		c.val, c.err = v, err
		if g.calls[key] == c {
			delete(g.calls, key)
		}
		g.mu.Unlock()
		close(c.done)
	}()
	return c
}
