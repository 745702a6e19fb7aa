package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"io"
	"slices"

	imac "github.com/itemcrypto/go-itemcrypto/internal/mac"
)

const (
	intermediateMACInfo = "AWS_MPL_INTERMEDIATE_KEYWRAP_MAC"
	intermediateEncInfo = "AWS_MPL_INTERMEDIATE_KEYWRAP_ENC"
	gcmTagLength        = 16
	// WrappedDataKeyLength is the length of the data key encrypted under
	// the intermediate key: the first part of every EDK ciphertext.
	WrappedDataKeyLength = KeyLength + gcmTagLength
)

// WrapFunc wraps the 32-byte intermediate key for one recipient. aad is
// the MPL serialization of the full encryption context ([AppendContext]).
type WrapFunc func(intermediate, aad []byte) (providerInfo, wrapped []byte, err error)

// UnwrapFunc returns the intermediate key from a keyring's wrapped part.
type UnwrapFunc func(wrapped, aad []byte) (intermediate []byte, err error)

// deriveIntermediate returns the HMAC key and the key-encryption key of an
// intermediate key: HKDF-SHA512, no salt, 32 bytes each.
func deriveIntermediate(ikm []byte, mac, kek *[KeyLength]byte) {
	imac.HKDF32Pair(mac, kek, ikm, intermediateMACInfo, intermediateEncInfo)
}

var zeroNonce [12]byte

func gcm(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// WrapIntermediate adds one encrypted data key for providerID to m under
// intermediate key wrapping: a fresh intermediate key (from rand) is wrapped
// by wrap, the data key is encrypted under a key derived from it (AES-GCM,
// zero IV, the serialized context as AAD), and the HMAC key derived from it
// becomes the recipient's signing key. m must hold a data key.
func WrapIntermediate(rand io.Reader, m *EncryptionMaterials, providerID string, wrap WrapFunc) error {
	if m.dataKey == nil {
		return fmt.Errorf("%w: no data key to wrap", ErrInvalidMaterials)
	}
	aad, err := m.SerializedContext()
	if err != nil {
		return err
	}
	var ikm, mac, kek [KeyLength]byte
	defer clear(ikm[:])
	defer clear(mac[:])
	defer clear(kek[:])
	if _, err := io.ReadFull(rand, ikm[:]); err != nil {
		return fmt.Errorf("keyring: generating intermediate key: %w", err)
	}
	deriveIntermediate(ikm[:], &mac, &kek)
	info, wrapped, err := wrap(ikm[:], aad)
	if err != nil {
		return err
	}
	a, err := gcm(kek[:])
	if err != nil {
		return err
	}
	ct := make([]byte, 0, WrappedDataKeyLength+len(wrapped))
	ct = a.Seal(ct, zeroNonce[:], m.dataKey, aad)
	ct = append(ct, wrapped...)
	return m.AddEncryptedDataKey(EncryptedDataKey{ProviderID: providerID, ProviderInfo: info, Ciphertext: ct}, mac[:])
}

// UnwrapIntermediate reverses WrapIntermediate for one encrypted data key
// ciphertext and, when it succeeds, sets the data key and signing key on m.
// A ciphertext too short or a data key that does not decrypt is
// ErrAuthentication; errors of unwrap are returned as they are.
func UnwrapIntermediate(m *DecryptionMaterials, ciphertext []byte, unwrap UnwrapFunc) error {
	if len(ciphertext) < WrappedDataKeyLength {
		return ErrAuthentication
	}
	aad, err := m.SerializedContext()
	if err != nil {
		return err
	}
	ikm, err := unwrap(ciphertext[WrappedDataKeyLength:], aad)
	if err != nil {
		return err
	}
	defer clear(ikm)
	if len(ikm) != KeyLength {
		return ErrAuthentication
	}
	var mac, kek [KeyLength]byte
	defer clear(mac[:])
	defer clear(kek[:])
	deriveIntermediate(ikm, &mac, &kek)
	a, err := gcm(kek[:])
	if err != nil {
		return err
	}
	dk, err := a.Open(nil, zeroNonce[:], ciphertext[:WrappedDataKeyLength], aad)
	if err != nil {
		return ErrAuthentication
	}
	if m.dataKey != nil || len(dk) != KeyLength {
		clear(dk)
		return m.SetDataKey(dk, mac[:]) // the error of SetDataKey
	}
	m.dataKey = dk // fresh from Open: owned
	m.signingKey = slices.Clone(mac[:])
	return nil
}
