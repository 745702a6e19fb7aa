package cmp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/itemcrypto/go-itemcrypto/internal/flight"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// ErrVersionNotFound: a provider store holds no such material version.
var ErrVersionNotFound = errors.New("cmp: material version not found")

// ProviderStore keeps versioned providers under a material name: the DDBEC
// ProviderStore, whose DynamoDB implementation is package cmp/metastore.
// Implementations must be safe for concurrent use.
type ProviderStore interface {
	// Provider returns version of the named material, or an error matching
	// ErrVersionNotFound.
	Provider(ctx context.Context, name string, version int64) (Provider, error)
	// MaxVersion returns the newest version of the named material, or an
	// error matching ErrVersionNotFound when it has none.
	MaxVersion(ctx context.Context, name string) (int64, error)
	// CreateProvider returns version of the named material, creating it if
	// it does not exist. Two concurrent creators of one version must end up
	// with the same provider (a conditional write decides).
	CreateProvider(ctx context.Context, name string, version int64) (Provider, error)
}

// RotateProvider creates the next version of the named material (version 0
// when it has none) and returns its number. Writers of a [MostRecent]
// provider pick it up within their TTL.
func RotateProvider(ctx context.Context, store ProviderStore, name string) (int64, error) {
	v, err := store.MaxVersion(ctx, name)
	switch {
	case errors.Is(err, ErrVersionNotFound):
		v = 0
	case err != nil:
		return 0, err
	default:
		v++
	}
	_, err = store.CreateProvider(ctx, name, v)
	return v, err
}

// MostRecentConfig configures a [MostRecent] provider.
type MostRecentConfig struct {
	// Store holds the versions. Required.
	Store ProviderStore
	// MaterialName is the material to use; it must not contain '#'. Items
	// are read by the version in their amzn-ddb-meta-id, under this name.
	// Required.
	MaterialName string
	// TTL bounds how long the newest version, and each version read, is
	// used without asking the store again (which re-authorises against the
	// store's own provider, e.g. a KMS). Required, > 0.
	TTL time.Duration
	// CacheSize bounds the number of versions cached for decryption;
	// 0 means 1000.
	CacheSize int
}

// gracePeriod is how long after the TTL an expired newest version may still
// serve while one caller refreshes it, as in both reference clients.
const gracePeriod = 500 * time.Millisecond

type versioned struct {
	version int64
	p       Provider
	at      time.Time
}

// MostRecent encrypts with the newest version of a material in a
// [ProviderStore] and decrypts with whichever version an item names: the
// DDBEC CachingMostRecentProvider. Safe for concurrent use; when many
// goroutines miss the cache at once, one store call serves them all.
type MostRecent struct {
	store    ProviderStore
	name     string
	ttl      time.Duration
	current  atomic.Pointer[versioned]
	versions *ttlCache[int64, Provider]
	flight   flight.Group[any]
	now      func() time.Time
}

var _ Provider = (*MostRecent)(nil)

// NewMostRecent validates cfg.
func NewMostRecent(cfg MostRecentConfig) (*MostRecent, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("cmp: MostRecentConfig.Store is required")
	case cfg.MaterialName == "" || strings.Contains(cfg.MaterialName, "#"):
		return nil, errors.New("cmp: MostRecentConfig.MaterialName must be non-empty and free of '#'")
	case cfg.TTL <= 0:
		return nil, errors.New("cmp: MostRecentConfig.TTL must be positive")
	}
	size := cfg.CacheSize
	if size <= 0 {
		size = 1000
	}
	return &MostRecent{
		store:    cfg.Store,
		name:     cfg.MaterialName,
		ttl:      cfg.TTL,
		versions: newTTLCache[int64, Provider](size, cfg.TTL, nil),
		now:      time.Now,
	}, nil
}

// EncryptionMaterials delegates to the newest version, creating version 0
// when the material has none.
func (m *MostRecent) EncryptionMaterials(ctx context.Context, ec EncryptionContext) (*EncryptionMaterials, error) {
	cur, err := m.newest(ctx)
	if err != nil {
		return nil, err
	}
	return cur.p.EncryptionMaterials(ctx, ec)
}

// CurrentVersion returns the version new items are written with.
func (m *MostRecent) CurrentVersion(ctx context.Context) (int64, error) {
	cur, err := m.newest(ctx)
	if err != nil {
		return 0, err
	}
	return cur.version, nil
}

func (m *MostRecent) newest(ctx context.Context) (*versioned, error) {
	cur := m.current.Load()
	if cur != nil {
		age := m.now().Sub(cur.at)
		if age < m.ttl {
			return cur, nil
		}
		if age < m.ttl+gracePeriod {
			// One caller refreshes in the background; the others keep
			// using the entry that has just expired.
			m.flight.Start(ctx, "newest", func(ctx context.Context) (any, error) { return m.refresh(ctx) })
			return cur, nil
		}
	}
	v, err := m.flight.Do(ctx, "newest", func(ctx context.Context) (any, error) { return m.refresh(ctx) })
	if err != nil {
		return nil, err
	}
	return v.(*versioned), nil
}

func (m *MostRecent) refresh(ctx context.Context) (*versioned, error) {
	version, err := m.store.MaxVersion(ctx, m.name)
	var p Provider
	switch {
	case errors.Is(err, ErrVersionNotFound):
		version = 0
		p, err = m.store.CreateProvider(ctx, m.name, 0)
	case err == nil:
		p, err = m.store.Provider(ctx, m.name, version)
	}
	if err != nil {
		return nil, err
	}
	m.versions.Add(version, p)
	v := &versioned{version: version, p: p, at: m.now()}
	m.current.Store(v)
	return v, nil
}

// DecryptionMaterials delegates to the version named by the item's
// amzn-ddb-meta-id.
func (m *MostRecent) DecryptionMaterials(ctx context.Context, ec EncryptionContext) (*DecryptionMaterials, error) {
	version, ok := ParseMetaID(ec.MaterialDescription[materialdesc.KeyMetaID])
	if !ok {
		return nil, ErrNoMaterials
	}
	p, ok := m.versions.Get(version)
	if !ok {
		v, err := m.flight.Do(ctx, "v"+strconv.FormatInt(version, 10), func(ctx context.Context) (any, error) {
			p, err := m.store.Provider(ctx, m.name, version)
			if err != nil {
				return nil, err
			}
			m.versions.Add(version, p)
			return p, nil
		})
		if errors.Is(err, ErrVersionNotFound) {
			return nil, fmt.Errorf("%w: %w", ErrNoMaterials, err)
		}
		if err != nil {
			return nil, err
		}
		p = v.(Provider)
	}
	return p.DecryptionMaterials(ctx, ec)
}

// Refresh drops every cached version, so the next call asks the store.
func (m *MostRecent) Refresh() {
	m.current.Store(nil)
	m.versions.Purge()
}

// MetaID formats the amzn-ddb-meta-id of a material version: "name#version".
func MetaID(name string, version int64) string {
	return name + "#" + strconv.FormatInt(version, 10)
}

// ParseMetaID reads the version of an amzn-ddb-meta-id. As in the reference
// clients, the name part is not used: the reader's configured name is.
func ParseMetaID(id string) (int64, bool) {
	name, ver, ok := strings.Cut(id, "#")
	if !ok || name == "" || ver == "" || len(ver) > 18 {
		return 0, false
	}
	for _, c := range ver {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(ver, 10, 64)
	return v, err == nil
}

// String, GoString, Format and LogValue never show key material.
func (m *MostRecent) String() string                { return "cmp.MostRecent{" + m.name + "}" }
func (m *MostRecent) GoString() string              { return m.String() }
func (m *MostRecent) Format(f fmt.State, verb rune) { io.WriteString(f, m.String()) }
func (m *MostRecent) LogValue() slog.Value          { return slog.StringValue(m.String()) }
