package kmstest

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"slices"
)

// Ciphertext blob layout (private to this package):
//
//	byte 0        blobVersion
//	byte 1        n = len(key id)
//	bytes 2..2+n  key id (ASCII)
//	12 bytes      AES-GCM nonce
//	rest          AES-256-GCM ciphertext || 16-byte tag
//
// The AAD is the header (version, n, key id) followed by the canonical
// encryption context, so the blob is bound to its key and context.
const (
	blobVersion = 0x4b // 'K'
	nonceSize   = 12
	tagSize     = 16
)

var errBadBlob = errors.New("malformed ciphertext blob")

func sealBlob(k *key, plaintext []byte, ec map[string]string) []byte {
	header := append([]byte{blobVersion, byte(len(k.id))}, k.id...)
	out := make([]byte, 0, len(header)+nonceSize+len(plaintext)+tagSize)
	out = append(out, header...)
	nonce := make([]byte, nonceSize)
	rand.Read(nonce)
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, aad(header, ec))
}

// blobKeyID returns the key id named in a blob's header.
func blobKeyID(blob []byte) (string, error) {
	if len(blob) < 2 || blob[0] != blobVersion {
		return "", errBadBlob
	}
	n := int(blob[1])
	if n == 0 || len(blob) < 2+n+nonceSize+tagSize {
		return "", errBadBlob
	}
	return string(blob[2 : 2+n]), nil
}

func openBlob(k *key, blob []byte, ec map[string]string) ([]byte, error) {
	id, err := blobKeyID(blob)
	if err != nil {
		return nil, err
	}
	if id != k.id {
		return nil, errBadBlob
	}
	hlen := 2 + len(id)
	nonce := blob[hlen : hlen+nonceSize]
	return k.aead.Open(nil, nonce, blob[hlen+nonceSize:], aad(blob[:hlen], ec))
}

// aad is header || uint32(count) || for each pair sorted by key:
// uint32(len(k)) || k || uint32(len(v)) || v. A nil and an empty context
// encode the same.
func aad(header []byte, ec map[string]string) []byte {
	out := slices.Clone(header)
	out = binary.BigEndian.AppendUint32(out, uint32(len(ec)))
	keys := make([]string, 0, len(ec))
	for k := range ec {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = binary.BigEndian.AppendUint32(out, uint32(len(k)))
		out = append(out, k...)
		out = binary.BigEndian.AppendUint32(out, uint32(len(ec[k])))
		out = append(out, ec[k]...)
	}
	return out
}
