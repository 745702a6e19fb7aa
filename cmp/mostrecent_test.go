package cmp_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/metastore"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// The grace period after the TTL during which an expired newest version may
// still serve (spec §8.8: 500 ms in both references).
const mrGrace = 500 * time.Millisecond

// metaProvider protects the meta items: a Wrapped provider with AES and
// HMAC keys.
func metaProvider(t testing.TB) cmp.Provider {
	t.Helper()
	kek := mustAES(t, repeat(0x5a, 32))
	p, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mustHMAC(t, "HmacSHA256", repeat(0x6b, 32))})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newMemoryStore(t testing.TB) *metastore.Memory {
	t.Helper()
	m, err := metastore.NewMemory("meta-table", metaProvider(t))
	if err != nil {
		t.Fatalf("NewMemory: %v", err)
	}
	return m
}

func newMostRecent(t testing.TB, store cmp.ProviderStore, name string, ttl time.Duration) *cmp.MostRecent {
	t.Helper()
	mr, err := cmp.NewMostRecent(cmp.MostRecentConfig{Store: store, MaterialName: name, TTL: ttl})
	if err != nil {
		t.Fatalf("NewMostRecent: %v", err)
	}
	return mr
}

// countingStore counts the calls that reach a ProviderStore. delay, when
// set, holds every call that long, so that concurrent callers pile up.
type countingStore struct {
	inner                        cmp.ProviderStore
	delay                        time.Duration
	maxVersion, provider, create atomic.Int64
	mu                           sync.Mutex
	failMax                      error // returned by MaxVersion while set
}

func (c *countingStore) wait() {
	if c.delay > 0 {
		time.Sleep(c.delay)
	}
}

func (c *countingStore) Provider(ctx context.Context, name string, version int64) (cmp.Provider, error) {
	c.provider.Add(1)
	c.wait()
	return c.inner.Provider(ctx, name, version)
}

func (c *countingStore) MaxVersion(ctx context.Context, name string) (int64, error) {
	c.maxVersion.Add(1)
	c.wait()
	c.mu.Lock()
	err := c.failMax
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return c.inner.MaxVersion(ctx, name)
}

func (c *countingStore) CreateProvider(ctx context.Context, name string, version int64) (cmp.Provider, error) {
	c.create.Add(1)
	c.wait()
	return c.inner.CreateProvider(ctx, name, version)
}

func (c *countingStore) counts() [3]int64 {
	return [3]int64{c.maxVersion.Load(), c.provider.Load(), c.create.Load()}
}

func metaID(t testing.TB, stored itemcrypto.Item) string {
	t.Helper()
	return storedDesc(t, stored)[materialdesc.KeyMetaID]
}

func encryptOne(t testing.TB, enc *itemcrypto.Encryptor, id string) (itemcrypto.Item, itemcrypto.Item) {
	t.Helper()
	item := itemcrypto.Item{"id": s(id), "data": s("data of " + id)}
	stored, err := enc.Encrypt(context.Background(), item)
	if err != nil {
		t.Fatalf("Encrypt %s: %v", id, err)
	}
	return item, stored
}

func TestMostRecentFirstUseCreatesVersion0(t *testing.T) {
	store := &countingStore{inner: newMemoryStore(t)}
	mr := newMostRecent(t, store, "mat", time.Hour)
	enc := newItemEncryptor(t, "data", "id", "", mr)
	item, stored := encryptOne(t, enc, "a")

	if got := store.counts(); got != [3]int64{1, 0, 1} {
		t.Errorf("store calls (MaxVersion, Provider, CreateProvider) = %v, want [1 0 1]", got)
	}
	if v, err := store.inner.MaxVersion(context.Background(), "mat"); err != nil || v != 0 {
		t.Errorf("MaxVersion after first encrypt = %d, %v; want 0", v, err)
	}
	d := storedDesc(t, stored)
	for k, want := range map[string]string{
		materialdesc.KeyMetaID:      "mat#0",
		materialdesc.KeyWrapAlg:     materialdesc.WrapAESKW,
		materialdesc.KeyEnvelopeAlg: "AES/256",
		materialdesc.KeySymMode:     materialdesc.SymModeCBC,
	} {
		if d[k] != want {
			t.Errorf("description[%s] = %q, want %q", k, d[k], want)
		}
	}
	if v, err := mr.CurrentVersion(context.Background()); err != nil || v != 0 {
		t.Errorf("CurrentVersion = %d, %v; want 0", v, err)
	}
	got, err := enc.Decrypt(context.Background(), stored)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	sameItem(t, got, item)
	// A second item uses the cached version: no store call.
	encryptOne(t, enc, "b")
	if got := store.counts(); got != [3]int64{1, 0, 1} {
		t.Errorf("store calls after a second item = %v, want [1 0 1]", got)
	}
}

// TestMostRecentRotation: after RotateProvider, writers move to the new
// version once their TTL (plus the grace period) has passed; items of the
// old version stay readable, by this provider and by a fresh one.
func TestMostRecentRotation(t *testing.T) {
	const ttl = 300 * time.Millisecond
	store := newMemoryStore(t)
	mr := newMostRecent(t, store, "mat", ttl)
	enc := newItemEncryptor(t, "data", "id", "", mr)
	ctx := context.Background()

	itemA, storedA := encryptOne(t, enc, "a")
	if v, err := cmp.RotateProvider(ctx, store, "mat"); err != nil || v != 1 {
		t.Fatalf("RotateProvider = %d, %v; want 1", v, err)
	}
	itemB, storedB := encryptOne(t, enc, "b") // within the TTL
	time.Sleep(ttl + mrGrace + 100*time.Millisecond)
	itemC, storedC := encryptOne(t, enc, "c")

	for _, tc := range []struct {
		stored itemcrypto.Item
		want   string
	}{{storedA, "mat#0"}, {storedB, "mat#0"}, {storedC, "mat#1"}} {
		if got := metaID(t, tc.stored); got != tc.want {
			t.Errorf("meta-id of item %v = %q, want %q", tc.stored["id"], got, tc.want)
		}
	}
	fresh := newItemEncryptor(t, "data", "id", "", newMostRecent(t, store, "mat", ttl))
	for _, r := range []*itemcrypto.Encryptor{enc, fresh} {
		for _, tc := range []struct{ item, stored itemcrypto.Item }{{itemA, storedA}, {itemB, storedB}, {itemC, storedC}} {
			got, err := r.Decrypt(ctx, tc.stored)
			if err != nil {
				t.Fatalf("Decrypt %v: %v", tc.item["id"], err)
			}
			sameItem(t, got, tc.item)
		}
	}
	if v, err := cmp.RotateProvider(ctx, store, "mat"); err != nil || v != 2 {
		t.Errorf("second RotateProvider = %d, %v; want 2", v, err)
	}
	if v, err := cmp.RotateProvider(ctx, store, "new-material"); err != nil || v != 0 {
		t.Errorf("RotateProvider of a new material = %d, %v; want 0", v, err)
	}
}

// TestMostRecentGracePeriod: within the grace period after the TTL, the
// expired version still serves while one caller refreshes it.
func TestMostRecentGracePeriod(t *testing.T) {
	const ttl = 200 * time.Millisecond
	store := &countingStore{inner: newMemoryStore(t)}
	mr := newMostRecent(t, store, "mat", ttl)
	ctx := context.Background()
	if v, err := mr.CurrentVersion(ctx); err != nil || v != 0 {
		t.Fatalf("CurrentVersion = %d, %v", v, err)
	}
	if _, err := cmp.RotateProvider(ctx, store.inner, "mat"); err != nil {
		t.Fatal(err)
	}
	store.delay = 100 * time.Millisecond // set before any concurrent use
	before := store.counts()
	time.Sleep(ttl + 20*time.Millisecond)

	var wg sync.WaitGroup
	versions := make(chan int64, 20)
	start := time.Now()
	for range 20 {
		wg.Go(func() {
			v, err := mr.CurrentVersion(ctx)
			if err != nil {
				t.Error(err)
			}
			versions <- v
		})
	}
	wg.Wait()
	if d := time.Since(start); d >= store.delay {
		t.Errorf("callers in the grace period waited %v for the refresh", d)
	}
	close(versions)
	for v := range versions {
		if v != 0 {
			t.Errorf("CurrentVersion in the grace period = %d, want the expired version 0", v)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		v, err := mr.CurrentVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the background refresh never moved to version 1")
		}
		time.Sleep(10 * time.Millisecond)
	}
	after := store.counts()
	if got := after[0] - before[0]; got != 1 {
		t.Errorf("MaxVersion calls for the refresh = %d, want 1", got)
	}
}

// TestMostRecentVersionCacheExpires: a version read for decryption is
// reloaded from the store (re-authorised) after the TTL.
func TestMostRecentVersionCacheExpires(t *testing.T) {
	const ttl = 100 * time.Millisecond
	inner := newMemoryStore(t)
	_, stored := encryptOne(t, newItemEncryptor(t, "data", "id", "", newMostRecent(t, inner, "mat", time.Hour)), "a")
	store := &countingStore{inner: inner}
	enc := newItemEncryptor(t, "data", "id", "", newMostRecent(t, store, "mat", ttl))
	ctx := context.Background()
	for range 3 {
		if _, err := enc.Decrypt(ctx, stored); err != nil {
			t.Fatal(err)
		}
	}
	if got := store.provider.Load(); got != 1 {
		t.Errorf("Provider calls for 3 decrypts within the TTL = %d, want 1", got)
	}
	time.Sleep(ttl + 50*time.Millisecond)
	if _, err := enc.Decrypt(ctx, stored); err != nil {
		t.Fatal(err)
	}
	if got := store.provider.Load(); got != 2 {
		t.Errorf("Provider calls after the TTL = %d, want 2", got)
	}
}

func TestMostRecentRefresh(t *testing.T) {
	store := &countingStore{inner: newMemoryStore(t)}
	mr := newMostRecent(t, store, "mat", time.Hour)
	enc := newItemEncryptor(t, "data", "id", "", mr)
	ctx := context.Background()
	_, stored0 := encryptOne(t, enc, "a")
	if _, err := enc.Decrypt(ctx, stored0); err != nil {
		t.Fatal(err)
	}
	if _, err := cmp.RotateProvider(ctx, store.inner, "mat"); err != nil {
		t.Fatal(err)
	}
	if v, _ := mr.CurrentVersion(ctx); v != 0 {
		t.Errorf("CurrentVersion before Refresh = %d, want the cached 0", v)
	}
	before := store.counts()
	mr.Refresh()
	if v, err := mr.CurrentVersion(ctx); err != nil || v != 1 {
		t.Errorf("CurrentVersion after Refresh = %d, %v; want 1", v, err)
	}
	if _, s1 := encryptOne(t, enc, "b"); metaID(t, s1) != "mat#1" {
		t.Errorf("item after Refresh has meta-id %q, want mat#1", metaID(t, s1))
	}
	if _, err := enc.Decrypt(ctx, stored0); err != nil {
		t.Fatal(err)
	}
	after := store.counts()
	// One MaxVersion and Provider(1) for the newest, one Provider(0) for
	// the old item whose cached version Refresh dropped.
	if got := [3]int64{after[0] - before[0], after[1] - before[1], after[2] - before[2]}; got != [3]int64{1, 2, 0} {
		t.Errorf("store calls after Refresh (MaxVersion, Provider, CreateProvider) = %v, want [1 2 0]", got)
	}
}

func TestMostRecentDecryptUnknownVersion(t *testing.T) {
	store := newMemoryStore(t)
	enc := newItemEncryptor(t, "data", "id", "", newMostRecent(t, store, "mat", time.Hour))
	ctx := context.Background()
	_, stored := encryptOne(t, enc, "a")
	if _, err := cmp.RotateProvider(ctx, store, "mat"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		metaID *string // nil: delete
		want   []error
	}{
		{"version that does not exist", ptr("mat#7"), []error{cmp.ErrNoMaterials, cmp.ErrVersionNotFound, itemcrypto.ErrAuthentication}},
		{"meta-id missing", nil, []error{cmp.ErrNoMaterials, itemcrypto.ErrAuthentication}},
		{"version not a number", ptr("mat#x"), []error{cmp.ErrNoMaterials, itemcrypto.ErrAuthentication}},
		{"no version", ptr("mat"), []error{cmp.ErrNoMaterials, itemcrypto.ErrAuthentication}},
		{"another existing version", ptr("mat#1"), []error{itemcrypto.ErrAuthentication}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			item := withDesc(t, stored, func(d materialdesc.Description) {
				if tc.metaID == nil {
					delete(d, materialdesc.KeyMetaID)
				} else {
					d[materialdesc.KeyMetaID] = *tc.metaID
				}
			})
			got, err := enc.Decrypt(ctx, item)
			if got != nil {
				t.Errorf("Decrypt returned an item: %v", got)
			}
			for _, want := range tc.want {
				if !errors.Is(err, want) {
					t.Errorf("Decrypt error %v does not match %v", err, want)
				}
			}
		})
	}
	// The unknown version must not have been created by the reader.
	if v, err := store.MaxVersion(ctx, "mat"); err != nil || v != 1 {
		t.Errorf("MaxVersion after reading unknown versions = %d, %v; want 1", v, err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestMostRecentStoreFailure: a failing store is reported, not cached.
func TestMostRecentStoreFailure(t *testing.T) {
	store := &countingStore{inner: newMemoryStore(t)}
	boom := errors.New("store unavailable")
	store.failMax = boom
	enc := newItemEncryptor(t, "data", "id", "", newMostRecent(t, store, "mat", time.Hour))
	ctx := context.Background()
	out, err := enc.Encrypt(ctx, itemcrypto.Item{"id": s("a")})
	if !errors.Is(err, boom) || out != nil {
		t.Errorf("Encrypt with a failing store = %v, %v; want nil and the store's error", out, err)
	}
	if errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Errorf("store failure matches ErrAuthentication: %v", err)
	}
	store.mu.Lock()
	store.failMax = nil
	store.mu.Unlock()
	if _, stored := encryptOne(t, enc, "a"); metaID(t, stored) != "mat#0" {
		t.Errorf("meta-id after recovery = %q, want mat#0", metaID(t, stored))
	}
}

// TestMostRecentSingleflightCold: 50 goroutines hitting a cold provider
// cause one MaxVersion call (and one creation or load).
func TestMostRecentSingleflightCold(t *testing.T) {
	for _, existing := range []int64{-1, 3} {
		t.Run(fmt.Sprintf("newest version %d", existing), func(t *testing.T) {
			inner := newMemoryStore(t)
			for v := int64(0); v <= existing; v++ {
				if _, err := inner.CreateProvider(context.Background(), "mat", v); err != nil {
					t.Fatal(err)
				}
			}
			store := &countingStore{inner: inner, delay: 100 * time.Millisecond}
			enc := newItemEncryptor(t, "data", "id", "", newMostRecent(t, store, "mat", time.Hour))
			const n = 50
			var wg sync.WaitGroup
			start := make(chan struct{})
			ids := make(chan string, n)
			for i := range n {
				wg.Go(func() {
					<-start
					stored, err := enc.Encrypt(context.Background(), itemcrypto.Item{"id": s(fmt.Sprint(i)), "v": s("v")})
					if err != nil {
						t.Error(err)
						return
					}
					ids <- metaID(t, stored)
				})
			}
			close(start)
			wg.Wait()
			close(ids)
			want := cmp.MetaID("mat", max(existing, 0))
			for id := range ids {
				if id != want {
					t.Errorf("meta-id = %q, want %q", id, want)
				}
			}
			wantCalls := [3]int64{1, 1, 0} // MaxVersion, Provider(3)
			if existing < 0 {
				wantCalls = [3]int64{1, 0, 1} // MaxVersion, CreateProvider(0)
			}
			if got := store.counts(); got != wantCalls {
				t.Errorf("store calls (MaxVersion, Provider, CreateProvider) = %v, want %v", got, wantCalls)
			}
		})
	}
}

// TestMostRecentSingleflightDecrypt: 50 concurrent decrypts of a version not
// yet cached cause one Provider call.
func TestMostRecentSingleflightDecrypt(t *testing.T) {
	inner := newMemoryStore(t)
	writer := newItemEncryptor(t, "data", "id", "", newMostRecent(t, inner, "mat", time.Hour))
	const n = 50
	items := make([]itemcrypto.Item, n)
	stored := make([]itemcrypto.Item, n)
	for i := range n {
		items[i], stored[i] = encryptOne(t, writer, fmt.Sprint(i))
	}
	store := &countingStore{inner: inner, delay: 100 * time.Millisecond}
	reader := newItemEncryptor(t, "data", "id", "", newMostRecent(t, store, "mat", time.Hour))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			got, err := reader.Decrypt(context.Background(), stored[i])
			if err != nil {
				t.Error(err)
				return
			}
			if !reflect.DeepEqual(got, items[i]) {
				t.Errorf("item %d: got %v, want %v", i, got, items[i])
			}
		})
	}
	close(start)
	wg.Wait()
	if got := store.counts(); got != [3]int64{0, 1, 0} {
		t.Errorf("store calls (MaxVersion, Provider, CreateProvider) = %v, want [0 1 0]", got)
	}
}

func TestMetaID(t *testing.T) {
	tests := []struct {
		id      string
		version int64
		ok      bool
	}{
		{"a#0", 0, true},
		{"a#12", 12, true},
		{"material name#7", 7, true},
		{"a#007", 7, true},
		{"a#999999999999999999", 999999999999999999, true}, // 18 digits
		{"", 0, false},
		{"a", 0, false},
		{"#1", 0, false},
		{"a#", 0, false},
		{"a#x", 0, false},
		{"a#1x", 0, false},
		{"a#-1", 0, false},
		{"a#+1", 0, false},
		{"a# 1", 0, false},
		{"a#1 ", 0, false},
		{"a#1#2", 0, false}, // the version is everything after the first '#': "1#2" is not a number
		{"a##1", 0, false},
		{"a#١", 0, false},                   // Arabic-Indic digit one
		{"a#9223372036854775807", 0, false}, // more than 18 digits
	}
	for _, tc := range tests {
		v, ok := cmp.ParseMetaID(tc.id)
		if v != tc.version || ok != tc.ok {
			t.Errorf("ParseMetaID(%q) = %d, %v; want %d, %v", tc.id, v, ok, tc.version, tc.ok)
		}
	}
	for _, v := range []int64{0, 1, 42, 999999999999999999} {
		id := cmp.MetaID("name", v)
		if want := fmt.Sprintf("name#%d", v); id != want {
			t.Errorf("MetaID(name, %d) = %q, want %q", v, id, want)
		}
		if got, ok := cmp.ParseMetaID(id); !ok || got != v {
			t.Errorf("ParseMetaID(MetaID(name, %d)) = %d, %v", v, got, ok)
		}
	}
}

func TestNewMostRecentValidation(t *testing.T) {
	store := newMemoryStore(t)
	tests := []struct {
		name string
		cfg  cmp.MostRecentConfig
		ok   bool
	}{
		{"valid", cmp.MostRecentConfig{Store: store, MaterialName: "mat", TTL: time.Second}, true},
		{"valid with cache size", cmp.MostRecentConfig{Store: store, MaterialName: "mat", TTL: time.Second, CacheSize: 1}, true},
		{"no store", cmp.MostRecentConfig{MaterialName: "mat", TTL: time.Second}, false},
		{"no name", cmp.MostRecentConfig{Store: store, TTL: time.Second}, false},
		{"name with #", cmp.MostRecentConfig{Store: store, MaterialName: "a#b", TTL: time.Second}, false},
		{"TTL 0", cmp.MostRecentConfig{Store: store, MaterialName: "mat"}, false},
		{"negative TTL", cmp.MostRecentConfig{Store: store, MaterialName: "mat", TTL: -time.Second}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mr, err := cmp.NewMostRecent(tc.cfg)
			if tc.ok != (err == nil) || tc.ok != (mr != nil) {
				t.Errorf("NewMostRecent = %v, %v; want ok=%v", mr, err, tc.ok)
			}
		})
	}
}

// TestMostRecentTinyTTL: NewMostRecent accepts any TTL > 0; a tiny one must
// either be refused or work, not crash the process. It runs in a child
// process because the failure is a panic on a background goroutine.
func TestMostRecentTinyTTL(t *testing.T) {
	if os.Getenv("ITEMCRYPTO_TEST_TINY_TTL_CHILD") == "1" {
		mr, err := cmp.NewMostRecent(cmp.MostRecentConfig{Store: newMemoryStore(t), MaterialName: "mat", TTL: 50 * time.Nanosecond})
		if err != nil {
			return // refusing is fine
		}
		enc := newItemEncryptor(t, "data", "id", "", mr)
		_, stored := encryptOne(t, enc, "a")
		if _, err := enc.Decrypt(context.Background(), stored); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMostRecentTinyTTL$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ITEMCRYPTO_TEST_TINY_TTL_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		first, _, _ := strings.Cut(string(out), "\n\n")
		t.Errorf("NewMostRecent with TTL 50ns (valid: > 0) and one item: process failed: %v\n%s", err, first)
	}
}

// TestMostRecentNoGoroutineLeak: a MostRecent that is no longer used must
// not keep goroutines (or timers) alive forever.
func TestMostRecentNoGoroutineLeak(t *testing.T) {
	store := newMemoryStore(t)
	runtime.GC()
	before := runtime.NumGoroutine()
	func() {
		for range 50 {
			mr := newMostRecent(t, store, "mat", time.Minute)
			if _, err := mr.CurrentVersion(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}()
	var after int
	for range 20 {
		runtime.GC()
		after = runtime.NumGoroutine()
		if after <= before+5 {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Errorf("goroutines: %d before creating 50 unused MostRecent providers, %d after; each one leaks a goroutine", before, after)
}

// ctxStore holds every call for delay, or until the caller's context ends,
// as a store over the network does.
type ctxStore struct {
	cmp.ProviderStore
	delay time.Duration
}

func (c ctxStore) hold(ctx context.Context) error {
	select {
	case <-time.After(c.delay):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c ctxStore) Provider(ctx context.Context, name string, version int64) (cmp.Provider, error) {
	if err := c.hold(ctx); err != nil {
		return nil, err
	}
	return c.ProviderStore.Provider(ctx, name, version)
}

func (c ctxStore) MaxVersion(ctx context.Context, name string) (int64, error) {
	if err := c.hold(ctx); err != nil {
		return 0, err
	}
	return c.ProviderStore.MaxVersion(ctx, name)
}

// TestMostRecentCanceledCallerDoesNotFailOthers: when concurrent callers
// share one store call, the first caller's context ending (a client that
// went away) must not fail the others, whose contexts are fine.
func TestMostRecentCanceledCallerDoesNotFailOthers(t *testing.T) {
	inner := newMemoryStore(t)
	_, stored := encryptOne(t, newItemEncryptor(t, "data", "id", "", newMostRecent(t, inner, "mat", time.Hour)), "a")
	store := ctxStore{ProviderStore: inner, delay: 200 * time.Millisecond}

	for _, op := range []string{"Encrypt", "Decrypt"} {
		t.Run(op, func(t *testing.T) {
			enc := newItemEncryptor(t, "data", "id", "", newMostRecent(t, store, "mat", time.Hour))
			call := func(ctx context.Context) error {
				var err error
				if op == "Encrypt" {
					_, err = enc.Encrypt(ctx, itemcrypto.Item{"id": s("b"), "v": s("v")})
				} else {
					_, err = enc.Decrypt(ctx, stored)
				}
				return err
			}
			first, cancel := context.WithCancel(context.Background())
			firstErr := make(chan error, 1)
			go func() { firstErr <- call(first) }()
			time.Sleep(50 * time.Millisecond) // the first caller's store call is under way
			otherErr := make(chan error, 1)
			go func() { otherErr <- call(context.Background()) }()
			time.Sleep(50 * time.Millisecond) // the second caller has joined it
			cancel()
			if err := <-firstErr; !errors.Is(err, context.Canceled) {
				t.Errorf("canceled caller: err = %v, want context.Canceled", err)
			}
			if err := <-otherErr; err != nil {
				t.Errorf("caller with a live context failed because another caller's context was canceled: %v", err)
			}
		})
	}
}
