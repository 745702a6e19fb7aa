package hierarchy_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
)

// ctxSource is a Source whose reads wait for release or for their context,
// as a key store's DynamoDB call does.
type ctxSource struct {
	*fakeSource
	entered chan struct{}
	release chan struct{}
}

func (s ctxSource) ActiveBranchKey(ctx context.Context, id string) (*hierarchy.BranchKey, error) {
	s.entered <- struct{}{}
	select {
	case <-s.release:
		return s.fakeSource.ActiveBranchKey(ctx, id)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// One caller whose context ends while the shared branch-key fetch runs
// fails alone: the fetch belongs to no one caller, and every other caller
// with a live context gets the key (finding 4 of the security review: the
// fetch ran under the first caller's context, so its cancellation failed
// them all at each cache expiry).
func TestSharedFetchOutlivesOneCaller(t *testing.T) {
	fs := newFakeSource()
	fs.rotate(t, "bk", 1)
	src := ctxSource{fakeSource: fs, entered: make(chan struct{}, 64), release: make(chan struct{})}
	kr, err := hierarchy.New(src, func(o *hierarchy.Options) { o.BranchKeyID = "bk"; o.TTL = time.Minute })
	if err != nil {
		t.Fatal(err)
	}
	onEncrypt := func(ctx context.Context) error {
		m, err := keyring.NewEncryptionMaterials(keyring.SuiteHMAC, nil, nil)
		if err != nil {
			t.Error(err)
			return err
		}
		return kr.OnEncrypt(ctx, m)
	}
	first, cancelFirst := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() { firstErr <- onEncrypt(first) }()
	<-src.entered // the first caller's miss started the fetch

	const others = 8
	var wg sync.WaitGroup
	errs := make([]error, others)
	for i := range others {
		wg.Go(func() { errs[i] = onEncrypt(context.Background()) })
	}
	time.Sleep(50 * time.Millisecond) // let them join the fetch (a late one starts its own: also fine)
	cancelFirst()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled caller: %v, want context.Canceled", err)
	}
	close(src.release)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("caller %d with a live context failed: %v", i, err)
		}
	}
	if n := fs.count("active:bk"); n != 1 {
		t.Errorf("%d branch-key reads, want 1 shared read", n)
	}
}
