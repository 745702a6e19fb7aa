package hierarchy

import (
	"context"
	"crypto/sha512"
	"errors"
	"fmt"
	"log/slog"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/itemcrypto/go-itemcrypto/internal/flight"
	"github.com/itemcrypto/go-itemcrypto/internal/redact"
)

// SharedCache is a branch-key cache that several hierarchical keyrings
// share (the MPL's Shared cache): pass it as Options.Cache. Its entries are
// keyed by the MPL's cache identifier, a SHA-384 digest of the keyring's
// partition id, the logical key store name, the branch key id and (on
// decrypt) the version, so keyrings with the same partition id and key
// store share entries and keyrings with different partition ids never do.
// It holds at most its size of entries (least recently used out first);
// an entry lives the TTL of the keyring that stored it, at most MaxAge.
// Concurrent misses of one entry, from one keyring or several, make one
// Source call.
//
// A SharedCache holds branch keys: it is secret, and prints redacted. It is
// safe for concurrent use.
type SharedCache struct {
	// Behind a pointer: a SharedCache value copies no lock.
	*sharedCache
}

type sharedCache struct {
	lru    *lru.Cache[string, cached] // nil: nothing is kept
	maxAge time.Duration
	now    func() time.Time
	group  flight.Group[*BranchKey] // one fetch per entry for all callers; see internal/flight
}

type cached struct {
	bk      *BranchKey
	expires time.Time
}

// SharedCacheOptions tune [NewSharedCache].
type SharedCacheOptions struct {
	// MaxAge bounds the life of an entry whatever the TTL of the keyring
	// that stored it; 0 means no bound beyond that TTL.
	MaxAge time.Duration
	// Now is the clock of the cache (for all its keyrings); nil is
	// time.Now.
	Now func() time.Time
}

// ErrCacheConfig: Options that combine a shared cache with settings of a
// private one, or a shared cache without the logical key store name.
var ErrCacheConfig = errors.New("hierarchy: invalid cache configuration")

// NewSharedCache returns a cache of at most size branch-key entries.
func NewSharedCache(size int, optFns ...func(*SharedCacheOptions)) (*SharedCache, error) {
	if size <= 0 {
		return nil, fmt.Errorf("%w: shared cache size %d, want > 0", ErrCacheConfig, size)
	}
	var o SharedCacheOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if o.MaxAge < 0 {
		return nil, fmt.Errorf("%w: negative MaxAge", ErrCacheConfig)
	}
	return newSharedCache(size, o.MaxAge, o.Now)
}

// newSharedCache returns a cache of size entries; size 0 keeps nothing
// (but still shares concurrent fetches).
func newSharedCache(size int, maxAge time.Duration, now func() time.Time) (*SharedCache, error) {
	if now == nil {
		now = time.Now
	}
	c := &SharedCache{&sharedCache{maxAge: maxAge, now: now}}
	if size > 0 {
		l, err := lru.New[string, cached](size)
		if err != nil {
			return nil, err
		}
		c.lru = l
	}
	return c, nil
}

// Len returns the number of entries, expired ones included until they are
// replaced or evicted.
func (c *SharedCache) Len() int {
	if c.lru == nil {
		return 0
	}
	return c.lru.Len()
}

// get returns the entry id from the cache, or fetch's result, stored for
// ttl. Concurrent callers of one id share one fetch.
func (c *SharedCache) get(ctx context.Context, id string, ttl time.Duration, fetch func(context.Context) (*BranchKey, error)) (*BranchKey, error) {
	if c.lru != nil {
		if e, ok := c.lru.Get(id); ok {
			if c.now().Before(e.expires) {
				return e.bk, nil
			}
			// Expired: the fetch below replaces it. (Not removed here: a
			// concurrent caller may have just stored a fresh one.)
		}
	}
	return c.group.Do(ctx, id, func(ctx context.Context) (*BranchKey, error) {
		bk, err := fetch(ctx)
		if err != nil {
			return nil, err
		}
		if c.lru != nil && ttl > 0 {
			if c.maxAge > 0 {
				ttl = min(ttl, c.maxAge)
			}
			c.lru.Add(id, cached{bk: bk, expires: c.now().Add(ttl)})
		}
		return bk, nil
	})
}

// Cache identifier constants of the MPL (CacheConstants.dfy).
const (
	resourceHierarchicalKeyring = 0x02
	scopeEncrypt                = 0x01
	scopeDecrypt                = 0x02
)

// cacheID is the MPL's cache entry identifier of the hierarchical keyring:
// SHA-384 of resource id 0x02, scope id (0x01 encrypt, 0x02 decrypt),
// partition id, logical key store name, branch key id and, on decrypt,
// the version, separated by single 0x00 bytes.
func cacheID(partition []byte, logicalName, branchKeyID, version string) string {
	b := make([]byte, 0, 8+len(partition)+len(logicalName)+len(branchKeyID)+len(version))
	scope := byte(scopeEncrypt)
	if version != "" {
		scope = scopeDecrypt
	}
	b = append(b, resourceHierarchicalKeyring, 0, scope, 0)
	b = append(b, partition...)
	b = append(b, 0)
	b = append(b, logicalName...)
	b = append(b, 0)
	b = append(b, branchKeyID...)
	if version != "" {
		b = append(b, 0)
		b = append(b, version...)
	}
	sum := sha512.Sum384(b)
	return string(sum[:])
}

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (c SharedCache) String() string                { return c.redacted().String() }
func (c SharedCache) GoString() string              { return c.redacted().GoString() }
func (c SharedCache) Format(f fmt.State, verb rune) { c.redacted().Format(f, verb) }
func (c SharedCache) LogValue() slog.Value          { return c.redacted().LogValue() }
func (c SharedCache) MarshalJSON() ([]byte, error)  { return c.redacted().MarshalJSON() }
func (c SharedCache) redacted() redact.Text {
	n := 0
	if c.sharedCache != nil {
		n = c.Len()
	}
	return redact.Text(fmt.Sprintf("hierarchy.SharedCache{entries: %d, keys: [redacted]}", n))
}
