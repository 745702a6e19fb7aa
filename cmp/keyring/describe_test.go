package keyring_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"testing"

	"github.com/google/uuid"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
)

func TestDescribeEncryptedDataKey(t *testing.T) {
	ec := map[string]string{"a": "b"}
	aes := mustAES(t, "my-ns", "aes-256")
	pub, priv := vectorRSA(t)
	rsaKR, err := keyring.NewRawRSA("rsa-ns", "rsa-key", keyring.RSAOAEPSHA256, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	recip, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecdhKR, err := keyring.NewRawECDHEphemeral(recip.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	version := uuid.NewString()
	bk, err := hierarchy.NewBranchKey("tenant-7", version, bytes.Repeat([]byte{1}, 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	hier, err := hierarchy.New(hierarchy.NewStatic(bk), func(o *hierarchy.Options) { o.BranchKeyID = "tenant-7" })
	if err != nil {
		t.Fatal(err)
	}

	describe := func(kr keyring.Keyring) keyring.EDKDescription {
		t.Helper()
		return keyring.DescribeEncryptedDataKey(encryptWith(t, kr, keyring.SuiteHMAC, ec).EncryptedDataKeys()[0])
	}
	if d := describe(aes); d.Kind != keyring.KindRawAES || d.ProviderID != "my-ns" || d.KeyNamespace != "my-ns" || d.KeyName != "aes-256" || d.ProviderInfo != "" {
		t.Errorf("raw AES: %+v", d)
	}
	if d := describe(rsaKR); d.Kind != keyring.KindRawRSA || d.KeyNamespace != "rsa-ns" || d.KeyName != "rsa-key" || d.ProviderInfo != "rsa-key" {
		t.Errorf("raw RSA: %+v", d)
	}
	if d := describe(hier); d.Kind != keyring.KindKMSHierarchy || d.ProviderID != hierarchy.ProviderID || d.BranchKeyID != "tenant-7" || d.BranchKeyVersion != version || d.ProviderInfo != "tenant-7" {
		t.Errorf("hierarchy: %+v, want version %s", d, version)
	}
	d := describe(ecdhKR)
	if d.Kind != keyring.KindRawECDH || d.ProviderID != keyring.RawECDHProviderID || len(d.SenderPublicKey) == 0 || len(d.RecipientPublicKey) != 33 {
		t.Errorf("raw ECDH: %+v", d)
	}

	const arn = "arn:aws:kms:us-west-2:111122223333:key/mrk-1"
	for _, tc := range []struct {
		edk  keyring.EncryptedDataKey
		want keyring.EDKDescription
	}{
		{keyring.EncryptedDataKey{ProviderID: "aws-kms", ProviderInfo: []byte(arn), Ciphertext: []byte{1}},
			keyring.EDKDescription{ProviderID: "aws-kms", ProviderInfo: arn, Kind: keyring.KindKMS}},
		{keyring.EncryptedDataKey{ProviderID: "aws-kms-rsa", ProviderInfo: []byte(arn)},
			keyring.EDKDescription{ProviderID: "aws-kms-rsa", ProviderInfo: arn, Kind: keyring.KindKMSRSA}},
		// Too short to hold a version: the id only, no kind.
		{keyring.EncryptedDataKey{ProviderID: "aws-kms-hierarchy", ProviderInfo: []byte("bk"), Ciphertext: make([]byte, 10)},
			keyring.EDKDescription{ProviderID: "aws-kms-hierarchy", ProviderInfo: "bk"}},
		{keyring.EncryptedDataKey{ProviderID: "aws-kms-future", ProviderInfo: []byte("x")},
			keyring.EDKDescription{ProviderID: "aws-kms-future", ProviderInfo: "x"}},
		{keyring.EncryptedDataKey{ProviderID: "raw-ecdh", ProviderInfo: []byte{1, 0, 0, 0, 9}},
			keyring.EDKDescription{ProviderID: "raw-ecdh", ProviderInfo: "\x01\x00\x00\x00\x09"}},
		{keyring.EncryptedDataKey{ProviderID: "ns", ProviderInfo: []byte{0xff}},
			keyring.EDKDescription{ProviderID: "ns"}},
	} {
		got := keyring.DescribeEncryptedDataKey(tc.edk)
		if got.ProviderID != tc.want.ProviderID || got.ProviderInfo != tc.want.ProviderInfo || got.Kind != tc.want.Kind || got.BranchKeyVersion != "" || got.KeyName != "" {
			t.Errorf("%q: %+v, want %+v", tc.edk.ProviderID, got, tc.want)
		}
	}
}

func FuzzDescribeEncryptedDataKey(f *testing.F) {
	f.Add("raw-ecdh", []byte{1, 0, 0, 0, 1, 2, 0, 0, 0, 1, 3}, []byte{})
	f.Add("ns", []byte("k\x00\x00\x00\x80\x00\x00\x00\x0c123456789012"), []byte{})
	f.Add("aws-kms-hierarchy", []byte("bk"), make([]byte, 120))
	f.Fuzz(func(t *testing.T, id string, info, ct []byte) {
		keyring.DescribeEncryptedDataKey(keyring.EncryptedDataKey{ProviderID: id, ProviderInfo: info, Ciphertext: ct})
	})
}
