package keyring_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/internal/kwtest"
)

// mplDir holds the MPL keyring vectors (read-only).
// ($ITEMCRYPTO_DBESDK_VECTORS/mpl, or beside the repository).
func mplDir() string {
	if dir := os.Getenv("ITEMCRYPTO_DBESDK_VECTORS"); dir != "" {
		return filepath.Join(dir, "mpl")
	}
	return "../../../shared/vectors/dbesdk/mpl"
}

type vectorKey struct {
	Type     string `json:"type"`
	Algo     string `json:"algorithm"`
	Bits     int    `json:"bits"`
	Encoding string `json:"encoding"`
	Material string `json:"material"`
	KeyID    string `json:"key-id"`
}

var loadVectorKeys = sync.OnceValues(func() (map[string]vectorKey, error) {
	b, err := os.ReadFile(filepath.Join(mplDir(), "keys.json"))
	if err != nil {
		return nil, err
	}
	var f struct {
		Keys map[string]vectorKey `json:"keys"`
	}
	err = json.Unmarshal(b, &f)
	return f.Keys, err
})

func vectorKeys(t testing.TB) map[string]vectorKey {
	t.Helper()
	keys, err := loadVectorKeys()
	if err != nil {
		t.Fatalf("MPL vector keys: %v", err)
	}
	return keys
}

// symmetricKey returns the bytes of a symmetric vector key.
func symmetricKey(t testing.TB, name string) []byte {
	t.Helper()
	k, ok := vectorKeys(t)[name]
	if !ok || k.Type != "symmetric" || k.Encoding != "base64" {
		t.Fatalf("no symmetric vector key %q", name)
	}
	b, err := base64.StdEncoding.DecodeString(k.Material)
	if err != nil || len(b)*8 != k.Bits {
		t.Fatalf("vector key %q: %d bytes, %v", name, len(b), err)
	}
	return b
}

// vectorRSA returns the RSA-4096 key pair of the vectors.
func vectorRSA(t testing.TB) (*rsa.PublicKey, *rsa.PrivateKey) {
	t.Helper()
	keys := vectorKeys(t)
	pub, err := keyring.ParseRSAPublicKeyPEM([]byte(keys["rsa-4096-public"].Material))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := keyring.ParseRSAPrivateKeyPEM([]byte(keys["rsa-4096-private"].Material))
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

var otherRSA = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// anotherRSA is a 2048-bit key pair that is not the vectors'.
func anotherRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := otherRSA()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func encryptWith(t testing.TB, kr keyring.Keyring, suite keyring.Suite, ec map[string]string) *keyring.EncryptionMaterials {
	t.Helper()
	return kwtest.Encrypt(t, kr, suite, ec)
}

func decryptWith(kr keyring.Keyring, suite keyring.Suite, ec map[string]string, edks []keyring.EncryptedDataKey) (*keyring.DecryptionMaterials, error) {
	return kwtest.Decrypt(context.Background(), kr, suite, ec, edks)
}

var cloneEDKs = kwtest.CloneEDKs

// checkSameKeys fails unless d holds the data key of e and the HMAC key of
// e's recipient i.
func checkSameKeys(t testing.TB, e *keyring.EncryptionMaterials, d *keyring.DecryptionMaterials, i int) {
	t.Helper()
	if !bytes.Equal(d.DataKey(), e.DataKey()) {
		t.Fatal("decrypted data key differs from the encrypted one")
	}
	if !bytes.Equal(d.SymmetricSigningKey(), e.SymmetricSigningKeys()[i]) {
		t.Fatalf("recipient HMAC key differs from recipient %d's", i)
	}
}
