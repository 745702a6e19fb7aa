package keyring_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/internal/kwtest"
)

const (
	rsaNamespace = "aws-raw-vectors-persistent-rsa-4096"
	rsaName      = "rsa-4096"
)

var allPaddings = []keyring.RSAPadding{keyring.RSAPKCS1, keyring.RSAOAEPSHA1, keyring.RSAOAEPSHA256, keyring.RSAOAEPSHA384, keyring.RSAOAEPSHA512}

func rsaPair(t testing.TB, p keyring.RSAPadding) (enc, dec *keyring.RawRSA) {
	t.Helper()
	pub, priv := vectorRSA(t)
	enc, err := keyring.NewRawRSA(rsaNamespace, rsaName, p, pub, nil)
	if err != nil {
		t.Fatal(err)
	}
	dec, err = keyring.NewRawRSA(rsaNamespace, rsaName, p, nil, priv)
	if err != nil {
		t.Fatal(err)
	}
	return enc, dec
}

// rsaDecryptStdlib undoes the keyring's RSA step with the standard library
// alone, to prove the padding on the wire.
func rsaDecryptStdlib(t *testing.T, p keyring.RSAPadding, priv *rsa.PrivateKey, ct []byte) []byte {
	t.Helper()
	var h hash.Hash
	switch p {
	case keyring.RSAPKCS1:
		//lint:ignore SA1019 the padding under test
		pt, err := rsa.DecryptPKCS1v15(nil, priv, ct)
		if err != nil {
			t.Fatalf("PKCS #1 v1.5 decryption: %v", err)
		}
		return pt
	case keyring.RSAOAEPSHA1:
		h = sha1.New()
	case keyring.RSAOAEPSHA256:
		h = sha256.New()
	case keyring.RSAOAEPSHA384:
		h = sha512.New384()
	case keyring.RSAOAEPSHA512:
		h = sha512.New()
	}
	pt, err := rsa.DecryptOAEP(h, nil, priv, ct, nil)
	if err != nil {
		t.Fatalf("OAEP decryption: %v", err)
	}
	return pt
}

func TestRawRSARoundTripEveryPadding(t *testing.T) {
	_, priv := vectorRSA(t)
	ec := map[string]string{"aws-crypto-table": "users", "tenant": "𐀂 7"}
	for _, p := range allPaddings {
		for _, suite := range []keyring.Suite{keyring.SuiteHMAC, keyring.SuiteECDSAP384} {
			t.Run(fmt.Sprintf("%s/%04x", p, uint16(suite)), func(t *testing.T) {
				enc, dec := rsaPair(t, p)
				em := encryptWith(t, enc, suite, ec)
				edks := em.EncryptedDataKeys()
				if len(edks) != 1 {
					t.Fatalf("%d EDKs, want 1", len(edks))
				}
				edk := edks[0]
				if edk.ProviderID != rsaNamespace || string(edk.ProviderInfo) != rsaName {
					t.Fatalf("EDK provider %q / %q, want the key namespace and name", edk.ProviderID, edk.ProviderInfo)
				}
				if len(edk.Ciphertext) != kwtest.EncryptedPDKLength+priv.Size() {
					t.Fatalf("EDK ciphertext of %d bytes, want %d", len(edk.Ciphertext), kwtest.EncryptedPDKLength+priv.Size())
				}
				// The layout, checked without package keyring.
				ikm := rsaDecryptStdlib(t, p, priv, edk.Ciphertext[kwtest.EncryptedPDKLength:])
				if len(ikm) != 32 {
					t.Fatalf("RSA plaintext of %d bytes, want a 32-byte intermediate key", len(ikm))
				}
				dk, mac, err := kwtest.OpenIntermediate(ikm, edk.Ciphertext, em.EncryptionContext())
				if err != nil {
					t.Fatalf("intermediate unwrap: %v", err)
				}
				if !bytes.Equal(dk, em.DataKey()) || !bytes.Equal(mac, em.SymmetricSigningKeys()[0]) {
					t.Fatal("the EDK does not hold the data key and HMAC key under the MPL layout")
				}

				dm, err := decryptWith(dec, suite, em.EncryptionContext(), edks)
				if err != nil {
					t.Fatalf("OnDecrypt: %v", err)
				}
				checkSameKeys(t, em, dm, 0)
			})
		}
	}
}

// The keyring accepts an EDK made with the standard library alone: the
// decrypt direction of the layout.
func TestRawRSADecryptsStdlibEDK(t *testing.T) {
	pub, priv := vectorRSA(t)
	ec := map[string]string{"k": "v", "aws-crypto-public-key": "x"}
	ikm, dk := make([]byte, 32), make([]byte, 32)
	rand.Read(ikm)
	rand.Read(dk)
	sealed, mac, err := kwtest.SealIntermediate(ikm, dk, ec)
	if err != nil {
		t.Fatal(err)
	}
	rsaPart, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, ikm, nil)
	if err != nil {
		t.Fatal(err)
	}
	edk := keyring.EncryptedDataKey{ProviderID: rsaNamespace, ProviderInfo: []byte(rsaName), Ciphertext: append(sealed, rsaPart...)}
	dm, err := decryptWith(mustRSA(t, keyring.RSAOAEPSHA256, nil, priv), keyring.SuiteECDSAP384, ec, []keyring.EncryptedDataKey{edk})
	if err != nil {
		t.Fatalf("OnDecrypt: %v", err)
	}
	if !bytes.Equal(dm.DataKey(), dk) || !bytes.Equal(dm.SymmetricSigningKey(), mac) {
		t.Fatal("the keyring recovered other keys than the standard library wrapped")
	}
}

func mustRSA(t testing.TB, p keyring.RSAPadding, pub *rsa.PublicKey, priv *rsa.PrivateKey) *keyring.RawRSA {
	t.Helper()
	k, err := keyring.NewRawRSA(rsaNamespace, rsaName, p, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestRawRSADecryptFailures(t *testing.T) {
	pub, priv := vectorRSA(t)
	other := anotherRSA(t)
	ec := map[string]string{"tenant": "a"}
	enc := mustRSA(t, keyring.RSAOAEPSHA256, pub, nil)
	em := encryptWith(t, enc, keyring.SuiteHMAC, ec)
	edks := em.EncryptedDataKeys()

	tamper := func(f func(e *keyring.EncryptedDataKey)) []keyring.EncryptedDataKey {
		c := cloneEDKs(edks)
		f(&c[0])
		return c
	}
	tests := []struct {
		name string
		kr   *keyring.RawRSA
		ec   map[string]string
		edks []keyring.EncryptedDataKey
		want error
	}{
		{"wrong private key", mustRSA(t, keyring.RSAOAEPSHA256, nil, other), ec, edks, keyring.ErrAuthentication},
		{"wrong padding", mustRSA(t, keyring.RSAOAEPSHA1, nil, priv), ec, edks, keyring.ErrAuthentication},
		{"PKCS1 keyring on an OAEP EDK", mustRSA(t, keyring.RSAPKCS1, nil, priv), ec, edks, keyring.ErrAuthentication},
		{"other context", mustRSA(t, keyring.RSAOAEPSHA256, nil, priv), map[string]string{"tenant": "b"}, edks, keyring.ErrAuthentication},
		{"RSA part flipped", mustRSA(t, keyring.RSAOAEPSHA256, nil, priv), ec, tamper(func(e *keyring.EncryptedDataKey) { e.Ciphertext[len(e.Ciphertext)-1] ^= 1 }), keyring.ErrAuthentication},
		{"encrypted data key flipped", mustRSA(t, keyring.RSAOAEPSHA256, nil, priv), ec, tamper(func(e *keyring.EncryptedDataKey) { e.Ciphertext[3] ^= 0x80 }), keyring.ErrAuthentication},
		{"tag flipped", mustRSA(t, keyring.RSAOAEPSHA256, nil, priv), ec, tamper(func(e *keyring.EncryptedDataKey) { e.Ciphertext[kwtest.EncryptedPDKLength-1] ^= 1 }), keyring.ErrAuthentication},
		{"truncated", mustRSA(t, keyring.RSAOAEPSHA256, nil, priv), ec, tamper(func(e *keyring.EncryptedDataKey) { e.Ciphertext = e.Ciphertext[:len(e.Ciphertext)-1] }), keyring.ErrAuthentication},
		{"only the data key part", mustRSA(t, keyring.RSAOAEPSHA256, nil, priv), ec, tamper(func(e *keyring.EncryptedDataKey) { e.Ciphertext = e.Ciphertext[:kwtest.EncryptedPDKLength] }), keyring.ErrAuthentication},
		{"empty ciphertext", mustRSA(t, keyring.RSAOAEPSHA256, nil, priv), ec, tamper(func(e *keyring.EncryptedDataKey) { e.Ciphertext = nil }), keyring.ErrAuthentication},
		{"foreign namespace", mustRSA(t, keyring.RSAOAEPSHA256, nil, priv), ec, tamper(func(e *keyring.EncryptedDataKey) { e.ProviderID = "other-namespace" }), keyring.ErrNoDecryptableKey},
		{"foreign key name", mustRSA(t, keyring.RSAOAEPSHA256, nil, priv), ec, tamper(func(e *keyring.EncryptedDataKey) { e.ProviderInfo = []byte("rsa-2048") }), keyring.ErrNoDecryptableKey},
		{"no EDKs", mustRSA(t, keyring.RSAOAEPSHA256, nil, priv), ec, nil, keyring.ErrNoDecryptableKey},
		{"public key only", enc, ec, edks, keyring.ErrKeyringCannotDecrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decryptWith(tt.kr, keyring.SuiteHMAC, tt.ec, tt.edks)
			if !errors.Is(err, tt.want) {
				t.Fatalf("OnDecrypt = %v, want %v", err, tt.want)
			}
		})
	}
}

// A PKCS #1 v1.5 EDK whose RSA part does not unpad fails like a wrong key.
func TestRawRSAPKCS1BadPadding(t *testing.T) {
	pub, priv := vectorRSA(t)
	em := encryptWith(t, mustRSA(t, keyring.RSAPKCS1, pub, nil), keyring.SuiteHMAC, nil)
	edks := cloneEDKs(em.EncryptedDataKeys())
	// A message of the wrong length (16 bytes) under valid padding, and
	// random bytes that do not unpad.
	//lint:ignore SA1019 the padding under test
	short, err := rsa.EncryptPKCS1v15(rand.Reader, pub, make([]byte, 16))
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, pub.Size())
	rand.Read(junk)
	junk[0] = 0
	dec := mustRSA(t, keyring.RSAPKCS1, nil, priv)
	for _, part := range [][]byte{short, junk} {
		edks[0].Ciphertext = append(edks[0].Ciphertext[:kwtest.EncryptedPDKLength:kwtest.EncryptedPDKLength], part...)
		if _, err := decryptWith(dec, keyring.SuiteHMAC, nil, edks); !errors.Is(err, keyring.ErrAuthentication) {
			t.Fatalf("OnDecrypt = %v, want ErrAuthentication", err)
		}
	}
}

// The keyring tries EDKs in order past foreign ones and asks its key once
// per item: a second EDK of the same namespace and key name is not tried
// (a forged item may hold 255 copies, each an RSA decryption), so one that
// fails fails the item, and ErrAuthentication is reported.
func TestRawRSAMultipleEDKs(t *testing.T) {
	pub, priv := vectorRSA(t)
	em := encryptWith(t, mustRSA(t, keyring.RSAOAEPSHA512, pub, nil), keyring.SuiteHMAC, nil)
	good := em.EncryptedDataKeys()[0]
	bad := cloneEDKs([]keyring.EncryptedDataKey{good})[0]
	bad.Ciphertext[10] ^= 1
	foreign := keyring.EncryptedDataKey{ProviderID: "aws-kms", ProviderInfo: []byte("arn"), Ciphertext: []byte{1}}
	dec := mustRSA(t, keyring.RSAOAEPSHA512, nil, priv)
	dm, err := decryptWith(dec, keyring.SuiteHMAC, nil, []keyring.EncryptedDataKey{foreign, good, bad})
	if err != nil {
		t.Fatalf("OnDecrypt past a foreign EDK: %v", err)
	}
	checkSameKeys(t, em, dm, 0)
	for _, edks := range [][]keyring.EncryptedDataKey{{foreign, bad}, {foreign, bad, good}} {
		if _, err := decryptWith(dec, keyring.SuiteHMAC, nil, edks); !errors.Is(err, keyring.ErrAuthentication) || errors.Is(err, keyring.ErrNoDecryptableKey) {
			t.Fatalf("OnDecrypt = %v, want ErrAuthentication only", err)
		}
	}
}

func TestRawRSARefusesMaterialsWithDataKey(t *testing.T) {
	pub, priv := vectorRSA(t)
	em := encryptWith(t, mustRSA(t, keyring.RSAOAEPSHA256, pub, nil), keyring.SuiteHMAC, nil)
	dm, err := decryptWith(mustRSA(t, keyring.RSAOAEPSHA256, nil, priv), keyring.SuiteHMAC, nil, em.EncryptedDataKeys())
	if err != nil {
		t.Fatal(err)
	}
	before := bytes.Clone(dm.DataKey())
	err = mustRSA(t, keyring.RSAOAEPSHA256, nil, priv).OnDecrypt(context.Background(), dm, em.EncryptedDataKeys())
	if !errors.Is(err, keyring.ErrInvalidMaterials) || !bytes.Equal(dm.DataKey(), before) {
		t.Fatalf("OnDecrypt on materials with a data key = %v", err)
	}
}

func TestRawRSAPrivateOnlyCannotEncrypt(t *testing.T) {
	_, priv := vectorRSA(t)
	m, err := keyring.NewEncryptionMaterials(keyring.SuiteHMAC, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := mustRSA(t, keyring.RSAOAEPSHA256, nil, priv).OnEncrypt(context.Background(), m); !errors.Is(err, keyring.ErrKeyringCannotEncrypt) {
		t.Fatalf("OnEncrypt without a public key = %v, want ErrKeyringCannotEncrypt", err)
	}
	if m.DataKey() != nil || len(m.EncryptedDataKeys()) != 0 {
		t.Fatal("a failed OnEncrypt modified the materials")
	}
}

// A keyring with both keys encrypts and decrypts; an existing data key is
// wrapped, not replaced.
func TestRawRSABothKeysWrapsExistingDataKey(t *testing.T) {
	pub, priv := vectorRSA(t)
	kr := mustRSA(t, keyring.RSAOAEPSHA384, pub, priv)
	m, err := keyring.NewEncryptionMaterials(keyring.SuiteHMAC, map[string]string{"a": "b"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dk := bytes.Repeat([]byte{7}, 32)
	if err := m.SetDataKey(dk); err != nil {
		t.Fatal(err)
	}
	if err := kr.OnEncrypt(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	dm, err := decryptWith(kr, keyring.SuiteHMAC, m.EncryptionContext(), m.EncryptedDataKeys())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dm.DataKey(), dk) {
		t.Fatal("the existing data key was not the one wrapped")
	}
}

func TestNewRawRSAValidates(t *testing.T) {
	pub, priv := vectorRSA(t)
	other := anotherRSA(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name            string
		namespace, key  string
		padding         keyring.RSAPadding
		pub             *rsa.PublicKey
		priv            *rsa.PrivateKey
		wantErrContains string
	}{
		{"no namespace", "", rsaName, keyring.RSAPKCS1, pub, nil, "namespace"},
		{"no name", rsaNamespace, "", keyring.RSAPKCS1, pub, nil, "name"},
		{"aws-kms namespace", "aws-kms", rsaName, keyring.RSAPKCS1, pub, nil, "reserved"},
		{"aws-kms-hierarchy namespace", "aws-kms-hierarchy", rsaName, keyring.RSAPKCS1, pub, nil, "reserved"},
		{"no padding", rsaNamespace, rsaName, 0, pub, nil, "padding"},
		{"unknown padding", rsaNamespace, rsaName, 99, pub, nil, "padding"},
		{"no key", rsaNamespace, rsaName, keyring.RSAPKCS1, nil, nil, "public key"},
		{"not a pair", rsaNamespace, rsaName, keyring.RSAPKCS1, pub, other, "pair"},
		{"too small for OAEP-SHA512", rsaNamespace, rsaName, keyring.RSAOAEPSHA512, &small.PublicKey, nil, "too small"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keyring.NewRawRSA(tt.namespace, tt.key, tt.padding, tt.pub, tt.priv)
			if err == nil || !strings.Contains(err.Error(), tt.wantErrContains) {
				t.Fatalf("NewRawRSA = %v, want an error about %q", err, tt.wantErrContains)
			}
		})
	}
	// 1024 bits is enough for OAEP-SHA256 of a 32-byte key.
	if _, err := keyring.NewRawRSA(rsaNamespace, rsaName, keyring.RSAOAEPSHA256, &small.PublicKey, small); err != nil {
		t.Fatalf("1024-bit key with OAEP-SHA256: %v", err)
	}
	if _, err := keyring.NewRawRSA(rsaNamespace, rsaName, keyring.RSAPKCS1, pub, priv); err != nil {
		t.Fatal(err)
	}
}

func TestRawRSAPrintsNoKey(t *testing.T) {
	pub, priv := vectorRSA(t)
	kr := mustRSA(t, keyring.RSAOAEPSHA256, pub, priv)
	want := `keyring.RawRSA{namespace: "aws-raw-vectors-persistent-rsa-4096", name: "rsa-4096", padding: OAEP_SHA256_MGF1, encrypt: true, decrypt: true}`
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		got := fmt.Sprintf(f, kr)
		if got != want {
			t.Errorf("Sprintf(%q) = %s, want %s", f, got, want)
		}
	}
}

func TestParseRSAPadding(t *testing.T) {
	tests := []struct {
		alg, hash string
		want      keyring.RSAPadding
	}{
		{"pkcs1", "sha1", keyring.RSAPKCS1},
		{"pkcs1", "", keyring.RSAPKCS1},
		{"oaep-mgf1", "sha1", keyring.RSAOAEPSHA1},
		{"oaep-mgf1", "sha256", keyring.RSAOAEPSHA256},
		{"oaep-mgf1", "sha384", keyring.RSAOAEPSHA384},
		{"oaep-mgf1", "sha512", keyring.RSAOAEPSHA512},
		{"OAEP_SHA384_MGF1", "", keyring.RSAOAEPSHA384},
		{"PKCS1", "", keyring.RSAPKCS1},
	}
	for _, tt := range tests {
		got, err := keyring.ParseRSAPadding(tt.alg, tt.hash)
		if err != nil || got != tt.want {
			t.Errorf("ParseRSAPadding(%q, %q) = %v, %v, want %v", tt.alg, tt.hash, got, err, tt.want)
		}
	}
	for _, bad := range [][2]string{{"oaep-mgf1", "md5"}, {"oaep-mgf1", ""}, {"oaep", "sha256"}, {"", ""}} {
		if _, err := keyring.ParseRSAPadding(bad[0], bad[1]); err == nil {
			t.Errorf("ParseRSAPadding(%q, %q) succeeded", bad[0], bad[1])
		}
	}
}

func TestParseRSAPEM(t *testing.T) {
	keys := vectorKeys(t)
	priv := keys["rsa-4096-private"].Material
	if _, err := keyring.ParseRSAPublicKeyPEM([]byte(priv)); err == nil {
		t.Fatal("a private key parsed as a public key")
	}
	if _, err := keyring.ParseRSAPrivateKeyPEM([]byte(keys["rsa-4096-public"].Material)); err == nil {
		t.Fatal("a public key parsed as a private key")
	}
	// A damaged private key: the error does not quote it.
	damaged := strings.Replace(priv, "MII", "MIX", 1)
	_, err := keyring.ParseRSAPrivateKeyPEM([]byte(damaged))
	if err == nil {
		t.Fatal("a damaged key parsed")
	}
	if strings.Contains(err.Error(), "MIX") || len(err.Error()) > 80 {
		t.Fatalf("error quotes the input: %v", err)
	}
	// An ECDSA key is not an RSA key.
	if _, err := keyring.ParseRSAPrivateKeyPEM([]byte(keys["ecc-384-private"].Material)); err == nil {
		t.Fatal("an EC key parsed as an RSA key")
	}
	// PKCS #1 forms.
	other := anotherRSA(t)
	if got, err := keyring.ParseRSAPrivateKeyPEM(pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(other))); err != nil || !got.Equal(other) {
		t.Fatalf("PKCS #1 private key: %v", err)
	}
	if got, err := keyring.ParseRSAPublicKeyPEM(pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&other.PublicKey))); err != nil || !got.Equal(&other.PublicKey) {
		t.Fatalf("PKCS #1 public key: %v", err)
	}
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
