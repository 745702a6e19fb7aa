// Package aesgcm makes the AES-GCM AEAD (12-byte nonce, 16-byte tag) that
// every format and keyring of the module uses: the DB-ESDK's per-field
// encryption, the MPL keyrings' wrapping of data and intermediate keys, the
// branch keys of the hierarchical keyring.
package aesgcm

import (
	"crypto/aes"
	"crypto/cipher"
)

// New returns AES-GCM under key (16, 24 or 32 bytes). The AEAD holds its
// own copy of the key schedule; key may be cleared afterwards.
func New(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
