package keyring

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"slices"

	"github.com/itemcrypto/go-itemcrypto/internal/aesgcm"
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

// GenerateAndWrapFunc returns a fresh 32-byte intermediate key together
// with its wrapped form, for keyrings whose key service makes the key itself
// (AWS KMS GenerateDataKey). aad is as for [WrapFunc].
type GenerateAndWrapFunc func(aad []byte) (intermediate, providerInfo, wrapped []byte, err error)

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
	var ikm [KeyLength]byte
	defer clear(ikm[:])
	if _, err := io.ReadFull(rand, ikm[:]); err != nil {
		return fmt.Errorf("keyring: generating intermediate key: %w", err)
	}
	info, wrapped, err := wrap(ikm[:], aad)
	if err != nil {
		return err
	}
	return addIntermediateEDK(m, providerID, ikm[:], info, wrapped, aad)
}

// WrapGeneratedIntermediate is [WrapIntermediate] for an intermediate key
// that gen makes and wraps in one step: the MPL's GenerateAndWrap, which it
// calls for every keyring under intermediate key wrapping, whether or not m
// already holds a data key. The intermediate key gen returns is cleared
// after use; it must be [KeyLength] bytes. m must hold a data key.
func WrapGeneratedIntermediate(m *EncryptionMaterials, providerID string, gen GenerateAndWrapFunc) error {
	if m.dataKey == nil {
		return fmt.Errorf("%w: no data key to wrap", ErrInvalidMaterials)
	}
	aad, err := m.SerializedContext()
	if err != nil {
		return err
	}
	ikm, info, wrapped, err := gen(aad)
	if err != nil {
		return err
	}
	defer clear(ikm)
	if len(ikm) != KeyLength {
		return fmt.Errorf("%w: intermediate key of %d bytes, want %d", ErrInvalidMaterials, len(ikm), KeyLength)
	}
	return addIntermediateEDK(m, providerID, ikm, info, wrapped, aad)
}

// addIntermediateEDK encrypts m's data key under the key derived from ikm
// and adds the EDK (that, then the keyring's wrapped part) with the derived
// HMAC key.
func addIntermediateEDK(m *EncryptionMaterials, providerID string, ikm, info, wrapped, aad []byte) error {
	var mac, kek [KeyLength]byte
	defer clear(mac[:])
	defer clear(kek[:])
	deriveIntermediate(ikm, &mac, &kek)
	a, err := aesgcm.New(kek[:])
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
	a, err := aesgcm.New(kek[:])
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

// UnwrapFirst is the OnDecrypt loop of a keyring under intermediate key
// wrapping: it fails when m already has a data key, then tries, in order,
// each encrypted data key for which match reports true, unwrapping its
// keyring part with unwrap ([UnwrapIntermediate]), until one sets the data
// key. A key is asked once per item: an encrypted data key whose provider
// id and provider info equal those of one already tried is skipped (a
// forged item may repeat the reader's own key up to 255 times, each copy an
// RSA decryption, a KMS call or a branch key read). With no matching key it
// returns [ErrNoDecryptableKey]; when every attempt fails, the attempts'
// errors joined (one [ErrAuthentication] for all that failed to
// authenticate). m is not modified on failure.
func UnwrapFirst(m *DecryptionMaterials, edks []EncryptedDataKey, match func(EncryptedDataKey) bool, unwrap func(edk EncryptedDataKey, wrapped, aad []byte) ([]byte, error)) error {
	if m.HasDataKey() {
		return fmt.Errorf("%w: data key already set", ErrInvalidMaterials)
	}
	var failed attempts
	var seen triedKeys
	for i, edk := range edks {
		if !match(edk) || !seen.add(edks, i) {
			continue
		}
		err := UnwrapIntermediate(m, edk.Ciphertext, func(wrapped, aad []byte) ([]byte, error) {
			return unwrap(edk, wrapped, aad)
		})
		if err == nil {
			return nil
		}
		failed.add(err)
	}
	return failed.err()
}

// triedKeys is the set of (provider id, provider info) pairs tried for one
// item, as positions in its EDK list. It compares hashes first, so n keys
// cost O(n) hashing and, unless hashes collide, no comparison of their
// bytes; up to 8 keys it lives on the caller's stack (no allocation).
type triedKeys struct {
	seed   maphash.Seed
	seeded bool
	n      int
	small  [8]triedKey
	more   []triedKey
}

type triedKey struct {
	sum uint64
	i   int
}

// add records edks[i] and reports whether its key is new.
func (t *triedKeys) add(edks []EncryptedDataKey, i int) bool {
	if !t.seeded {
		t.seed, t.seeded = maphash.MakeSeed(), true
	}
	edk := edks[i]
	var h maphash.Hash
	h.SetSeed(t.seed)
	h.WriteString(edk.ProviderID)
	h.WriteByte(0)
	h.Write(edk.ProviderInfo)
	sum := h.Sum64()
	same := func(k triedKey) bool {
		o := edks[k.i]
		return k.sum == sum && o.ProviderID == edk.ProviderID && bytes.Equal(o.ProviderInfo, edk.ProviderInfo)
	}
	for _, k := range t.small[:t.n] {
		if same(k) {
			return false
		}
	}
	for _, k := range t.more {
		if same(k) {
			return false
		}
	}
	if t.n < len(t.small) {
		t.small[t.n] = triedKey{sum, i}
		t.n++
	} else {
		t.more = append(t.more, triedKey{sum, i})
	}
	return true
}

// attempts collects the failures of decrypt attempts.
type attempts struct {
	errs       []error
	authFailed bool
}

// add records one failure; a bare ErrAuthentication is kept once.
func (a *attempts) add(err error) {
	if err == ErrAuthentication { //nolint:errorlint // the bare sentinel, collected once
		a.authFailed = true
		return
	}
	a.errs = append(a.errs, err)
}

// err is ErrNoDecryptableKey when nothing was attempted, else the failures
// joined.
func (a *attempts) err() error {
	errs := a.errs
	if a.authFailed {
		errs = append(errs, ErrAuthentication)
	}
	switch len(errs) {
	case 0:
		return ErrNoDecryptableKey
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}
