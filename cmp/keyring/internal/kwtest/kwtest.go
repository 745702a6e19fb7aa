// Package kwtest holds the keyrings' test helpers: a check of the MPL
// intermediate key wrapping layout of an encrypted data key made
// independently of package keyring, with the standard library only, and
// the encrypt/decrypt calls the keyring tests share.
package kwtest

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
)

// EncryptedPDKLength is the AES-256-GCM ciphertext and tag of the data key
// that starts every EDK ciphertext under intermediate key wrapping.
const EncryptedPDKLength = 32 + 16

// SerializeContext is the MPL serialization of an encryption context:
// nothing when empty, else a uint16 count and, for each key in byte order,
// uint16 length || key || uint16 length || value.
func SerializeContext(ec map[string]string) []byte {
	if len(ec) == 0 {
		return nil
	}
	keys := make([]string, 0, len(ec))
	for k := range ec {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := binary.BigEndian.AppendUint16(nil, uint16(len(ec)))
	for _, k := range keys {
		out = binary.BigEndian.AppendUint16(out, uint16(len(k)))
		out = append(out, k...)
		out = binary.BigEndian.AppendUint16(out, uint16(len(ec[k])))
		out = append(out, ec[k]...)
	}
	return out
}

// SealIntermediate is the reverse of OpenIntermediate: the encrypted data
// key part of an EDK ciphertext for dataKey under ikm, and the HMAC key.
func SealIntermediate(ikm, dataKey []byte, ec map[string]string) (sealed, macKey []byte, err error) {
	a, mac, err := derive(ikm)
	if err != nil {
		return nil, nil, err
	}
	return a.Seal(nil, make([]byte, 12), dataKey, SerializeContext(ec)), mac, nil
}

// OpenIntermediate decrypts the data key at the start of an EDK ciphertext
// with the intermediate key ikm the keyring part unwrapped to, and returns
// it with the recipient's HMAC key: HKDF-SHA512 (no salt) of ikm with info
// "AWS_MPL_INTERMEDIATE_KEYWRAP_ENC" and "..._MAC", AES-256-GCM, zero IV,
// the serialized context as AAD.
func OpenIntermediate(ikm, ciphertext []byte, ec map[string]string) (dataKey, macKey []byte, err error) {
	if len(ciphertext) < EncryptedPDKLength {
		return nil, nil, errors.New("kwtest: EDK ciphertext too short")
	}
	a, mac, err := derive(ikm)
	if err != nil {
		return nil, nil, err
	}
	dk, err := a.Open(nil, make([]byte, 12), ciphertext[:EncryptedPDKLength], SerializeContext(ec))
	if err != nil {
		return nil, nil, err
	}
	return dk, mac, nil
}

func derive(ikm []byte) (cipher.AEAD, []byte, error) {
	prk, err := hkdf.Extract(sha512.New, ikm, nil)
	if err != nil {
		return nil, nil, err
	}
	kek, err := hkdf.Expand(sha512.New, prk, "AWS_MPL_INTERMEDIATE_KEYWRAP_ENC", 32)
	if err != nil {
		return nil, nil, err
	}
	mac, err := hkdf.Expand(sha512.New, prk, "AWS_MPL_INTERMEDIATE_KEYWRAP_MAC", 32)
	if err != nil {
		return nil, nil, err
	}
	b, err := aes.NewCipher(kek)
	if err != nil {
		return nil, nil, err
	}
	a, err := cipher.NewGCM(b)
	return a, mac, err
}

// Encrypt runs kr under the default materials manager.
func Encrypt(t testing.TB, kr keyring.Keyring, suite keyring.Suite, ec map[string]string) *keyring.EncryptionMaterials {
	t.Helper()
	m, err := keyring.NewDefaultManager(kr).EncryptionMaterials(context.Background(), keyring.EncryptionRequest{Suite: suite, EncryptionContext: ec})
	if err != nil {
		t.Fatalf("EncryptionMaterials: %v", err)
	}
	return m
}

// Decrypt asks kr alone to decrypt edks under the full context ec. It
// panics if kr fails but leaves a data key behind.
func Decrypt(ctx context.Context, kr keyring.Keyring, suite keyring.Suite, ec map[string]string, edks []keyring.EncryptedDataKey) (*keyring.DecryptionMaterials, error) {
	m, err := keyring.NewDecryptionMaterials(suite, ec)
	if err != nil {
		return nil, err
	}
	if err := kr.OnDecrypt(ctx, m, edks); err != nil {
		if m.HasDataKey() {
			panic("keyring set a data key and failed")
		}
		return nil, err
	}
	return m, nil
}

// CloneEDKs deep-copies edks so a test can tamper with one.
func CloneEDKs(edks []keyring.EncryptedDataKey) []keyring.EncryptedDataKey {
	out := make([]keyring.EncryptedDataKey, len(edks))
	for i, e := range edks {
		out[i] = keyring.EncryptedDataKey{ProviderID: e.ProviderID, ProviderInfo: bytes.Clone(e.ProviderInfo), Ciphertext: bytes.Clone(e.Ciphertext)}
	}
	return out
}
