// Package hierarchy is the MPL's AWS KMS hierarchical keyring: each item's
// key is wrapped under a key derived from a branch key (a 32-byte key that a
// branch key store keeps encrypted under AWS KMS), so one KMS call serves
// many items while the branch key is cached.
//
// The keyring reads branch keys through a [Source]; the DynamoDB branch key
// store is one, [Static] (one fixed branch key, for tests and vectors) is
// another. Wrapping follows the specification byte for byte: a 32-byte key
// derived from the branch key with NIST SP 800-108 KDF in counter mode
// (HMAC-SHA256, label "aws-kms-hierarchy", a 16-byte random salt as
// context), AES-256-GCM with a 12-byte random IV, and as AAD
// "aws-kms-hierarchy" || branch key id || 16-byte version || serialized
// encryption context. The EDK ciphertext is salt || IV || version ||
// wrapped key || tag, the provider info the branch key id.
//
// Each keyring caches branch keys, privately or in a [SharedCache] that
// several keyrings share (Options.Cache, Options.PartitionID), under the
// MPL's cache identifiers.
package hierarchy

import (
	"context"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/internal/aesgcm"
)

// ProviderID is the provider id of every EDK this keyring writes.
const ProviderID = "aws-kms-hierarchy"

// BranchKey is one version of a branch key. Its keys are secret and live in
// unexported fields.
type BranchKey struct {
	// Behind a pointer, as cmp.AESKey's material: %w (and any verb fmt
	// finds bad) prints a value's fields without its Format method, one
	// pointer deep, so the key must be two pointers away.
	*branchKey
}

type branchKey struct {
	id      string
	version [16]byte // the UUID of the version, as bytes
	key     []byte
	beacon  []byte
}

// NewBranchKey returns branch key materials: id, the version as a UUID
// string, the 32-byte branch key, and the optional 32-byte beacon key (nil
// when unknown). The keys are copied.
func NewBranchKey(id, version string, key, beaconKey []byte) (*BranchKey, error) {
	if id == "" {
		return nil, errors.New("hierarchy: empty branch key id")
	}
	u, err := uuid.Parse(version)
	if err != nil || len(version) != 36 {
		return nil, fmt.Errorf("hierarchy: branch key version %q is not a UUID", version)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("hierarchy: branch key of %d bytes, want 32", len(key))
	}
	if beaconKey != nil && len(beaconKey) != 32 {
		return nil, fmt.Errorf("hierarchy: beacon key of %d bytes, want 32", len(beaconKey))
	}
	return &BranchKey{&branchKey{id: id, version: u, key: slices.Clone(key), beacon: slices.Clone(beaconKey)}}, nil
}

// ID returns the branch key id.
func (b *BranchKey) ID() string { return b.id }

// Version returns the version UUID string.
func (b *BranchKey) Version() string { return uuid.UUID(b.version).String() }

// BeaconKey returns the beacon key, or nil. It is secret.
func (b *BranchKey) BeaconKey() []byte { return b.beacon }

// Source finds branch keys. Implementations must be safe for concurrent use.
type Source interface {
	// ActiveBranchKey returns the active version of branch key id.
	ActiveBranchKey(ctx context.Context, id string) (*BranchKey, error)
	// BranchKeyVersion returns one version of branch key id.
	BranchKeyVersion(ctx context.Context, id, version string) (*BranchKey, error)
}

// ErrBranchKeyNotFound: no such branch key or version in the source.
var ErrBranchKeyNotFound = errors.New("hierarchy: branch key not found")

// Static is a Source of one branch key version, as the DB-ESDK test vectors
// use it ("static-branch-key").
type Static struct{ bk *BranchKey }

// NewStatic returns a Source that serves bk for its id and version only.
func NewStatic(bk *BranchKey) *Static { return &Static{bk: bk} }

// ActiveBranchKey implements [Source].
func (s *Static) ActiveBranchKey(_ context.Context, id string) (*BranchKey, error) {
	if id != s.bk.id {
		return nil, fmt.Errorf("%w: %q", ErrBranchKeyNotFound, id)
	}
	return s.bk, nil
}

// BranchKeyVersion implements [Source].
func (s *Static) BranchKeyVersion(_ context.Context, id, version string) (*BranchKey, error) {
	if id != s.bk.id || version != s.bk.Version() {
		return nil, fmt.Errorf("%w: %q version %s", ErrBranchKeyNotFound, id, version)
	}
	return s.bk, nil
}

// IDSupplier picks the branch key id for an item from its encryption
// context (multi-tenant tables).
type IDSupplier func(ctx context.Context, ec map[string]string) (string, error)

// Options configure [New].
type Options struct {
	// BranchKeyID is the branch key every item is wrapped under; or set
	// IDSupplier. Exactly one of them is required.
	BranchKeyID string
	IDSupplier  IDSupplier
	// TTL is how long a branch key this keyring reads stays cached; 0
	// means 10 minutes, negative no caching (not with Cache).
	TTL time.Duration
	// CacheSize bounds the private cache's branch key versions; 0 means
	// 1000. Not with Cache.
	CacheSize int
	// Cache is a cache shared with other keyrings; nil gives the keyring a
	// private cache of CacheSize entries.
	Cache *SharedCache
	// PartitionID is the partition of the keyring's entries in the cache:
	// keyrings that share a Cache share entries only when their partition
	// ids (and logical key store names) are the same. "" means a random
	// UUID, a partition of the keyring's own. Set it, on each keyring
	// alike, to share branch keys among keyrings of one key store.
	PartitionID string
	// LogicalKeyStoreName is the logical key store name in the cache
	// identifier; "" takes it from a Source with a LogicalKeyStoreName
	// method (the key store's). A keyring with a Cache and a PartitionID
	// needs one.
	LogicalKeyStoreName string
	// Rand is the source of data keys, salts and IVs; nil is crypto/rand.
	Rand io.Reader
	// Now is the clock of the private cache; nil is time.Now. Not with
	// Cache (SharedCacheOptions.Now is its clock).
	Now func() time.Time
}

// LogicalNamer is a Source that knows its logical key store name, such as
// the DynamoDB key store.
type LogicalNamer interface {
	LogicalKeyStoreName() string
}

// Keyring is the hierarchical keyring. It is safe for concurrent use.
type Keyring struct {
	// The state sits behind a pointer: a Keyring value copies no lock, so
	// its redacting methods take it by value, and T and *T both redact.
	*state
}

type state struct {
	src       Source
	opts      Options
	cache     *SharedCache
	partition []byte // the partition id's bytes in the cache identifier
}

var _ keyring.Keyring = (*Keyring)(nil)

// New returns a hierarchical keyring over src.
func New(src Source, optFns ...func(*Options)) (*Keyring, error) {
	if src == nil {
		return nil, errors.New("hierarchy: a branch key Source is required")
	}
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	if (o.BranchKeyID == "") == (o.IDSupplier == nil) {
		return nil, errors.New("hierarchy: set exactly one of Options.BranchKeyID and Options.IDSupplier")
	}
	if o.LogicalKeyStoreName == "" {
		if n, ok := src.(LogicalNamer); ok {
			o.LogicalKeyStoreName = n.LogicalKeyStoreName()
		}
	}
	if o.Cache != nil {
		switch {
		case o.TTL < 0:
			return nil, fmt.Errorf("%w: a negative TTL with a shared cache", ErrCacheConfig)
		case o.CacheSize != 0:
			return nil, fmt.Errorf("%w: CacheSize with a shared cache", ErrCacheConfig)
		case o.Now != nil:
			return nil, fmt.Errorf("%w: Now with a shared cache (set SharedCacheOptions.Now)", ErrCacheConfig)
		case o.PartitionID != "" && o.LogicalKeyStoreName == "":
			return nil, fmt.Errorf("%w: a partition id without the logical key store name", ErrCacheConfig)
		}
	}
	if o.TTL == 0 {
		o.TTL = 10 * time.Minute
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 1000
	}
	if o.Rand == nil {
		o.Rand = crand.Reader
	}
	k := &Keyring{&state{src: src, opts: o, cache: o.Cache}}
	if o.PartitionID != "" {
		k.partition = []byte(o.PartitionID)
	} else {
		// The MPL: a random UUID's 16 bytes.
		u, err := uuid.NewRandom()
		if err != nil {
			return nil, fmt.Errorf("hierarchy: partition id: %w", err)
		}
		k.partition = u[:]
	}
	if k.cache == nil {
		size := o.CacheSize
		if o.TTL < 0 {
			size = 0 // nothing kept; concurrent reads still shared
		}
		c, err := newSharedCache(size, 0, o.Now)
		if err != nil {
			return nil, err
		}
		k.cache = c
	}
	return k, nil
}

// branchKey returns a branch key from the cache or the source. version ""
// asks for the active one.
func (k *Keyring) branchKey(ctx context.Context, id, version string) (*BranchKey, error) {
	cid := cacheID(k.partition, k.opts.LogicalKeyStoreName, id, version)
	return k.cache.get(ctx, cid, k.opts.TTL, func(ctx context.Context) (*BranchKey, error) {
		var bk *BranchKey
		var err error
		if version == "" {
			bk, err = k.src.ActiveBranchKey(ctx, id)
		} else {
			bk, err = k.src.BranchKeyVersion(ctx, id, version)
		}
		if err != nil {
			return nil, err
		}
		if bk.id != id || (version != "" && bk.Version() != version) {
			return nil, fmt.Errorf("hierarchy: source returned branch key %q version %s for %q version %s", bk.id, bk.Version(), id, version)
		}
		return bk, nil
	})
}

const (
	saltLength = 16
	ivLength   = 12
	// wrappedLength is salt, IV, version, 32-byte key and tag.
	wrappedLength = saltLength + ivLength + 16 + keyring.KeyLength + 16
)

// deriveKey is the SP 800-108 counter-mode KDF with HMAC-SHA256 for one
// 32-byte block: HMAC(branchKey, 1 || label || 0x00 || salt || 256).
func deriveKey(branchKey, salt []byte) []byte {
	m := hmac.New(sha256.New, branchKey)
	var ctr [4]byte
	binary.BigEndian.PutUint32(ctr[:], 1)
	m.Write(ctr[:])
	m.Write([]byte(ProviderID))
	m.Write([]byte{0})
	m.Write(salt)
	var bits [4]byte
	binary.BigEndian.PutUint32(bits[:], 256)
	m.Write(bits[:])
	return m.Sum(nil)
}

func wrappingAAD(id string, version []byte, ecAAD []byte) []byte {
	aad := make([]byte, 0, len(ProviderID)+len(id)+16+len(ecAAD))
	aad = append(aad, ProviderID...)
	aad = append(aad, id...)
	aad = append(aad, version...)
	return append(aad, ecAAD...)
}

// OnEncrypt implements [keyring.Keyring].
func (k *Keyring) OnEncrypt(ctx context.Context, m *keyring.EncryptionMaterials) error {
	id := k.opts.BranchKeyID
	if k.opts.IDSupplier != nil {
		var err error
		if id, err = k.opts.IDSupplier(ctx, m.EncryptionContext()); err != nil {
			return fmt.Errorf("hierarchy: branch key id supplier: %w", err)
		}
	}
	bk, err := k.branchKey(ctx, id, "")
	if err != nil {
		return err
	}
	if err := m.GenerateDataKey(k.opts.Rand); err != nil {
		return err
	}
	return keyring.WrapIntermediate(k.opts.Rand, m, ProviderID, func(secret, ecAAD []byte) ([]byte, []byte, error) {
		var saltIV [saltLength + ivLength]byte
		if _, err := io.ReadFull(k.opts.Rand, saltIV[:]); err != nil {
			return nil, nil, fmt.Errorf("hierarchy: generating salt: %w", err)
		}
		dk := deriveKey(bk.key, saltIV[:saltLength])
		defer clear(dk)
		a, err := aesgcm.New(dk)
		if err != nil {
			return nil, nil, err
		}
		out := make([]byte, 0, wrappedLength)
		out = append(out, saltIV[:]...)
		out = append(out, bk.version[:]...)
		out = a.Seal(out, saltIV[saltLength:], secret, wrappingAAD(bk.id, bk.version[:], ecAAD))
		return []byte(bk.id), out, nil
	})
}

// OnDecrypt implements [keyring.Keyring]. It tries the EDKs of provider
// "aws-kms-hierarchy" whose branch key id it would use (the configured id,
// or the supplier's for the item), the first of them only
// ([keyring.UnwrapFirst]: copies of one EDK cost one branch key read, one
// unwrap). The wrapping AAD (with the serialized encryption context, which
// a forged item may make 400 KB) is built once per item, never per EDK.
func (k *Keyring) OnDecrypt(ctx context.Context, m *keyring.DecryptionMaterials, edks []keyring.EncryptedDataKey) error {
	if m.HasDataKey() {
		return fmt.Errorf("%w: data key already set", keyring.ErrInvalidMaterials)
	}
	want := k.opts.BranchKeyID
	if k.opts.IDSupplier != nil {
		var err error
		if want, err = k.opts.IDSupplier(ctx, m.EncryptionContext()); err != nil {
			return fmt.Errorf("hierarchy: branch key id supplier: %w", err)
		}
	}
	var aad []byte // ProviderID || want || version || ecAAD; the version is set per EDK
	versionAt := len(ProviderID) + len(want)
	return keyring.UnwrapFirst(m, edks, func(edk keyring.EncryptedDataKey) bool {
		return edk.ProviderID == ProviderID && string(edk.ProviderInfo) == want
	}, func(_ keyring.EncryptedDataKey, wrapped, ecAAD []byte) ([]byte, error) {
		if len(wrapped) != wrappedLength {
			return nil, keyring.ErrAuthentication
		}
		version, err := uuid.FromBytes(wrapped[saltLength+ivLength : saltLength+ivLength+16])
		if err != nil {
			return nil, keyring.ErrAuthentication
		}
		bk, err := k.branchKey(ctx, want, version.String())
		if errors.Is(err, ErrBranchKeyNotFound) {
			// The version comes from the unsigned EDK.
			return nil, fmt.Errorf("%w: %w", keyring.ErrNoDecryptableKey, err)
		}
		if err != nil {
			return nil, err
		}
		if aad == nil {
			aad = wrappingAAD(want, version[:], ecAAD)
		} else {
			copy(aad[versionAt:], version[:])
		}
		dk := deriveKey(bk.key, wrapped[:saltLength])
		defer clear(dk)
		a, err := aesgcm.New(dk)
		if err != nil {
			return nil, err
		}
		pt, err := a.Open(nil, wrapped[saltLength:saltLength+ivLength], wrapped[saltLength+ivLength+16:], aad)
		if err != nil {
			return nil, keyring.ErrAuthentication
		}
		return pt, nil
	})
}
