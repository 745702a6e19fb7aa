package cmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// EncryptionContext is what a provider learns about the item it serves.
// Providers must treat it as read-only.
type EncryptionContext struct {
	// TableName is the table name bound into the signature (and, for KMS
	// providers, into the KMS encryption context).
	TableName string
	// PartitionKeyName and SortKeyName name the primary-key attributes
	// (SortKeyName is "" for tables without a sort key).
	PartitionKeyName, SortKeyName string
	// Attributes is the item: its plaintext on encrypt, the item as stored
	// (reserved attributes included) on decrypt.
	Attributes map[string]types.AttributeValue
	// MaterialDescription is the item's parsed description on decrypt, and
	// nil on encrypt. It is not signed: treat it as untrusted input.
	MaterialDescription materialdesc.Description
}

// EncryptionMaterialsProvider hands out the materials to protect one item.
//
// Implementations must be safe for concurrent use. A provider that promises
// a unique content key per item must return fresh materials on every call.
type EncryptionMaterialsProvider interface {
	EncryptionMaterials(ctx context.Context, ec EncryptionContext) (*EncryptionMaterials, error)
}

// DecryptionMaterialsProvider finds the materials to verify and decrypt one
// item from its material description.
//
// Implementations must be safe for concurrent use. A failure to unwrap a key
// (an integrity or padding failure, a wrong key) must be reported as an error
// that matches [ErrAuthentication], with no detail; [ErrNoMaterials] means the
// description belongs to another provider; anything else (a KMS that cannot
// be reached, say) is passed to the caller wrapped as is.
type DecryptionMaterialsProvider interface {
	DecryptionMaterials(ctx context.Context, ec EncryptionContext) (*DecryptionMaterials, error)
}

// Provider can both protect and read items.
type Provider interface {
	EncryptionMaterialsProvider
	DecryptionMaterialsProvider
}

var (
	// ErrAuthentication is the one opaque error for every failure of
	// authenticity: a bad signature, a key that does not unwrap, bad padding.
	// itemcrypto.ErrAuthentication is the same value.
	ErrAuthentication = errors.New("itemcrypto: item authentication failed")
	// ErrNoMaterials means the item's description is not one this provider
	// can serve (another provider's, or missing what it needs).
	ErrNoMaterials = errors.New("cmp: no materials for this material description")
	// ErrUnsupportedAlgorithm: a description or configuration names an
	// algorithm outside the allow-list.
	ErrUnsupportedAlgorithm = errors.New("cmp: unsupported algorithm")
	// ErrInvalidKey: key material of the wrong size or kind.
	ErrInvalidKey = errors.New("cmp: invalid key")
)

// EncryptionMaterials are the keys and description for protecting one item.
type EncryptionMaterials struct {
	encryptionKey *AESKey
	signingKey    SigningKey
	desc          materialdesc.Description
}

// NewEncryptionMaterials builds encryption materials. encryptionKey may be nil
// for items that only sign; signingKey is required. desc is not copied: the
// caller must not change it afterwards.
func NewEncryptionMaterials(encryptionKey *AESKey, signingKey SigningKey, desc materialdesc.Description) (*EncryptionMaterials, error) {
	if signingKey == nil {
		return nil, fmt.Errorf("%w: a signing key is required", ErrInvalidKey)
	}
	return &EncryptionMaterials{encryptionKey: encryptionKey, signingKey: signingKey, desc: desc}, nil
}

// EncryptionKey returns the content key, or nil.
func (m *EncryptionMaterials) EncryptionKey() *AESKey { return m.encryptionKey }

// SigningKey returns the signing key.
func (m *EncryptionMaterials) SigningKey() SigningKey { return m.signingKey }

// Description returns the provider's part of the material description. It
// must not be modified.
func (m *EncryptionMaterials) Description() materialdesc.Description { return m.desc }

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (m EncryptionMaterials) String() string                { return m.redacted().String() }
func (m EncryptionMaterials) GoString() string              { return m.redacted().GoString() }
func (m EncryptionMaterials) Format(f fmt.State, verb rune) { m.redacted().Format(f, verb) }
func (m EncryptionMaterials) LogValue() slog.Value          { return m.redacted().LogValue() }
func (m EncryptionMaterials) MarshalJSON() ([]byte, error)  { return m.redacted().MarshalJSON() }
func (m EncryptionMaterials) redacted() redacted {
	alg := ""
	if m.signingKey != nil {
		alg = m.signingKey.Algorithm()
	}
	return redacted(fmt.Sprintf("cmp.EncryptionMaterials{encrypt: %v, sign: %s, %v}", m.encryptionKey != nil, alg, m.desc))
}

// DecryptionMaterials are the keys for verifying and decrypting one item.
type DecryptionMaterials struct {
	decryptionKey   *AESKey
	verificationKey VerificationKey
}

// NewDecryptionMaterials builds decryption materials. decryptionKey may be
// nil for items that are only signed; verificationKey is required.
func NewDecryptionMaterials(decryptionKey *AESKey, verificationKey VerificationKey) (*DecryptionMaterials, error) {
	if verificationKey == nil {
		return nil, fmt.Errorf("%w: a verification key is required", ErrInvalidKey)
	}
	return &DecryptionMaterials{decryptionKey: decryptionKey, verificationKey: verificationKey}, nil
}

// DecryptionKey returns the content key, or nil.
func (m *DecryptionMaterials) DecryptionKey() *AESKey { return m.decryptionKey }

// VerificationKey returns the verification key.
func (m *DecryptionMaterials) VerificationKey() VerificationKey { return m.verificationKey }

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (m DecryptionMaterials) String() string                { return m.redacted().String() }
func (m DecryptionMaterials) GoString() string              { return m.redacted().GoString() }
func (m DecryptionMaterials) Format(f fmt.State, verb rune) { m.redacted().Format(f, verb) }
func (m DecryptionMaterials) LogValue() slog.Value          { return m.redacted().LogValue() }
func (m DecryptionMaterials) MarshalJSON() ([]byte, error)  { return m.redacted().MarshalJSON() }
func (m DecryptionMaterials) redacted() redacted {
	return redacted(fmt.Sprintf("cmp.DecryptionMaterials{decrypt: %v}", m.decryptionKey != nil))
}
