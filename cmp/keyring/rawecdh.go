package keyring

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	crand "crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/internal/ecdhwrap"
	"github.com/itemcrypto/go-itemcrypto/internal/redact"
)

// ECDHScheme is a key agreement schema of the raw ECDH keyring
// (specification framework/key-agreement-schemas.md).
type ECDHScheme int

// The key agreement schemas of the MPL raw ECDH keyring.
const (
	// ECDHRawPrivateKeyToStaticPublicKey: a static sender key pair and the
	// recipient's public key. Encrypts, and decrypts what either party
	// wrote to the other.
	ECDHRawPrivateKeyToStaticPublicKey ECDHScheme = iota + 1
	// ECDHEphemeralPrivateKeyToStaticPublicKey: a fresh sender key pair per
	// encrypted data key and the recipient's public key. Encrypts only.
	ECDHEphemeralPrivateKeyToStaticPublicKey
	// ECDHPublicKeyDiscovery: the recipient's private key; decrypts what any
	// sender wrote to it. Decrypts only.
	ECDHPublicKeyDiscovery
)

// String returns the MPL's name of the schema.
func (s ECDHScheme) String() string {
	switch s {
	case ECDHRawPrivateKeyToStaticPublicKey:
		return "RawPrivateKeyToStaticPublicKey"
	case ECDHEphemeralPrivateKeyToStaticPublicKey:
		return "EphemeralPrivateKeyToStaticPublicKey"
	case ECDHPublicKeyDiscovery:
		return "PublicKeyDiscovery"
	}
	return fmt.Sprintf("ECDHScheme(%d)", int(s))
}

// Provider ids of the ECDH keyrings' encrypted data keys. The raw ECDH
// keyring writes RawECDHProviderID and, as the MPL does, reads both: the
// AWS KMS ECDH keyring's keys have the same layout and derivation.
const (
	RawECDHProviderID = ecdhwrap.RawProviderID
	KMSECDHProviderID = ecdhwrap.KMSProviderID
)

// RawECDHOptions tune the raw ECDH keyring constructors.
type RawECDHOptions struct {
	// Rand is the source of data keys, intermediate keys and KDF salts;
	// nil is crypto/rand. Ephemeral key pairs always come from crypto/rand
	// (since Go 1.26 crypto/ecdh ignores the reader it is given).
	Rand io.Reader
}

// RawECDH is the MPL raw ECDH keyring (specification
// framework/raw-ecdh-keyring.md): the intermediate key is wrapped with
// AES-256-GCM (zero IV) under a key derived from an ECDH shared secret on
// NIST P-256, P-384 or P-521, with SP 800-108 KDF in counter mode over
// HMAC-SHA384, a 32-byte random salt and a fixed info that binds the
// curve, both public keys and the encryption context.
//
// Its encrypted data keys have provider id "raw-ecdh", provider info
// 0x01 || uint32 length || recipient public key || uint32 length || sender
// public key (SEC 1 compressed points), and, after the data key encrypted
// under the intermediate key, salt (32) || commitment key (32) ||
// encrypted intermediate key (32) || tag (16).
//
// A keyring is built by [NewRawECDHStatic], [NewRawECDHEphemeral] or
// [NewRawECDHDiscovery], one per key agreement schema.
type RawECDH struct {
	scheme ECDHScheme
	curve  ecdh.Curve
	name   string           // the fixed info's curve name: p256, p384, p521
	priv   *ecdh.PrivateKey // static: the sender's; discovery: the recipient's; ephemeral: nil
	peer   *ecdh.PublicKey  // static and ephemeral: the recipient's; discovery: nil
	own    []byte           // compressed public key of priv (nil for ephemeral)
	recip  []byte           // compressed recipient public key
	rand   io.Reader
}

var _ Keyring = (*RawECDH)(nil)

func newRawECDH(scheme ECDHScheme, priv *ecdh.PrivateKey, peer *ecdh.PublicKey, optFns []func(*RawECDHOptions)) (*RawECDH, error) {
	r := &RawECDH{scheme: scheme, priv: priv, peer: peer}
	switch {
	case priv != nil:
		r.curve = priv.Curve()
	case peer != nil:
		r.curve = peer.Curve()
	}
	if priv != nil && peer != nil && peer.Curve() != r.curve {
		return nil, errors.New("keyring: raw ECDH private and public keys are on different curves")
	}
	if r.name = ecdhwrap.CurveName(r.curve); r.name == "" {
		return nil, errors.New("keyring: raw ECDH keyring needs a NIST P-256, P-384 or P-521 key")
	}
	if priv != nil {
		r.own = ecdhwrap.CompressPoint(priv.PublicKey())
	}
	if peer != nil {
		r.recip = ecdhwrap.CompressPoint(peer)
	} else {
		r.recip = r.own
	}
	var o RawECDHOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Rand == nil {
		o.Rand = crand.Reader
	}
	r.rand = o.Rand
	return r, nil
}

// NewRawECDHStatic returns a raw ECDH keyring of the
// RawPrivateKeyToStaticPublicKey schema: the sender's private key and the
// recipient's public key, on one NIST curve. It encrypts to the recipient
// and decrypts the encrypted data keys between the two key pairs, in
// either direction. The keys are kept, not copied.
func NewRawECDHStatic(sender *ecdh.PrivateKey, recipient *ecdh.PublicKey, optFns ...func(*RawECDHOptions)) (*RawECDH, error) {
	if sender == nil || recipient == nil {
		return nil, errors.New("keyring: raw ECDH static keyring needs the sender's private key and the recipient's public key")
	}
	return newRawECDH(ECDHRawPrivateKeyToStaticPublicKey, sender, recipient, optFns)
}

// NewRawECDHEphemeral returns a raw ECDH keyring of the
// EphemeralPrivateKeyToStaticPublicKey schema: each encrypted data key is
// made with a fresh sender key pair on the curve of the recipient's public
// key. It only encrypts: OnDecrypt fails with [ErrKeyringCannotDecrypt].
func NewRawECDHEphemeral(recipient *ecdh.PublicKey, optFns ...func(*RawECDHOptions)) (*RawECDH, error) {
	if recipient == nil {
		return nil, errors.New("keyring: raw ECDH ephemeral keyring needs the recipient's public key")
	}
	return newRawECDH(ECDHEphemeralPrivateKeyToStaticPublicKey, nil, recipient, optFns)
}

// NewRawECDHDiscovery returns a raw ECDH keyring of the PublicKeyDiscovery
// schema: the recipient's private key, which decrypts every encrypted data
// key made for its public key, whoever the sender. It only decrypts:
// OnEncrypt fails with [ErrKeyringCannotEncrypt].
func NewRawECDHDiscovery(recipient *ecdh.PrivateKey, optFns ...func(*RawECDHOptions)) (*RawECDH, error) {
	if recipient == nil {
		return nil, errors.New("keyring: raw ECDH discovery keyring needs the recipient's private key")
	}
	return newRawECDH(ECDHPublicKeyDiscovery, recipient, nil, optFns)
}

// Scheme returns the keyring's key agreement schema.
func (r *RawECDH) Scheme() ECDHScheme { return r.scheme }

// Curve returns the keyring's curve.
func (r *RawECDH) Curve() ecdh.Curve { return r.curve }

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (r RawECDH) String() string                { return r.redacted().String() }
func (r RawECDH) GoString() string              { return r.redacted().GoString() }
func (r RawECDH) Format(f fmt.State, verb rune) { r.redacted().Format(f, verb) }
func (r RawECDH) LogValue() slog.Value          { return r.redacted().LogValue() }
func (r RawECDH) MarshalJSON() ([]byte, error)  { return r.redacted().MarshalJSON() }
func (r RawECDH) redacted() redact.Text {
	return redact.Text(fmt.Sprintf("keyring.RawECDH{scheme: %s, curve: %s, encrypt: %t, decrypt: %t}",
		r.scheme, r.name, r.scheme != ECDHPublicKeyDiscovery, r.scheme != ECDHEphemeralPrivateKeyToStaticPublicKey))
}

// parseProviderInfo splits a provider info of version 1 with two keys of
// this keyring's compressed length.
func (r *RawECDH) parseProviderInfo(info []byte) (sender, recipient []byte, ok bool) {
	return ecdhwrap.ParseProviderInfo(info, len(r.recip))
}

// matches reports whether edk is an ECDH encrypted data key this keyring
// can decrypt: a discovery keyring's when the recipient is its key, a
// static keyring's when the two keys are its own and its recipient's, in
// either order.
func (r *RawECDH) matches(edk EncryptedDataKey) bool {
	if edk.ProviderID != RawECDHProviderID && edk.ProviderID != KMSECDHProviderID {
		return false
	}
	sender, recipient, ok := r.parseProviderInfo(edk.ProviderInfo)
	if !ok {
		return false
	}
	if r.scheme == ECDHPublicKeyDiscovery {
		return bytes.Equal(recipient, r.recip)
	}
	return bytes.Equal(sender, r.own) && bytes.Equal(recipient, r.recip) ||
		bytes.Equal(sender, r.recip) && bytes.Equal(recipient, r.own)
}

// wrap encrypts the intermediate key for the recipient.
func (r *RawECDH) wrap(secret, aad []byte) (info, ct []byte, err error) {
	priv, sender := r.priv, r.own
	if r.scheme == ECDHEphemeralPrivateKeyToStaticPublicKey {
		if priv, err = r.curve.GenerateKey(crand.Reader); err != nil {
			return nil, nil, fmt.Errorf("keyring: generating the ephemeral ECDH key: %w", err)
		}
		sender = ecdhwrap.CompressPoint(priv.PublicKey())
	}
	z, err := priv.ECDH(r.peer)
	if err != nil {
		return nil, nil, errors.New("keyring: ECDH key agreement failed")
	}
	defer clear(z)
	ct, err = ecdhwrap.Wrap(r.rand, z, r.name, sender, r.recip, secret, aad)
	if err != nil {
		return nil, nil, err
	}
	return ecdhwrap.ProviderInfo(sender, r.recip), ct, nil
}

// unwrap decrypts the intermediate key of one matching encrypted data key.
func (r *RawECDH) unwrap(edk EncryptedDataKey, wrapped, aad []byte) ([]byte, error) {
	sender, recipient, ok := r.parseProviderInfo(edk.ProviderInfo)
	if !ok {
		return nil, ErrAuthentication
	}
	peer := r.peer
	if r.scheme == ECDHPublicKeyDiscovery {
		var err error
		if peer, err = ecdhwrap.DecompressPoint(r.curve, sender); err != nil {
			return nil, ErrAuthentication
		}
	}
	z, err := r.priv.ECDH(peer)
	if err != nil {
		return nil, ErrAuthentication
	}
	defer clear(z)
	pt, err := ecdhwrap.Unwrap(z, r.name, sender, recipient, wrapped, aad)
	if errors.Is(err, ecdhwrap.ErrUnwrap) {
		return nil, ErrAuthentication
	}
	return pt, err
}

// OnEncrypt implements [Keyring]. A discovery keyring fails with
// [ErrKeyringCannotEncrypt].
func (r *RawECDH) OnEncrypt(_ context.Context, m *EncryptionMaterials) error {
	if r.scheme == ECDHPublicKeyDiscovery {
		return ErrKeyringCannotEncrypt
	}
	if err := m.GenerateDataKey(r.rand); err != nil {
		return err
	}
	return WrapIntermediate(r.rand, m, RawECDHProviderID, r.wrap)
}

// OnDecrypt implements [Keyring]: it tries the ECDH encrypted data keys
// ("raw-ecdh" and "aws-kms-ecdh") whose public keys are its own
// ([UnwrapFirst]: each provider info once). An ephemeral keyring fails
// with [ErrKeyringCannotDecrypt].
func (r *RawECDH) OnDecrypt(_ context.Context, m *DecryptionMaterials, edks []EncryptedDataKey) error {
	if r.scheme == ECDHEphemeralPrivateKeyToStaticPublicKey {
		return ErrKeyringCannotDecrypt
	}
	return UnwrapFirst(m, edks, r.matches, r.unwrap)
}

var errECPEM = errors.New("keyring: not a NIST P-256, P-384 or P-521 key")

// ParseECDHPrivateKeyPEM parses a PEM "PRIVATE KEY" (PKCS #8
// PrivateKeyInfo, the form the MPL loads) or "EC PRIVATE KEY" (SEC 1)
// block holding a NIST P-256, P-384 or P-521 key. Errors never quote the
// input.
func ParseECDHPrivateKeyPEM(data []byte) (*ecdh.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errECPEM
	}
	defer clear(b.Bytes)
	var k any
	var err error
	switch b.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		return nil, errECPEM
	}
	if err != nil {
		return nil, errECPEM
	}
	var priv *ecdh.PrivateKey
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		if priv, err = k.ECDH(); err != nil {
			return nil, errECPEM
		}
	case *ecdh.PrivateKey:
		priv = k
	}
	if priv == nil || ecdhwrap.CurveName(priv.Curve()) == "" {
		return nil, errECPEM
	}
	return priv, nil
}

// ParseECDHPublicKey parses a DER-encoded X.509 SubjectPublicKeyInfo (the
// form the MPL takes), or a PEM "PUBLIC KEY" block of one, holding a NIST
// P-256, P-384 or P-521 key.
func ParseECDHPublicKey(data []byte) (*ecdh.PublicKey, error) {
	der := data
	if b, _ := pem.Decode(data); b != nil {
		if b.Type != "PUBLIC KEY" {
			return nil, errECPEM
		}
		der = b.Bytes
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errECPEM
	}
	var pub *ecdh.PublicKey
	switch k := k.(type) {
	case *ecdsa.PublicKey:
		if pub, err = k.ECDH(); err != nil {
			return nil, errECPEM
		}
	case *ecdh.PublicKey:
		pub = k
	}
	if pub == nil || ecdhwrap.CurveName(pub.Curve()) == "" {
		return nil, errECPEM
	}
	return pub, nil
}
