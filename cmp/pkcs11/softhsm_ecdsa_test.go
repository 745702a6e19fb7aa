//go:build softhsm

package pkcs11

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	p11 "github.com/miekg/pkcs11"
)

// generateEC makes an EC key pair in the token (the private key sensitive
// and never extractable: it is born there), both objects labelled alike,
// destroyed with the test.
func generateEC(t *testing.T, p *Pool, oid []byte) string {
	t.Helper()
	label := fmt.Sprintf("%s-%d-%d", t.Name(), os.Getpid(), labels.Add(1))
	var pub, priv p11.ObjectHandle
	if err := p.do(t.Context(), func(c *p11.Ctx, sh p11.SessionHandle) (err error) {
		pub, priv, err = c.GenerateKeyPair(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_EC_KEY_PAIR_GEN, nil)},
			[]*p11.Attribute{
				p11.NewAttribute(p11.CKA_TOKEN, true), p11.NewAttribute(p11.CKA_VERIFY, true),
				p11.NewAttribute(p11.CKA_EC_PARAMS, oid), p11.NewAttribute(p11.CKA_LABEL, label),
			},
			[]*p11.Attribute{
				p11.NewAttribute(p11.CKA_TOKEN, true), p11.NewAttribute(p11.CKA_PRIVATE, true),
				p11.NewAttribute(p11.CKA_SENSITIVE, true), p11.NewAttribute(p11.CKA_EXTRACTABLE, false),
				p11.NewAttribute(p11.CKA_SIGN, true), p11.NewAttribute(p11.CKA_LABEL, label),
			})
		return err
	}); err != nil {
		t.Fatalf("generating %s: %v", label, err)
	}
	t.Cleanup(func() {
		p.do(t.Context(), func(c *p11.Ctx, sh p11.SessionHandle) error {
			return errors.Join(c.DestroyObject(sh, priv), c.DestroyObject(sh, pub))
		})
	})
	return label
}

// TestECDSAKeyInToken: an ECDSA key born in the token signs DDBEC items
// through cmp.NewECDSASigningKeyFromSigner on every curve, verified in
// software by the public key the token reports; a wrong curve or a label
// without a public key object is refused.
func TestECDSAKeyInToken(t *testing.T) {
	p := tokenPool(t)
	for _, tc := range []struct {
		curve elliptic.Curve
		alg   string
	}{{elliptic.P256(), "SHA256withECDSA"}, {elliptic.P384(), "SHA384withECDSA"}, {elliptic.P521(), "SHA512withECDSA"}} {
		t.Run(tc.curve.Params().Name, func(t *testing.T) {
			var oid []byte
			for o, c := range curveOIDs {
				if c == tc.curve {
					oid = []byte(o)
				}
			}
			tk := must(NewECDSAKey(t.Context(), p, generateEC(t, p, oid)))
			pub, ok := tk.Public().(*ecdsa.PublicKey)
			if !ok || pub.Curve != tc.curve {
				t.Fatalf("public key %T on %v", tk.Public(), pub.Curve.Params().Name)
			}
			signer := must(cmp.NewECDSASigningKeyFromSigner(tk, tc.alg))
			verifier := must(cmp.NewECDSAVerificationKey(pub, tc.alg))
			msg := []byte("string to sign")
			sig := must(signer.Sign(nil, msg))
			if err := verifier.Verify(msg, sig, tc.alg); err != nil {
				t.Fatalf("the token's signature does not verify: %v", err)
			}
			if err := verifier.Verify([]byte("another string"), sig, tc.alg); err == nil {
				t.Fatal("the signature verifies another string")
			}
			// Whole items: signed by the token, verified in software.
			aes := must(cmp.NewAESKey(randomKey(t, 32)))
			tokenP := must(cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: aes, UnwrappingKey: aes, SigningKey: signer, VerificationKey: verifier}))
			readP := must(cmp.NewWrapped(cmp.WrappedConfig{UnwrappingKey: aes, VerificationKey: verifier}))
			stored := roundTrip(t, ddbec(t, tokenP), ddbec(t, readP), 3)
			stored["data"] = stored["id"] // tampered: the token's signature no longer holds
			if _, err := ddbec(t, readP).Decrypt(t.Context(), stored); err == nil {
				t.Fatal("a tampered item decrypted")
			}
			if s := fmt.Sprintf("%v %+v %#v", tk, tk, *tk); !bytes.Contains([]byte(s), []byte("in the token")) {
				t.Errorf("prints %s", s)
			}
		})
	}
	t.Run("refusals", func(t *testing.T) {
		if _, err := NewECDSAKey(t.Context(), p, "no-such-key"); err == nil {
			t.Error("a missing label")
		}
		// An AES key's label: no EC private key object.
		label := importKey(t, p, p11.CKK_AES, randomKey(t, 32), p11.CKA_ENCRYPT)
		if _, err := NewECDSAKey(t.Context(), p, label); err == nil {
			t.Error("an AES key taken as an ECDSA key")
		}
	})
}
