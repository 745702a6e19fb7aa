package keyring

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
)

// TestMPLDecryptManifest decrypts the records of mpl/manifest.json (the
// MPL's "awses-mpl-decrypt" manifest) with our raw AES keyring. Its one
// record is of ESDK suite 0x0014 (direct wrapping: the EDK ciphertext is
// the data key itself under AES-GCM), which DB-ESDK materials do not take,
// so the test calls the keyring's own unwrap directly: it proves the raw
// AES EDK layout (provider info = key name, tag bits, IV length, IV), the
// AAD (the serialized non-ASCII context) and the key lookup byte for byte
// against the MPL.
func TestMPLDecryptManifest(t *testing.T) {
	dir := filepath.Join(testenv.DBESDKVectorsDir(t), "mpl")
	var manifest struct {
		Manifest struct {
			Type    string `json:"type"`
			Version int    `json:"version"`
		} `json:"manifest"`
		Tests map[string]struct {
			Type  string `json:"type"`
			Suite string `json:"algorithmSuiteId"`
			Key   struct {
				Type       string `json:"type"`
				Key        string `json:"key"`
				ProviderID string `json:"provider-id"`
				Algorithm  string `json:"encryption-algorithm"`
			} `json:"keyDescription"`
			EDKs []struct {
				ProviderID   string `json:"keyProviderId"`
				ProviderInfo []byte `json:"keyProviderInfo"`
				Ciphertext   []byte `json:"ciphertext"`
			} `json:"encryptedDataKeys"`
			Result struct {
				DataKey []byte `json:"plaintextDataKey"`
			} `json:"result"`
			Context map[string]string `json:"encryptionContext"`
		} `json:"tests"`
	}
	var keys struct {
		Keys map[string]struct {
			Material string `json:"material"`
			KeyID    string `json:"key-id"`
			Type     string `json:"type"`
		} `json:"keys"`
	}
	for name, v := range map[string]any{"manifest.json": &manifest, "keys.json": &keys} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if manifest.Manifest.Type != "awses-mpl-decrypt" || manifest.Manifest.Version != 4 {
		t.Fatalf("manifest %+v", manifest.Manifest)
	}
	ran := 0
	for id, tc := range manifest.Tests {
		if tc.Type != "positive-keyring" || tc.Key.Type != "raw" || tc.Key.Algorithm != "aes" {
			t.Fatalf("%s: a %s record with a %s/%s key, which this test does not run", id, tc.Type, tc.Key.Type, tc.Key.Algorithm)
		}
		k := keys.Keys[tc.Key.Key]
		material, err := base64.StdEncoding.DecodeString(k.Material)
		if err != nil || k.Type != "symmetric" {
			t.Fatalf("%s: key %q: %v", id, tc.Key.Key, err)
		}
		kr, err := NewRawAES(tc.Key.ProviderID, k.KeyID, material)
		if err != nil {
			t.Fatal(err)
		}
		aad, err := AppendContext(nil, tc.Context)
		if err != nil {
			t.Fatal(err)
		}
		if len(tc.EDKs) != 1 {
			t.Fatalf("%s: %d EDKs", id, len(tc.EDKs))
		}
		e := tc.EDKs[0]
		edk := EncryptedDataKey{ProviderID: e.ProviderID, ProviderInfo: e.ProviderInfo, Ciphertext: e.Ciphertext}
		got, ok, err := kr.unwrap(edk, edk.Ciphertext, aad)
		if !ok || err != nil {
			t.Fatalf("%s: unwrap: mine %t, %v", id, ok, err)
		}
		if !bytes.Equal(got, tc.Result.DataKey) {
			t.Fatalf("%s: unwrapped another data key than the manifest's", id)
		}
		// The same record with a changed context, IV or key name fails.
		ctx2 := map[string]string{"𐀂": "𐀃"}
		aad2, _ := AppendContext(nil, ctx2)
		if _, _, err := kr.unwrap(edk, edk.Ciphertext, aad2); err != ErrAuthentication { //nolint:errorlint // the bare sentinel
			t.Fatalf("%s: other context: %v, want ErrAuthentication", id, err)
		}
		bad := edk
		bad.ProviderInfo = bytes.Clone(edk.ProviderInfo)
		bad.ProviderInfo[len(bad.ProviderInfo)-1] ^= 1
		if _, _, err := kr.unwrap(bad, edk.Ciphertext, aad); err != ErrAuthentication { //nolint:errorlint // the bare sentinel
			t.Fatalf("%s: other IV: %v, want ErrAuthentication", id, err)
		}
		bad.ProviderInfo = append([]byte("x"), edk.ProviderInfo...)
		if _, ok, _ := kr.unwrap(bad, edk.Ciphertext, aad); ok {
			t.Fatalf("%s: another key name was taken for ours", id)
		}
		ran++
	}
	if ran != 1 {
		t.Fatalf("ran %d records, want the manifest's 1", ran)
	}
}
