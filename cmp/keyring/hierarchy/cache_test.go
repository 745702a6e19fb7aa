package hierarchy_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
)

// fakeSource serves one generated branch key version per id (the active
// one) plus any added versions, and counts its calls. block, when set,
// holds every call until it is closed.
type fakeSource struct {
	mu       sync.Mutex
	keys     map[string][]*hierarchy.BranchKey // by id; last is active
	calls    map[string]int                    // "active:id" / "version:id:v"
	inFlight int
	entered  chan struct{}
	block    chan struct{}
	err      error
}

func newFakeSource() *fakeSource {
	return &fakeSource{keys: map[string][]*hierarchy.BranchKey{}, calls: map[string]int{}}
}

func key(i byte) []byte { return bytes.Repeat([]byte{i}, 32) }

// rotate adds a new active version of id whose key bytes are all b.
func (f *fakeSource) rotate(t *testing.T, id string, b byte) *hierarchy.BranchKey {
	t.Helper()
	bk, err := hierarchy.NewBranchKey(id, uuid.NewString(), key(b), nil)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.keys[id] = append(f.keys[id], bk)
	f.mu.Unlock()
	return bk
}

func (f *fakeSource) enter(call string) {
	f.mu.Lock()
	f.calls[call]++
	f.inFlight++
	entered, block := f.entered, f.block
	f.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if block != nil {
		<-block
	}
	f.mu.Lock()
	f.inFlight--
	f.mu.Unlock()
}

func (f *fakeSource) count(call string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[call]
}

func (f *fakeSource) ActiveBranchKey(_ context.Context, id string) (*hierarchy.BranchKey, error) {
	f.enter("active:" + id)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	ks := f.keys[id]
	if len(ks) == 0 {
		return nil, fmt.Errorf("%w: %q", hierarchy.ErrBranchKeyNotFound, id)
	}
	return ks[len(ks)-1], nil
}

func (f *fakeSource) BranchKeyVersion(_ context.Context, id, version string) (*hierarchy.BranchKey, error) {
	f.enter("version:" + id + ":" + version)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	for _, bk := range f.keys[id] {
		if bk.Version() == version {
			return bk, nil
		}
	}
	return nil, fmt.Errorf("%w: %q version %s", hierarchy.ErrBranchKeyNotFound, id, version)
}

// clock is a settable Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func encrypt(t testing.TB, kr *hierarchy.Keyring, ec map[string]string) (*keyring.EncryptionMaterials, error) {
	t.Helper()
	m, err := keyring.NewEncryptionMaterials(keyring.SuiteHMAC, ec, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m, kr.OnEncrypt(context.Background(), m)
}

func decrypt(t testing.TB, kr *hierarchy.Keyring, ec map[string]string, edks []keyring.EncryptedDataKey) (*keyring.DecryptionMaterials, error) {
	t.Helper()
	m, err := keyring.NewDecryptionMaterials(keyring.SuiteHMAC, ec)
	if err != nil {
		t.Fatal(err)
	}
	return m, kr.OnDecrypt(context.Background(), m, edks)
}

// edkVersion is the branch key version in a hierarchy EDK.
func edkVersion(t testing.TB, edk keyring.EncryptedDataKey) string {
	t.Helper()
	const at = keyring.WrappedDataKeyLength + 16 + 12
	u, err := uuid.FromBytes(edk.Ciphertext[at : at+16])
	if err != nil {
		t.Fatal(err)
	}
	return u.String()
}

func TestCacheTTL(t *testing.T) {
	src := newFakeSource()
	v1 := src.rotate(t, "bk", 1)
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	kr, err := hierarchy.New(src, func(o *hierarchy.Options) { o.BranchKeyID = "bk"; o.TTL = time.Minute; o.Now = c.Now })
	if err != nil {
		t.Fatal(err)
	}
	ec := map[string]string{"a": "b"}
	m, err := encrypt(t, kr, ec)
	if err != nil {
		t.Fatal(err)
	}
	edk := m.EncryptedDataKeys()[0]
	if edkVersion(t, edk) != v1.Version() || string(edk.ProviderInfo) != "bk" || edk.ProviderID != hierarchy.ProviderID {
		t.Fatalf("EDK %s/%s version %s", edk.ProviderID, edk.ProviderInfo, edkVersion(t, edk))
	}
	v2 := src.rotate(t, "bk", 2)

	c.advance(time.Minute - time.Nanosecond)
	if m, err = encrypt(t, kr, ec); err != nil || edkVersion(t, m.EncryptedDataKeys()[0]) != v1.Version() {
		t.Fatalf("within the TTL: %v, want the cached version", err)
	}
	if n := src.count("active:bk"); n != 1 {
		t.Fatalf("%d active reads within the TTL, want 1", n)
	}
	c.advance(time.Nanosecond) // expires at exactly TTL
	if m, err = encrypt(t, kr, ec); err != nil || edkVersion(t, m.EncryptedDataKeys()[0]) != v2.Version() {
		t.Fatalf("after the TTL: %v, want the new version", err)
	}
	if n := src.count("active:bk"); n != 2 {
		t.Fatalf("%d active reads, want 2", n)
	}

	// Decryption caches each version separately, with the same TTL.
	for range 3 {
		if _, err := decrypt(t, kr, ec, []keyring.EncryptedDataKey{edk}); err != nil {
			t.Fatal(err)
		}
	}
	key := "version:bk:" + v1.Version()
	if n := src.count(key); n != 1 {
		t.Fatalf("%d version reads for three decrypts, want 1", n)
	}
	c.advance(time.Minute)
	if _, err := decrypt(t, kr, ec, []keyring.EncryptedDataKey{edk}); err != nil {
		t.Fatal(err)
	}
	if n := src.count(key); n != 2 {
		t.Fatalf("%d version reads after expiry, want 2", n)
	}

	// A negative TTL caches nothing.
	none, err := hierarchy.New(src, func(o *hierarchy.Options) { o.BranchKeyID = "bk"; o.TTL = -1 })
	if err != nil {
		t.Fatal(err)
	}
	before := src.count("active:bk")
	for range 3 {
		if _, err := encrypt(t, none, ec); err != nil {
			t.Fatal(err)
		}
	}
	if n := src.count("active:bk") - before; n != 3 {
		t.Fatalf("%d reads for three encrypts without cache, want 3", n)
	}
}

func TestCacheBounded(t *testing.T) {
	src := newFakeSource()
	for i := range 3 {
		src.rotate(t, fmt.Sprint("t", i), byte(i+1))
	}
	kr, err := hierarchy.New(src, func(o *hierarchy.Options) {
		o.IDSupplier = func(_ context.Context, ec map[string]string) (string, error) { return ec["tenant"], nil }
		o.CacheSize = 2
	})
	if err != nil {
		t.Fatal(err)
	}
	use := func(id string) {
		t.Helper()
		if _, err := encrypt(t, kr, map[string]string{"tenant": id}); err != nil {
			t.Fatal(err)
		}
	}
	use("t0")
	use("t1")
	use("t0") // t0 most recently used; t1 is the oldest
	use("t2") // evicts t1
	use("t0")
	use("t2")
	if got := [3]int{src.count("active:t0"), src.count("active:t1"), src.count("active:t2")}; got != [3]int{1, 1, 1} {
		t.Fatalf("reads %v, want one each while within the bound", got)
	}
	use("t1") // evicted: read again
	if n := src.count("active:t1"); n != 2 {
		t.Fatalf("t1 read %d times, want 2 (evicted by the bound of 2)", n)
	}
}

// TestCacheSingleflight: concurrent misses of one branch key share one
// Source call. Without caching (TTL < 0) the only thing that can share
// them is the in-flight deduplication; the Source lets a call through once
// every goroutine has entered it or after a grace period, so a keyring that
// did not deduplicate would see n calls.
func TestCacheSingleflight(t *testing.T) {
	const n = 32
	for _, ttl := range []time.Duration{time.Minute, -1} {
		t.Run(fmt.Sprint("ttl=", ttl), func(t *testing.T) {
			src := newFakeSource()
			src.rotate(t, "bk", 1)
			src.entered = make(chan struct{}, n)
			src.block = make(chan struct{})
			kr, err := hierarchy.New(src, func(o *hierarchy.Options) { o.BranchKeyID = "bk"; o.TTL = ttl })
			if err != nil {
				t.Fatal(err)
			}
			var ready, done sync.WaitGroup
			ready.Add(n)
			errs := make([]error, n)
			for i := range n {
				done.Go(func() {
					ready.Done()
					ready.Wait()
					_, errs[i] = encrypt(t, kr, nil)
				})
			}
			ready.Wait()
			<-src.entered
			grace := time.After(200 * time.Millisecond)
			for entered := 1; entered < n; entered++ {
				select {
				case <-src.entered:
					continue
				case <-grace:
				}
				break
			}
			close(src.block)
			done.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			calls := src.count("active:bk")
			if ttl > 0 && calls != 1 {
				t.Fatalf("%d Source calls for %d concurrent misses, want 1", calls, n)
			}
			if calls >= n/2 {
				t.Fatalf("%d Source calls for %d concurrent misses: not deduplicated", calls, n)
			}
		})
	}
}

// TestCacheConcurrent runs many goroutines over many tenants with a small
// cache and a moving clock (run it with -race): every item round-trips.
func TestCacheConcurrent(t *testing.T) {
	src := newFakeSource()
	const tenants = 8
	for i := range tenants {
		src.rotate(t, fmt.Sprint("t", i), byte(i+1))
	}
	c := &clock{now: time.Now()}
	kr, err := hierarchy.New(src, func(o *hierarchy.Options) {
		o.IDSupplier = func(_ context.Context, ec map[string]string) (string, error) { return ec["tenant"], nil }
		o.CacheSize = 3
		o.TTL = time.Second
		o.Now = c.Now
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Go(func() {
			for i := range 50 {
				ec := map[string]string{"tenant": fmt.Sprint("t", (g+i)%tenants), "n": fmt.Sprint(i)}
				if i%10 == 0 {
					c.advance(300 * time.Millisecond)
				}
				if g%8 == 0 && i%25 == 0 {
					src.rotate(t, ec["tenant"], byte(100+g))
				}
				em, err := encrypt(t, kr, ec)
				if err != nil {
					errs <- err
					return
				}
				dm, err := decrypt(t, kr, ec, em.EncryptedDataKeys())
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(dm.DataKey(), em.DataKey()) {
					errs <- errors.New("data key differs after the round trip")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestIDSupplier: each tenant's items are wrapped under its own branch key,
// and a keyring resolving another tenant's id cannot unwrap them.
func TestIDSupplier(t *testing.T) {
	src := newFakeSource()
	src.rotate(t, "branch-a", 1)
	src.rotate(t, "branch-b", 2)
	supplierErr := errors.New("no tenant in the context")
	kr, err := hierarchy.New(src, func(o *hierarchy.Options) {
		o.IDSupplier = func(_ context.Context, ec map[string]string) (string, error) {
			if ec["tenant"] == "" {
				return "", supplierErr
			}
			return "branch-" + ec["tenant"], nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	ecA, ecB := map[string]string{"tenant": "a"}, map[string]string{"tenant": "b"}
	ma, err := encrypt(t, kr, ecA)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := encrypt(t, kr, ecB)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(ma.EncryptedDataKeys()[0].ProviderInfo) + "," + string(mb.EncryptedDataKeys()[0].ProviderInfo); got != "branch-a,branch-b" {
		t.Fatalf("provider infos %s", got)
	}
	if _, err := decrypt(t, kr, ecA, ma.EncryptedDataKeys()); err != nil {
		t.Fatal(err)
	}
	// Tenant b's context names branch-b: tenant a's EDK is not for it.
	if _, err := decrypt(t, kr, ecB, ma.EncryptedDataKeys()); !errors.Is(err, keyring.ErrNoDecryptableKey) {
		t.Fatalf("other tenant: %v, want ErrNoDecryptableKey", err)
	}
	// An EDK whose provider info is rewritten to the other tenant's id
	// names a version branch-b does not have.
	forged := ma.EncryptedDataKeys()[0]
	forged.ProviderInfo = []byte("branch-b")
	if _, err := decrypt(t, kr, ecB, []keyring.EncryptedDataKey{forged}); !errors.Is(err, hierarchy.ErrBranchKeyNotFound) {
		t.Fatalf("forged provider info: %v, want ErrBranchKeyNotFound", err)
	}
	for name, fn := range map[string]func() error{
		"encrypt": func() error { _, err := encrypt(t, kr, nil); return err },
		"decrypt": func() error { _, err := decrypt(t, kr, nil, ma.EncryptedDataKeys()); return err },
	} {
		if err := fn(); !errors.Is(err, supplierErr) || !strings.HasPrefix(err.Error(), "hierarchy: branch key id supplier") {
			t.Errorf("%s with a failing supplier: %v", name, err)
		}
	}
	if _, err := hierarchy.New(src, func(o *hierarchy.Options) {
		o.BranchKeyID = "x"
		o.IDSupplier = func(context.Context, map[string]string) (string, error) { return "", nil }
	}); err == nil {
		t.Error("New accepted both BranchKeyID and IDSupplier")
	}
}

// TestSourceErrors: a Source failure reaches the caller through errors.Is
// and errors.As, is not cached, and shows no key material.
func TestSourceErrors(t *testing.T) {
	src := newFakeSource()
	bk := src.rotate(t, "bk", 0xab)
	kr, err := hierarchy.New(src, func(o *hierarchy.Options) { o.BranchKeyID = "bk" })
	if err != nil {
		t.Fatal(err)
	}
	good, err := encrypt(t, kr, nil)
	if err != nil {
		t.Fatal(err)
	}
	type sourceError struct{ error }
	src.mu.Lock()
	src.err = sourceError{errors.New("store unavailable")}
	src.mu.Unlock()

	fresh, err := hierarchy.New(src, func(o *hierarchy.Options) { o.BranchKeyID = "bk" })
	if err != nil {
		t.Fatal(err)
	}
	_, errEnc := encrypt(t, fresh, nil)
	_, errDec := decrypt(t, fresh, nil, good.EncryptedDataKeys())
	for _, err := range []error{errEnc, errDec} {
		var se sourceError
		if !errors.As(err, &se) {
			t.Fatalf("error %v does not reach the Source's error", err)
		}
		for _, leak := range []string{hex.EncodeToString(key(0xab)), base64.StdEncoding.EncodeToString(key(0xab)), "171, 171", "abababab"} {
			if strings.Contains(err.Error(), leak) {
				t.Fatalf("error shows key material: %v", err)
			}
		}
	}
	// Failures are not cached: once the Source recovers, the keyring works.
	src.mu.Lock()
	src.err = nil
	src.mu.Unlock()
	if _, err := encrypt(t, fresh, nil); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	// A missing branch key is ErrBranchKeyNotFound.
	other, err := hierarchy.New(src, func(o *hierarchy.Options) { o.BranchKeyID = "missing" })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := encrypt(t, other, nil); !errors.Is(err, hierarchy.ErrBranchKeyNotFound) {
		t.Fatalf("missing key: %v", err)
	}
	// A Source that answers with another key than asked is refused.
	liar := &lyingSource{bk: bk}
	kl, err := hierarchy.New(liar, func(o *hierarchy.Options) { o.BranchKeyID = "asked" })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := encrypt(t, kl, nil); err == nil || strings.Contains(err.Error(), hex.EncodeToString(key(0xab))) {
		t.Fatalf("lying source: %v", err)
	}
}

type lyingSource struct{ bk *hierarchy.BranchKey }

func (l *lyingSource) ActiveBranchKey(context.Context, string) (*hierarchy.BranchKey, error) {
	return l.bk, nil
}

func (l *lyingSource) BranchKeyVersion(context.Context, string, string) (*hierarchy.BranchKey, error) {
	return l.bk, nil
}

// TestBranchKeyRedacted: no formatting of a BranchKey shows its keys.
func TestBranchKeyRedacted(t *testing.T) {
	secret, beacon := key(0x5a), key(0xc3)
	bk, err := hierarchy.NewBranchKey("bk-id", "5b8e3a6c-1f2d-4e5f-8a9b-0c1d2e3f4a5b", secret, beacon)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("branch key", "bk", bk)
	for _, s := range []string{
		bk.String(), fmt.Sprint(bk), fmt.Sprintf("%v", bk), fmt.Sprintf("%+v", bk), fmt.Sprintf("%#v", bk),
		fmt.Sprintf("%s", bk), fmt.Sprintf("%x", bk), fmt.Sprintf("%v", *bk), fmt.Sprintf("%+v", []*hierarchy.BranchKey{bk}),
		logged.String(),
	} {
		for _, k := range [][]byte{secret, beacon} {
			if strings.Contains(s, hex.EncodeToString(k)) || strings.Contains(s, base64.StdEncoding.EncodeToString(k)) ||
				strings.Contains(s, fmt.Sprint(k[:4])[1:8]) || strings.Contains(s, fmt.Sprintf("%#x", k[0])+", ") {
				t.Errorf("key material in %q", s)
			}
		}
		if !strings.Contains(s, "bk-id") {
			t.Errorf("formatted branch key %q does not name its id", s)
		}
	}
	// The constructor copies the keys.
	secret[0] ^= 1
	if fresh, _ := hierarchy.NewBranchKey("bk-id", bk.Version(), key(0x5a), beacon); !reflectEqualKeys(bk, fresh) {
		t.Error("NewBranchKey kept the caller's slice")
	}
}

// reflectEqualKeys compares two branch keys by what they wrap.
func reflectEqualKeys(a, b *hierarchy.BranchKey) bool {
	kra, _ := hierarchy.New(hierarchy.NewStatic(a), func(o *hierarchy.Options) { o.BranchKeyID = a.ID() })
	krb, _ := hierarchy.New(hierarchy.NewStatic(b), func(o *hierarchy.Options) { o.BranchKeyID = b.ID() })
	m, err := keyring.NewEncryptionMaterials(keyring.SuiteHMAC, nil, nil)
	if err != nil || kra.OnEncrypt(context.Background(), m) != nil {
		return false
	}
	d, _ := keyring.NewDecryptionMaterials(keyring.SuiteHMAC, nil)
	return krb.OnDecrypt(context.Background(), d, m.EncryptedDataKeys()) == nil
}
