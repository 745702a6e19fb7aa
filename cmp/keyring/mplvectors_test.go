package keyring_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
)

// keyDescription is an MPL test-vector key description
// (framework/test-vectors/key-description.md), the raw kinds only.
type keyDescription struct {
	Type        string `json:"type"`
	Algorithm   string `json:"encryption-algorithm"`
	ProviderID  string `json:"provider-id"`
	Key         string `json:"key"`
	PaddingAlg  string `json:"padding-algorithm"`
	PaddingHash string `json:"padding-hash"`
}

type mplRoundTrip struct {
	Type        string            `json:"type"`
	Description string            `json:"description"`
	Suite       string            `json:"algorithmSuiteId"`
	Context     map[string]string `json:"encryptionContext"`
	Required    []string          `json:"requiredEncryptionContextKeys"`
	Reproduced  map[string]string `json:"reproducedEncryptionContext"`
	HasRepro    bool              `json:"-"`
	Encrypt     *keyDescription   `json:"encryptKeyDescription"`
	Decrypt     *keyDescription   `json:"decryptKeyDescription"`
	Both        *keyDescription   `json:"keyDescription"`
}

// rawKeyring builds the keyring a raw key description names: the key
// namespace is the provider id, the key name the key's "key-id".
func rawKeyring(t testing.TB, d *keyDescription) (keyring.Keyring, error) {
	t.Helper()
	k, ok := vectorKeys(t)[d.Key]
	if !ok {
		return nil, fmt.Errorf("no key %q", d.Key)
	}
	switch d.Algorithm {
	case "aes":
		return keyring.NewRawAES(d.ProviderID, k.KeyID, symmetricKey(t, d.Key))
	case "rsa":
		p, err := keyring.ParseRSAPadding(d.PaddingAlg, d.PaddingHash)
		if err != nil {
			return nil, err
		}
		if k.Type == "public" {
			pub, err := keyring.ParseRSAPublicKeyPEM([]byte(k.Material))
			if err != nil {
				return nil, err
			}
			return keyring.NewRawRSA(d.ProviderID, k.KeyID, p, pub, nil)
		}
		priv, err := keyring.ParseRSAPrivateKeyPEM([]byte(k.Material))
		if err != nil {
			return nil, err
		}
		return keyring.NewRawRSA(d.ProviderID, k.KeyID, p, nil, priv)
	}
	return nil, fmt.Errorf("raw key description of algorithm %q", d.Algorithm)
}

// TestMPLRoundTripVectors runs the raw AES and raw RSA entries of the MPL's
// keyring round-trip manifest (mpl/test.json) through our keyrings and the
// default materials manager: encrypt with encryptKeyDescription, decrypt
// with decryptKeyDescription; positive entries must give back the data key
// and HMAC key, negative ones must fail.
//
// Entries of suites 0x6700 and 0x6701 run as they are. Entries of other
// suites (ESDK suites, direct wrapping, which DB-ESDK materials do not
// take) run only when they test the reproduced encryption context, whose
// check lies in the materials manager and does not depend on the suite:
// those run under 0x6700. The rest are counted as skipped.
func TestMPLRoundTripVectors(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(mplDir(), "test.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Tests map[string]json.RawMessage `json:"tests"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, id := range slices.Sorted(maps.Keys(file.Tests)) {
		var v mplRoundTrip
		if err := json.Unmarshal(file.Tests[id], &v); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		v.HasRepro = bytes.Contains(file.Tests[id], []byte(`"reproducedEncryptionContext"`))
		enc, dec := v.Encrypt, v.Decrypt
		if v.Both != nil {
			enc, dec = v.Both, v.Both
		}
		if enc == nil || dec == nil || enc.Type != "raw" || dec.Type != "raw" || (enc.Algorithm != "aes" && enc.Algorithm != "rsa") {
			counts["not raw AES/RSA"]++
			continue
		}
		var suite keyring.Suite
		kind := v.Type
		switch {
		case v.Suite == "6700" || v.Suite == "6701":
			suite, _ = keyring.ParseSuite(v.Suite)
		case v.HasRepro:
			suite, kind = keyring.SuiteHMAC, kind+" (context, suite "+v.Suite+" run as 6700)"
		default:
			counts["skipped: raw, suite "+v.Suite]++
			continue
		}
		t.Run(id, func(t *testing.T) {
			err := runRoundTrip(t, suite, &v, enc, dec)
			switch v.Type {
			case "positive-keyring":
				if err != nil {
					t.Fatalf("%s: %v", v.Description, err)
				}
			case "negative-decrypt-keyring":
				if err == nil {
					t.Fatalf("%s: decrypted, want a failure", v.Description)
				}
				if !errors.Is(err, keyring.ErrEncryptionContext) && !errors.Is(err, keyring.ErrAuthentication) {
					t.Fatalf("%s: %v, want a context or authentication failure", v.Description, err)
				}
			default:
				t.Fatalf("entry type %q", v.Type)
			}
		})
		counts[kind+" "+enc.Algorithm]++
	}
	var report []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		report = append(report, fmt.Sprintf("%s: %d", k, counts[k]))
	}
	t.Logf("mpl/test.json: %s", strings.Join(report, "; "))
	// The manifest is fixed: these are its raw entries (see the README of
	// the vectors). A change means the runner missed some.
	want := map[string]int{
		"positive-keyring aes": 6, "positive-keyring rsa": 10,
		"positive-keyring (context, suite 0014 run as 6700) aes":         9,
		"negative-decrypt-keyring (context, suite 0014 run as 6700) aes": 56,
	}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%s: ran %d entries, want %d", k, counts[k], n)
		}
	}
}

// runRoundTrip encrypts under enc and decrypts under dec as the MPL runner
// does: the required keys are not stored, the reader reproduces the context
// the entry gives (or, without one, the required keys' values).
func runRoundTrip(t *testing.T, suite keyring.Suite, v *mplRoundTrip, enc, dec *keyDescription) error {
	encKR, err := rawKeyring(t, enc)
	if err != nil {
		t.Fatalf("encrypt keyring: %v", err)
	}
	decKR, err := rawKeyring(t, dec)
	if err != nil {
		t.Fatalf("decrypt keyring: %v", err)
	}
	ctx := context.Background()
	em, err := keyring.NewDefaultManager(encKR).EncryptionMaterials(ctx, keyring.EncryptionRequest{Suite: suite, EncryptionContext: v.Context, RequiredKeys: v.Required})
	if err != nil {
		t.Fatalf("encrypt: %v", err)
	}
	stored := maps.Clone(em.EncryptionContext())
	reproduced := v.Reproduced
	if !v.HasRepro {
		reproduced = map[string]string{}
		for _, k := range v.Required {
			reproduced[k] = v.Context[k]
		}
	}
	for _, k := range v.Required {
		delete(stored, k)
	}
	dm, err := keyring.NewDefaultManager(decKR).DecryptionMaterials(ctx, keyring.DecryptionRequest{
		Suite: suite, EncryptedDataKeys: em.EncryptedDataKeys(), StoredContext: stored, ReproducedContext: reproduced, RequiredKeys: v.Required,
	})
	if err != nil {
		return err
	}
	if !bytes.Equal(dm.DataKey(), em.DataKey()) || !bytes.Equal(dm.SymmetricSigningKey(), em.SymmetricSigningKeys()[0]) {
		t.Fatal("decrypted keys differ from the encrypted ones")
	}
	return nil
}
