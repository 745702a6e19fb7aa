package hierarchy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
)

// namedSource is a fakeSource with a logical key store name.
type namedSource struct {
	*fakeSource
	name string
}

func (n namedSource) LogicalKeyStoreName() string { return n.name }

func mustShared(t testing.TB, size int, fns ...func(*hierarchy.SharedCacheOptions)) *hierarchy.SharedCache {
	t.Helper()
	c, err := hierarchy.NewSharedCache(size, fns...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sharedKeyring(t testing.TB, src hierarchy.Source, cache *hierarchy.SharedCache, partition string) *hierarchy.Keyring {
	t.Helper()
	kr, err := hierarchy.New(src, func(o *hierarchy.Options) {
		o.BranchKeyID = "bk"
		o.Cache = cache
		o.PartitionID = partition
	})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// Keyrings of one partition and key store share entries; another partition,
// another key store name or the default (random) partition do not.
func TestSharedCachePartitions(t *testing.T) {
	fs := newFakeSource()
	fs.rotate(t, "bk", 1)
	src := namedSource{fs, "store-a"}
	cache := mustShared(t, 10)
	a1 := sharedKeyring(t, src, cache, "p1")
	a2 := sharedKeyring(t, src, cache, "p1")
	b := sharedKeyring(t, src, cache, "p2")
	other := sharedKeyring(t, namedSource{fs, "store-b"}, cache, "p1")
	private1 := sharedKeyring(t, src, cache, "")

	m, err := encrypt(t, a1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := encrypt(t, a2, nil); err != nil {
		t.Fatal(err)
	}
	if n := fs.count("active:bk"); n != 1 {
		t.Fatalf("%d reads for two keyrings of one partition, want 1", n)
	}
	for i, kr := range []*hierarchy.Keyring{b, other, private1} {
		if _, err := encrypt(t, kr, nil); err != nil {
			t.Fatal(err)
		}
		if n := fs.count("active:bk"); n != 2+i {
			t.Fatalf("keyring %d: %d reads, want %d (its own entry)", i, n, 2+i)
		}
	}
	// Decryption entries are per version, shared in the partition too.
	vkey := "version:bk:" + edkVersion(t, m.EncryptedDataKeys()[0])
	for _, kr := range []*hierarchy.Keyring{a1, a2, a1} {
		if _, err := decrypt(t, kr, nil, m.EncryptedDataKeys()); err != nil {
			t.Fatal(err)
		}
	}
	if n := fs.count(vkey); n != 1 {
		t.Fatalf("%d version reads for three decrypts in one partition, want 1", n)
	}
	if _, err := decrypt(t, b, nil, m.EncryptedDataKeys()); err != nil {
		t.Fatal(err)
	}
	if n := fs.count(vkey); n != 2 {
		t.Fatalf("%d version reads, want 2 (partition p2 has its own)", n)
	}
	if n := cache.Len(); n != 6 {
		t.Fatalf("%d entries, want 6", n)
	}
	if s := fmt.Sprintf("%v %+v %#v", cache, cache, *cache); strings.Contains(s, string(key(1))) || !strings.Contains(s, "redacted") {
		t.Fatalf("cache printed as %q", s)
	}
}

func TestSharedCacheBoundsAndAge(t *testing.T) {
	fs := newFakeSource()
	for i := range 3 {
		fs.rotate(t, fmt.Sprint("t", i), byte(i+1))
	}
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cache := mustShared(t, 2, func(o *hierarchy.SharedCacheOptions) { o.MaxAge = time.Minute; o.Now = c.Now })
	newKR := func(ttl time.Duration) *hierarchy.Keyring {
		kr, err := hierarchy.New(namedSource{fs, "s"}, func(o *hierarchy.Options) {
			o.IDSupplier = func(_ context.Context, ec map[string]string) (string, error) { return ec["tenant"], nil }
			o.Cache, o.PartitionID, o.TTL = cache, "p", ttl
		})
		if err != nil {
			t.Fatal(err)
		}
		return kr
	}
	long, short := newKR(time.Hour), newKR(10*time.Second)
	use := func(kr *hierarchy.Keyring, id string) {
		t.Helper()
		if _, err := encrypt(t, kr, map[string]string{"tenant": id}); err != nil {
			t.Fatal(err)
		}
	}
	use(long, "t0")
	use(long, "t1")
	use(short, "t2") // evicts t0
	if n := cache.Len(); n != 2 {
		t.Fatalf("%d entries, want the bound 2", n)
	}
	use(long, "t0")
	if n := fs.count("active:t0"); n != 2 {
		t.Fatalf("t0 read %d times, want 2 (evicted)", n)
	}
	// t2 was stored by the short keyring: 10 s. t0 by the long one: an
	// hour, capped at the cache's MaxAge of a minute.
	c.advance(30 * time.Second)
	use(long, "t2")
	use(long, "t0")
	if got := [2]int{fs.count("active:t2"), fs.count("active:t0")}; got != [2]int{2, 2} {
		t.Fatalf("reads of t2, t0 after 30 s: %v, want [2 2]", got)
	}
	c.advance(31 * time.Second)
	use(short, "t0")
	if n := fs.count("active:t0"); n != 3 {
		t.Fatalf("t0 read %d times after MaxAge, want 3", n)
	}
}

func TestSharedCacheConfig(t *testing.T) {
	fs := newFakeSource()
	if _, err := hierarchy.NewSharedCache(0); !errors.Is(err, hierarchy.ErrCacheConfig) {
		t.Fatalf("size 0: %v", err)
	}
	cache := mustShared(t, 4)
	for name, fn := range map[string]func(*hierarchy.Options){
		"negative TTL":           func(o *hierarchy.Options) { o.TTL = -1 },
		"CacheSize":              func(o *hierarchy.Options) { o.CacheSize = 3 },
		"Now":                    func(o *hierarchy.Options) { o.Now = time.Now },
		"partition without name": func(o *hierarchy.Options) { o.PartitionID = "p" },
	} {
		_, err := hierarchy.New(fs, func(o *hierarchy.Options) { o.BranchKeyID = "bk"; o.Cache = cache; fn(o) })
		if !errors.Is(err, hierarchy.ErrCacheConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The name may be given in the options instead of by the Source.
	if _, err := hierarchy.New(fs, func(o *hierarchy.Options) {
		o.BranchKeyID, o.Cache, o.PartitionID, o.LogicalKeyStoreName = "bk", cache, "p", "s"
	}); err != nil {
		t.Fatal(err)
	}
}

// Many keyrings of one partition over one cache, concurrently (run with
// -race): each entry is read from the Source once for all of them, and
// every item round-trips through any of them.
func TestSharedCacheConcurrentKeyrings(t *testing.T) {
	const keyrings, perKeyring = 8, 8
	fs := newFakeSource()
	fs.rotate(t, "bk", 1)
	fs.entered = make(chan struct{}, keyrings*perKeyring)
	fs.block = make(chan struct{})
	src := namedSource{fs, "s"}
	cache := mustShared(t, 16)
	krs := make([]*hierarchy.Keyring, keyrings)
	for i := range krs {
		krs[i] = sharedKeyring(t, src, cache, "shared")
	}
	var ready, done sync.WaitGroup
	ready.Add(keyrings * perKeyring)
	mats := make([]*keyring.EncryptionMaterials, keyrings*perKeyring)
	errs := make([]error, keyrings*perKeyring)
	for i := range mats {
		done.Go(func() {
			ready.Done()
			ready.Wait()
			mats[i], errs[i] = encrypt(t, krs[i%keyrings], map[string]string{"n": fmt.Sprint(i)})
		})
	}
	ready.Wait()
	<-fs.entered
	time.Sleep(50 * time.Millisecond) // let the others join the fetch
	close(fs.block)
	done.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := fs.count("active:bk"); n != 1 {
		t.Fatalf("%d Source reads for %d concurrent keyrings' misses, want 1", n, keyrings)
	}
	for i := range mats {
		done.Go(func() {
			ec := map[string]string{"n": fmt.Sprint(i)}
			dm, err := decrypt(t, krs[(i+1)%keyrings], ec, mats[i].EncryptedDataKeys())
			if err != nil || !bytes.Equal(dm.DataKey(), mats[i].DataKey()) {
				errs[i] = fmt.Errorf("item %d: %v", i, err)
			}
		})
	}
	done.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Fields are separated in the cache identifier: partition "ab" with key
// store "c" is not partition "a" with key store "bc".
func TestSharedCacheFieldsSeparated(t *testing.T) {
	fs := newFakeSource()
	fs.rotate(t, "bk", 1)
	cache := mustShared(t, 4)
	k1 := sharedKeyring(t, namedSource{fs, "c"}, cache, "ab")
	k2 := sharedKeyring(t, namedSource{fs, "bc"}, cache, "a")
	for _, kr := range []*hierarchy.Keyring{k1, k2} {
		if _, err := encrypt(t, kr, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := fs.count("active:bk"); n != 2 {
		t.Fatalf("%d reads, want 2", n)
	}
}
