package keyring

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
)

// EncryptionRequest asks a [MaterialsManager] for the materials of one item.
type EncryptionRequest struct {
	// Suite is the algorithm suite; 0 means SuiteECDSAP384.
	Suite Suite
	// EncryptionContext is the item's context (the item encryptor's table,
	// key names and values). Keys of RequiredKeys are not stored with the
	// item; the rest is. The manager may keep both (the materials refer to
	// them): the caller must not modify them after the call.
	EncryptionContext map[string]string
	RequiredKeys      []string
}

// DecryptionRequest asks a [MaterialsManager] for the materials of one
// stored item.
type DecryptionRequest struct {
	Suite             Suite
	EncryptedDataKeys []EncryptedDataKey
	// StoredContext is the context parsed from the item's header: untrusted
	// until the item verifies.
	StoredContext map[string]string
	// ReproducedContext is what the reader rebuilt from its configuration
	// and the item; it must hold every key of RequiredKeys. The manager may
	// keep it and add the stored entries to it: the caller must not use it
	// after the call.
	ReproducedContext map[string]string
	RequiredKeys      []string
}

// MaterialsManager builds the materials of one item, the MPL CMM contract.
// Implementations must be safe for concurrent use.
type MaterialsManager interface {
	EncryptionMaterials(ctx context.Context, req EncryptionRequest) (*EncryptionMaterials, error)
	DecryptionMaterials(ctx context.Context, req DecryptionRequest) (*DecryptionMaterials, error)
}

// ManagerOptions tune [NewDefaultManager].
type ManagerOptions struct {
	// Rand is the source of data keys and signing keys; nil is crypto/rand.
	Rand io.Reader
}

type defaultManager struct {
	kr   Keyring
	rand io.Reader
}

// NewDefaultManager returns the MPL default materials manager over k: it
// adds the ECDSA P-384 key pair of SuiteECDSAP384 (the public key as
// "aws-crypto-public-key" in the stored context), asks k to wrap or unwrap
// the data key, and merges the stored and reproduced contexts on decrypt,
// refusing a conflict.
func NewDefaultManager(k Keyring, optFns ...func(*ManagerOptions)) MaterialsManager {
	var o ManagerOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Rand == nil {
		o.Rand = crand.Reader
	}
	return &defaultManager{kr: k, rand: o.Rand}
}

func (d *defaultManager) EncryptionMaterials(ctx context.Context, req EncryptionRequest) (*EncryptionMaterials, error) {
	suite := req.Suite
	if suite == 0 {
		suite = SuiteECDSAP384
	}
	if _, ok := req.EncryptionContext[PublicKeyContextKey]; ok {
		return nil, fmt.Errorf("%w: key %q is set by the materials manager", ErrEncryptionContext, PublicKeyContextKey)
	}
	ec := req.EncryptionContext
	var signer *ecdsa.PrivateKey
	if suite.Signed() {
		var err error
		if signer, err = generateP384(d.rand); err != nil {
			return nil, err
		}
		ec = maps.Clone(ec) // the public key is added: a copy, whatever the caller does
		if ec == nil {
			ec = make(map[string]string, 1)
		}
		ec[PublicKeyContextKey] = EncodePublicKey(&signer.PublicKey)
	}
	if ec == nil {
		ec = map[string]string{}
	}
	m, err := newEncryptionMaterials(suite, ec, req.RequiredKeys)
	if err != nil {
		return nil, err
	}
	m.signer = signer
	if err := d.kr.OnEncrypt(ctx, m); err != nil {
		m.Zero()
		return nil, err
	}
	if m.dataKey == nil || len(m.edks) == 0 {
		m.Zero()
		return nil, fmt.Errorf("%w: keyring set no data key or no encrypted data key", ErrInvalidMaterials)
	}
	return m, nil
}

func (d *defaultManager) DecryptionMaterials(ctx context.Context, req DecryptionRequest) (*DecryptionMaterials, error) {
	if !req.Suite.Valid() {
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedSuite, req.Suite)
	}
	ec, err := mergeInto(req.ReproducedContext, req.StoredContext, req.RequiredKeys)
	if err != nil {
		return nil, err
	}
	var verifier *ecdsa.PublicKey
	pub, hasPub := ec[PublicKeyContextKey]
	switch {
	case req.Suite.Signed() && !hasPub:
		return nil, fmt.Errorf("%w: signing suite without %q", ErrEncryptionContext, PublicKeyContextKey)
	case !req.Suite.Signed() && hasPub:
		return nil, fmt.Errorf("%w: %q under a suite without signature", ErrEncryptionContext, PublicKeyContextKey)
	case hasPub:
		if verifier, err = DecodePublicKey(pub); err != nil {
			return nil, err
		}
	}
	if !req.Suite.Valid() {
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedSuite, req.Suite)
	}
	m := &DecryptionMaterials{&decryptionMaterials{suite: req.Suite, ec: ec}} // ec is MergeContext's own map
	m.verifier = verifier
	if err := d.kr.OnDecrypt(ctx, m, req.EncryptedDataKeys); err != nil {
		return nil, err
	}
	if !m.HasDataKey() {
		return nil, fmt.Errorf("%w: keyring set no data key", ErrInvalidMaterials)
	}
	return m, nil
}

// MergeContext returns stored plus reproduced: a key in both must have the
// same value, and every key of required must be in reproduced.
func MergeContext(stored, reproduced map[string]string, required []string) (map[string]string, error) {
	return mergeInto(maps.Clone(reproduced), stored, required)
}

// mergeInto is MergeContext that adds stored to reproduced (which it owns).
func mergeInto(reproduced, stored map[string]string, required []string) (map[string]string, error) {
	for _, k := range required {
		if _, ok := reproduced[k]; !ok {
			return nil, fmt.Errorf("%w: required key %q not reproduced", ErrEncryptionContext, k)
		}
	}
	if reproduced == nil {
		reproduced = make(map[string]string, len(stored))
	}
	for k, v := range stored {
		if rv, ok := reproduced[k]; ok {
			if rv != v {
				return nil, fmt.Errorf("%w: stored and reproduced values of %q differ", ErrEncryptionContext, k)
			}
			continue
		}
		reproduced[k] = v
	}
	return reproduced, nil
}

func generateP384(rand io.Reader) (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand)
	if err != nil {
		return nil, fmt.Errorf("keyring: generating ECDSA P-384 key: %w", err)
	}
	return k, nil
}

// EncodePublicKey returns the form of "aws-crypto-public-key": the
// compressed SEC 1 point, base64 with padding.
func EncodePublicKey(pub *ecdsa.PublicKey) string {
	//lint:ignore SA1019 compressed points have no API without the coordinates
	return base64.StdEncoding.EncodeToString(elliptic.MarshalCompressed(pub.Curve, pub.X, pub.Y))
}

var errBadPublicKey = fmt.Errorf("%w: aws-crypto-public-key is not a compressed P-384 point", ErrEncryptionContext)

// DecodePublicKey parses the form EncodePublicKey writes.
func DecodePublicKey(s string) (*ecdsa.PublicKey, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 49 {
		return nil, errBadPublicKey
	}
	x, y := elliptic.UnmarshalCompressed(elliptic.P384(), b)
	if x == nil {
		return nil, errBadPublicKey
	}
	//lint:ignore SA1019 UnmarshalCompressed gives the coordinates; crypto/ecdsa parses no compressed point
	return &ecdsa.PublicKey{Curve: elliptic.P384(), X: x, Y: y}, nil
}
