package cmp

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/internal/flight"
)

// CachingConfig bounds how long and how much a [Caching] provider reuses
// materials.
type CachingConfig struct {
	// MaxAge bounds how long one set of materials is used, for encryption
	// and for decryption. Required, > 0.
	MaxAge time.Duration
	// MaxItems bounds how many items one set of encryption materials
	// protects. Required, > 0.
	MaxItems int
	// MaxBytes, when > 0, bounds the serialized size of the items one set
	// of encryption materials protects.
	MaxBytes int64
	// Capacity bounds the number of cached entries of each kind; 0 means 1000.
	Capacity int
	// PartitionBy says which items may share encryption materials: items
	// with the same partition string do. The default, [PartitionByItemKey],
	// is right for every provider, including Direct KMS, whose materials are
	// bound to the table and the item's primary key. [PartitionByTable] lets
	// every item of a table share, which is only correct for providers whose
	// materials do not depend on the item (Wrapped, Static).
	PartitionBy func(EncryptionContext) string
}

// PartitionByTable lets all items of one table share encryption materials.
func PartitionByTable(ec EncryptionContext) string { return ec.TableName }

// PartitionByItemKey lets only items with the same table and primary key
// share encryption materials.
func PartitionByItemKey(ec EncryptionContext) string {
	var b strings.Builder
	b.WriteString(ec.TableName)
	for _, k := range []string{ec.PartitionKeyName, ec.SortKeyName} {
		b.WriteByte(0)
		if v, ok := ec.Attributes[k]; ok && k != "" {
			s, _ := ddbserial.Marshal(v)
			b.Write(s)
		}
	}
	return b.String()
}

// Caching reuses the materials of another provider within bounds, to spare a
// KMS or a store a call per item.
//
// # Security considerations
//
// Reuse gives up a property: the content key is no longer unique per item.
// Up to MaxItems items (within MaxAge) share one key, so compromising one
// item's key exposes all of them, and a revoked permission on the underlying
// key (a KMS grant, say) takes effect only when the cached materials expire.
// Keep the bounds small. Cached keys are zeroed when their entry is evicted;
// materials handed out hold their own copy. Zeroing is hygiene, not a
// guarantee: Go may have copied the bytes elsewhere.
type Caching struct {
	// The state sits behind a pointer: a Caching value copies no lock, so
	// its redacting methods take it by value, and T and *T both redact.
	*caching
}

type caching struct {
	p      Provider
	cfg    CachingConfig
	mu     sync.Mutex
	enc    map[string]*encEntry
	dec    *ttlCache[string, *DecryptionMaterials]
	flight flight.Group[any]
	now    func() time.Time
}

type encEntry struct {
	m     *EncryptionMaterials
	at    time.Time
	items int
	bytes int64
}

var _ Provider = (*Caching)(nil)

// NewCaching wraps p.
func NewCaching(p Provider, cfg CachingConfig) (*Caching, error) {
	switch {
	case p == nil:
		return nil, errors.New("cmp: NewCaching needs a provider")
	case cfg.MaxAge <= 0 || cfg.MaxItems <= 0:
		return nil, errors.New("cmp: CachingConfig.MaxAge and MaxItems must be positive")
	}
	if cfg.Capacity <= 0 {
		cfg.Capacity = 1000
	}
	if cfg.PartitionBy == nil {
		cfg.PartitionBy = PartitionByItemKey
	}
	c := &Caching{&caching{p: p, cfg: cfg, enc: map[string]*encEntry{}, now: time.Now}}
	c.dec = newTTLCache(cfg.Capacity, cfg.MaxAge, func(_ string, m *DecryptionMaterials) { m.destroy() })
	return c, nil
}

func itemSize(attrs map[string]types.AttributeValue) int64 {
	var n int64
	for k, v := range attrs {
		s, _ := ddbserial.Marshal(v)
		n += int64(len(k) + len(s))
	}
	return n
}

// EncryptionMaterials returns cached materials for the item's partition
// while they are within MaxAge, MaxItems and MaxBytes, and fresh ones from
// the wrapped provider otherwise.
func (c *Caching) EncryptionMaterials(ctx context.Context, ec EncryptionContext) (*EncryptionMaterials, error) {
	part := c.cfg.PartitionBy(ec)
	var size int64
	if c.cfg.MaxBytes > 0 {
		size = itemSize(ec.Attributes)
	}
	for attempt := 0; ; attempt++ {
		if attempt == 3 {
			// Entries expire as fast as they are made (a tiny MaxAge):
			// stop caching rather than loop.
			return c.p.EncryptionMaterials(ctx, ec)
		}
		c.mu.Lock()
		e := c.enc[part]
		if e != nil && c.usable(e, size) {
			e.items++
			e.bytes += size
			m := e.m.clone()
			c.mu.Unlock()
			return m, nil
		}
		if e != nil {
			delete(c.enc, part)
			e.m.destroy()
		}
		c.mu.Unlock()
		_, err := c.flight.Do(ctx, "enc\x00"+part, func(ctx context.Context) (any, error) {
			// A flight that ended since our miss may have filled the entry:
			// then the loop takes it.
			c.mu.Lock()
			if e := c.enc[part]; e != nil && c.usable(e, size) {
				c.mu.Unlock()
				return nil, nil
			}
			c.mu.Unlock()
			m, err := c.p.EncryptionMaterials(ctx, ec)
			if err != nil {
				return nil, err
			}
			c.mu.Lock()
			if len(c.enc) >= c.cfg.Capacity {
				c.evictOldestLocked()
			}
			// The cache owns (and will zero) its own copy: m may be the
			// provider's long-lived materials (Static) or hold its keys.
			c.enc[part] = &encEntry{m: m.clone(), at: c.now()}
			c.mu.Unlock()
			return nil, nil
		})
		if err != nil {
			return nil, err
		}
	}
}

func (c *Caching) usable(e *encEntry, size int64) bool {
	if c.now().Sub(e.at) >= c.cfg.MaxAge || e.items >= c.cfg.MaxItems {
		return false
	}
	return c.cfg.MaxBytes <= 0 || e.bytes+size <= c.cfg.MaxBytes || e.items == 0
}

func (c *Caching) evictOldestLocked() {
	var oldest string
	var at time.Time
	for k, e := range c.enc {
		if oldest == "" || e.at.Before(at) {
			oldest, at = k, e.at
		}
	}
	if e := c.enc[oldest]; e != nil {
		e.m.destroy()
		delete(c.enc, oldest)
	}
}

// DecryptionMaterials returns cached materials for the same description and
// item partition within MaxAge, and asks the wrapped provider otherwise.
func (c *Caching) DecryptionMaterials(ctx context.Context, ec EncryptionContext) (*DecryptionMaterials, error) {
	key := PartitionByItemKey(ec) + "\x00" + string(ec.MaterialDescription.Encode())
	c.mu.Lock() // eviction zeroes under this lock, so no clone sees a half-zeroed key
	if m, ok := c.dec.Get(key); ok {
		mc := m.clone()
		c.mu.Unlock()
		return mc, nil
	}
	c.mu.Unlock()
	v, err := c.flight.Do(ctx, "dec\x00"+key, func(ctx context.Context) (any, error) {
		// A flight that ended between our miss and this one has filled the
		// cache: look again before asking the provider.
		c.mu.Lock()
		if m, ok := c.dec.Get(key); ok {
			mc := m.clone()
			c.mu.Unlock()
			return mc, nil
		}
		c.mu.Unlock()
		m, err := c.p.DecryptionMaterials(ctx, ec)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.dec.Add(key, m.clone()) // the cache owns (and will zero) its own copy
		c.mu.Unlock()
		return m, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*DecryptionMaterials).clone(), nil
}

// Purge evicts (and zeroes) every cached entry.
func (c *Caching) Purge() {
	c.mu.Lock()
	for k, e := range c.enc {
		e.m.destroy()
		delete(c.enc, k)
	}
	c.dec.Purge()
	c.mu.Unlock()
}

// clone copies the keys this package knows, so the original can be zeroed
// while the copy is in use.
func (m *EncryptionMaterials) clone() *EncryptionMaterials {
	c := *m
	c.encryptionKey = m.encryptionKey.clone()
	if h, ok := m.signingKey.(*HMACKey); ok {
		c.signingKey = h.clone()
	}
	return &c
}

func (m *EncryptionMaterials) destroy() {
	m.encryptionKey.destroy()
	if h, ok := m.signingKey.(*HMACKey); ok {
		h.destroy()
	}
}

func (m *DecryptionMaterials) clone() *DecryptionMaterials {
	c := *m
	c.decryptionKey = m.decryptionKey.clone()
	if h, ok := m.verificationKey.(*HMACKey); ok {
		c.verificationKey = h.clone()
	}
	return &c
}

func (m *DecryptionMaterials) destroy() {
	m.decryptionKey.destroy()
	if h, ok := m.verificationKey.(*HMACKey); ok {
		h.destroy()
	}
}

func (k *AESKey) clone() *AESKey {
	if k == nil {
		return nil
	}
	c, _ := NewAESKey(k.key)
	return c
}

func (k *AESKey) destroy() {
	if k != nil {
		clear(k.key)
	}
}

func (k *HMACKey) clone() *HMACKey {
	c, _ := NewInsecureHMACKey(k.alg, k.key)
	return c
}

func (k *HMACKey) destroy() {
	clear(k.key)
	k.pool = &sync.Pool{New: func() any { return hmac.New(k.h, k.key) }} // drop keyed states
}

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (c Caching) String() string                { return c.redacted().String() }
func (c Caching) GoString() string              { return c.redacted().GoString() }
func (c Caching) Format(f fmt.State, verb rune) { c.redacted().Format(f, verb) }
func (c Caching) LogValue() slog.Value          { return c.redacted().LogValue() }
func (c Caching) MarshalJSON() ([]byte, error)  { return c.redacted().MarshalJSON() }
func (c Caching) redacted() redacted {
	if c.caching == nil {
		return "cmp.Caching{}"
	}
	return redacted(fmt.Sprintf("cmp.Caching{%v}", c.p))
}
