//go:build softhsm

package pkcs11

import (
	"bytes"
	"crypto"
	crand "crypto/rand"
	"crypto/rsa"
	"fmt"
	"os"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	p11 "github.com/miekg/pkcs11"
)

// importRSA puts priv into the token as a token private key (sensitive,
// non-extractable) allowed to sign and decrypt, destroyed with the test.
func importRSA(t *testing.T, p *Pool, priv *rsa.PrivateKey) string {
	t.Helper()
	label := fmt.Sprintf("%s-%d-%d", t.Name(), os.Getpid(), labels.Add(1))
	priv.Precompute()
	tmpl := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_PRIVATE_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_RSA),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_SENSITIVE, true),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, false),
		p11.NewAttribute(p11.CKA_SIGN, true),
		p11.NewAttribute(p11.CKA_DECRYPT, true),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_MODULUS, priv.N.Bytes()),
		p11.NewAttribute(p11.CKA_PUBLIC_EXPONENT, exponentBytes(priv.E)),
		p11.NewAttribute(p11.CKA_PRIVATE_EXPONENT, priv.D.Bytes()),
		p11.NewAttribute(p11.CKA_PRIME_1, priv.Primes[0].Bytes()),
		p11.NewAttribute(p11.CKA_PRIME_2, priv.Primes[1].Bytes()),
		p11.NewAttribute(p11.CKA_EXPONENT_1, priv.Precomputed.Dp.Bytes()),
		p11.NewAttribute(p11.CKA_EXPONENT_2, priv.Precomputed.Dq.Bytes()),
		p11.NewAttribute(p11.CKA_COEFFICIENT, priv.Precomputed.Qinv.Bytes()),
	}
	var h p11.ObjectHandle
	if err := p.do(t.Context(), func(c *p11.Ctx, sh p11.SessionHandle) (err error) {
		h, err = c.CreateObject(sh, tmpl)
		return err
	}); err != nil {
		t.Fatalf("importing %s: %v", label, err)
	}
	t.Cleanup(func() {
		p.do(t.Context(), func(c *p11.Ctx, sh p11.SessionHandle) error { return c.DestroyObject(sh, h) })
	})
	return label
}

func exponentBytes(e int) []byte {
	var b []byte
	for ; e > 0; e >>= 8 {
		b = append([]byte{byte(e)}, b...)
	}
	return b
}

// TestRSAKeyInToken: an RSA key in the token signs items through
// cmp.NewRSASigningKeyFromSigner with the bytes of the software key, and
// decrypts the raw RSA keyring's EDKs through
// keyring.NewRawRSAWithDecrypter, for every padding the token supports.
func TestRSAKeyInToken(t *testing.T) {
	p := tokenPool(t)
	priv := must(rsa.GenerateKey(crand.Reader, 2048))
	tk := must(NewRSAKey(t.Context(), p, importRSA(t, p, priv)))
	if !tk.pub.Equal(&priv.PublicKey) {
		t.Fatal("the token key's public key differs")
	}
	for _, alg := range []string{"SHA256withRSA", "SHA384withRSA", "SHA512withRSA"} {
		soft := must(cmp.NewRSASigningKey(priv, alg))
		held := must(cmp.NewRSASigningKeyFromSigner(tk, alg))
		a, b := must(soft.Sign(nil, []byte("string to sign"))), must(held.Sign(nil, []byte("string to sign")))
		if !bytes.Equal(a, b) {
			t.Errorf("%s: the token's signature differs from the software key's", alg)
		}
		if err := soft.Public().Verify([]byte("string to sign"), b, alg); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
	}
	ec := map[string]string{"tenant": "7"}
	for _, pad := range []keyring.RSAPadding{keyring.RSAPKCS1, keyring.RSAOAEPSHA1, keyring.RSAOAEPSHA256, keyring.RSAOAEPSHA512} {
		t.Run(pad.String(), func(t *testing.T) {
			if h := map[keyring.RSAPadding]crypto.Hash{keyring.RSAOAEPSHA1: crypto.SHA1, keyring.RSAOAEPSHA256: crypto.SHA256, keyring.RSAOAEPSHA512: crypto.SHA512}[pad]; h != 0 {
				ct := must(rsa.EncryptOAEP(h.New(), crand.Reader, &priv.PublicKey, []byte("probe"), nil))
				if _, err := tk.Decrypt(nil, ct, &rsa.OAEPOptions{Hash: h}); err != nil {
					t.Skipf("the token does not do RSA-OAEP with %v (SoftHSM 2.6 does SHA-1 only): %v", h, err)
				}
			}
			enc := must(keyring.NewRawRSA("ns", "rsa", pad, &priv.PublicKey, nil))
			held := must(keyring.NewRawRSAWithDecrypter("ns", "rsa", pad, &priv.PublicKey, tk))
			soft := must(keyring.NewRawRSA("ns", "rsa", pad, nil, priv))
			for _, w := range []keyring.Keyring{enc, held} {
				em := must(keyring.NewEncryptionMaterials(keyring.SuiteHMAC, ec, nil))
				if err := w.OnEncrypt(t.Context(), em); err != nil {
					t.Fatal(err)
				}
				for _, r := range []keyring.Keyring{held, soft} {
					dm := must(keyring.NewDecryptionMaterials(keyring.SuiteHMAC, ec))
					if err := r.OnDecrypt(t.Context(), dm, em.EncryptedDataKeys()); err != nil {
						t.Fatalf("OnDecrypt: %v", err)
					}
					if !bytes.Equal(dm.DataKey(), em.DataKey()) {
						t.Fatal("data keys differ")
					}
				}
			}
			// Another key's EDK: an authentication failure, not a token error.
			other := must(rsa.GenerateKey(crand.Reader, 2048))
			em := must(keyring.NewEncryptionMaterials(keyring.SuiteHMAC, ec, nil))
			if err := must(keyring.NewRawRSA("ns", "rsa", pad, &other.PublicKey, nil)).OnEncrypt(t.Context(), em); err != nil {
				t.Fatal(err)
			}
			dm := must(keyring.NewDecryptionMaterials(keyring.SuiteHMAC, ec))
			if err := held.OnDecrypt(t.Context(), dm, em.EncryptedDataKeys()); err == nil {
				t.Fatal("another key's EDK decrypted")
			}
		})
	}
	// The DDBEC wrapped provider: RSA-OAEP with SHA-256 and MGF1-SHA-1.
	// The DDBEC wrapped provider: items signed by the token (SHA256withRSA)
	// and content keys unwrapped by it (RSA-OAEP with SHA-256 and
	// MGF1-SHA-1) when the token does that OAEP (SoftHSM 2.6 does SHA-1
	// only: then the unwrapping key is the software one).
	t.Run("DDBEC", func(t *testing.T) {
		softU := must(cmp.NewRSAUnwrappingKey(priv))
		softS := must(cmp.NewRSASigningKey(priv, ""))
		unwrap := must(cmp.NewRSAUnwrappingKeyFromDecrypter(tk))
		ck := []byte("0123456789abcdef0123456789abcdef")
		w, _, err := unwrap.Public().WrapKey(crand.Reader, ck)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tk.Decrypt(nil, w, &rsa.OAEPOptions{Hash: crypto.SHA256, MGFHash: crypto.SHA1}); err != nil {
			t.Logf("the token does not do RSA-OAEP with SHA-256 and MGF1-SHA-1, unwrapping in software: %v", err)
			unwrap = softU
		}
		signer := must(cmp.NewRSASigningKeyFromSigner(tk, ""))
		tokenP := must(cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: unwrap.Public(), UnwrappingKey: unwrap, SigningKey: signer, VerificationKey: signer.Public()}))
		softP := must(cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: softU.Public(), UnwrappingKey: softU, SigningKey: softS, VerificationKey: softS.Public()}))
		roundTrip(t, ddbec(t, tokenP), ddbec(t, softP), 1)
		roundTrip(t, ddbec(t, softP), ddbec(t, tokenP), 2)
	})
	if s := fmt.Sprintf("%v %+v %#v", tk, tk, *tk); bytes.Contains([]byte(s), []byte(priv.D.String())) || !bytes.Contains([]byte(s), []byte("in the token")) {
		t.Errorf("prints %s", s)
	}
}
