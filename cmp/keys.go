package cmp

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/rsa"
	_ "crypto/sha1" // MGF1-SHA-1 of the DDBEC RSA-OAEP wrapping
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"slices"
	"sync"

	"github.com/itemcrypto/go-itemcrypto/internal/aeskw"
	"github.com/itemcrypto/go-itemcrypto/internal/redact"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// SigningKey signs the string to sign of an item (spec §5).
// Implementations must be safe for concurrent use.
type SigningKey interface {
	// Sign returns the raw signature or MAC of stringToSign.
	Sign(rand io.Reader, stringToSign []byte) ([]byte, error)
	// Algorithm is the JCE name recorded as amzn-ddb-map-signingAlg,
	// e.g. "HmacSHA256" or "SHA256withRSA".
	Algorithm() string
}

// VerificationKey checks an item's signature. Implementations must be safe
// for concurrent use, compare in constant time, and return an error that
// matches [ErrAuthentication] on any mismatch.
type VerificationKey interface {
	// Verify checks signature over stringToSign. signingAlg is the item's
	// (unsigned, untrusted) amzn-ddb-map-signingAlg, "" when absent.
	Verify(stringToSign, signature []byte, signingAlg string) error
}

// KeyWrapper wraps a content key for storage in the material description.
type KeyWrapper interface {
	// WrapKey returns the wrapped key and the amzn-ddb-wrap-alg value.
	WrapKey(rand io.Reader, contentKey []byte) (wrapped []byte, wrapAlg string, err error)
}

// KeyUnwrapper recovers a content key. wrapAlg is the item's
// amzn-ddb-wrap-alg ("" when absent) and keyLen the content key length in
// bytes that the item's amzn-ddb-env-alg announces. Integrity and padding
// failures must match [ErrAuthentication].
type KeyUnwrapper interface {
	UnwrapKey(wrapped []byte, wrapAlg string, keyLen int) ([]byte, error)
}

// redacted implements every way a key could be printed or encoded.
type redacted = redact.Text

// AESKey is an AES key: the content key of an item (AES-CBC of its
// attributes) or a key-encryption key (RFC 3394 AES key wrap).
type AESKey struct {
	// The material sits behind a second pointer: fmt dereferences one level
	// of pointer in some paths (a bad verb on a struct holding the key), never
	// two, so no way of printing a value that holds an AESKey reaches it.
	*aesMaterial
}

type aesMaterial struct {
	key   []byte
	block cipher.Block
}

var (
	_ KeyWrapper   = (*AESKey)(nil)
	_ KeyUnwrapper = (*AESKey)(nil)
)

// NewAESKey copies a 16, 24 or 32-byte key.
func NewAESKey(key []byte) (*AESKey, error) {
	return newAESKeyOwned(slices.Clone(key))
}

func newAESKeyOwned(key []byte) (*AESKey, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: AES keys are 16, 24 or 32 bytes", ErrInvalidKey)
	}
	// One allocation for the key and its material.
	box := &struct {
		k AESKey
		m aesMaterial
	}{m: aesMaterial{key: key, block: block}}
	box.k.aesMaterial = &box.m
	return &box.k, nil
}

// Size returns the key length in bytes.
func (k *AESKey) Size() int { return len(k.key) }

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (k AESKey) String() string                { return k.redacted().String() }
func (k AESKey) GoString() string              { return k.redacted().GoString() }
func (k AESKey) Format(f fmt.State, verb rune) { k.redacted().Format(f, verb) }
func (k AESKey) LogValue() slog.Value          { return k.redacted().LogValue() }
func (k AESKey) MarshalJSON() ([]byte, error)  { return k.redacted().MarshalJSON() }
func (k AESKey) redacted() redacted {
	return redacted(fmt.Sprintf("cmp.AESKey{AES-%d, REDACTED}", 8*len(k.key)))
}

// AppendEncryptCBC appends IV || AES-CBC(PKCS#7(plaintext)) to dst with a
// fresh 16-byte IV from rand: the DDBEC attribute ciphertext (spec §4).
// dst and plaintext must not overlap.
func (k *AESKey) AppendEncryptCBC(dst []byte, rand io.Reader, plaintext []byte) ([]byte, error) {
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	n := aes.BlockSize + len(plaintext) + pad
	dst = slices.Grow(dst, n)
	out := dst[len(dst) : len(dst)+n]
	iv := out[:aes.BlockSize]
	if _, err := io.ReadFull(rand, iv); err != nil {
		return dst, fmt.Errorf("cmp: reading IV: %w", err)
	}
	body := out[aes.BlockSize:]
	copy(body, plaintext)
	for i := len(plaintext); i < len(body); i++ {
		body[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(k.block, iv).CryptBlocks(body, body)
	return dst[:len(dst)+n], nil
}

// DecryptCBC reverses AppendEncryptCBC. Any bad length or padding returns
// ErrAuthentication.
func (k *AESKey) DecryptCBC(ciphertext []byte) ([]byte, error) {
	if len(ciphertext) < 2*aes.BlockSize || len(ciphertext)%aes.BlockSize != 0 {
		return nil, ErrAuthentication
	}
	out := make([]byte, len(ciphertext)-aes.BlockSize)
	cipher.NewCBCDecrypter(k.block, ciphertext[:aes.BlockSize]).CryptBlocks(out, ciphertext[aes.BlockSize:])
	pad := int(out[len(out)-1])
	good := subtle.ConstantTimeLessOrEq(1, pad) & subtle.ConstantTimeLessOrEq(pad, aes.BlockSize)
	for i := 1; i <= aes.BlockSize; i++ {
		inPad := subtle.ConstantTimeLessOrEq(i, pad)
		good &= subtle.ConstantTimeSelect(inPad, subtle.ConstantTimeByteEq(out[len(out)-i], byte(pad)), 1)
	}
	if good != 1 {
		clear(out)
		return nil, ErrAuthentication
	}
	return out[:len(out)-pad], nil
}

// WrapKey wraps contentKey with the RFC 3394 AES key wrap ("AESWrap").
func (k *AESKey) WrapKey(_ io.Reader, contentKey []byte) ([]byte, string, error) {
	w, err := aeskw.Wrap(k.block, contentKey)
	return w, materialdesc.WrapAESKW, err
}

// UnwrapKey unwraps an "AESWrap" key. Items without amzn-ddb-wrap-alg are
// refused for AES key-encryption keys, as the Python client does.
func (k *AESKey) UnwrapKey(wrapped []byte, wrapAlg string, keyLen int) ([]byte, error) {
	if wrapAlg != materialdesc.WrapAESKW {
		return nil, fmt.Errorf("%w: wrapping algorithm for an AES key-encryption key", ErrUnsupportedAlgorithm)
	}
	key, err := aeskw.Unwrap(k.block, wrapped)
	if err != nil {
		return nil, ErrAuthentication
	}
	if keyLen > 0 && len(key) != keyLen {
		clear(key)
		return nil, ErrAuthentication
	}
	return key, nil
}

// HMACKey is a MAC key for HmacSHA256 (or HmacSHA224/384/512). It both signs
// and verifies. Keys of any non-zero length are accepted, as in the DDBEC
// (its test vectors use an 8-byte key); use 32 random bytes for new keys.
type HMACKey struct {
	*hmacMaterial // behind a second pointer, as in AESKey
}

type hmacMaterial struct {
	key  []byte
	alg  string
	h    func() hash.Hash
	pool *sync.Pool // of keyed hash.Hash, Reset after use
}

var (
	_ SigningKey      = (*HMACKey)(nil)
	_ VerificationKey = (*HMACKey)(nil)
)

// MinHMACKeySize is the shortest key [NewHMACKey] accepts, in bytes.
const MinHMACKeySize = 16

// NewHMACKey copies key. algorithm is "HmacSHA256" (the default when "") or
// HmacSHA224, HmacSHA384, HmacSHA512. key must have at least
// [MinHMACKeySize] bytes (32 or more for HmacSHA256 is best); to read items
// signed under a shorter key, use [NewInsecureHMACKey].
func NewHMACKey(algorithm string, key []byte) (*HMACKey, error) {
	return newHMACKey(algorithm, key, MinHMACKeySize)
}

// NewInsecureHMACKey is [NewHMACKey] for keys of any non-zero length, such
// as the short keys of the DDBEC reference vectors or of tables written by
// other clients. Use it to read what such keys signed; a key made for new
// items should come from NewHMACKey.
func NewInsecureHMACKey(algorithm string, key []byte) (*HMACKey, error) {
	return newHMACKey(algorithm, key, 1)
}

func newHMACKey(algorithm string, key []byte, minSize int) (*HMACKey, error) {
	if algorithm == "" {
		algorithm = "HmacSHA256"
	}
	var h func() hash.Hash
	switch algorithm {
	case "HmacSHA256":
		h = sha256.New
	case "HmacSHA224":
		h = sha256.New224
	case "HmacSHA384":
		h = sha512.New384
	case "HmacSHA512":
		h = sha512.New
	default:
		return nil, fmt.Errorf("%w: HMAC algorithm %q (want HmacSHA256, HmacSHA224, HmacSHA384 or HmacSHA512)", ErrUnsupportedAlgorithm, truncate(algorithm, 40))
	}
	switch {
	case len(key) == 0:
		return nil, fmt.Errorf("%w: empty HMAC key", ErrInvalidKey)
	case len(key) < minSize:
		return nil, fmt.Errorf("%w: HMAC key of %d bytes is too short (want at least %d; NewInsecureHMACKey reads items of shorter keys)",
			ErrInvalidKey, len(key), minSize)
	}
	m := &hmacMaterial{key: slices.Clone(key), alg: algorithm, h: h}
	m.pool = &sync.Pool{New: func() any { return hmac.New(m.h, m.key) }}
	return &HMACKey{m}, nil
}

// Algorithm returns the JCE name, e.g. "HmacSHA256".
func (k *HMACKey) Algorithm() string { return k.alg }

// mac computes HMAC(key, msg) appended to dst, with a pooled keyed state.
func (k *HMACKey) mac(dst, msg []byte) []byte {
	m := k.pool.Get().(hash.Hash)
	m.Write(msg)
	dst = m.Sum(dst)
	m.Reset()
	k.pool.Put(m)
	return dst
}

// Sign returns HMAC(key, stringToSign).
func (k *HMACKey) Sign(_ io.Reader, stringToSign []byte) ([]byte, error) {
	return k.mac(make([]byte, 0, 64), stringToSign), nil
}

// Verify compares in constant time; signingAlg is ignored (the key's own
// hash is used, as in both reference clients).
func (k *HMACKey) Verify(stringToSign, signature []byte, _ string) error {
	var buf [64]byte
	if !hmac.Equal(k.mac(buf[:0], stringToSign), signature) {
		return ErrAuthentication
	}
	return nil
}

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (k HMACKey) String() string                { return k.redacted().String() }
func (k HMACKey) GoString() string              { return k.redacted().GoString() }
func (k HMACKey) Format(f fmt.State, verb rune) { k.redacted().Format(f, verb) }
func (k HMACKey) LogValue() slog.Value          { return k.redacted().LogValue() }
func (k HMACKey) MarshalJSON() ([]byte, error)  { return k.redacted().MarshalJSON() }
func (k HMACKey) redacted() redacted            { return redacted("cmp.HMACKey{" + k.alg + ", REDACTED}") }

// rsaHash maps the allow-listed RSA signature names to their hash.
func rsaHash(alg string) (crypto.Hash, bool) {
	switch alg {
	case "SHA256withRSA":
		return crypto.SHA256, true
	case "SHA384withRSA":
		return crypto.SHA384, true
	case "SHA512withRSA":
		return crypto.SHA512, true
	}
	return 0, false
}

// DefaultRSASignatureAlgorithm is the DDBEC default for asymmetric signing.
const DefaultRSASignatureAlgorithm = "SHA256withRSA"

// RSASigningKey signs with RSASSA-PKCS1-v1_5 (SHA256withRSA by default).
type RSASigningKey struct {
	priv   *rsa.PrivateKey // nil for a key held elsewhere (NewRSASigningKeyFromSigner)
	signer crypto.Signer   // priv, or the key held elsewhere
	pub    *rsa.PublicKey
	alg    string
	hash   crypto.Hash
}

var _ SigningKey = (*RSASigningKey)(nil)

// NewRSASigningKey uses priv (which the caller must not change afterwards)
// with algorithm SHA256withRSA ("" selects it), SHA384withRSA or SHA512withRSA.
func NewRSASigningKey(priv *rsa.PrivateKey, algorithm string) (*RSASigningKey, error) {
	if priv == nil {
		return nil, fmt.Errorf("%w: nil RSA key", ErrInvalidKey)
	}
	if algorithm == "" {
		algorithm = DefaultRSASignatureAlgorithm
	}
	h, ok := rsaHash(algorithm)
	if !ok {
		return nil, fmt.Errorf("%w: RSA signature algorithm", ErrUnsupportedAlgorithm)
	}
	if err := priv.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return &RSASigningKey{priv: priv, signer: priv, pub: &priv.PublicKey, alg: algorithm, hash: h}, nil
}

// NewRSASigningKeyFromSigner signs with a key held elsewhere (an HSM, a
// cloud KMS, an agent): signer.Public() must be an *rsa.PublicKey, and
// signer.Sign is called with the digest of the string to sign and the
// algorithm's crypto.Hash as options, and must return an RSASSA-PKCS1-v1_5
// signature (what *rsa.PrivateKey.Sign returns for those options).
// algorithm is as in [NewRSASigningKey]. The signatures are those of
// NewRSASigningKey over the same key, byte for byte.
func NewRSASigningKeyFromSigner(signer crypto.Signer, algorithm string) (*RSASigningKey, error) {
	if signer == nil {
		return nil, fmt.Errorf("%w: nil RSA signer", ErrInvalidKey)
	}
	if priv, ok := signer.(*rsa.PrivateKey); ok {
		return NewRSASigningKey(priv, algorithm)
	}
	pub, ok := signer.Public().(*rsa.PublicKey)
	if !ok || pub == nil || pub.N == nil {
		return nil, fmt.Errorf("%w: the signer's public key is not an RSA key", ErrInvalidKey)
	}
	if algorithm == "" {
		algorithm = DefaultRSASignatureAlgorithm
	}
	h, ok := rsaHash(algorithm)
	if !ok {
		return nil, fmt.Errorf("%w: RSA signature algorithm", ErrUnsupportedAlgorithm)
	}
	return &RSASigningKey{signer: signer, pub: pub, alg: algorithm, hash: h}, nil
}

// Algorithm returns the JCE name, e.g. "SHA256withRSA".
func (k *RSASigningKey) Algorithm() string { return k.alg }

// Sign returns the PKCS#1 v1.5 signature of stringToSign.
func (k *RSASigningKey) Sign(rand io.Reader, stringToSign []byte) ([]byte, error) {
	h := k.hash.New()
	h.Write(stringToSign)
	if k.priv != nil {
		return rsa.SignPKCS1v15(rand, k.priv, k.hash, h.Sum(nil))
	}
	return k.signer.Sign(rand, h.Sum(nil), k.hash)
}

// Public returns the matching verification key.
func (k *RSASigningKey) Public() *RSAVerificationKey {
	return &RSAVerificationKey{pub: k.pub, alg: k.alg}
}

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (k RSASigningKey) String() string                { return k.redacted().String() }
func (k RSASigningKey) GoString() string              { return k.redacted().GoString() }
func (k RSASigningKey) Format(f fmt.State, verb rune) { k.redacted().Format(f, verb) }
func (k RSASigningKey) LogValue() slog.Value          { return k.redacted().LogValue() }
func (k RSASigningKey) MarshalJSON() ([]byte, error)  { return k.redacted().MarshalJSON() }
func (k RSASigningKey) redacted() redacted {
	return redacted(fmt.Sprintf("cmp.RSASigningKey{%s, RSA-%d, REDACTED}", k.alg, k.pub.N.BitLen()))
}

// RSAVerificationKey verifies RSASSA-PKCS1-v1_5 signatures.
type RSAVerificationKey struct {
	pub *rsa.PublicKey
	alg string
}

var _ VerificationKey = (*RSAVerificationKey)(nil)

// NewRSAVerificationKey verifies with algorithm ("" = SHA256withRSA) unless
// the item names another allow-listed algorithm of at least the same
// strength (SHA256/384/512withRSA).
func NewRSAVerificationKey(pub *rsa.PublicKey, algorithm string) (*RSAVerificationKey, error) {
	if pub == nil {
		return nil, fmt.Errorf("%w: nil RSA key", ErrInvalidKey)
	}
	if algorithm == "" {
		algorithm = DefaultRSASignatureAlgorithm
	}
	if _, ok := rsaHash(algorithm); !ok {
		return nil, fmt.Errorf("%w: RSA signature algorithm", ErrUnsupportedAlgorithm)
	}
	return &RSAVerificationKey{pub: pub, alg: algorithm}, nil
}

// Verify checks a PKCS#1 v1.5 signature. The algorithm is the item's
// signingAlg when it is allow-listed and no weaker than the configured one
// (hash sizes 256 < 384 < 512), else the configured one.
func (k *RSAVerificationKey) Verify(stringToSign, signature []byte, signingAlg string) error {
	h, _ := rsaHash(k.alg)
	if ih, ok := rsaHash(signingAlg); ok && ih.Size() >= h.Size() {
		h = ih
	}
	d := h.New()
	d.Write(stringToSign)
	if rsa.VerifyPKCS1v15(k.pub, h, d.Sum(nil), signature) != nil {
		return ErrAuthentication
	}
	return nil
}

// RSAWrappingKey wraps content keys with RSA-OAEP (SHA-256, MGF1-SHA-1: the
// JCE "RSA/ECB/OAEPWithSHA-256AndMGF1Padding").
type RSAWrappingKey struct{ pub *rsa.PublicKey }

var _ KeyWrapper = (*RSAWrappingKey)(nil)

// NewRSAWrappingKey wraps under pub.
func NewRSAWrappingKey(pub *rsa.PublicKey) (*RSAWrappingKey, error) {
	if pub == nil {
		return nil, fmt.Errorf("%w: nil RSA key", ErrInvalidKey)
	}
	return &RSAWrappingKey{pub: pub}, nil
}

var oaepOptions = rsa.OAEPOptions{Hash: crypto.SHA256, MGFHash: crypto.SHA1}

// WrapKey encrypts contentKey with RSA-OAEP.
func (k *RSAWrappingKey) WrapKey(rand io.Reader, contentKey []byte) ([]byte, string, error) {
	w, err := rsa.EncryptOAEPWithOptions(rand, k.pub, contentKey, &oaepOptions)
	return w, materialdesc.WrapRSAOAEP, err
}

// RSAUnwrappingKey unwraps RSA-OAEP content keys and, for items of old Java
// writers that carry no amzn-ddb-wrap-alg, RSA PKCS#1 v1.5 ones.
type RSAUnwrappingKey struct {
	priv *rsa.PrivateKey  // nil for a key held elsewhere (NewRSAUnwrappingKeyFromDecrypter)
	dec  crypto.Decrypter // priv, or the key held elsewhere
	pub  *rsa.PublicKey
}

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (k RSAUnwrappingKey) String() string                { return k.redacted().String() }
func (k RSAUnwrappingKey) GoString() string              { return k.redacted().GoString() }
func (k RSAUnwrappingKey) Format(f fmt.State, verb rune) { k.redacted().Format(f, verb) }
func (k RSAUnwrappingKey) LogValue() slog.Value          { return k.redacted().LogValue() }
func (k RSAUnwrappingKey) MarshalJSON() ([]byte, error)  { return k.redacted().MarshalJSON() }
func (k RSAUnwrappingKey) redacted() redacted {
	return redacted(fmt.Sprintf("cmp.RSAUnwrappingKey{RSA-%d, REDACTED}", k.pub.N.BitLen()))
}

var _ KeyUnwrapper = (*RSAUnwrappingKey)(nil)

// NewRSAUnwrappingKey unwraps with priv.
func NewRSAUnwrappingKey(priv *rsa.PrivateKey) (*RSAUnwrappingKey, error) {
	if priv == nil {
		return nil, fmt.Errorf("%w: nil RSA key", ErrInvalidKey)
	}
	if err := priv.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return &RSAUnwrappingKey{priv: priv, dec: priv, pub: &priv.PublicKey}, nil
}

// NewRSAUnwrappingKeyFromDecrypter unwraps with a key held elsewhere (an
// HSM, a cloud KMS, an agent): dec.Public() must be an *rsa.PublicKey.
// dec.Decrypt is called with *rsa.OAEPOptions (SHA-256, MGF1-SHA-1) for
// RSA-OAEP items and, for the legacy items without amzn-ddb-wrap-alg, with
// *rsa.PKCS1v15DecryptOptions whose SessionKeyLen is the content key
// length: an error there is not reported but leaves a random key, so the
// item fails with ErrAuthentication as under a wrong key (how far a
// padding failure can be told apart by its timing is up to dec).
func NewRSAUnwrappingKeyFromDecrypter(dec crypto.Decrypter) (*RSAUnwrappingKey, error) {
	if dec == nil {
		return nil, fmt.Errorf("%w: nil RSA decrypter", ErrInvalidKey)
	}
	if priv, ok := dec.(*rsa.PrivateKey); ok {
		return NewRSAUnwrappingKey(priv)
	}
	pub, ok := dec.Public().(*rsa.PublicKey)
	if !ok || pub == nil || pub.N == nil {
		return nil, fmt.Errorf("%w: the decrypter's public key is not an RSA key", ErrInvalidKey)
	}
	return &RSAUnwrappingKey{dec: dec, pub: pub}, nil
}

// Public returns the matching wrapping key.
func (k *RSAUnwrappingKey) Public() *RSAWrappingKey { return &RSAWrappingKey{pub: k.pub} }

// UnwrapKey decrypts a wrapped content key. For the legacy PKCS#1 v1.5 case
// a padding failure is not reported: a random key of keyLen bytes is
// returned instead (the Bleichenbacher countermeasure of
// rsa.DecryptPKCS1v15SessionKey), so the item then fails as a whole with
// ErrAuthentication, exactly as a wrong key would.
func (k *RSAUnwrappingKey) UnwrapKey(wrapped []byte, wrapAlg string, keyLen int) ([]byte, error) {
	if len(wrapped) != k.pub.Size() {
		return nil, ErrAuthentication // every RSA ciphertext is exactly the modulus size: public knowledge
	}
	switch wrapAlg {
	case materialdesc.WrapRSAOAEP:
		key, err := k.dec.Decrypt(crand.Reader, wrapped, &oaepOptions)
		if err != nil || (keyLen > 0 && len(key) != keyLen) {
			clear(key)
			return nil, ErrAuthentication
		}
		return key, nil
	case "", "RSA", "RSA/ECB/PKCS1Padding":
		if keyLen <= 0 {
			keyLen = 32
		}
		key := make([]byte, keyLen)
		if _, err := io.ReadFull(crand.Reader, key); err != nil {
			return nil, err
		}
		if k.priv == nil {
			// A key held elsewhere: any failure leaves the random key.
			//lint:ignore SA1019 PKCS #1 v1.5 unwrapping of legacy items, through the key held elsewhere
			got, err := k.dec.Decrypt(crand.Reader, wrapped, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: keyLen})
			if err == nil && len(got) == keyLen {
				subtle.ConstantTimeCopy(1, key, got)
			}
			clear(got)
			return key, nil
		}
		//lint:ignore SA1019 the legacy DynamoDB Encryption Client's items are wrapped with PKCS #1 v1.5
		if err := rsa.DecryptPKCS1v15SessionKey(nil, k.priv, wrapped, key); err != nil {
			return nil, ErrAuthentication
		}
		return key, nil
	}
	return nil, fmt.Errorf("%w: wrapping algorithm for an RSA key", ErrUnsupportedAlgorithm)
}

// ParseRSAPrivateKey parses a PKCS#8 (or PKCS#1) DER RSA private key.
// Errors never quote the input.
func ParseRSAPrivateKey(der []byte) (*rsa.PrivateKey, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if rk, ok := k.(*rsa.PrivateKey); ok {
			return rk, nil
		}
		return nil, fmt.Errorf("%w: not an RSA private key", ErrInvalidKey)
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: not a PKCS#8 or PKCS#1 RSA private key", ErrInvalidKey)
}

// ParseRSAPublicKey parses an X.509 SubjectPublicKeyInfo (or PKCS#1) DER RSA
// public key.
func ParseRSAPublicKey(der []byte) (*rsa.PublicKey, error) {
	if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		if rk, ok := k.(*rsa.PublicKey); ok {
			return rk, nil
		}
		return nil, fmt.Errorf("%w: not an RSA public key", ErrInvalidKey)
	}
	if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: not an X.509 or PKCS#1 RSA public key", ErrInvalidKey)
}

// truncate shortens a name (never key material) for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
