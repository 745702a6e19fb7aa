package keyring

import (
	"context"
	"crypto"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // OAEP with SHA-1 is one of the MPL's padding schemes
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"

	"github.com/itemcrypto/go-itemcrypto/internal/redact"
)

// RSAPadding is a padding scheme of the raw RSA keyring. OAEP uses MGF1
// with the same hash and an empty label.
type RSAPadding int

// The padding schemes of the MPL raw RSA keyring. Prefer an OAEP scheme:
// RSAPKCS1 is there for compatibility (decryption uses the constant-time
// session-key form, so a bad padding is not told apart from a wrong key).
const (
	RSAPKCS1 RSAPadding = iota + 1
	RSAOAEPSHA1
	RSAOAEPSHA256
	RSAOAEPSHA384
	RSAOAEPSHA512
)

// String returns the MPL's name of the padding scheme.
func (p RSAPadding) String() string {
	switch p {
	case RSAPKCS1:
		return "PKCS1"
	case RSAOAEPSHA1:
		return "OAEP_SHA1_MGF1"
	case RSAOAEPSHA256:
		return "OAEP_SHA256_MGF1"
	case RSAOAEPSHA384:
		return "OAEP_SHA384_MGF1"
	case RSAOAEPSHA512:
		return "OAEP_SHA512_MGF1"
	}
	return fmt.Sprintf("RSAPadding(%d)", int(p))
}

// ParseRSAPadding accepts the MPL names (String) and the test-vector
// form: padding algorithm "pkcs1" or "oaep-mgf1" with hash "sha1",
// "sha256", "sha384" or "sha512" (ignored for pkcs1).
func ParseRSAPadding(algorithm, hash string) (RSAPadding, error) {
	for p := RSAPKCS1; p <= RSAOAEPSHA512; p++ {
		if algorithm == p.String() && hash == "" {
			return p, nil
		}
	}
	switch {
	case algorithm == "pkcs1":
		return RSAPKCS1, nil
	case algorithm == "oaep-mgf1" && hash == "sha1":
		return RSAOAEPSHA1, nil
	case algorithm == "oaep-mgf1" && hash == "sha256":
		return RSAOAEPSHA256, nil
	case algorithm == "oaep-mgf1" && hash == "sha384":
		return RSAOAEPSHA384, nil
	case algorithm == "oaep-mgf1" && hash == "sha512":
		return RSAOAEPSHA512, nil
	}
	return 0, fmt.Errorf("keyring: unknown RSA padding %q with hash %q", algorithm, hash)
}

// hash returns the OAEP hash, or nil for PKCS #1 v1.5.
func (p RSAPadding) hash() func() hash.Hash {
	switch p {
	case RSAOAEPSHA1:
		return sha1.New
	case RSAOAEPSHA256:
		return sha256.New
	case RSAOAEPSHA384:
		return sha512.New384
	case RSAOAEPSHA512:
		return sha512.New
	}
	return nil
}

// cryptoHash returns the OAEP hash as a crypto.Hash, 0 for PKCS #1 v1.5.
func (p RSAPadding) cryptoHash() crypto.Hash {
	switch p {
	case RSAOAEPSHA1:
		return crypto.SHA1
	case RSAOAEPSHA256:
		return crypto.SHA256
	case RSAOAEPSHA384:
		return crypto.SHA384
	case RSAOAEPSHA512:
		return crypto.SHA512
	}
	return 0
}

// maxPlaintext is the longest message the padding takes under a modulus of
// k bytes (RFC 8017 7.1.1 and 7.2.1).
func (p RSAPadding) maxPlaintext(k int) int {
	if h := p.hash(); h != nil {
		return k - 2*h().Size() - 2
	}
	return k - 11
}

// RawRSAOptions tune [NewRawRSA].
type RawRSAOptions struct {
	// Rand is the source of data keys, intermediate keys and RSA padding,
	// and of the stand-in key of a PKCS #1 v1.5 decryption; nil is
	// crypto/rand.
	Rand io.Reader
}

// RawRSA is the MPL raw RSA keyring: the intermediate key encrypted under
// an RSA public key the caller holds, with PKCS #1 v1.5 or OAEP padding.
// Its encrypted data keys carry the key namespace as provider id and the
// key name as provider info. A keyring with only a public key encrypts; one
// with a private key decrypts.
type RawRSA struct {
	namespace, name string
	padding         RSAPadding
	pub             *rsa.PublicKey
	priv            *rsa.PrivateKey  // nil for a key held elsewhere (NewRawRSAWithDecrypter)
	dec             crypto.Decrypter // priv, or the key held elsewhere; nil without a private key
	decPub          *rsa.PublicKey   // dec's public key
	rand            io.Reader
}

var _ Keyring = (*RawRSA)(nil)

// NewRawRSA returns a raw RSA keyring under key namespace and name (which
// must match the readers'), with one padding scheme. pub encrypts and priv
// decrypts; at least one is required, and, as the MPL requires, the public
// key is never derived from priv: a keyring without pub cannot encrypt.
// When both are given they must be one key pair. The keys are kept, not
// copied: do not modify them afterwards.
func NewRawRSA(namespace, name string, padding RSAPadding, pub *rsa.PublicKey, priv *rsa.PrivateKey, optFns ...func(*RawRSAOptions)) (*RawRSA, error) {
	if err := checkRawKeyName("raw RSA", namespace, name); err != nil {
		return nil, err
	}
	if padding < RSAPKCS1 || padding > RSAOAEPSHA512 {
		return nil, fmt.Errorf("keyring: unsupported RSA padding %s", padding)
	}
	if pub == nil && priv == nil {
		return nil, errors.New("keyring: raw RSA keyring needs a public key, a private key or both")
	}
	if pub != nil && priv != nil && !pub.Equal(&priv.PublicKey) {
		return nil, errors.New("keyring: raw RSA public and private keys are not one key pair")
	}
	if priv != nil {
		if err := priv.Validate(); err != nil {
			return nil, errors.New("keyring: invalid RSA private key")
		}
	}
	modulus := pub
	if modulus == nil {
		modulus = &priv.PublicKey
	}
	if padding.maxPlaintext(modulus.Size()) < KeyLength {
		return nil, fmt.Errorf("keyring: a %d-bit RSA key is too small for %s padding of a %d-byte key", modulus.N.BitLen(), padding, KeyLength)
	}
	var o RawRSAOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Rand == nil {
		o.Rand = crand.Reader
	}
	r := &RawRSA{namespace: namespace, name: name, padding: padding, pub: pub, priv: priv, rand: o.Rand}
	if priv != nil {
		r.dec, r.decPub = priv, &priv.PublicKey
	}
	return r, nil
}

// NewRawRSAWithDecrypter is [NewRawRSA] with the private key held
// elsewhere (an HSM, a cloud KMS, an agent): dec.Public() must be an
// *rsa.PublicKey (of one key pair with pub when pub is given), and
// dec.Decrypt is called with *rsa.OAEPOptions (MGF1 with the OAEP hash,
// no label) or, for RSAPKCS1, *rsa.PKCS1v15DecryptOptions whose
// SessionKeyLen is 32: an error there is not reported but leaves a random
// key, which then fails like a wrong key. dec nil is a keyring that only
// encrypts, as NewRawRSA without priv. The encrypted data keys are those
// of NewRawRSA, byte for byte, and either keyring reads the other's.
func NewRawRSAWithDecrypter(namespace, name string, padding RSAPadding, pub *rsa.PublicKey, dec crypto.Decrypter, optFns ...func(*RawRSAOptions)) (*RawRSA, error) {
	if priv, ok := dec.(*rsa.PrivateKey); ok || dec == nil {
		return NewRawRSA(namespace, name, padding, pub, priv, optFns...)
	}
	decPub, ok := dec.Public().(*rsa.PublicKey)
	if !ok || decPub == nil || decPub.N == nil {
		return nil, errors.New("keyring: the raw RSA keyring's decrypter does not hold an RSA key")
	}
	if pub != nil && !pub.Equal(decPub) {
		return nil, errors.New("keyring: raw RSA public and private keys are not one key pair")
	}
	// Checks the names, the padding and the modulus size, and fills the options.
	r, err := NewRawRSA(namespace, name, padding, decPub, nil, optFns...)
	if err != nil {
		return nil, err
	}
	r.pub, r.dec, r.decPub = pub, dec, decPub
	return r, nil
}

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (r RawRSA) String() string                { return r.redacted().String() }
func (r RawRSA) GoString() string              { return r.redacted().GoString() }
func (r RawRSA) Format(f fmt.State, verb rune) { r.redacted().Format(f, verb) }
func (r RawRSA) LogValue() slog.Value          { return r.redacted().LogValue() }
func (r RawRSA) MarshalJSON() ([]byte, error)  { return r.redacted().MarshalJSON() }
func (r RawRSA) redacted() redact.Text {
	return redact.Text(fmt.Sprintf("keyring.RawRSA{namespace: %q, name: %q, padding: %s, encrypt: %t, decrypt: %t}", r.namespace, r.name, r.padding, r.pub != nil, r.dec != nil))
}

// ErrKeyringCannotEncrypt: a keyring asked to encrypt without the key for
// it (a raw RSA keyring without a public key).
var ErrKeyringCannotEncrypt = errors.New("keyring: this keyring has no key to encrypt with")

// ErrKeyringCannotDecrypt: a keyring asked to decrypt without the key for
// it (a raw RSA keyring without a private key).
var ErrKeyringCannotDecrypt = errors.New("keyring: this keyring has no key to decrypt with")

func (r *RawRSA) wrap(secret, _ []byte) ([]byte, []byte, error) {
	var ct []byte
	var err error
	if h := r.padding.hash(); h != nil {
		ct, err = rsa.EncryptOAEP(h(), r.rand, r.pub, secret, nil)
	} else {
		//lint:ignore SA1019 PKCS #1 v1.5 is one of the MPL's padding schemes
		ct, err = rsa.EncryptPKCS1v15(r.rand, r.pub, secret)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("keyring: RSA encryption of the intermediate key failed (%s)", r.padding)
	}
	return []byte(r.name), ct, nil
}

func (r *RawRSA) unwrap(_ EncryptedDataKey, wrapped, _ []byte) ([]byte, error) {
	if len(wrapped) != r.decPub.Size() {
		return nil, ErrAuthentication
	}
	if h := r.padding.hash(); h != nil {
		var pt []byte
		var err error
		if r.priv != nil {
			pt, err = rsa.DecryptOAEP(h(), nil, r.priv, wrapped, nil)
		} else {
			pt, err = r.dec.Decrypt(r.rand, wrapped, &rsa.OAEPOptions{Hash: r.padding.cryptoHash(), MGFHash: r.padding.cryptoHash()})
		}
		if err != nil || len(pt) != KeyLength {
			clear(pt)
			return nil, ErrAuthentication
		}
		return pt, nil
	}
	// PKCS #1 v1.5 without a padding oracle: a ciphertext whose padding
	// does not check leaves a random key, which then fails to decrypt the
	// data key like any wrong key, in the same time.
	pt := make([]byte, KeyLength)
	if _, err := io.ReadFull(r.rand, pt); err != nil {
		return nil, err
	}
	if r.priv == nil {
		//lint:ignore SA1019 PKCS #1 v1.5 unwrapping of legacy items, through the key held elsewhere
		got, err := r.dec.Decrypt(r.rand, wrapped, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: KeyLength})
		if err == nil && len(got) == KeyLength {
			subtle.ConstantTimeCopy(1, pt, got)
		}
		clear(got)
		return pt, nil
	}
	//lint:ignore SA1019 PKCS #1 v1.5 is one of the MPL's padding schemes
	if err := rsa.DecryptPKCS1v15SessionKey(nil, r.priv, wrapped, pt); err != nil {
		clear(pt)
		return nil, ErrAuthentication
	}
	return pt, nil
}

// OnEncrypt implements [Keyring]. It fails with [ErrKeyringCannotEncrypt]
// without a public key.
func (r *RawRSA) OnEncrypt(_ context.Context, m *EncryptionMaterials) error {
	if r.pub == nil {
		return ErrKeyringCannotEncrypt
	}
	if err := m.GenerateDataKey(r.rand); err != nil {
		return err
	}
	return WrapIntermediate(r.rand, m, r.namespace, r.wrap)
}

// OnDecrypt implements [Keyring]: it tries the encrypted data keys of its
// namespace and key name, the first of them only ([UnwrapFirst]: a key is
// asked once per item, since copies would cost an RSA decryption each). It fails with [ErrKeyringCannotDecrypt] without a
// private key.
func (r *RawRSA) OnDecrypt(_ context.Context, m *DecryptionMaterials, edks []EncryptedDataKey) error {
	if r.dec == nil {
		return ErrKeyringCannotDecrypt
	}
	return UnwrapFirst(m, edks, func(edk EncryptedDataKey) bool {
		return edk.ProviderID == r.namespace && string(edk.ProviderInfo) == r.name
	}, r.unwrap)
}

var errRSAPEM = errors.New("keyring: not a PEM-encoded RSA key")

// ParseRSAPublicKeyPEM parses a PEM "PUBLIC KEY" (X.509
// SubjectPublicKeyInfo, the form the MPL loads) or "RSA PUBLIC KEY"
// (PKCS #1) block holding an RSA key.
func ParseRSAPublicKeyPEM(data []byte) (*rsa.PublicKey, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errRSAPEM
	}
	switch b.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if pub, ok := k.(*rsa.PublicKey); err == nil && ok {
			return pub, nil
		}
	case "RSA PUBLIC KEY":
		if pub, err := x509.ParsePKCS1PublicKey(b.Bytes); err == nil {
			return pub, nil
		}
	}
	return nil, errRSAPEM
}

// ParseRSAPrivateKeyPEM parses a PEM "PRIVATE KEY" (PKCS #8
// PrivateKeyInfo, the form the MPL loads) or "RSA PRIVATE KEY" (PKCS #1)
// block holding an RSA key. Errors never quote the input.
func ParseRSAPrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errRSAPEM
	}
	defer clear(b.Bytes)
	switch b.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if priv, ok := k.(*rsa.PrivateKey); err == nil && ok {
			return priv, nil
		}
	case "RSA PRIVATE KEY":
		if priv, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
			return priv, nil
		}
	}
	return nil, errRSAPEM
}
