package vectors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/kmskeyring"
)

// keydescKeys is the keys file of the key-description vectors: MPL keys
// plus two AWS KMS keys with material (for the fake KMS).
func keydescKeys(t *testing.T) *keyMaterial {
	t.Helper()
	var f struct {
		Keys map[string]DBESDKKey `json:"keys"`
	}
	if err := readJSON(filepath.Join("testdata", "keydesc", "keys.json"), &f); err != nil {
		t.Fatal(err)
	}
	km := newKeyMaterial(f.Keys)
	t.Cleanup(km.Close)
	return km
}

func TestKeyDescriptions(t *testing.T) {
	km := keydescKeys(t)
	secrets := []string{}
	for _, k := range km.keys {
		for _, s := range []string{k.Material, k.BranchKey, k.BeaconKey, k.PlaintextDataKey} {
			if len(s) > 40 {
				s = s[len(s)-40:]
			}
			if s != "" {
				secrets = append(secrets, s)
			}
		}
	}
	aes := `{"type":"raw","key":"aes-256","provider-id":"p","encryption-algorithm":"aes"}`
	tests := []struct {
		name, desc string
		want       string // type of the keyring; "" for an error
		unsup      string // ErrUnsupported reason part
		err        string // error part
	}{
		{"raw AES", aes, "*keyring.RawAES", "", ""},
		{"raw AES 128", `{"type":"raw","key":"aes-128","provider-id":"p","encryption-algorithm":"aes"}`, "*keyring.RawAES", "", ""},
		{"raw RSA pkcs1", `{"type":"raw","key":"rsa-4096-private","provider-id":"p","encryption-algorithm":"rsa","padding-algorithm":"pkcs1","padding-hash":"sha1"}`, "*keyring.RawRSA", "", ""},
		{"raw RSA pkcs1 no hash", `{"type":"raw","key":"rsa-4096-public","provider-id":"p","encryption-algorithm":"rsa","padding-algorithm":"pkcs1"}`, "*keyring.RawRSA", "", ""},
		{"raw RSA oaep sha1", `{"type":"raw","key":"rsa-4096-private","provider-id":"p","encryption-algorithm":"rsa","padding-algorithm":"oaep-mgf1","padding-hash":"sha1"}`, "*keyring.RawRSA", "", ""},
		{"raw RSA oaep sha256", `{"type":"raw","key":"rsa-4096-public","provider-id":"p","encryption-algorithm":"rsa","padding-algorithm":"oaep-mgf1","padding-hash":"sha256"}`, "*keyring.RawRSA", "", ""},
		{"raw RSA oaep sha384", `{"type":"raw","key":"rsa-4096-private","provider-id":"p","encryption-algorithm":"rsa","padding-algorithm":"oaep-mgf1","padding-hash":"sha384"}`, "*keyring.RawRSA", "", ""},
		{"raw RSA oaep sha512", `{"type":"raw","key":"rsa-4096-private","provider-id":"p","encryption-algorithm":"rsa","padding-algorithm":"oaep-mgf1","padding-hash":"sha512"}`, "*keyring.RawRSA", "", ""},
		{"hierarchy", `{"type":"aws-kms-hierarchy","key":"static-branch-key-1"}`, "*hierarchy.Keyring", "", ""},
		{"static-branch-key", `{"type":"static-branch-key","key":"static-branch-key-1"}`, "*hierarchy.Keyring", "", ""},
		{"aws-kms with material", `{"type":"aws-kms","key":"go-fake-kms-1"}`, "*kmskeyring.Keyring", "", ""},
		{"multi", `{"type":"multi-keyring","generator":` + aes + `,"childKeyrings":[{"type":"aws-kms","key":"go-fake-kms-2"}]}`, "*keyring.Multi", "", ""},
		{"multi without generator", `{"type":"multi-keyring","childKeyrings":[` + aes + `]}`, "*keyring.Multi", "", ""},
		{"multi array", `[` + aes + `,{"type":"aws-kms-hierarchy","key":"static-branch-key-1"}]`, "*keyring.Multi", "", ""},

		{"aws-kms without material", `{"type":"aws-kms","key":"us-west-2-decryptable"}`, "", "needs an AWS account", ""},
		{"raw ECDH", `{"type":"raw-ecdh","sender":"ecc-256-private","recipient":"ecc-256-private","provider-id":"p","ecc-curve":"ecc-256","schema":"static"}`, "*keyring.RawECDH RawPrivateKeyToStaticPublicKey", "", ""},
		{"raw ECDH ephemeral", `{"type":"raw-ecdh","sender":"ephemeral","recipient":"ecc-256-private","provider-id":"p","ecc-curve":"ecc-256","schema":"ephemeral"}`, "*keyring.RawECDH EphemeralPrivateKeyToStaticPublicKey", "", ""},
		{"raw ECDH wrong curve", `{"type":"raw-ecdh","sender":"ecc-256-private","recipient":"ecc-256-private","provider-id":"p","ecc-curve":"ecc-384","schema":"static"}`, "", "", "not a ecc-384 private key"},
		{"raw ECDH discovery", `{"type":"raw-ecdh","sender":"discovery","recipient":"ecc-256-private","provider-id":"p","ecc-curve":"ecc-256","schema":"discovery"}`, "*keyring.RawECDH PublicKeyDiscovery", "", ""},
		{"kms ecdh discovery", `{"type":"aws-kms-ecdh","sender":"s","recipient":"us-west-2-256-ecc","ecc-curve":"us-west-2-256-ecc","schema":"discovery"}`, "", "needs an AWS account: KMS DeriveSharedSecret", ""},
		{"kms ecdh static", `{"type":"aws-kms-ecdh","sender":"us-west-2-384-ecc","recipient":"r","ecc-curve":"us-west-2-384-ecc","schema":"static"}`, "", "needs an AWS account: KMS DeriveSharedSecret", ""},
		{"kms ecdh ephemeral", `{"type":"aws-kms-ecdh","sender":"s","recipient":"us-west-2-256-ecc","ecc-curve":"us-west-2-256-ecc","schema":"ephemeral"}`, "", "", "the KMS ECDH keyring has the static and discovery schemas"},
		{"kms ecdh on raw key", `{"type":"aws-kms-ecdh","sender":"s","recipient":"ecc-256-private","ecc-curve":"us-west-2-256-ecc","schema":"discovery"}`, "", "", "not aws-kms-ecdh"},
		{"mrk aware without material", `{"type":"aws-kms-mrk-aware","key":"us-west-2-decryptable"}`, "", "needs an AWS account", ""},
		{"mrk aware", `{"type":"aws-kms-mrk-aware","key":"go-fake-mrk-west"}`, "*kmskeyring.MRKKeyring", "", ""},
		{"mrk discovery", `{"type":"aws-kms-mrk-aware-discovery","default-mrk-region":"us-west-2","aws-kms-discovery-filter":{"partition":"aws","account-ids":["1"]}}`, "*kmskeyring.MRKDiscoveryKeyring", "", ""},
		{"mrk discovery bad filter", `{"type":"aws-kms-mrk-aware-discovery","default-mrk-region":"us-west-2","aws-kms-discovery-filter":{"partition":"aws","account-ids":[]}}`, "", "", "invalid discovery filter"},
		{"kms rsa", `{"type":"aws-kms-rsa","key":"us-west-2-rsa-mrk","encryption-algorithm":"RSAES_OAEP_SHA_1"}`, "", "needs an AWS account: the keys file holds only the public key", ""},
		{"kms rsa on aws-kms key", `{"type":"aws-kms-rsa","key":"us-west-2-decryptable","encryption-algorithm":"RSAES_OAEP_SHA_1"}`, "", "", "not aws-kms-rsa"},
		{"required ec cmm", `{"type":"required-encryption-context-cmm","underlying":` + aes + `,"requiredEncryptionContextKeys":["a"]}`, "", "materials manager", ""},
		{"caching cmm over raw AES", `{"type":"caching-cmm","underlying":` + aes + `,"cacheLimitTtlSeconds":5,"limitBytes":10,"limitMessages":12}`, "*keyring.RawAES", "", ""},
		{"caching cmm with identifiers", `{"type":"caching-cmm","underlying":` + aes + `,"cacheLimitTtlSeconds":5,"getEntryIdentifier":"AA==","putEntryIdentifier":""}`, "",
			`key description caching-cmm over raw "aes-256" (TTL 5 s): it tests a caching CMM's get and put entry identifiers against a test cache, and cmp/keyring has no caching materials manager`, ""},
		{"caching cmm with identifiers over static", `{"type":"caching-cmm","underlying":{"type":"static-material-keyring","key":"static-plaintext-data-key"},"cacheLimitTtlSeconds":5,"limitMessages":3,"getEntryIdentifier":""}`, "",
			`(TTL 5 s, 3 messages): it tests a caching CMM's get entry identifiers against a test cache, and cmp/keyring has no caching materials manager; the underlying: fixed materials of suite 0x0014 (a plaintext data key, 1 encrypted data key), an AWS Encryption SDK suite`, ""},
		{"static material", `{"type":"static-material-keyring","key":"static-plaintext-data-key"}`, "", "fixed materials of suite 0x0014 (a plaintext data key, 1 encrypted data key), an AWS Encryption SDK suite", ""},
		{"static material DB-ESDK suite", `{"type":"static-material-keyring","key":"go-static-dbesdk-suite"}`, "", "fixed materials of suite 0x6700 (no plaintext data key, 0 encrypted data keys): the static-materials test keyring is not built", ""},

		{"no type", `{"key":"aes-256"}`, "", "", `without "type"`},
		{"unknown type", `{"type":"quantum","key":"aes-256"}`, "", "", `quantum "aes-256": unknown type`},
		{"not JSON object", `"aes-256"`, "", "", "key description"},
		{"empty array", `[]`, "", "", "empty array"},
		{"raw without key", `{"type":"raw","provider-id":"p","encryption-algorithm":"aes"}`, "", "", `missing "key"`},
		{"raw without provider", `{"type":"raw","key":"aes-256","encryption-algorithm":"aes"}`, "", "", `raw "aes-256": missing "provider-id"`},
		{"raw unknown algorithm", `{"type":"raw","key":"aes-256","provider-id":"p","encryption-algorithm":"des"}`, "", "", `raw "aes-256": unknown encryption-algorithm`},
		{"rsa without padding", `{"type":"raw","key":"rsa-4096-private","provider-id":"p","encryption-algorithm":"rsa"}`, "", "", `raw "rsa-4096-private": missing "padding-algorithm"`},
		{"oaep without hash", `{"type":"raw","key":"rsa-4096-private","provider-id":"p","encryption-algorithm":"rsa","padding-algorithm":"oaep-mgf1"}`, "", "", `raw "rsa-4096-private": padding oaep-mgf1 needs a padding-hash`},
		{"oaep bad hash", `{"type":"raw","key":"rsa-4096-private","provider-id":"p","encryption-algorithm":"rsa","padding-algorithm":"oaep-mgf1","padding-hash":"md5"}`, "", "", `raw "rsa-4096-private": padding oaep-mgf1/md5`},
		{"unknown key", `{"type":"raw","key":"nope","provider-id":"p","encryption-algorithm":"aes"}`, "", "", `raw "nope": key "nope" not in the keys file`},
		{"AES description on RSA key", `{"type":"raw","key":"rsa-4096-private","provider-id":"p","encryption-algorithm":"aes"}`, "", "", `not a symmetric AES key`},
		{"RSA description on AES key", `{"type":"raw","key":"aes-256","provider-id":"p","encryption-algorithm":"rsa","padding-algorithm":"pkcs1"}`, "", "", `raw "aes-256": key "aes-256" is of type "symmetric", not an RSA key`},
		{"hierarchy on AES key", `{"type":"aws-kms-hierarchy","key":"aes-256"}`, "", "key store", ""},
		{"aws-kms on AES key", `{"type":"aws-kms","key":"aes-256"}`, "", "", `aws-kms "aes-256": key "aes-256" is of type "symmetric"`},
		{"multi empty", `{"type":"multi-keyring","childKeyrings":[]}`, "", "", "needs a generator or a child"},
		{"multi bad child", `{"type":"multi-keyring","generator":` + aes + `,"childKeyrings":[{"type":"raw","key":"aes-128"}]}`, "", "", `child 0: vectors: key description raw "aes-128": missing "provider-id"`},
		{"kms rsa bad algorithm", `{"type":"aws-kms-rsa","key":"k","encryption-algorithm":"SYMMETRIC_DEFAULT"}`, "", "", `aws-kms-rsa "k": unknown encryption-algorithm`},
		{"ecdh bad schema", `{"type":"raw-ecdh","sender":"ecc-256-private","recipient":"r","provider-id":"p","ecc-curve":"ecc-256","schema":"x"}`, "", "", `raw-ecdh "ecc-256-private": unknown schema`},
		{"discovery without region", `{"type":"aws-kms-mrk-aware-discovery"}`, "", "", `missing "default-mrk-region"`},
		{"cmm without underlying", `{"type":"required-encryption-context-cmm"}`, "", "", `missing "underlying"`},
		{"caching cmm in a multi-keyring", `{"type":"multi-keyring","generator":` + aes + `,"childKeyrings":[{"type":"caching-cmm","underlying":` + aes + `,"cacheLimitTtlSeconds":5}]}`, "", "", `child 0: vectors: key description caching-cmm: a materials manager cannot be a multi-keyring's member`},
		{"caching cmm without TTL", `{"type":"caching-cmm","underlying":` + aes + `}`, "", "", `"cacheLimitTtlSeconds" must be a positive number`},
		{"caching cmm negative limit", `{"type":"caching-cmm","underlying":` + aes + `,"cacheLimitTtlSeconds":5,"limitBytes":-1}`, "", "", `"limitBytes" and "limitMessages" must be positive`},
		{"caching cmm identifier not base64", `{"type":"caching-cmm","underlying":` + aes + `,"cacheLimitTtlSeconds":5,"putEntryIdentifier":"%%"}`, "", "", `"putEntryIdentifier" is not base64`},
		{"caching cmm bad underlying", `{"type":"caching-cmm","underlying":{"type":"raw","key":"nope","provider-id":"p","encryption-algorithm":"aes"},"cacheLimitTtlSeconds":5,"getEntryIdentifier":"AA=="}`, "", "", `key "nope" not in the keys file`},
		{"static material on AES key", `{"type":"static-material-keyring","key":"aes-256"}`, "", "", `key "aes-256" is of type "symmetric", not static-material`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var kr keyring.Keyring
			d, err := ParseKeyDescription(json.RawMessage(tc.desc))
			if err == nil {
				kr, err = km.Keyring(d)
			}
			if err != nil {
				for _, s := range secrets {
					if strings.Contains(err.Error(), s) {
						t.Fatalf("error shows key material: %v", err)
					}
				}
			}
			switch {
			case tc.want != "":
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if got := typeName(kr); got != tc.want {
					t.Fatalf("keyring %s, want %s", got, tc.want)
				}
			case tc.unsup != "":
				if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.unsup) {
					t.Fatalf("error %v, want ErrUnsupported with %q", err, tc.unsup)
				}
			default:
				if err == nil || errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
			}
		})
	}
}

func typeName(kr keyring.Keyring) string {
	switch k := kr.(type) {
	case *keyring.RawECDH:
		return "*keyring.RawECDH " + k.Scheme().String()
	case *keyring.RawAES:
		return "*keyring.RawAES"
	case *keyring.RawRSA:
		return "*keyring.RawRSA"
	case *keyring.Multi:
		return "*keyring.Multi"
	case *hierarchy.Keyring:
		return "*hierarchy.Keyring"
	case *kmskeyring.Keyring:
		return "*kmskeyring.Keyring"
	case *kmskeyring.MRKKeyring:
		return "*kmskeyring.MRKKeyring"
	case *kmskeyring.MRKDiscoveryKeyring:
		return "*kmskeyring.MRKDiscoveryKeyring"
	}
	return "?"
}

// TestKeyDescriptionJSON: what MarshalJSON writes reads back the same, the
// array form becomes a multi-keyring object, unknown members stay.
func TestKeyDescriptionJSON(t *testing.T) {
	for _, in := range []string{
		`{"type":"raw","key":"rsa-4096-private","provider-id":"p","encryption-algorithm":"rsa","padding-algorithm":"oaep-mgf1","padding-hash":"sha256"}`,
		`{"type":"multi-keyring","childKeyrings":[]}`,
		`{"type":"multi-keyring","generator":{"type":"aws-kms-hierarchy","key":"b"},"childKeyrings":[{"type":"aws-kms","key":"k"}]}`,
		`{"type":"caching-cmm","underlying":{"type":"static-material-keyring","key":"k"},"cacheLimitTtlSeconds":1}`,
		`{"type":"caching-cmm","underlying":{"type":"static-material-keyring","key":"k"},"cacheLimitTtlSeconds":5,"limitBytes":10,"limitMessages":12,"getEntryIdentifier":"AA==","putEntryIdentifier":""}`,
		`{"type":"raw-ecdh","provider-id":"p","sender":"s","recipient":"r","ecc-curve":"ecc-256","schema":"static"}`,
	} {
		var d KeyDescription
		if err := json.Unmarshal([]byte(in), &d); err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != in {
			t.Errorf("round trip:\n got %s\nwant %s", out, in)
		}
	}
	var d KeyDescription
	if err := json.Unmarshal([]byte(`[{"type":"aws-kms","key":"a"},{"type":"aws-kms","key":"b"}]`), &d); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(d)
	if want := `{"type":"multi-keyring","generator":{"type":"aws-kms","key":"a"},"childKeyrings":[{"type":"aws-kms","key":"b"}]}`; string(out) != want {
		t.Errorf("array form: got %s, want %s", out, want)
	}
}

// TestFakeKMSKeyMaterial: two keyrings over the same keys-file entry (so
// two fake KMS servers, as in two runs) read each other's data keys.
func TestFakeKMSKeyMaterial(t *testing.T) {
	d, err := ParseKeyDescription(json.RawMessage(`{"type":"aws-kms","key":"go-fake-kms-2"}`))
	if err != nil {
		t.Fatal(err)
	}
	a, err := keydescKeys(t).Keyring(d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := keydescKeys(t).Keyring(d)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ec := map[string]string{"k": "v"}
	em, err := keyring.NewDefaultManager(a).EncryptionMaterials(ctx, keyring.EncryptionRequest{Suite: keyring.SuiteHMAC, EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	dm, err := keyring.NewDefaultManager(b).DecryptionMaterials(ctx, keyring.DecryptionRequest{Suite: keyring.SuiteHMAC, EncryptedDataKeys: em.EncryptedDataKeys(), StoredContext: em.EncryptionContext()})
	if err != nil {
		t.Fatal(err)
	}
	if string(dm.DataKey()) != string(em.DataKey()) {
		t.Fatal("data keys differ")
	}
	if info := string(em.EncryptedDataKeys()[0].ProviderInfo); info != "arn:aws:kms:eu-central-1:444455556666:key/go-itemcrypto-vectors-2" {
		t.Fatalf("provider info %q", info)
	}
}

// TestMRKKeyDescriptions: an item written with a multi-Region key in
// us-west-2 is read with its us-east-1 replica, by the MRK-aware keyring
// and the MRK-aware discovery keyring of us-east-1, over the fake KMS.
func TestMRKKeyDescriptions(t *testing.T) {
	km := keydescKeys(t)
	build := func(desc string) keyring.Keyring {
		t.Helper()
		d, err := ParseKeyDescription(json.RawMessage(desc))
		if err != nil {
			t.Fatal(err)
		}
		kr, err := km.Keyring(d)
		if err != nil {
			t.Fatal(err)
		}
		return kr
	}
	ctx := context.Background()
	ec := map[string]string{"tenant": "a"}
	em, err := keyring.NewEncryptionMaterials(keyring.SuiteHMAC, ec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := build(`{"type":"aws-kms-mrk-aware","key":"go-fake-mrk-west"}`).OnEncrypt(ctx, em); err != nil {
		t.Fatal(err)
	}
	for _, desc := range []string{
		`{"type":"aws-kms-mrk-aware","key":"go-fake-mrk-east"}`,
		`{"type":"aws-kms-mrk-aware-discovery","default-mrk-region":"us-east-1"}`,
		`{"type":"aws-kms-mrk-aware-discovery","default-mrk-region":"us-east-1","aws-kms-discovery-filter":{"partition":"aws","account-ids":["111122223333"]}}`,
	} {
		dm, err := keyring.NewDecryptionMaterials(keyring.SuiteHMAC, em.EncryptionContext())
		if err != nil {
			t.Fatal(err)
		}
		if err := build(desc).OnDecrypt(ctx, dm, em.EncryptedDataKeys()); err != nil || !bytes.Equal(dm.DataKey(), em.DataKey()) {
			t.Fatalf("%s: %v", desc, err)
		}
	}
	for _, desc := range []string{
		`{"type":"aws-kms-mrk-aware","key":"go-fake-kms-1"}`,
		`{"type":"aws-kms-mrk-aware-discovery","default-mrk-region":"us-east-1","aws-kms-discovery-filter":{"partition":"aws","account-ids":["444455556666"]}}`,
	} {
		dm, _ := keyring.NewDecryptionMaterials(keyring.SuiteHMAC, em.EncryptionContext())
		if err := build(desc).OnDecrypt(ctx, dm, em.EncryptedDataKeys()); !errors.Is(err, keyring.ErrNoDecryptableKey) {
			t.Fatalf("%s: %v, want ErrNoDecryptableKey", desc, err)
		}
	}
}
