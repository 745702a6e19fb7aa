package cmp_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// heldKey stands for a key held elsewhere (an HSM, a cloud KMS, an agent):
// a crypto.Signer and crypto.Decrypter that counts its calls and whose
// private key is out of reach of the code under test (only the type
// assertion to *rsa.PrivateKey or *ecdsa.PrivateKey could get it, and
// heldKey is neither).
type heldKey struct {
	priv             crypto.Signer // *rsa.PrivateKey or *ecdsa.PrivateKey
	signs, decrypts  atomic.Int64
	lastOpts         atomic.Value // crypto.SignerOpts or crypto.DecrypterOpts, as a string
	failPKCS1Decrypt bool
}

func (h *heldKey) Public() crypto.PublicKey { return h.priv.Public() }

func (h *heldKey) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	h.signs.Add(1)
	h.lastOpts.Store(fmt.Sprintf("%T %v", opts, opts.HashFunc()))
	if len(digest) != opts.HashFunc().Size() {
		return nil, errors.New("heldKey: not a digest")
	}
	return h.priv.Sign(rand, digest, opts)
}

func (h *heldKey) Decrypt(rand io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	h.decrypts.Add(1)
	h.lastOpts.Store(fmt.Sprintf("%T", opts))
	//lint:ignore SA1019 the legacy PKCS #1 v1.5 items under test
	if _, ok := opts.(*rsa.PKCS1v15DecryptOptions); ok && h.failPKCS1Decrypt {
		return nil, errors.New("heldKey: PKCS #1 v1.5 padding")
	}
	return h.priv.(crypto.Decrypter).Decrypt(rand, msg, opts)
}

var testItem = itemcrypto.Item{
	"id":   &types.AttributeValueMemberS{Value: "k1"},
	"data": &types.AttributeValueMemberS{Value: "secret data"},
	"n":    &types.AttributeValueMemberN{Value: "42"},
}

// roundTripBetween writes an item with writer, reads it with reader, and
// checks that an altered copy fails under reader.
func roundTripBetween(t *testing.T, writer, reader cmp.Provider) {
	t.Helper()
	ctx := context.Background()
	stored, err := newItemEncryptor(t, "t", "id", "", writer).Encrypt(ctx, testItem)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	got, err := newItemEncryptor(t, "t", "id", "", reader).Decrypt(ctx, stored)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if got["data"].(*types.AttributeValueMemberS).Value != "secret data" {
		t.Fatalf("decrypted %v", got["data"])
	}
	bad := with(stored, "n", &types.AttributeValueMemberN{Value: "43"})
	if _, err := newItemEncryptor(t, "t", "id", "", reader).Decrypt(ctx, bad); !errors.Is(err, cmp.ErrAuthentication) {
		t.Fatalf("Decrypt(altered) = %v", err)
	}
}

// TestKeysHeldElsewhere: RSA unwrapping and RSA and ECDSA signing through
// a crypto.Decrypter / crypto.Signer write items the software keys read,
// and read theirs.
func TestKeysHeldElsewhere(t *testing.T) {
	rsaPriv := must(rsa.GenerateKey(crand.Reader, 2048))
	ecPriv := must(ecdsa.GenerateKey(elliptic.P384(), crand.Reader))
	wrapKey := must(cmp.NewRSAWrappingKey(&rsaPriv.PublicKey))

	for _, alg := range []string{"", "SHA384withRSA", "SHA512withRSA", "ec"} {
		t.Run("alg "+alg, func(t *testing.T) {
			rsaHeld := &heldKey{priv: rsaPriv}
			signHeld := rsaHeld
			var softSign, heldSign cmp.SigningKey
			var verify cmp.VerificationKey
			if alg == "ec" {
				signHeld = &heldKey{priv: ecPriv}
				s := must(cmp.NewECDSASigningKey(ecPriv, ""))
				h := must(cmp.NewECDSASigningKeyFromSigner(signHeld, ""))
				if h.Algorithm() != s.Algorithm() || h.Algorithm() != cmp.ECDSAWithSHA384 {
					t.Fatalf("Algorithm %q, software key's %q", h.Algorithm(), s.Algorithm())
				}
				softSign, heldSign, verify = s, h, h.Public()
			} else {
				s := must(cmp.NewRSASigningKey(rsaPriv, alg))
				h := must(cmp.NewRSASigningKeyFromSigner(rsaHeld, alg))
				if h.Algorithm() != s.Algorithm() {
					t.Fatalf("Algorithm %q, software key's %q", h.Algorithm(), s.Algorithm())
				}
				// PKCS #1 v1.5 signatures are deterministic: the same bytes.
				a := must(s.Sign(crand.Reader, []byte("sts")))
				b := must(h.Sign(crand.Reader, []byte("sts")))
				if string(a) != string(b) {
					t.Fatal("the Signer-backed key signs other bytes than the software key")
				}
				softSign, heldSign, verify = s, h, h.Public()
			}
			heldUnwrap := must(cmp.NewRSAUnwrappingKeyFromDecrypter(rsaHeld))
			softUnwrap := must(cmp.NewRSAUnwrappingKey(rsaPriv))
			soft := must(cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: wrapKey, UnwrappingKey: softUnwrap, SigningKey: softSign, VerificationKey: verify}))
			held := must(cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: heldUnwrap.Public(), UnwrappingKey: heldUnwrap, SigningKey: heldSign, VerificationKey: verify}))

			rsaHeld.decrypts.Store(0)
			signHeld.signs.Store(0)
			roundTripBetween(t, held, soft)
			if n := signHeld.signs.Load(); n != 1 {
				t.Errorf("the Signer signed %d times writing one item, want 1", n)
			}
			if got, want := signHeld.lastOpts.Load(), "crypto.Hash "+map[string]string{"": "SHA-256", "SHA384withRSA": "SHA-384", "SHA512withRSA": "SHA-512", "ec": "SHA-384"}[alg]; got != want {
				t.Errorf("Sign options %v, want %v", got, want)
			}
			roundTripBetween(t, soft, held)
			if n := rsaHeld.decrypts.Load(); n < 1 {
				t.Errorf("the Decrypter was not used")
			}
		})
	}
}

// TestKeysHeldElsewherePKCS1: legacy items (RSA PKCS #1 v1.5 wrapped
// content keys, no amzn-ddb-wrap-alg) read through a crypto.Decrypter with
// PKCS1v15DecryptOptions; a failing Decrypter is an authentication
// failure, not its error.
func TestKeysHeldElsewherePKCS1(t *testing.T) {
	rsaPriv := must(rsa.GenerateKey(crand.Reader, 2048))
	mac := must(cmp.NewHMACKey("", make([]byte, 32)))
	ctx := context.Background()
	soft := must(cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: must(cmp.NewRSAWrappingKey(&rsaPriv.PublicKey)),
		UnwrappingKey: must(cmp.NewRSAUnwrappingKey(rsaPriv)), SigningKey: mac}))
	stored := must(newItemEncryptor(t, "t", "id", "", soft).Encrypt(ctx, testItem))
	// Rewrap the content key with PKCS #1 v1.5 as an old Java writer did.
	d := storedDesc(t, stored)
	ck := must(must(cmp.NewRSAUnwrappingKey(rsaPriv)).UnwrapKey(must(base64.StdEncoding.DecodeString(d[materialdesc.KeyEnvelopeKey])), d[materialdesc.KeyWrapAlg], 32))
	//lint:ignore SA1019 the legacy items under test are PKCS #1 v1.5
	legacyWrapped := must(rsa.EncryptPKCS1v15(crand.Reader, &rsaPriv.PublicKey, ck))
	legacy := withDesc(t, stored, func(d materialdesc.Description) {
		d[materialdesc.KeyEnvelopeKey] = base64.StdEncoding.EncodeToString(legacyWrapped)
		delete(d, materialdesc.KeyWrapAlg)
	})
	for _, fail := range []bool{false, true} {
		h := &heldKey{priv: rsaPriv, failPKCS1Decrypt: fail}
		held := must(cmp.NewWrapped(cmp.WrappedConfig{UnwrappingKey: must(cmp.NewRSAUnwrappingKeyFromDecrypter(h)), VerificationKey: mac}))
		_, err := newItemEncryptor(t, "t", "id", "", held).Decrypt(ctx, legacy)
		if fail && !errors.Is(err, cmp.ErrAuthentication) || !fail && err != nil {
			t.Errorf("failing Decrypter %t: Decrypt = %v", fail, err)
		}
		if got := h.lastOpts.Load(); got != "*rsa.PKCS1v15DecryptOptions" {
			t.Errorf("Decrypt options %v", got)
		}
	}
}

// TestKeysHeldElsewhereRefused: a nil or non-RSA/EC Signer is refused; the
// redacted text names the key, never its material.
func TestKeysHeldElsewhereRefused(t *testing.T) {
	rsaPriv := must(rsa.GenerateKey(crand.Reader, 2048))
	ecPriv := must(ecdsa.GenerateKey(elliptic.P256(), crand.Reader))
	if _, err := cmp.NewRSASigningKeyFromSigner(&heldKey{priv: ecPriv}, ""); !errors.Is(err, cmp.ErrInvalidKey) {
		t.Errorf("RSA signer over an EC key: %v", err)
	}
	if _, err := cmp.NewECDSASigningKeyFromSigner(&heldKey{priv: rsaPriv}, ""); !errors.Is(err, cmp.ErrInvalidKey) {
		t.Errorf("ECDSA signer over an RSA key: %v", err)
	}
	if _, err := cmp.NewRSAUnwrappingKeyFromDecrypter(nil); !errors.Is(err, cmp.ErrInvalidKey) {
		t.Errorf("nil decrypter: %v", err)
	}
	if _, err := cmp.NewRSASigningKeyFromSigner(&heldKey{priv: rsaPriv}, "MD5withRSA"); !errors.Is(err, cmp.ErrUnsupportedAlgorithm) {
		t.Errorf("MD5withRSA: %v", err)
	}
	for _, v := range []any{
		must(cmp.NewRSASigningKeyFromSigner(&heldKey{priv: rsaPriv}, "")),
		must(cmp.NewRSAUnwrappingKeyFromDecrypter(&heldKey{priv: rsaPriv})),
		must(cmp.NewECDSASigningKeyFromSigner(&heldKey{priv: ecPriv}, "")),
	} {
		for _, s := range []string{fmt.Sprint(v), fmt.Sprintf("%#v", v), fmt.Sprintf("%+v", v)} {
			if !strings.Contains(s, "REDACTED") || strings.Contains(s, rsaPriv.D.String()) {
				t.Errorf("%T prints %q", v, s)
			}
		}
	}
}
