package cmp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
)

// ECDSA signature algorithms, as the Java client names them in
// amzn-ddb-map-signingAlg. Signatures are DER (ASN.1 SEQUENCE of r and s),
// as JCA writes them. The Python client cannot read ECDSA-signed items.
const (
	ECDSAWithSHA256 = "SHA256withECDSA"
	ECDSAWithSHA384 = "SHA384withECDSA"
	ECDSAWithSHA512 = "SHA512withECDSA"
)

// ecdsaHash maps the allow-listed ECDSA signature names to their hash.
func ecdsaHash(alg string) (crypto.Hash, bool) {
	switch alg {
	case ECDSAWithSHA256:
		return crypto.SHA256, true
	case ECDSAWithSHA384:
		return crypto.SHA384, true
	case ECDSAWithSHA512:
		return crypto.SHA512, true
	}
	return 0, false
}

// ecdsaAlgorithm checks the curve (P-256, P-384 or P-521) and resolves
// algorithm, "" meaning the curve's own hash size.
func ecdsaAlgorithm(c elliptic.Curve, algorithm string) (string, crypto.Hash, error) {
	if algorithm == "" {
		switch c {
		case elliptic.P256():
			algorithm = ECDSAWithSHA256
		case elliptic.P384():
			algorithm = ECDSAWithSHA384
		case elliptic.P521():
			algorithm = ECDSAWithSHA512
		}
	}
	if c != elliptic.P256() && c != elliptic.P384() && c != elliptic.P521() {
		return "", 0, fmt.Errorf("%w: ECDSA keys must be on P-256, P-384 or P-521", ErrInvalidKey)
	}
	h, ok := ecdsaHash(algorithm)
	if !ok {
		return "", 0, fmt.Errorf("%w: ECDSA signature algorithm", ErrUnsupportedAlgorithm)
	}
	return algorithm, h, nil
}

// ECDSASigningKey signs items with ECDSA, as the Java client does for an
// EC signing key pair (SHA256withECDSA, SHA384withECDSA, SHA512withECDSA).
type ECDSASigningKey struct {
	priv   *ecdsa.PrivateKey // nil for a key held elsewhere (NewECDSASigningKeyFromSigner)
	signer crypto.Signer     // priv, or the key held elsewhere
	pub    *ecdsa.PublicKey
	alg    string
	hash   crypto.Hash
}

var _ SigningKey = (*ECDSASigningKey)(nil)

// NewECDSASigningKey uses priv (which the caller must not change afterwards)
// on P-256, P-384 or P-521. algorithm is ECDSAWithSHA256, ECDSAWithSHA384 or
// ECDSAWithSHA512; "" selects the one matching the curve (SHA-256 for P-256,
// SHA-384 for P-384, SHA-512 for P-521).
func NewECDSASigningKey(priv *ecdsa.PrivateKey, algorithm string) (*ECDSASigningKey, error) {
	//lint:ignore SA1019 a nil D is a key with no private part, refused before ECDH would panic on it
	if priv == nil || priv.Curve == nil || priv.D == nil {
		return nil, fmt.Errorf("%w: nil ECDSA key", ErrInvalidKey)
	}
	alg, h, err := ecdsaAlgorithm(priv.Curve, algorithm)
	if err != nil {
		return nil, err
	}
	if _, err := priv.ECDH(); err != nil { // checks the point is on the curve
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return &ECDSASigningKey{priv: priv, signer: priv, pub: &priv.PublicKey, alg: alg, hash: h}, nil
}

// NewECDSASigningKeyFromSigner signs with a key held elsewhere (an HSM, a
// cloud KMS, an agent): signer.Public() must be an *ecdsa.PublicKey on
// P-256, P-384 or P-521, and signer.Sign is called with the digest of the
// string to sign and the algorithm's crypto.Hash as options, and must
// return an ASN.1 DER signature (what *ecdsa.PrivateKey.Sign returns).
// algorithm is as in [NewECDSASigningKey].
func NewECDSASigningKeyFromSigner(signer crypto.Signer, algorithm string) (*ECDSASigningKey, error) {
	if signer == nil {
		return nil, fmt.Errorf("%w: nil ECDSA signer", ErrInvalidKey)
	}
	if priv, ok := signer.(*ecdsa.PrivateKey); ok {
		return NewECDSASigningKey(priv, algorithm)
	}
	pub, ok := signer.Public().(*ecdsa.PublicKey)
	//lint:ignore SA1019 a nil X is a zero key, refused before it is used
	if !ok || pub == nil || pub.Curve == nil || pub.X == nil {
		return nil, fmt.Errorf("%w: the signer's public key is not an ECDSA key", ErrInvalidKey)
	}
	alg, h, err := ecdsaAlgorithm(pub.Curve, algorithm)
	if err != nil {
		return nil, err
	}
	if _, err := pub.ECDH(); err != nil { // checks the point is on the curve
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return &ECDSASigningKey{signer: signer, pub: pub, alg: alg, hash: h}, nil
}

// Algorithm returns the JCE name, e.g. "SHA384withECDSA".
func (k *ECDSASigningKey) Algorithm() string { return k.alg }

// Sign returns the DER-encoded ECDSA signature of stringToSign.
func (k *ECDSASigningKey) Sign(rand io.Reader, stringToSign []byte) ([]byte, error) {
	h := k.hash.New()
	h.Write(stringToSign)
	if k.priv != nil {
		return ecdsa.SignASN1(rand, k.priv, h.Sum(nil))
	}
	return k.signer.Sign(rand, h.Sum(nil), k.hash)
}

// Public returns the matching verification key.
func (k *ECDSASigningKey) Public() *ECDSAVerificationKey {
	return &ECDSAVerificationKey{pub: k.pub, alg: k.alg}
}

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (k ECDSASigningKey) String() string                { return k.redacted().String() }
func (k ECDSASigningKey) GoString() string              { return k.redacted().GoString() }
func (k ECDSASigningKey) Format(f fmt.State, verb rune) { k.redacted().Format(f, verb) }
func (k ECDSASigningKey) LogValue() slog.Value          { return k.redacted().LogValue() }
func (k ECDSASigningKey) MarshalJSON() ([]byte, error)  { return k.redacted().MarshalJSON() }
func (k ECDSASigningKey) redacted() redacted {
	return redacted(fmt.Sprintf("cmp.ECDSASigningKey{%s, %s, REDACTED}", k.alg, k.pub.Curve.Params().Name))
}

// ECDSAVerificationKey verifies DER-encoded ECDSA signatures.
type ECDSAVerificationKey struct {
	pub *ecdsa.PublicKey
	alg string
}

var _ VerificationKey = (*ECDSAVerificationKey)(nil)

// NewECDSAVerificationKey verifies with algorithm ("" = the curve's own, as
// in NewECDSASigningKey) unless the item names another allow-listed ECDSA
// algorithm of at least the same hash size.
func NewECDSAVerificationKey(pub *ecdsa.PublicKey, algorithm string) (*ECDSAVerificationKey, error) {
	//lint:ignore SA1019 a nil X is a zero key, refused before it is used
	if pub == nil || pub.Curve == nil || pub.X == nil {
		return nil, fmt.Errorf("%w: nil ECDSA key", ErrInvalidKey)
	}
	alg, _, err := ecdsaAlgorithm(pub.Curve, algorithm)
	if err != nil {
		return nil, err
	}
	return &ECDSAVerificationKey{pub: pub, alg: alg}, nil
}

// Verify checks a DER ECDSA signature. The hash is the item's signingAlg
// when it is an allow-listed ECDSA name no weaker than the configured one,
// else the configured one; an RSA or HMAC name in the item is ignored.
func (k *ECDSAVerificationKey) Verify(stringToSign, signature []byte, signingAlg string) error {
	h, _ := ecdsaHash(k.alg)
	if ih, ok := ecdsaHash(signingAlg); ok && ih.Size() >= h.Size() {
		h = ih
	}
	d := h.New()
	d.Write(stringToSign)
	if !ecdsa.VerifyASN1(k.pub, d.Sum(nil), signature) {
		return ErrAuthentication
	}
	return nil
}

// ParseECDSAPrivateKey parses a PKCS#8 (or SEC 1) DER EC private key.
// Errors never quote the input.
func ParseECDSAPrivateKey(der []byte) (*ecdsa.PrivateKey, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if ek, ok := k.(*ecdsa.PrivateKey); ok {
			return ek, nil
		}
		return nil, fmt.Errorf("%w: not an EC private key", ErrInvalidKey)
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: not a PKCS#8 or SEC 1 EC private key", ErrInvalidKey)
}

// ParseECDSAPublicKey parses an X.509 SubjectPublicKeyInfo DER EC public key.
func ParseECDSAPublicKey(der []byte) (*ecdsa.PublicKey, error) {
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: not an X.509 public key", ErrInvalidKey)
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: not an EC public key", ErrInvalidKey)
	}
	return ek, nil
}
