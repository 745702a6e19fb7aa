package search

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy/keystore"
	"github.com/itemcrypto/go-itemcrypto/internal/flight"
	"github.com/itemcrypto/go-itemcrypto/internal/mac"
	"github.com/itemcrypto/go-itemcrypto/internal/redact"
)

// StaticKeys is a BeaconKeys of fixed beacon keys, for tests and the DB-ESDK
// vectors (keys.json "static-branch-key" entries carry a beaconKey).
type StaticKeys struct {
	keys map[string]*keystore.BeaconKeyMaterials
}

var _ BeaconKeys = (*StaticKeys)(nil)

// NewStaticKeys returns the beacon keys of the given branch keys; each must
// have a beacon key.
func NewStaticKeys(branchKeys ...*hierarchy.BranchKey) (*StaticKeys, error) {
	s := &StaticKeys{keys: make(map[string]*keystore.BeaconKeyMaterials, len(branchKeys))}
	for _, bk := range branchKeys {
		if bk == nil || bk.BeaconKey() == nil {
			return nil, fmt.Errorf("%w: static branch key without a beacon key", ErrInvalidConfig)
		}
		m, err := keystore.NewBeaconKeyMaterials(bk.ID(), bk.BeaconKey(), nil)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
		}
		s.keys[bk.ID()] = m
	}
	return s, nil
}

// GetBeaconKey returns the beacon key of branchKeyID, or an error matching
// keystore.ErrNotFound.
func (s *StaticKeys) GetBeaconKey(_ context.Context, branchKeyID string) (*keystore.BeaconKeyMaterials, error) {
	if m, ok := s.keys[branchKeyID]; ok {
		return m, nil
	}
	return nil, fmt.Errorf("search: static beacon keys: branch key %q: %w", branchKeyID, keystore.ErrNotFound)
}

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (s StaticKeys) String() string                { return s.redacted().String() }
func (s StaticKeys) GoString() string              { return s.redacted().GoString() }
func (s StaticKeys) Format(f fmt.State, verb rune) { s.redacted().Format(f, verb) }
func (s StaticKeys) LogValue() slog.Value          { return s.redacted().LogValue() }
func (s StaticKeys) MarshalJSON() ([]byte, error)  { return s.redacted().MarshalJSON() }
func (s StaticKeys) redacted() redact.Text {
	return redact.Text(fmt.Sprintf("search.StaticKeys{%d keys: [redacted]}", len(s.keys)))
}

// hmacKeys are the per-beacon HMAC keys derived from one beacon key, by
// standard beacon name. They are secret.
type hmacKeys struct {
	branchKeyID string
	keys        map[string]*[64]byte
}

func (h *hmacKeys) String() string { return "search.hmacKeys{[redacted]}" }

// deriveKeys derives each named beacon's HMAC key: HKDF-SHA512 of the beacon
// key, no salt, info "AWS_DBE_SCAN_BEACON" || name, 64 bytes.
func deriveKeys(beaconKey []byte, id string, names []string) *hmacKeys {
	h := &hmacKeys{branchKeyID: id, keys: make(map[string]*[64]byte, len(names))}
	for _, n := range names {
		k := new([64]byte)
		mac.HKDF64(k, beaconKey, "AWS_DBE_SCAN_BEACON", n)
		h.keys[n] = k
	}
	return h
}

// keyCache holds the derived HMAC keys of recently used beacon keys, for at
// most ttl each, and at most size of them.
type keyCache struct {
	src   BeaconKeys
	ttl   time.Duration
	size  int
	names []string
	now   func() time.Time

	mu      sync.Mutex
	entries map[string]cacheEntry
	fetch   flight.Group[*hmacKeys] // one key-store read per id for all callers
}

type cacheEntry struct {
	keys    *hmacKeys
	expires time.Time
}

// get returns the HMAC keys of branch key id, reading the beacon key from
// the key store when it is not cached or has expired.
func (c *keyCache) get(ctx context.Context, id string) (*hmacKeys, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.keys, nil
	}
	return c.fetch.Do(ctx, id, func(ctx context.Context) (*hmacKeys, error) { return c.load(ctx, id) })
}

// load reads the beacon key of branch key id from the key store and caches
// its HMAC keys.
func (c *keyCache) load(ctx context.Context, id string) (*hmacKeys, error) {
	m, err := c.src.GetBeaconKey(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("%w: branch key %q: %w", ErrBeaconKey, id, err)
	}
	if m == nil || len(m.Key()) == 0 {
		return nil, fmt.Errorf("%w: branch key %q: the key store returned no beacon key", ErrBeaconKey, id)
	}
	keys := deriveKeys(m.Key(), id, c.names)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.size {
		// Drop expired entries, then the one closest to expiry.
		var victim string
		var first time.Time
		for k, v := range c.entries {
			if !now.Before(v.expires) {
				delete(c.entries, k)
				continue
			}
			if victim == "" || v.expires.Before(first) {
				victim, first = k, v.expires
			}
		}
		if len(c.entries) >= c.size {
			delete(c.entries, victim)
		}
	}
	c.entries[id] = cacheEntry{keys: keys, expires: now.Add(c.ttl)}
	return keys, nil
}
