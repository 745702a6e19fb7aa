package keyring

import (
	"context"
	"crypto/cipher"
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"

	"github.com/itemcrypto/go-itemcrypto/internal/aesgcm"
	"github.com/itemcrypto/go-itemcrypto/internal/redact"
)

// RawAESOptions tune [NewRawAES].
type RawAESOptions struct {
	// Rand is the source of data keys, intermediate keys and IVs; nil is
	// crypto/rand.
	Rand io.Reader
}

// RawAES is the MPL raw AES keyring: AES-GCM with a 12-byte random IV and a
// 16-byte tag under a wrapping key the caller holds, the serialized
// encryption context as AAD. Its encrypted data keys carry the key
// namespace as provider id and key name, tag length in bits, IV length and
// IV as provider info.
type RawAES struct {
	namespace, name string
	aead            cipher.AEAD // AES-GCM under the wrapping key; safe for concurrent use
	rand            io.Reader
}

var _ Keyring = (*RawAES)(nil)

// NewRawAES returns a raw AES keyring. key must be 16, 24 or 32 bytes; it is
// copied. namespace and name identify the key to readers and must match
// theirs.
func NewRawAES(namespace, name string, key []byte, optFns ...func(*RawAESOptions)) (*RawAES, error) {
	if err := checkRawKeyName("raw AES", namespace, name); err != nil {
		return nil, err
	}
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("keyring: raw AES wrapping key of %d bytes, want 16, 24 or 32", len(key))
	}
	var o RawAESOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Rand == nil {
		o.Rand = crand.Reader
	}
	a, err := aesgcm.New(key) // the AEAD holds its own copy of the key schedule
	if err != nil {
		return nil, err
	}
	return &RawAES{namespace: namespace, name: name, aead: a, rand: o.Rand}, nil
}

// String, GoString, Format, LogValue and MarshalJSON never show key material.
func (r RawAES) String() string                { return r.redacted().String() }
func (r RawAES) GoString() string              { return r.redacted().GoString() }
func (r RawAES) Format(f fmt.State, verb rune) { r.redacted().Format(f, verb) }
func (r RawAES) LogValue() slog.Value          { return r.redacted().LogValue() }
func (r RawAES) MarshalJSON() ([]byte, error)  { return r.redacted().MarshalJSON() }
func (r RawAES) redacted() redact.Text {
	return redact.Text(fmt.Sprintf("keyring.RawAES{namespace: %q, name: %q, key: [redacted]}", r.namespace, r.name))
}

const rawAESIVLength = 12

// wrap encrypts secret (a data key or intermediate key) with aad, returning
// the provider info (name || tag bits || IV length || IV) and ciphertext of
// its encrypted data key.
func (r *RawAES) wrap(secret, aad []byte) (info, ct []byte, err error) {
	info = make([]byte, 0, len(r.name)+8+rawAESIVLength)
	info = append(info, r.name...)
	info = binary.BigEndian.AppendUint32(info, gcmTagLength*8)
	info = binary.BigEndian.AppendUint32(info, rawAESIVLength)
	info = info[:len(info)+rawAESIVLength]
	iv := info[len(info)-rawAESIVLength:]
	if _, err := io.ReadFull(r.rand, iv); err != nil {
		return nil, nil, fmt.Errorf("keyring: generating IV: %w", err)
	}
	return info, r.aead.Seal(nil, iv, secret, aad), nil
}

// matches reports whether edk is this keyring's: its namespace, and
// provider info of its key name, a 128-bit tag and a 12-byte IV.
func (r *RawAES) matches(edk EncryptedDataKey) bool {
	info := edk.ProviderInfo
	if edk.ProviderID != r.namespace || len(info) != len(r.name)+8+rawAESIVLength || string(info[:len(r.name)]) != r.name {
		return false
	}
	rest := info[len(r.name):]
	return binary.BigEndian.Uint32(rest) == gcmTagLength*8 && binary.BigEndian.Uint32(rest[4:]) == rawAESIVLength
}

// unwrap decrypts one encrypted data key of this keyring; ok is false when
// the EDK is not this keyring's.
func (r *RawAES) unwrap(edk EncryptedDataKey, wrapped, aad []byte) (secret []byte, ok bool, err error) {
	if !r.matches(edk) {
		return nil, false, nil
	}
	pt, err := r.aead.Open(nil, edk.ProviderInfo[len(r.name)+8:], wrapped, aad)
	if err != nil {
		return nil, true, ErrAuthentication
	}
	return pt, true, nil
}

// OnEncrypt implements [Keyring].
func (r *RawAES) OnEncrypt(_ context.Context, m *EncryptionMaterials) error {
	if err := m.GenerateDataKey(r.rand); err != nil {
		return err
	}
	return WrapIntermediate(r.rand, m, r.namespace, r.wrap)
}

// OnDecrypt implements [Keyring]: it tries the encrypted data keys of its
// namespace and key name ([UnwrapFirst]: each provider info once).
func (r *RawAES) OnDecrypt(_ context.Context, m *DecryptionMaterials, edks []EncryptedDataKey) error {
	return UnwrapFirst(m, edks, r.matches, func(edk EncryptedDataKey, wrapped, aad []byte) ([]byte, error) {
		if len(wrapped) != KeyLength+gcmTagLength { // an intermediate key; bounds what Open allocates
			return nil, ErrAuthentication
		}
		pt, _, err := r.unwrap(edk, wrapped, aad)
		return pt, err
	})
}
