package flight

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// One caller giving up never fails the others: the shared call runs on for
// them, and each gets its result.
func TestCancelledWaiterDoesNotFailOthers(t *testing.T) {
	var g Group[int]
	var calls atomic.Int32
	release := make(chan struct{})
	fn := func(ctx context.Context) (int, error) {
		calls.Add(1)
		select {
		case <-release:
			return 42, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	first, cancelFirst := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() { _, err := g.Do(first, "k", fn); firstErr <- err }()
	waitFor(t, func() bool { return calls.Load() == 1 })

	const others = 8
	var wg sync.WaitGroup
	results := make(chan error, others)
	for range others {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := g.Do(context.Background(), "k", fn)
			if err == nil && v != 42 {
				err = errors.New("wrong value")
			}
			results <- err
		}()
	}
	waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.calls["k"].waiters == others+1 })
	cancelFirst()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("first caller: %v, want its own context.Canceled", err)
	}
	close(release)
	wg.Wait()
	close(results)
	for err := range results {
		if err != nil {
			t.Fatalf("another caller failed: %v", err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("fn ran %d times, want 1", n)
	}
}

// The first caller's deadline is not the shared call's: values pass, the
// deadline does not.
func TestSharedCallKeepsValuesNotDeadline(t *testing.T) {
	var g Group[bool]
	type key struct{}
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), key{}, "v"), time.Hour)
	defer cancel()
	ok, err := g.Do(ctx, "k", func(ctx context.Context) (bool, error) {
		_, has := ctx.Deadline()
		return ctx.Value(key{}) == "v" && !has, nil
	})
	if err != nil || !ok {
		t.Fatalf("shared call saw the caller's deadline or lost its values: %v %v", ok, err)
	}
}

// When every waiter has given up, the call is cancelled and a later caller
// starts a new one.
func TestLastWaiterGoneCancels(t *testing.T) {
	var g Group[int]
	stopped := make(chan struct{})
	var calls atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := g.Do(ctx, "k", func(ctx context.Context) (int, error) {
			calls.Add(1)
			<-ctx.Done()
			close(stopped)
			return 0, ctx.Err()
		})
		done <- err
	}()
	waitFor(t, func() bool { return calls.Load() == 1 })
	cancel()
	<-done
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the shared call ran on with no waiter left")
	}
	v, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 7, nil })
	if err != nil || v != 7 {
		t.Fatalf("a later caller: %v %v, want a fresh call", v, err)
	}
}

// Start's call runs to its end with no waiter, and Do callers share it.
func TestStartRunsWithoutWaiters(t *testing.T) {
	var g Group[int]
	release := make(chan struct{})
	var calls atomic.Int32
	fn := func(ctx context.Context) (int, error) {
		calls.Add(1)
		select {
		case <-release:
			return 1, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.Start(ctx, "k", fn)
	cancel()
	short, cancelShort := context.WithCancel(context.Background())
	cancelShort()
	if _, err := g.Do(short, "k", fn); !errors.Is(err, context.Canceled) {
		t.Fatalf("Do with a cancelled context: %v", err)
	}
	close(release)
	v, err := g.Do(context.Background(), "k", fn)
	if err != nil || v != 1 || calls.Load() > 2 {
		t.Fatalf("after Start: %v %v, %d calls", v, err, calls.Load())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not reached")
}
