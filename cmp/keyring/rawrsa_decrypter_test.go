package keyring_test

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
)

// heldRSA stands for an RSA key held elsewhere (an HSM, a cloud KMS, an
// agent): a crypto.Decrypter that counts its calls and never hands out
// its private key.
type heldRSA struct {
	priv     *rsa.PrivateKey
	calls    atomic.Int64
	lastOpts atomic.Value // string
	fail     bool
}

func (h *heldRSA) Public() crypto.PublicKey { return h.priv.Public() }

func (h *heldRSA) Decrypt(rand io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	h.calls.Add(1)
	h.lastOpts.Store(fmt.Sprintf("%T %v", opts, opts))
	if h.fail {
		return nil, errors.New("heldRSA: refused")
	}
	return h.priv.Decrypt(rand, msg, opts)
}

// TestRawRSAWithDecrypter: a raw RSA keyring whose private key is a
// crypto.Decrypter reads what the software keyring writes under every
// padding, and its encrypting side is the software one.
func TestRawRSAWithDecrypter(t *testing.T) {
	pub, priv := vectorRSA(t)
	ec := map[string]string{"tenant": "7"}
	for _, p := range allPaddings {
		t.Run(p.String(), func(t *testing.T) {
			enc, soft := rsaPair(t, p)
			h := &heldRSA{priv: priv}
			held, err := keyring.NewRawRSAWithDecrypter(rsaNamespace, rsaName, p, pub, h)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range []keyring.Keyring{enc, held} {
				em := encryptWith(t, w, keyring.SuiteHMAC, ec)
				for j, r := range []keyring.Keyring{soft, held} {
					dm, err := decryptWith(r, keyring.SuiteHMAC, ec, em.EncryptedDataKeys())
					if err != nil {
						t.Fatalf("writer %d, reader %d: %v", i, j, err)
					}
					checkSameKeys(t, em, dm, 0)
				}
			}
			if h.calls.Load() != 2 {
				t.Errorf("%d Decrypt calls, want 2", h.calls.Load())
			}
			want := "*rsa.PKCS1v15DecryptOptions"
			if p != keyring.RSAPKCS1 {
				want = "*rsa.OAEPOptions"
			}
			if got := h.lastOpts.Load().(string); !strings.HasPrefix(got, want) {
				t.Errorf("Decrypt options %s, want %s", got, want)
			}
			// A failing Decrypter is a key that does not decrypt.
			h.fail = true
			if _, err := decryptWith(held, keyring.SuiteHMAC, ec, encryptWith(t, enc, keyring.SuiteHMAC, ec).EncryptedDataKeys()); err == nil {
				t.Error("a failing Decrypter decrypted")
			}
		})
	}
}

func TestNewRawRSAWithDecrypterValidates(t *testing.T) {
	pub, priv := vectorRSA(t)
	other := anotherRSA(t)
	if _, err := keyring.NewRawRSAWithDecrypter("ns", "n", keyring.RSAOAEPSHA256, &other.PublicKey, &heldRSA{priv: priv}); err == nil {
		t.Error("a public key of another pair was accepted")
	}
	dec, err := keyring.NewRawRSAWithDecrypter("ns", "n", keyring.RSAOAEPSHA256, nil, &heldRSA{priv: priv})
	if err != nil {
		t.Fatal(err)
	}
	m, err := keyring.NewEncryptionMaterials(keyring.SuiteHMAC, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := dec.OnEncrypt(t.Context(), m); !errors.Is(err, keyring.ErrKeyringCannotEncrypt) {
		t.Errorf("a keyring with only a Decrypter encrypted: %v", err)
	}
	if s := fmt.Sprintf("%+v", dec); !strings.Contains(s, "decrypt: true") || strings.Contains(s, priv.D.String()) {
		t.Errorf("prints %s", s)
	}
	encOnly, err := keyring.NewRawRSAWithDecrypter("ns", "n", keyring.RSAOAEPSHA256, pub, nil)
	if err != nil || !strings.Contains(fmt.Sprint(encOnly), "decrypt: false") {
		t.Errorf("nil Decrypter: %v %v", encOnly, err)
	}
}
