package kmskeyring_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // RSAES_OAEP_SHA_1
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"hash"
	"maps"
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/internal/kwtest"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/kmskeyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
)

var asymEC = map[string]string{"tenant": "a", "aws-crypto-table-name": "t"}

func rsaFixture(t *testing.T, priv *rsa.PrivateKey) (*kmstest.Server, *awskms.KMS, string, *rsa.PublicKey) {
	t.Helper()
	srv := kmstest.NewServer(t)
	_, arn := srv.CreateKey(kmstest.WithRSAKey(priv))
	k := awskms.New(srv.Client())
	der, _, err := k.GetPublicKey(context.Background(), arn)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := kmskeyring.ParseRSAPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	return srv, k, arn, pub
}

func TestRSAKeyring(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv, k, arn, der := rsaFixture(t, priv)
	for alg, h := range map[string]func() hash.Hash{kmskeyring.RSAESOAEPSHA1: sha1.New, kmskeyring.RSAESOAEPSHA256: sha256.New} {
		t.Run(alg, func(t *testing.T) {
			kr, err := kmskeyring.NewRSA(k, arn, alg, func(o *kmskeyring.RSAOptions) { o.PublicKey = der })
			if err != nil {
				t.Fatal(err)
			}
			srv.ResetCalls()
			em := encrypt(t, kr, keyring.SuiteHMAC, asymEC)
			if n := len(srv.Calls()); n != 0 {
				t.Fatalf("OnEncrypt made %d KMS calls, want none", n)
			}
			edk := em.EncryptedDataKeys()[0]
			if edk.ProviderID != "aws-kms-rsa" || string(edk.ProviderInfo) != arn {
				t.Fatalf("EDK %q %q", edk.ProviderID, edk.ProviderInfo)
			}
			// The RSA plaintext is SHA-384(serialized context) || intermediate key.
			pt, err := rsa.DecryptOAEP(h(), nil, priv, edk.Ciphertext[keyring.WrappedDataKeyLength:], nil)
			if err != nil {
				t.Fatal(err)
			}
			digest := sha512.Sum384(kwtest.SerializeContext(asymEC))
			if len(pt) != 80 || !bytes.Equal(pt[:48], digest[:]) {
				t.Fatalf("RSA plaintext of %d bytes, not digest || key", len(pt))
			}
			dk, _, err := kwtest.OpenIntermediate(pt[48:], edk.Ciphertext, asymEC)
			if err != nil || !bytes.Equal(dk, em.DataKey()) {
				t.Fatalf("intermediate key does not open the data key: %v", err)
			}
			dm, err := decrypt(context.Background(), kr, keyring.SuiteHMAC, asymEC, em.EncryptedDataKeys())
			if err != nil || !bytes.Equal(dm.DataKey(), em.DataKey()) {
				t.Fatalf("OnDecrypt: %v", err)
			}
			if c := srv.CallsFor(kmstest.OpDecrypt); len(c) != 1 || c[0].KeyID != arn || c[0].EncryptionContext != nil {
				t.Fatalf("KMS Decrypt calls %+v", c)
			}
			// Another context: KMS decrypts, the digest does not match.
			other := map[string]string{"tenant": "b", "aws-crypto-table-name": "t"}
			if _, err := decrypt(context.Background(), kr, keyring.SuiteHMAC, other, em.EncryptedDataKeys()); !errors.Is(err, kmskeyring.ErrEncryptionContextDigest) || !errors.Is(err, keyring.ErrAuthentication) {
				t.Fatalf("other context: %v", err)
			}
			// A tampered RSA ciphertext: KMS refuses it.
			bad := cloneEDKs(em.EncryptedDataKeys())
			bad[0].Ciphertext[60] ^= 1
			if _, err := decrypt(context.Background(), kr, keyring.SuiteHMAC, asymEC, bad); !errors.Is(err, keyring.ErrAuthentication) {
				t.Fatalf("tampered: %v", err)
			}
		})
	}
	// The other algorithm does not decrypt.
	w, _ := kmskeyring.NewRSA(nil, arn, kmskeyring.RSAESOAEPSHA1, func(o *kmskeyring.RSAOptions) { o.PublicKey = der })
	r, _ := kmskeyring.NewRSA(k, arn, kmskeyring.RSAESOAEPSHA256)
	em := encrypt(t, w, keyring.SuiteHMAC, asymEC)
	if _, err := decrypt(context.Background(), r, keyring.SuiteHMAC, asymEC, em.EncryptedDataKeys()); !errors.Is(err, keyring.ErrAuthentication) {
		t.Fatalf("SHA-1 item read with SHA-256: %v", err)
	}
	// Typed errors.
	if err := r.OnEncrypt(context.Background(), mustEM(t, keyring.SuiteHMAC)); !errors.Is(err, keyring.ErrKeyringCannotEncrypt) {
		t.Fatalf("no public key: %v", err)
	}
	if _, err := decrypt(context.Background(), w, keyring.SuiteHMAC, asymEC, em.EncryptedDataKeys()); !errors.Is(err, keyring.ErrKeyringCannotDecrypt) {
		t.Fatalf("no KMS client: %v", err)
	}
	if err := w.OnEncrypt(context.Background(), mustEM(t, keyring.SuiteECDSAP384)); !errors.Is(err, kmskeyring.ErrSignedSuite) {
		t.Fatalf("signed suite on encrypt: %v", err)
	}
	if _, err := decrypt(context.Background(), r, keyring.SuiteECDSAP384, asymEC, em.EncryptedDataKeys()); !errors.Is(err, kmskeyring.ErrSignedSuite) {
		t.Fatalf("signed suite on decrypt: %v", err)
	}
	// The MPL forbids an alias; a bare key id names no ARN to record.
	aliasARN := srv.CreateAlias("alias/rsa", arn)
	keyID := arn[strings.LastIndexByte(arn, '/')+1:]
	for _, id := range []string{"alias/rsa", aliasARN, keyID} {
		if _, err := kmskeyring.NewRSA(k, id, kmskeyring.RSAESOAEPSHA1, func(o *kmskeyring.RSAOptions) { o.PublicKey = der }); !errors.Is(err, kmskeyring.ErrKeyARNRequired) {
			t.Fatalf("NewRSA(%q) = %v, want ErrKeyARNRequired", id, err)
		}
	}
	bad := cloneEDKs(em.EncryptedDataKeys())
	bad[0].ProviderInfo = []byte("not an arn")
	if _, err := decrypt(context.Background(), r, keyring.SuiteHMAC, asymEC, bad); !errors.Is(err, kmskeyring.ErrInvalidProviderInfo) {
		t.Fatalf("provider info: %v", err)
	}
	_, otherARN := srv.CreateKey(kmstest.WithKeySpec(kmstest.KeySpecRSA2048))
	o, _ := kmskeyring.NewRSA(k, otherARN, kmskeyring.RSAESOAEPSHA1)
	if _, err := decrypt(context.Background(), o, keyring.SuiteHMAC, asymEC, em.EncryptedDataKeys()); !errors.Is(err, keyring.ErrNoDecryptableKey) {
		t.Fatalf("another key: %v", err)
	}
	// Constructor errors.
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	for name, fn := range map[string]func() error{
		"alg": func() error { _, err := kmskeyring.NewRSA(k, arn, "RSAES_PKCS1_V1_5"); return err },
		"small key": func() error {
			_, err := kmskeyring.NewRSA(k, arn, kmskeyring.RSAESOAEPSHA1, func(o *kmskeyring.RSAOptions) { o.PublicKey = &small.PublicKey })
			return err
		},
		"nothing":    func() error { _, err := kmskeyring.NewRSA(nil, arn, kmskeyring.RSAESOAEPSHA1); return err },
		"identifier": func() error { _, err := kmskeyring.NewRSA(k, "arn:nope", kmskeyring.RSAESOAEPSHA1); return err },
	} {
		if fn() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func mustEM(t *testing.T, suite keyring.Suite) *keyring.EncryptionMaterials {
	t.Helper()
	em, err := keyring.NewEncryptionMaterials(suite, asymEC, nil)
	if err != nil {
		t.Fatal(err)
	}
	return em
}

func TestECDHKeyring(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		spec  string
		curve ecdh.Curve
	}{{kmstest.KeySpecP256, ecdh.P256()}, {kmstest.KeySpecP384, ecdh.P384()}, {kmstest.KeySpecP521, ecdh.P521()}} {
		t.Run(c.spec, func(t *testing.T) {
			srv := kmstest.NewServer(t)
			k := awskms.New(srv.Client())
			privA, _ := c.curve.GenerateKey(rand.Reader)
			privB, _ := c.curve.GenerateKey(rand.Reader)
			_, arnA := srv.CreateKey(kmstest.WithECCKey(privA))
			_, arnB := srv.CreateKey(kmstest.WithECCKey(privB))
			pubA, pubB := privA.PublicKey(), privB.PublicKey()

			writer, err := kmskeyring.NewECDHStatic(ctx, k, arnA, pubB)
			if err != nil {
				t.Fatal(err)
			}
			other, err := kmskeyring.NewECDHStatic(ctx, k, arnB, pubA)
			if err != nil {
				t.Fatal(err)
			}
			disc, err := kmskeyring.NewECDHDiscovery(ctx, k, arnB)
			if err != nil {
				t.Fatal(err)
			}
			rawDisc, _ := keyring.NewRawECDHDiscovery(privB)
			for _, suite := range []keyring.Suite{keyring.SuiteHMAC, keyring.SuiteECDSAP384} {
				srv.ResetCalls()
				em := encrypt(t, writer, suite, asymEC)
				if n := len(srv.CallsFor(kmstest.OpDeriveSharedSecret)); n != 1 {
					t.Fatalf("OnEncrypt made %d DeriveSharedSecret calls", n)
				}
				if id := em.EncryptedDataKeys()[0].ProviderID; id != "aws-kms-ecdh" {
					t.Fatalf("provider id %q", id)
				}
				for name, kr := range map[string]keyring.Keyring{"sender": writer, "recipient static": other, "recipient discovery": disc, "raw ECDH discovery": rawDisc} {
					dm, err := decrypt(ctx, kr, suite, em.EncryptionContext(), em.EncryptedDataKeys())
					if err != nil || !bytes.Equal(dm.DataKey(), em.DataKey()) {
						t.Fatalf("%s: %v", name, err)
					}
				}
				// A raw ECDH keyring's item decrypts with the KMS discovery keyring.
				x, _ := c.curve.GenerateKey(rand.Reader)
				rawW, _ := keyring.NewRawECDHStatic(x, privB.PublicKey())
				em = encrypt(t, rawW, suite, asymEC)
				if dm, err := decrypt(ctx, disc, suite, em.EncryptionContext(), em.EncryptedDataKeys()); err != nil || !bytes.Equal(dm.DataKey(), em.DataKey()) {
					t.Fatalf("raw-ecdh item: %v", err)
				}
				// ... but not with the static keyrings, whose keys are not x's.
				if _, err := decrypt(ctx, writer, suite, em.EncryptionContext(), em.EncryptedDataKeys()); !errors.Is(err, keyring.ErrNoDecryptableKey) {
					t.Fatalf("static keyring on another sender's item: %v", err)
				}
				other := maps.Clone(em.EncryptionContext())
				other["tenant"] = "b"
				if _, err := decrypt(ctx, disc, suite, other, em.EncryptedDataKeys()); !errors.Is(err, keyring.ErrAuthentication) {
					t.Fatalf("other context: %v", err)
				}
			}
			if err := disc.OnEncrypt(ctx, mustEM(t, keyring.SuiteHMAC)); !errors.Is(err, keyring.ErrKeyringCannotEncrypt) {
				t.Fatalf("discovery OnEncrypt: %v", err)
			}
			em := encrypt(t, writer, keyring.SuiteHMAC, asymEC)
			bad := cloneEDKs(em.EncryptedDataKeys())
			bad[0].ProviderInfo = bad[0].ProviderInfo[1:]
			if _, err := decrypt(ctx, disc, keyring.SuiteHMAC, asymEC, bad); !errors.Is(err, kmskeyring.ErrInvalidECDHProviderInfo) {
				t.Fatalf("malformed provider info: %v", err)
			}
		})
	}
}

func TestECDHKeyringErrors(t *testing.T) {
	ctx := context.Background()
	srv := kmstest.NewServer(t)
	k := awskms.New(srv.Client())
	_, p256 := srv.CreateKey(kmstest.WithKeySpec(kmstest.KeySpecP256))
	_, rsaARN := srv.CreateKey(kmstest.WithKeySpec(kmstest.KeySpecRSA2048))
	_, symARN := srv.CreateKey()
	x, _ := ecdh.P384().GenerateKey(rand.Reader)
	if _, err := kmskeyring.NewECDHStatic(ctx, k, p256, x.PublicKey()); err == nil {
		t.Error("keys on two curves: no error")
	}
	if _, err := kmskeyring.NewECDHDiscovery(ctx, k, p256, func(o *kmskeyring.ECDHOptions) { o.Curve = ecdh.P384() }); err == nil {
		t.Error("curve option: no error")
	}
	if _, err := kmskeyring.NewECDHDiscovery(ctx, k, rsaARN); err == nil {
		t.Error("RSA key: no error")
	}
	var ke *cmp.KMSError
	if _, err := kmskeyring.NewECDHDiscovery(ctx, k, symARN); !errors.As(err, &ke) {
		t.Errorf("symmetric key: %v", err)
	}
	// KMS failures on encrypt come back as *cmp.KMSError.
	y, _ := ecdh.P256().GenerateKey(rand.Reader)
	kr, err := kmskeyring.NewECDHStatic(ctx, k, p256, y.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext(kmstest.OpDeriveSharedSecret, kmstest.CodeThrottling, 1)
	if err := kr.OnEncrypt(ctx, mustEM(t, keyring.SuiteHMAC)); !errors.As(err, &ke) {
		t.Errorf("throttled: %v", err)
	}
}
