package cmp

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// WrappedConfig configures a [Wrapped] provider.
type WrappedConfig struct {
	// WrappingKey wraps each item's fresh content key: an [*AESKey]
	// (AESWrap) or an [*RSAWrappingKey] (RSA-OAEP). Required to encrypt.
	WrappingKey KeyWrapper
	// UnwrappingKey recovers content keys: the same [*AESKey], or an
	// [*RSAUnwrappingKey]. Required to decrypt.
	UnwrappingKey KeyUnwrapper
	// SigningKey signs items ([*HMACKey] or [*RSASigningKey]). Required to
	// encrypt.
	SigningKey SigningKey
	// VerificationKey verifies items. When nil and SigningKey can also
	// verify (an [HMACKey]), SigningKey is used. Required to decrypt.
	VerificationKey VerificationKey
	// ContentKeyAlgorithm is the amzn-ddb-env-alg written: "AES/256" (the
	// default, as the Python client writes), "AES/128", "AES/192", or "AES"
	// (a 256-bit key, as the Java client writes).
	ContentKeyAlgorithm string
	// Description entries are added to every item's description (a
	// MetaStore-backed provider records amzn-ddb-meta-id this way).
	Description materialdesc.Description
	// Rand is the source of content keys; nil means crypto/rand. Only tests
	// that need known answers set it.
	Rand io.Reader
}

// Wrapped makes a fresh random content key for every item and stores it,
// wrapped, in the item's material description: the DDBEC
// WrappedCryptographicMaterialsProvider (Java WrappedMaterialsProvider and
// AsymmetricStaticProvider).
type Wrapped struct {
	wrap   KeyWrapper
	unwrap KeyUnwrapper
	sign   SigningKey
	verify VerificationKey
	envAlg string
	keyLen int
	desc   materialdesc.Description
	rand   io.Reader
}

var _ Provider = (*Wrapped)(nil)

// NewWrapped validates cfg.
func NewWrapped(cfg WrappedConfig) (*Wrapped, error) {
	p := &Wrapped{wrap: cfg.WrappingKey, unwrap: cfg.UnwrappingKey, sign: cfg.SigningKey, verify: cfg.VerificationKey, rand: cfg.Rand}
	if p.verify == nil {
		p.verify, _ = cfg.SigningKey.(VerificationKey)
	}
	if (p.wrap == nil || p.sign == nil) && (p.unwrap == nil || p.verify == nil) {
		return nil, fmt.Errorf("%w: wrapped provider needs a wrapping and a signing key, or an unwrapping and a verification key", ErrInvalidKey)
	}
	p.envAlg = cfg.ContentKeyAlgorithm
	if p.envAlg == "" {
		p.envAlg = "AES/256"
	}
	n, ok := contentKeyLen(p.envAlg)
	if !ok {
		return nil, fmt.Errorf("%w: content key algorithm (want AES, AES/128, AES/192 or AES/256)", ErrUnsupportedAlgorithm)
	}
	p.keyLen = n
	if p.keyLen == 0 {
		p.keyLen = 32
	}
	if p.rand == nil {
		p.rand = crand.Reader
	}
	p.desc = cfg.Description.Clone()
	return p, nil
}

// contentKeyLen parses an amzn-ddb-env-alg value; 0 means "AES" without a
// size, which a reader accepts at any AES size.
func contentKeyLen(alg string) (int, bool) {
	name, bits, hasBits := strings.Cut(alg, "/")
	if name != "AES" {
		return 0, false
	}
	if !hasBits {
		return 0, true
	}
	switch bits {
	case "128", "192", "256":
		b, _ := strconv.Atoi(bits)
		return b / 8, true
	}
	return 0, false
}

// EncryptionMaterials makes and wraps a fresh content key.
func (p *Wrapped) EncryptionMaterials(context.Context, EncryptionContext) (*EncryptionMaterials, error) {
	if p.wrap == nil || p.sign == nil {
		return nil, fmt.Errorf("%w: wrapped provider has no wrapping or signing key", ErrInvalidKey)
	}
	key := make([]byte, p.keyLen)
	if _, err := io.ReadFull(p.rand, key); err != nil {
		return nil, fmt.Errorf("cmp: generating content key: %w", err)
	}
	wrapped, wrapAlg, err := p.wrap.WrapKey(p.rand, key)
	if err != nil {
		clear(key)
		return nil, fmt.Errorf("cmp: wrapping content key: %w", err)
	}
	aesKey, err := newAESKeyOwned(key)
	if err != nil {
		return nil, err
	}
	desc := make(materialdesc.Description, len(p.desc)+5)
	for k, v := range p.desc {
		desc[k] = v
	}
	desc[materialdesc.KeyEnvelopeKey] = base64.StdEncoding.EncodeToString(wrapped)
	desc[materialdesc.KeyEnvelopeAlg] = p.envAlg
	desc[materialdesc.KeyWrapAlg] = wrapAlg
	return &EncryptionMaterials{encryptionKey: aesKey, signingKey: p.sign, desc: desc}, nil
}

// DecryptionMaterials unwraps the item's content key. A description without
// amzn-ddb-env-key matches [ErrNoMaterials]; a key that does not unwrap
// matches [ErrAuthentication].
func (p *Wrapped) DecryptionMaterials(_ context.Context, ec EncryptionContext) (*DecryptionMaterials, error) {
	if p.unwrap == nil || p.verify == nil {
		return nil, fmt.Errorf("%w: wrapped provider has no unwrapping or verification key", ErrInvalidKey)
	}
	d := ec.MaterialDescription
	envKey, ok := d[materialdesc.KeyEnvelopeKey]
	if !ok {
		return nil, ErrNoMaterials
	}
	for k, v := range p.desc {
		if got, ok := d[k]; !ok || got != v {
			return nil, ErrNoMaterials
		}
	}
	envAlg, ok := d[materialdesc.KeyEnvelopeAlg]
	if !ok {
		envAlg = "AES"
	}
	keyLen, ok := contentKeyLen(envAlg)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedAlgorithm, materialdesc.KeyEnvelopeAlg)
	}
	wrapped, err := base64.StdEncoding.DecodeString(envKey)
	if err != nil {
		return nil, ErrAuthentication
	}
	key, err := p.unwrap.UnwrapKey(wrapped, d[materialdesc.KeyWrapAlg], keyLen)
	if err != nil {
		return nil, err
	}
	aesKey, err := newAESKeyOwned(key)
	if err != nil {
		clear(key)
		return nil, ErrAuthentication
	}
	return &DecryptionMaterials{decryptionKey: aesKey, verificationKey: p.verify}, nil
}

// String, GoString, Format and LogValue never show key material.
func (p Wrapped) String() string                { return "cmp.Wrapped{REDACTED}" }
func (p Wrapped) GoString() string              { return p.String() }
func (p Wrapped) Format(f fmt.State, verb rune) { io.WriteString(f, p.String()) }
func (p Wrapped) LogValue() slog.Value          { return slog.StringValue(p.String()) }
