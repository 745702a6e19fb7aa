package keyring

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/itemcrypto/go-itemcrypto/internal/mac"
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
	RawECDHProviderID = "raw-ecdh"
	KMSECDHProviderID = "aws-kms-ecdh"
)

const (
	ecdhVersion       = 0x01 // keyring version: provider info and fixed info
	ecdhKDFLabel      = "ecdh-key-derivation"
	ecdhKDFPRF        = "HMAC_SHA384"
	ecdhSaltLength    = 32
	ecdhCommitLength  = 32
	ecdhWrappedLength = ecdhSaltLength + ecdhCommitLength + KeyLength + gcmTagLength
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

// ecdhCurveName is the MPL's curve name in the fixed info, or "" for a
// curve the keyring does not support (X25519).
func ecdhCurveName(c ecdh.Curve) string {
	switch c {
	case ecdh.P256():
		return "p256"
	case ecdh.P384():
		return "p384"
	case ecdh.P521():
		return "p521"
	}
	return ""
}

func ellipticCurve(c ecdh.Curve) elliptic.Curve {
	switch c {
	case ecdh.P384():
		return elliptic.P384()
	case ecdh.P521():
		return elliptic.P521()
	}
	return elliptic.P256()
}

// compressPoint returns the SEC 1 compressed form of a NIST public key.
func compressPoint(pub *ecdh.PublicKey) []byte {
	u := pub.Bytes() // 0x04 || X || Y
	n := (len(u) - 1) / 2
	out := make([]byte, 1+n)
	out[0] = 0x02 | u[len(u)-1]&1
	copy(out[1:], u[1:1+n])
	return out
}

// decompressPoint parses a SEC 1 compressed point of curve c, which must
// be on the curve and not the point at infinity.
func decompressPoint(c ecdh.Curve, b []byte) (*ecdh.PublicKey, error) {
	ec := ellipticCurve(c)
	n := (ec.Params().BitSize + 7) / 8
	if len(b) != 1+n {
		return nil, errors.New("keyring: compressed point of the wrong length")
	}
	x, y := elliptic.UnmarshalCompressed(ec, b)
	if x == nil {
		return nil, errors.New("keyring: invalid compressed point")
	}
	u := make([]byte, 1+2*n)
	u[0] = 4
	x.FillBytes(u[1 : 1+n])
	y.FillBytes(u[1+n:])
	return c.NewPublicKey(u)
}

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
	if r.name = ecdhCurveName(r.curve); r.name == "" {
		return nil, errors.New("keyring: raw ECDH keyring needs a NIST P-256, P-384 or P-521 key")
	}
	if priv != nil {
		r.own = compressPoint(priv.PublicKey())
	}
	if peer != nil {
		r.recip = compressPoint(peer)
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

// ecdhFixedInfo is the KDF's fixed info, also the AAD of the wrapping:
// "ecdh-key-derivation" 0x00 curve 0x00 "HMAC_SHA384" 0x00 sender ||
// recipient 0x00 version 0x00 serialized encryption context.
func ecdhFixedInfo(curve string, sender, recipient, ec []byte) []byte {
	b := make([]byte, 0, len(ecdhKDFLabel)+len(curve)+len(ecdhKDFPRF)+len(sender)+len(recipient)+len(ec)+6)
	b = append(b, ecdhKDFLabel...)
	b = append(b, 0)
	b = append(b, curve...)
	b = append(b, 0)
	b = append(b, ecdhKDFPRF...)
	b = append(b, 0)
	b = append(b, sender...)
	b = append(b, recipient...)
	b = append(b, 0, ecdhVersion, 0)
	return append(b, ec...)
}

// kdfCounterSHA384 fills out with NIST SP 800-108 KDF in counter mode,
// HMAC-SHA384 as PRF: block i is HMAC(ikm, uint32 i || info), i from 1.
// ikm is at most 128 bytes (an ECDH shared secret is 32, 48 or 66).
func kdfCounterSHA384(out, ikm, info []byte) {
	var block [48]byte
	var ctr [4]byte
	for i, off := uint32(1), 0; off < len(out); i++ {
		binary.BigEndian.PutUint32(ctr[:], i)
		w := mac.New384(ikm)
		w.Write(ctr[:])
		w.Write(info)
		w.Sum384(&block)
		off += copy(out[off:], block[:])
	}
	clear(block[:])
}

// ecdhDerive derives the commitment key (okm[:32]) and the wrapping key
// (okm[32:]) of a shared secret: the MPL's KdfCounterMode with SHA-384,
// purpose = fixed info, nonce = salt and 512 bits, whose PRF input after
// the counter is fixed info || 0x00 || salt || uint32 512.
func ecdhDerive(okm *[64]byte, z, fixed, salt []byte) {
	info := make([]byte, 0, len(fixed)+1+len(salt)+4)
	info = append(info, fixed...)
	info = append(info, 0)
	info = append(info, salt...)
	info = binary.BigEndian.AppendUint32(info, 512)
	kdfCounterSHA384(okm[:], z, info)
}

// providerInfo serializes the provider info: version, recipient, sender.
func ecdhProviderInfo(sender, recipient []byte) []byte {
	b := make([]byte, 0, 9+len(sender)+len(recipient))
	b = append(b, ecdhVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(len(recipient)))
	b = append(b, recipient...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(sender)))
	return append(b, sender...)
}

// parseProviderInfo splits a provider info of version 1 with two keys of
// this keyring's compressed length n.
func (r *RawECDH) parseProviderInfo(info []byte) (sender, recipient []byte, ok bool) {
	n := len(r.recip)
	if len(info) != 9+2*n || info[0] != ecdhVersion ||
		binary.BigEndian.Uint32(info[1:]) != uint32(n) || binary.BigEndian.Uint32(info[5+n:]) != uint32(n) {
		return nil, nil, false
	}
	return info[9+n:], info[5 : 5+n], true
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
		sender = compressPoint(priv.PublicKey())
	}
	z, err := priv.ECDH(r.peer)
	if err != nil {
		return nil, nil, errors.New("keyring: ECDH key agreement failed")
	}
	defer clear(z)
	fixed := ecdhFixedInfo(r.name, sender, r.recip, aad)
	ct = make([]byte, ecdhSaltLength+ecdhCommitLength, ecdhWrappedLength)
	if _, err := io.ReadFull(r.rand, ct[:ecdhSaltLength]); err != nil {
		return nil, nil, fmt.Errorf("keyring: generating KDF salt: %w", err)
	}
	var okm [64]byte
	defer clear(okm[:])
	ecdhDerive(&okm, z, fixed, ct[:ecdhSaltLength])
	copy(ct[ecdhSaltLength:], okm[:ecdhCommitLength])
	a, err := gcm(okm[ecdhCommitLength:])
	if err != nil {
		return nil, nil, err
	}
	return ecdhProviderInfo(sender, r.recip), a.Seal(ct, zeroNonce[:], secret, fixed), nil
}

// unwrap decrypts the intermediate key of one matching encrypted data key.
func (r *RawECDH) unwrap(edk EncryptedDataKey, wrapped, aad []byte) ([]byte, error) {
	if len(wrapped) != ecdhWrappedLength {
		return nil, ErrAuthentication
	}
	sender, recipient, ok := r.parseProviderInfo(edk.ProviderInfo)
	if !ok {
		return nil, ErrAuthentication
	}
	peer := r.peer
	if r.scheme == ECDHPublicKeyDiscovery {
		var err error
		if peer, err = decompressPoint(r.curve, sender); err != nil {
			return nil, ErrAuthentication
		}
	}
	z, err := r.priv.ECDH(peer)
	if err != nil {
		return nil, ErrAuthentication
	}
	defer clear(z)
	fixed := ecdhFixedInfo(r.name, sender, recipient, aad)
	var okm [64]byte
	defer clear(okm[:])
	ecdhDerive(&okm, z, fixed, wrapped[:ecdhSaltLength])
	if subtle.ConstantTimeCompare(okm[:ecdhCommitLength], wrapped[ecdhSaltLength:ecdhSaltLength+ecdhCommitLength]) != 1 {
		return nil, ErrAuthentication
	}
	a, err := gcm(okm[ecdhCommitLength:])
	if err != nil {
		return nil, err
	}
	pt, err := a.Open(nil, zeroNonce[:], wrapped[ecdhSaltLength+ecdhCommitLength:], fixed)
	if err != nil {
		return nil, ErrAuthentication
	}
	return pt, nil
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
	if priv == nil || ecdhCurveName(priv.Curve()) == "" {
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
	if pub == nil || ecdhCurveName(pub.Curve()) == "" {
		return nil, errECPEM
	}
	return pub, nil
}
