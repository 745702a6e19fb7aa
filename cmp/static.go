package cmp

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// StaticConfig configures a [Static] provider.
type StaticConfig struct {
	// EncryptionKey encrypts every item's EncryptAndSign attributes. It may
	// be nil for a provider that only signs.
	EncryptionKey *AESKey
	// SigningKey signs items. Required to encrypt.
	SigningKey SigningKey
	// VerificationKey verifies items. When nil and SigningKey can also
	// verify (an [HMACKey]), SigningKey is used. Required to decrypt.
	VerificationKey VerificationKey
	// Description entries are written into every item, and an item is served
	// on decrypt only if its description holds every one of them (the Java
	// SymmetricStaticProvider's rule), so that several static providers can
	// tell their items apart.
	Description materialdesc.Description
}

// Static hands out the same keys for every item: the DDBEC "static" provider
// (Python StaticCryptographicMaterialsProvider, Java SymmetricStaticProvider).
//
// Every item shares one content key; prefer [Wrapped] for new data.
type Static struct {
	enc  *EncryptionMaterials
	dec  *DecryptionMaterials
	desc materialdesc.Description
}

var _ Provider = (*Static)(nil)

// NewStatic validates cfg.
func NewStatic(cfg StaticConfig) (*Static, error) {
	verify := cfg.VerificationKey
	if verify == nil {
		verify, _ = cfg.SigningKey.(VerificationKey)
	}
	if cfg.SigningKey == nil && verify == nil {
		return nil, fmt.Errorf("%w: static provider needs a signing or verification key", ErrInvalidKey)
	}
	p := &Static{desc: cfg.Description.Clone()}
	if cfg.SigningKey != nil {
		p.enc = &EncryptionMaterials{encryptionKey: cfg.EncryptionKey, signingKey: cfg.SigningKey, desc: p.desc}
	}
	if verify != nil {
		p.dec = &DecryptionMaterials{decryptionKey: cfg.EncryptionKey, verificationKey: verify}
	}
	return p, nil
}

// EncryptionMaterials returns the static materials.
func (p *Static) EncryptionMaterials(context.Context, EncryptionContext) (*EncryptionMaterials, error) {
	if p.enc == nil {
		return nil, fmt.Errorf("%w: static provider has no signing key", ErrInvalidKey)
	}
	return p.enc, nil
}

// DecryptionMaterials returns the static materials when the item's
// description holds every configured entry and no wrapped key, else an
// error matching [ErrNoMaterials].
func (p *Static) DecryptionMaterials(_ context.Context, ec EncryptionContext) (*DecryptionMaterials, error) {
	if p.dec == nil {
		return nil, fmt.Errorf("%w: static provider has no verification key", ErrInvalidKey)
	}
	if _, wrapped := ec.MaterialDescription[materialdesc.KeyEnvelopeKey]; wrapped {
		return nil, ErrNoMaterials
	}
	for k, v := range p.desc {
		if got, ok := ec.MaterialDescription[k]; !ok || got != v {
			return nil, ErrNoMaterials
		}
	}
	return p.dec, nil
}

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (p Static) String() string                { return p.redacted().String() }
func (p Static) GoString() string              { return p.redacted().GoString() }
func (p Static) Format(f fmt.State, verb rune) { p.redacted().Format(f, verb) }
func (p Static) LogValue() slog.Value          { return p.redacted().LogValue() }
func (p Static) MarshalJSON() ([]byte, error)  { return p.redacted().MarshalJSON() }
func (Static) redacted() redacted              { return "cmp.Static{REDACTED}" }

// String, GoString, Format, LogValue and MarshalJSON never show key
// material: the configuration's keys are printed redacted.
func (c StaticConfig) String() string                { return c.redacted().String() }
func (c StaticConfig) GoString() string              { return c.redacted().GoString() }
func (c StaticConfig) Format(f fmt.State, verb rune) { c.redacted().Format(f, verb) }
func (c StaticConfig) LogValue() slog.Value          { return c.redacted().LogValue() }
func (c StaticConfig) MarshalJSON() ([]byte, error)  { return c.redacted().MarshalJSON() }
func (c StaticConfig) redacted() redacted {
	return redacted(fmt.Sprintf("cmp.StaticConfig{encrypt: %v, REDACTED, %v}", c.EncryptionKey != nil, c.Description))
}
