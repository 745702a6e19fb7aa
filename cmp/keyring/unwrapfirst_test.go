package keyring_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
)

// TestUnwrapFirstAsksEachKeyOnce: UnwrapFirst skips an EDK whose provider
// id and provider info equal those of one already tried, so a forged item
// of 255 copies of one EDK costs one unwrap; distinct keys are each tried.
func TestUnwrapFirstAsksEachKeyOnce(t *testing.T) {
	edk := func(id, info string) keyring.EncryptedDataKey {
		return keyring.EncryptedDataKey{ProviderID: id, ProviderInfo: []byte(info), Ciphertext: make([]byte, keyring.WrappedDataKeyLength+8)}
	}
	copies := func(n int, f func(i int) keyring.EncryptedDataKey) []keyring.EncryptedDataKey {
		out := make([]keyring.EncryptedDataKey, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		edks []keyring.EncryptedDataKey
		want int
	}{
		{"255 copies", copies(255, func(int) keyring.EncryptedDataKey { return edk("ns", "key") }), 1},
		{"255 distinct infos", copies(255, func(i int) keyring.EncryptedDataKey { return edk("ns", fmt.Sprint("key", i)) }), 255},
		{"one info, two ids", []keyring.EncryptedDataKey{edk("a", "key"), edk("b", "key"), edk("a", "key")}, 2},
		{"interleaved", copies(255, func(i int) keyring.EncryptedDataKey { return edk("ns", fmt.Sprint("key", i%3)) }), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := keyring.NewDecryptionMaterials(keyring.SuiteHMAC, map[string]string{"k": "v"})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			err = keyring.UnwrapFirst(m, tc.edks, func(keyring.EncryptedDataKey) bool { return true }, func(keyring.EncryptedDataKey, []byte, []byte) ([]byte, error) {
				n++
				return nil, keyring.ErrAuthentication
			})
			if !errors.Is(err, keyring.ErrAuthentication) {
				t.Fatalf("UnwrapFirst = %v, want ErrAuthentication", err)
			}
			if n != tc.want {
				t.Fatalf("%d unwraps, want %d", n, tc.want)
			}
		})
	}
}

// TestRawAESCopiesOfOneEDK: an item holding its raw AES EDK 255 times, each
// copy tampered, fails with ErrAuthentication; the genuine EDK after a
// tampered copy of another IV still decrypts; a wrapped part of another
// length than an intermediate key's is refused.
func TestRawAESCopiesOfOneEDK(t *testing.T) {
	kr, err := keyring.NewRawAES("ns", "key", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	em := encryptWith(t, kr, keyring.SuiteHMAC, nil)
	good := em.EncryptedDataKeys()[0]
	bad := cloneEDKs([]keyring.EncryptedDataKey{good})[0]
	bad.Ciphertext[len(bad.Ciphertext)-1] ^= 1
	edks := make([]keyring.EncryptedDataKey, 255)
	for i := range edks {
		edks[i] = bad
	}
	if _, err := decryptWith(kr, keyring.SuiteHMAC, nil, edks); !errors.Is(err, keyring.ErrAuthentication) {
		t.Fatalf("OnDecrypt = %v, want ErrAuthentication", err)
	}
	other := encryptWith(t, kr, keyring.SuiteHMAC, nil).EncryptedDataKeys()[0] // another IV
	other.Ciphertext[len(other.Ciphertext)-1] ^= 1
	dm, err := decryptWith(kr, keyring.SuiteHMAC, nil, []keyring.EncryptedDataKey{other, good})
	if err != nil {
		t.Fatalf("OnDecrypt past another IV's EDK: %v", err)
	}
	checkSameKeys(t, em, dm, 0)
	long := cloneEDKs([]keyring.EncryptedDataKey{good})[0]
	long.Ciphertext = append(long.Ciphertext, make([]byte, 60000)...)
	if _, err := decryptWith(kr, keyring.SuiteHMAC, nil, []keyring.EncryptedDataKey{long}); !errors.Is(err, keyring.ErrAuthentication) {
		t.Fatalf("OnDecrypt of a long wrapped part = %v, want ErrAuthentication", err)
	}
}
