// Package ecdhwrap is the key wrapping the MPL's ECDH keyrings share (the
// raw ECDH keyring in cmp/keyring and the AWS KMS ECDH keyring in
// cmp/keyring/kmskeyring): the provider info, the KDF of a shared secret
// and the wrapping of the intermediate key under it (specification
// framework/raw-ecdh-keyring.md and aws-kms/aws-kms-ecdh-keyring.md).
package ecdhwrap

import (
	"crypto/ecdh"
	"crypto/elliptic"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/itemcrypto/go-itemcrypto/internal/aesgcm"
	"github.com/itemcrypto/go-itemcrypto/internal/mac"
)

// Provider ids of the ECDH keyrings' encrypted data keys.
const (
	RawProviderID = "raw-ecdh"
	KMSProviderID = "aws-kms-ecdh"
)

// Version is the ECDH keyrings' version, the first byte of their provider
// info.
const Version = 0x01

const (
	version    = Version // keyring version: provider info and fixed info
	kdfLabel   = "ecdh-key-derivation"
	kdfPRF     = "HMAC_SHA384"
	saltLength = 32
	// CommitLength is the length of the commitment key.
	commitLength = 32
	keyLength    = 32
	tagLength    = 16
	// WrappedLength is the length of the keyring part of an EDK
	// ciphertext: salt (32) || commitment key (32) || encrypted
	// intermediate key (32) || tag (16).
	WrappedLength = saltLength + commitLength + keyLength + tagLength
)

// ErrUnwrap: a wrapped intermediate key that does not authenticate.
var ErrUnwrap = errors.New("ecdhwrap: the intermediate key does not authenticate")

// CurveName is the MPL's curve name in the fixed info, or "" for a curve
// the ECDH keyrings do not support (X25519).
func CurveName(c ecdh.Curve) string {
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

// CompressPoint returns the SEC 1 compressed form of a NIST public key.
func CompressPoint(pub *ecdh.PublicKey) []byte {
	u := pub.Bytes() // 0x04 || X || Y
	n := (len(u) - 1) / 2
	out := make([]byte, 1+n)
	out[0] = 0x02 | u[len(u)-1]&1
	copy(out[1:], u[1:1+n])
	return out
}

// DecompressPoint parses a SEC 1 compressed point of curve c, which must
// be on the curve and not the point at infinity.
func DecompressPoint(c ecdh.Curve, b []byte) (*ecdh.PublicKey, error) {
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

// fixedInfo is the KDF's fixed info, also the AAD of the wrapping:
// "ecdh-key-derivation" 0x00 curve 0x00 "HMAC_SHA384" 0x00 sender ||
// recipient 0x00 version 0x00 serialized encryption context.
func fixedInfo(curve string, sender, recipient, ec []byte) []byte {
	b := make([]byte, 0, len(kdfLabel)+len(curve)+len(kdfPRF)+len(sender)+len(recipient)+len(ec)+6)
	b = append(b, kdfLabel...)
	b = append(b, 0)
	b = append(b, curve...)
	b = append(b, 0)
	b = append(b, kdfPRF...)
	b = append(b, 0)
	b = append(b, sender...)
	b = append(b, recipient...)
	b = append(b, 0, version, 0)
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

// derive derives the commitment key (okm[:32]) and the wrapping key
// (okm[32:]) of a shared secret: the MPL's KdfCounterMode with SHA-384,
// purpose = fixed info, nonce = salt and 512 bits, whose PRF input after
// the counter is fixed info || 0x00 || salt || uint32 512.
func derive(okm *[64]byte, z, fixed, salt []byte) {
	info := make([]byte, 0, len(fixed)+1+len(salt)+4)
	info = append(info, fixed...)
	info = append(info, 0)
	info = append(info, salt...)
	info = binary.BigEndian.AppendUint32(info, 512)
	kdfCounterSHA384(okm[:], z, info)
}

// ProviderInfo serializes the provider info: version, recipient, sender.
func ProviderInfo(sender, recipient []byte) []byte {
	b := make([]byte, 0, 9+len(sender)+len(recipient))
	b = append(b, version)
	b = binary.BigEndian.AppendUint32(b, uint32(len(recipient)))
	b = append(b, recipient...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(sender)))
	return append(b, sender...)
}

// ParseProviderInfo splits a provider info of version 1 with two keys of
// compressed length n.
func ParseProviderInfo(info []byte, n int) (sender, recipient []byte, ok bool) {
	if len(info) != 9+2*n || info[0] != version ||
		binary.BigEndian.Uint32(info[1:]) != uint32(n) || binary.BigEndian.Uint32(info[5+n:]) != uint32(n) {
		return nil, nil, false
	}
	return info[9+n:], info[5 : 5+n], true
}

var zeroNonce [12]byte

// Wrap encrypts the intermediate key secret under the key derived from
// the shared secret z of sender and recipient (compressed points of the
// curve named curve), with a salt from rand: salt || commitment key ||
// ciphertext || tag. aad is the serialized encryption context.
func Wrap(rand io.Reader, z []byte, curve string, sender, recipient, secret, aad []byte) ([]byte, error) {
	fixed := fixedInfo(curve, sender, recipient, aad)
	ct := make([]byte, saltLength+commitLength, WrappedLength)
	if _, err := io.ReadFull(rand, ct[:saltLength]); err != nil {
		return nil, fmt.Errorf("keyring: generating KDF salt: %w", err)
	}
	var okm [64]byte
	defer clear(okm[:])
	derive(&okm, z, fixed, ct[:saltLength])
	copy(ct[saltLength:], okm[:commitLength])
	a, err := aesgcm.New(okm[commitLength:])
	if err != nil {
		return nil, err
	}
	return a.Seal(ct, zeroNonce[:], secret, fixed), nil
}

// Unwrap reverses [Wrap]: it checks the commitment key and decrypts the
// intermediate key, or fails with [ErrUnwrap].
func Unwrap(z []byte, curve string, sender, recipient, wrapped, aad []byte) ([]byte, error) {
	if len(wrapped) != WrappedLength {
		return nil, ErrUnwrap
	}
	fixed := fixedInfo(curve, sender, recipient, aad)
	var okm [64]byte
	defer clear(okm[:])
	derive(&okm, z, fixed, wrapped[:saltLength])
	if subtle.ConstantTimeCompare(okm[:commitLength], wrapped[saltLength:saltLength+commitLength]) != 1 {
		return nil, ErrUnwrap
	}
	a, err := aesgcm.New(okm[commitLength:])
	if err != nil {
		return nil, err
	}
	pt, err := a.Open(nil, zeroNonce[:], wrapped[saltLength+commitLength:], fixed)
	if err != nil {
		return nil, ErrUnwrap
	}
	return pt, nil
}
