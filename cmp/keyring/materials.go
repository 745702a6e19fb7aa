package keyring

import (
	"crypto/ecdsa"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"

	"github.com/itemcrypto/go-itemcrypto/internal/redact"
)

// EncryptedDataKey is one recipient's wrapped data key, as stored in the
// item header. None of it is secret.
type EncryptedDataKey struct {
	// ProviderID names the keyring kind or key namespace, e.g.
	// "aws-kms-hierarchy" or a raw keyring's namespace.
	ProviderID string
	// ProviderInfo identifies the wrapping key (raw keyrings add IV and tag
	// length; the hierarchical keyring puts the branch key id here).
	ProviderInfo []byte
	// Ciphertext is the wrapped material.
	Ciphertext []byte
}

// EncryptionMaterials are what one item is encrypted with. A manager builds
// them; keyrings add the data key and encrypted data keys.
type EncryptionMaterials struct {
	// Behind a pointer, as cmp.AESKey's material: %w (and any verb fmt
	// finds bad) prints a value's fields without its Format method, one
	// pointer deep, so the key must be two pointers away.
	*encryptionMaterials
}

type encryptionMaterials struct {
	suite       Suite
	ec          map[string]string
	required    []string
	dataKey     []byte
	edks        []EncryptedDataKey
	signingKeys [][]byte
	signer      *ecdsa.PrivateKey
	aad         []byte // SerializedContext, once
}

// NewEncryptionMaterials returns materials for suite and the full encryption
// context ec (copied), of which the keys in required are not stored with the
// item. Managers call it; keyrings receive the result.
func NewEncryptionMaterials(suite Suite, ec map[string]string, required []string) (*EncryptionMaterials, error) {
	if !suite.Valid() {
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedSuite, suite)
	}
	for _, k := range required {
		if _, ok := ec[k]; !ok {
			return nil, fmt.Errorf("%w: required key %q missing", ErrEncryptionContext, k)
		}
	}
	return newEncryptionMaterials(suite, maps.Clone(ec), slices.Clone(required))
}

// newEncryptionMaterials is NewEncryptionMaterials that takes ownership of
// ec and required.
func newEncryptionMaterials(suite Suite, ec map[string]string, required []string) (*EncryptionMaterials, error) {
	if !suite.Valid() {
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedSuite, suite)
	}
	for _, k := range required {
		if _, ok := ec[k]; !ok {
			return nil, fmt.Errorf("%w: required key %q missing", ErrEncryptionContext, k)
		}
	}
	return &EncryptionMaterials{&encryptionMaterials{suite: suite, ec: ec, required: required}}, nil
}

// SerializedContext returns the MPL serialization of the encryption
// context ([AppendContext]), computed once. Do not modify it.
func (m *EncryptionMaterials) SerializedContext() ([]byte, error) { return serializeOnce(&m.aad, m.ec) }

// serializeOnce returns *cache, filling it with the serialization of ec
// the first time.
func serializeOnce(cache *[]byte, ec map[string]string) ([]byte, error) {
	if *cache == nil {
		aad, err := AppendContext(make([]byte, 0, 64*len(ec)), ec)
		if err != nil {
			return nil, err
		}
		*cache = aad
	}
	return *cache, nil
}

// Suite returns the algorithm suite.
func (m *EncryptionMaterials) Suite() Suite { return m.suite }

// EncryptionContext returns the full encryption context. Do not modify it.
func (m *EncryptionMaterials) EncryptionContext() map[string]string { return m.ec }

// RequiredKeys returns the context keys that are not stored with the item:
// the reader reproduces them from its configuration and the item.
func (m *EncryptionMaterials) RequiredKeys() []string { return m.required }

// DataKey returns the plaintext data key, or nil before a keyring set one.
// It is secret: do not log or keep it.
func (m *EncryptionMaterials) DataKey() []byte { return m.dataKey }

// SetDataKey sets the plaintext data key (copied). It fails when one is
// already set or the length is not KeyLength.
func (m *EncryptionMaterials) SetDataKey(k []byte) error {
	if m.dataKey != nil {
		return fmt.Errorf("%w: data key already set", ErrInvalidMaterials)
	}
	if len(k) != KeyLength {
		return fmt.Errorf("%w: data key of %d bytes, want %d", ErrInvalidMaterials, len(k), KeyLength)
	}
	m.dataKey = slices.Clone(k)
	return nil
}

// GenerateDataKey sets a fresh random data key from rand unless one is set.
func (m *EncryptionMaterials) GenerateDataKey(rand io.Reader) error {
	if m.dataKey != nil {
		return nil
	}
	k := make([]byte, KeyLength)
	if _, err := io.ReadFull(rand, k); err != nil {
		return fmt.Errorf("keyring: generating data key: %w", err)
	}
	m.dataKey = k
	return nil
}

// AddEncryptedDataKey appends one recipient: its encrypted data key and the
// HMAC-SHA384 key that signs the item for it (copied).
func (m *EncryptionMaterials) AddEncryptedDataKey(edk EncryptedDataKey, signingKey []byte) error {
	if len(signingKey) != KeyLength {
		return fmt.Errorf("%w: symmetric signing key of %d bytes, want %d", ErrInvalidMaterials, len(signingKey), KeyLength)
	}
	if len(m.edks) == 255 {
		return fmt.Errorf("%w: more than 255 encrypted data keys", ErrInvalidMaterials)
	}
	m.edks = append(m.edks, edk)
	m.signingKeys = append(m.signingKeys, slices.Clone(signingKey))
	return nil
}

// EncryptedDataKeys returns the recipients' encrypted data keys.
func (m *EncryptionMaterials) EncryptedDataKeys() []EncryptedDataKey { return m.edks }

// SymmetricSigningKeys returns one HMAC key per encrypted data key, in the
// same order. They are secret.
func (m *EncryptionMaterials) SymmetricSigningKeys() [][]byte { return m.signingKeys }

// SigningKey returns the ECDSA P-384 key under SuiteECDSAP384, else nil.
func (m *EncryptionMaterials) SigningKey() *ecdsa.PrivateKey { return m.signer }

// Zero overwrites the secret parts; the materials are unusable afterwards.
func (m *EncryptionMaterials) Zero() {
	clear(m.dataKey)
	for _, k := range m.signingKeys {
		clear(k)
	}
	m.signer = nil
}

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (m EncryptionMaterials) String() string                { return m.redacted().String() }
func (m EncryptionMaterials) GoString() string              { return m.redacted().GoString() }
func (m EncryptionMaterials) Format(f fmt.State, verb rune) { m.redacted().Format(f, verb) }
func (m EncryptionMaterials) LogValue() slog.Value          { return m.redacted().LogValue() }
func (m EncryptionMaterials) MarshalJSON() ([]byte, error)  { return m.redacted().MarshalJSON() }
func (m EncryptionMaterials) redacted() redact.Text {
	return redact.Text(fmt.Sprintf("keyring.EncryptionMaterials{suite: %s, edks: %d, keys: [redacted]}", m.suite, len(m.edks)))
}

// DecryptionMaterials are what one item is verified and decrypted with.
type DecryptionMaterials struct {
	// Behind a pointer, as cmp.AESKey's material: %w (and any verb fmt
	// finds bad) prints a value's fields without its Format method, one
	// pointer deep, so the key must be two pointers away.
	*decryptionMaterials
}

type decryptionMaterials struct {
	suite      Suite
	ec         map[string]string
	dataKey    []byte
	signingKey []byte
	verifier   *ecdsa.PublicKey
	aad        []byte
}

// NewDecryptionMaterials returns materials for suite and the full
// encryption context ec (stored and reproduced parts; copied).
func NewDecryptionMaterials(suite Suite, ec map[string]string) (*DecryptionMaterials, error) {
	if !suite.Valid() {
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedSuite, suite)
	}
	return &DecryptionMaterials{&decryptionMaterials{suite: suite, ec: maps.Clone(ec)}}, nil
}

// SerializedContext returns the MPL serialization of the encryption
// context ([AppendContext]), computed once. Do not modify it.
func (m *DecryptionMaterials) SerializedContext() ([]byte, error) { return serializeOnce(&m.aad, m.ec) }

// Suite returns the algorithm suite.
func (m *DecryptionMaterials) Suite() Suite { return m.suite }

// EncryptionContext returns the full encryption context. Do not modify it.
func (m *DecryptionMaterials) EncryptionContext() map[string]string { return m.ec }

// HasDataKey reports whether a keyring has set the data key.
func (m *DecryptionMaterials) HasDataKey() bool { return m.dataKey != nil }

// DataKey returns the plaintext data key, or nil. It is secret.
func (m *DecryptionMaterials) DataKey() []byte { return m.dataKey }

// SymmetricSigningKey returns the HMAC key of the recipient whose encrypted
// data key was unwrapped. It is secret.
func (m *DecryptionMaterials) SymmetricSigningKey() []byte { return m.signingKey }

// VerificationKey returns the ECDSA P-384 key under SuiteECDSAP384.
func (m *DecryptionMaterials) VerificationKey() *ecdsa.PublicKey { return m.verifier }

// SetDataKey sets the unwrapped data key and the recipient's HMAC key
// (copied). It fails when a key is already set or a length is wrong.
func (m *DecryptionMaterials) SetDataKey(dataKey, signingKey []byte) error {
	if m.dataKey != nil {
		return fmt.Errorf("%w: data key already set", ErrInvalidMaterials)
	}
	if len(dataKey) != KeyLength || len(signingKey) != KeyLength {
		return fmt.Errorf("%w: keys of %d and %d bytes, want %d", ErrInvalidMaterials, len(dataKey), len(signingKey), KeyLength)
	}
	m.dataKey = slices.Clone(dataKey)
	m.signingKey = slices.Clone(signingKey)
	return nil
}

// Zero overwrites the secret parts.
func (m *DecryptionMaterials) Zero() {
	clear(m.dataKey)
	clear(m.signingKey)
}

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (m DecryptionMaterials) String() string                { return m.redacted().String() }
func (m DecryptionMaterials) GoString() string              { return m.redacted().GoString() }
func (m DecryptionMaterials) Format(f fmt.State, verb rune) { m.redacted().Format(f, verb) }
func (m DecryptionMaterials) LogValue() slog.Value          { return m.redacted().LogValue() }
func (m DecryptionMaterials) MarshalJSON() ([]byte, error)  { return m.redacted().MarshalJSON() }
func (m DecryptionMaterials) redacted() redact.Text {
	return redact.Text(fmt.Sprintf("keyring.DecryptionMaterials{suite: %s, keys: [redacted]}", m.suite))
}
