package hierarchy

import (
	"crypto/sha512"
	"testing"
)

// cacheID is the MPL's: SHA-384 over the bytes the specification lists
// (aws-kms-hierarchical-keyring.md, encryption and decryption materials).
func TestCacheIDLayout(t *testing.T) {
	enc := sha512.Sum384([]byte("\x02\x00\x01\x00part\x00store\x00bk"))
	if got := cacheID([]byte("part"), "store", "bk", ""); got != string(enc[:]) {
		t.Errorf("encrypt identifier %x, want %x", got, enc)
	}
	const v = "0d2c1a8e-9b4f-4c1e-8d2a-3b7e6f5a4c3d"
	dec := sha512.Sum384([]byte("\x02\x00\x02\x00part\x00store\x00bk\x00" + v))
	if got := cacheID([]byte("part"), "store", "bk", v); got != string(dec[:]) {
		t.Errorf("decrypt identifier %x, want %x", got, dec)
	}
}
