package cmp

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// countingProvider counts calls into a Wrapped provider.
type countingProvider struct {
	Provider
	enc, dec atomic.Int32
}

func (c *countingProvider) EncryptionMaterials(ctx context.Context, ec EncryptionContext) (*EncryptionMaterials, error) {
	c.enc.Add(1)
	return c.Provider.EncryptionMaterials(ctx, ec)
}

func (c *countingProvider) DecryptionMaterials(ctx context.Context, ec EncryptionContext) (*DecryptionMaterials, error) {
	c.dec.Add(1)
	return c.Provider.DecryptionMaterials(ctx, ec)
}

func newCountingWrapped(t *testing.T) *countingProvider {
	t.Helper()
	kek, err := NewAESKey(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	mac, err := NewHMACKey("", bytes.Repeat([]byte{2}, 32))
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWrapped(WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac})
	if err != nil {
		t.Fatal(err)
	}
	return &countingProvider{Provider: w}
}

func ecFor(pk string, size int) EncryptionContext {
	return EncryptionContext{
		TableName: "t", PartitionKeyName: "pk",
		Attributes: map[string]types.AttributeValue{
			"pk":   &types.AttributeValueMemberS{Value: pk},
			"data": &types.AttributeValueMemberB{Value: make([]byte, size)},
		},
	}
}

func envKeys(t *testing.T, c *Caching, ecs ...EncryptionContext) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for _, ec := range ecs {
		m, err := c.EncryptionMaterials(context.Background(), ec)
		if err != nil {
			t.Fatal(err)
		}
		seen[m.Description()[materialdesc.KeyEnvelopeKey]]++
	}
	return seen
}

func TestCachingBounds(t *testing.T) {
	repeat := func(ec EncryptionContext, n int) []EncryptionContext {
		var out []EncryptionContext
		for range n {
			out = append(out, ec)
		}
		return out
	}
	tests := []struct {
		name      string
		cfg       CachingConfig
		ecs       []EncryptionContext
		wantKeys  int // distinct content keys handed out
		wantCalls int32
	}{
		{"max items", CachingConfig{MaxAge: time.Hour, MaxItems: 3, PartitionBy: PartitionByTable}, repeat(ecFor("a", 10), 7), 3, 3},
		{"max bytes", CachingConfig{MaxAge: time.Hour, MaxItems: 100, MaxBytes: 250, PartitionBy: PartitionByTable}, repeat(ecFor("a", 100), 6), 3, 3},
		{"partition by table shares across keys", CachingConfig{MaxAge: time.Hour, MaxItems: 100, PartitionBy: PartitionByTable}, []EncryptionContext{ecFor("a", 1), ecFor("b", 1), ecFor("c", 1)}, 1, 1},
		{"default partition by item key", CachingConfig{MaxAge: time.Hour, MaxItems: 100}, []EncryptionContext{ecFor("a", 1), ecFor("b", 1), ecFor("a", 1)}, 2, 2},
		{"max items 1 is no reuse", CachingConfig{MaxAge: time.Hour, MaxItems: 1, PartitionBy: PartitionByTable}, repeat(ecFor("a", 1), 4), 4, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newCountingWrapped(t)
			c, err := NewCaching(p, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(envKeys(t, c, tt.ecs...)); got != tt.wantKeys {
				t.Errorf("%d distinct content keys, want %d", got, tt.wantKeys)
			}
			if got := p.enc.Load(); got != tt.wantCalls {
				t.Errorf("%d provider calls, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestCachingMaxAge(t *testing.T) {
	p := newCountingWrapped(t)
	c, err := NewCaching(p, CachingConfig{MaxAge: time.Minute, MaxItems: 100})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	envKeys(t, c, ecFor("a", 1), ecFor("a", 1))
	now = now.Add(time.Minute)
	envKeys(t, c, ecFor("a", 1))
	if got := p.enc.Load(); got != 2 {
		t.Errorf("%d provider calls, want 2 (one expiry)", got)
	}
}

func TestCachingZeroesOnEviction(t *testing.T) {
	p := newCountingWrapped(t)
	c, err := NewCaching(p, CachingConfig{MaxAge: time.Hour, MaxItems: 1, PartitionBy: PartitionByTable})
	if err != nil {
		t.Fatal(err)
	}
	handed, err := c.EncryptionMaterials(context.Background(), ecFor("a", 1))
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	cached := c.enc["t"].m.encryptionKey
	c.mu.Unlock()
	if &cached.key[0] == &handed.encryptionKey.key[0] {
		t.Fatal("handed-out materials share key bytes with the cache")
	}
	// The next call exceeds MaxItems: the entry is evicted and zeroed, the
	// copy handed out earlier stays intact.
	if _, err := c.EncryptionMaterials(context.Background(), ecFor("a", 1)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cached.key, make([]byte, len(cached.key))) {
		t.Error("evicted content key was not zeroed")
	}
	if bytes.Equal(handed.encryptionKey.key, make([]byte, 32)) {
		t.Error("eviction zeroed a key that was handed out")
	}
	c.Purge()
	c.mu.Lock()
	n := len(c.enc)
	c.mu.Unlock()
	if n != 0 {
		t.Errorf("%d entries after Purge", n)
	}
}

func TestCachingDecrypt(t *testing.T) {
	p := newCountingWrapped(t)
	c, err := NewCaching(p, CachingConfig{MaxAge: time.Hour, MaxItems: 10, PartitionBy: PartitionByTable})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	em, err := c.EncryptionMaterials(ctx, ecFor("a", 1))
	if err != nil {
		t.Fatal(err)
	}
	dec := ecFor("a", 1)
	dec.MaterialDescription = em.Description()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			dm, err := c.DecryptionMaterials(ctx, dec)
			if err != nil {
				t.Error(err)
				return
			}
			if !bytes.Equal(dm.DecryptionKey().key, em.EncryptionKey().key) {
				t.Error("cached decryption key differs from the encryption key")
			}
		})
	}
	wg.Wait()
	if got := p.dec.Load(); got != 1 {
		t.Errorf("%d provider decrypt calls for one description, want 1", got)
	}
	// Another partition (key value) with the same description is a separate entry.
	other := ecFor("b", 1)
	other.MaterialDescription = em.Description()
	if _, err := c.DecryptionMaterials(ctx, other); err != nil {
		t.Fatal(err)
	}
	if got := p.dec.Load(); got != 2 {
		t.Errorf("%d provider decrypt calls, want 2", got)
	}
	// Errors are not cached.
	bad := ecFor("a", 1)
	bad.MaterialDescription = materialdesc.Description{}
	for range 2 {
		if _, err := c.DecryptionMaterials(ctx, bad); err == nil {
			t.Fatal("no error for a description without a wrapped key")
		}
	}
	if got := p.dec.Load(); got != 4 {
		t.Errorf("%d provider decrypt calls, want 4 (failures are not cached)", got)
	}
}

func TestCachingConcurrent(t *testing.T) {
	p := newCountingWrapped(t)
	c, err := NewCaching(p, CachingConfig{MaxAge: time.Hour, MaxItems: 5, PartitionBy: PartitionByTable, Capacity: 2})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				ec := ecFor(string(rune('a'+(i+j)%4)), 8)
				ec.TableName = string(rune('t' + j%3))
				m, err := c.EncryptionMaterials(context.Background(), ec)
				if err != nil {
					t.Error(err)
					return
				}
				dec := ec
				dec.MaterialDescription = m.Description()
				dm, err := c.DecryptionMaterials(context.Background(), dec)
				if err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(dm.DecryptionKey().key, m.EncryptionKey().key) {
					t.Error("decryption key differs")
					return
				}
			}
		})
	}
	wg.Wait()
	if got := p.enc.Load(); got < 800/5 {
		t.Errorf("%d provider calls for 800 items with MaxItems 5, want at least 160", got)
	}
}

// TestCachingNeverZeroesProviderKeys: eviction zeroes the cache's copies
// only, never keys the wrapped provider keeps using (Static's materials are
// long-lived; Wrapped's signing key is shared by all its materials).
func TestCachingNeverZeroesProviderKeys(t *testing.T) {
	aesKey, _ := NewAESKey(bytes.Repeat([]byte{3}, 16))
	mac, _ := NewHMACKey("", bytes.Repeat([]byte{4}, 16))
	static, err := NewStatic(StaticConfig{EncryptionKey: aesKey, SigningKey: mac})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCaching(static, CachingConfig{MaxAge: time.Hour, MaxItems: 1, PartitionBy: PartitionByTable})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := c.EncryptionMaterials(context.Background(), ecFor("a", 1)); err != nil {
			t.Fatal(err)
		}
	}
	c.Purge()
	if !bytes.Equal(aesKey.key, bytes.Repeat([]byte{3}, 16)) || !bytes.Equal(mac.key, bytes.Repeat([]byte{4}, 16)) {
		t.Fatal("eviction zeroed the wrapped provider's own keys")
	}
}

func TestNewCachingValidates(t *testing.T) {
	p := newCountingWrapped(t)
	for _, cfg := range []CachingConfig{{MaxItems: 1}, {MaxAge: time.Second}, {MaxAge: -1, MaxItems: 1}} {
		if _, err := NewCaching(p, cfg); err == nil {
			t.Errorf("NewCaching(%+v) accepted", cfg)
		}
	}
	if _, err := NewCaching(nil, CachingConfig{MaxAge: 1, MaxItems: 1}); err == nil {
		t.Error("NewCaching(nil) accepted")
	}
}

// slowProvider blocks EncryptionMaterials until release is closed; started
// is closed by the first call.
type slowProvider struct {
	Provider
	once    sync.Once
	started chan struct{}
	release chan struct{}
}

func (s *slowProvider) EncryptionMaterials(ctx context.Context, ec EncryptionContext) (*EncryptionMaterials, error) {
	s.once.Do(func() { close(s.started) })
	<-s.release
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.Provider.EncryptionMaterials(ctx, ec)
}

// TestSharedCallIgnoresOneCallersCancellation: when two callers share one
// provider call, the first one giving up fails only itself.
func TestSharedCallIgnoresOneCallersCancellation(t *testing.T) {
	slow := &slowProvider{Provider: newCountingWrapped(t), started: make(chan struct{}), release: make(chan struct{})}
	c, err := NewCaching(slow, CachingConfig{MaxAge: time.Hour, MaxItems: 10, PartitionBy: PartitionByTable})
	if err != nil {
		t.Fatal(err)
	}
	ctxA, cancelA := context.WithCancel(context.Background())
	errA := make(chan error, 1)
	go func() {
		_, err := c.EncryptionMaterials(ctxA, ecFor("a", 1))
		errA <- err
	}()
	<-slow.started
	errB := make(chan error, 1)
	go func() {
		_, err := c.EncryptionMaterials(context.Background(), ecFor("a", 1))
		errB <- err
	}()
	// Let B join the shared call. Should it come late, after A has given up
	// and the call with no waiter left has stopped, it starts its own: it
	// must succeed either way.
	time.Sleep(50 * time.Millisecond)
	cancelA()
	if err := <-errA; err != context.Canceled {
		t.Errorf("cancelled caller: %v, want context.Canceled", err)
	}
	close(slow.release)
	if err := <-errB; err != nil {
		t.Errorf("live caller got %v after another caller gave up, want success", err)
	}
}
