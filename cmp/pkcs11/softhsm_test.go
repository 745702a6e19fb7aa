//go:build softhsm

// The tests against a real token, under the build tag softhsm
// (scripts/softhsm.sh makes a SoftHSM2 token and runs them). They find the
// token through ITEMCRYPTO_PKCS11_MODULE, ITEMCRYPTO_PKCS11_TOKEN and
// ITEMCRYPTO_PKCS11_PIN; without them they skip, and fail under CI=true.

package pkcs11

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	p11 "github.com/miekg/pkcs11"
)

var (
	poolOnce sync.Once
	testPool *Pool
	poolErr  error
)

// tokenPool opens the pool of the token named by the environment once
// for the package's tests.
func tokenPool(t *testing.T) *Pool {
	t.Helper()
	module := os.Getenv("ITEMCRYPTO_PKCS11_MODULE")
	if module == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("ITEMCRYPTO_PKCS11_MODULE is not set (scripts/softhsm.sh sets it): under CI=true the PKCS#11 tests must run")
		}
		t.Skip("ITEMCRYPTO_PKCS11_MODULE, _TOKEN and _PIN are not set: run under scripts/softhsm.sh (softhsm_start) to test against SoftHSM2")
	}
	poolOnce.Do(func() {
		testPool, poolErr = Open(Config{Module: module, TokenLabel: os.Getenv("ITEMCRYPTO_PKCS11_TOKEN"),
			PIN: os.Getenv("ITEMCRYPTO_PKCS11_PIN"), MaxSessions: 4})
	})
	if poolErr != nil {
		t.Fatal(poolErr)
	}
	return testPool
}

var labels atomic.Int64

// importKey puts key into the token as a token object (non-extractable,
// sensitive) of keyType with the usage attributes given, under a fresh
// label, destroyed when the test ends. The test knows the bytes because it
// made them; the code under test only sees the label.
func importKey(t *testing.T, p *Pool, keyType uint, key []byte, usage ...uint) string {
	t.Helper()
	label := fmt.Sprintf("%s-%d-%d", t.Name(), os.Getpid(), labels.Add(1))
	tmpl := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, keyType),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_SENSITIVE, true),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, false),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_VALUE, key),
	}
	for _, u := range usage {
		tmpl = append(tmpl, p11.NewAttribute(u, true))
	}
	var h p11.ObjectHandle
	if err := p.do(t.Context(), func(c *p11.Ctx, sh p11.SessionHandle) (err error) {
		h, err = c.CreateObject(sh, tmpl)
		return err
	}); err != nil {
		t.Fatalf("importing %s: %v", label, err)
	}
	t.Cleanup(func() {
		p.do(context.Background(), func(c *p11.Ctx, sh p11.SessionHandle) error { return c.DestroyObject(sh, h) })
	})
	return label
}

func randomKey(t *testing.T, n int) []byte {
	k := make([]byte, n)
	if _, err := crand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func testItem(i int) itemcrypto.Item {
	return itemcrypto.Item{
		"id":   &types.AttributeValueMemberS{Value: "item-" + strconv.Itoa(i)},
		"data": &types.AttributeValueMemberS{Value: "secret " + strconv.Itoa(i)},
		"n":    &types.AttributeValueMemberN{Value: strconv.Itoa(i)},
	}
}

var policy = actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "id"})

func dbesdk(t *testing.T, kr keyring.Keyring) *itemcrypto.Encryptor {
	return must(itemcrypto.New(itemcrypto.Config{TableName: "t", Policy: policy, Format: itemcrypto.FormatDBESDK,
		DBESDK: &itemcrypto.DBESDKConfig{Keyring: kr}}))
}

func ddbec(t *testing.T, p cmp.Provider) *itemcrypto.Encryptor {
	return must(itemcrypto.New(itemcrypto.Config{TableName: "t", Policy: policy, Provider: p}))
}

// roundTrip writes item i with w and reads it back with r.
func roundTrip(t *testing.T, w, r *itemcrypto.Encryptor, i int) itemcrypto.Item {
	t.Helper()
	ctx := t.Context()
	stored, err := w.Encrypt(ctx, testItem(i))
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	got, err := r.Decrypt(ctx, stored)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if want := "secret " + strconv.Itoa(i); got["data"].(*types.AttributeValueMemberS).Value != want {
		t.Fatalf("decrypted %v, want %q", got["data"], want)
	}
	return stored
}

// TestAESKeyringMatchesRawAES: the token keyring's items decrypt under
// keyring.NewRawAES over the same key bytes and vice versa, at the item
// and the keyring level, and their encrypted data keys have the raw AES
// keyring's layout.
func TestAESKeyringMatchesRawAES(t *testing.T) {
	p := tokenPool(t)
	for _, size := range []int{16, 24, 32} {
		t.Run(strconv.Itoa(8*size), func(t *testing.T) {
			key := randomKey(t, size)
			label := importKey(t, p, p11.CKK_AES, key, p11.CKA_ENCRYPT, p11.CKA_DECRYPT)
			token := must(NewAESKeyring(t.Context(), p, label, "ns", "key-name"))
			raw := must(keyring.NewRawAES("ns", "key-name", key))
			tokenEnc, rawEnc := dbesdk(t, token), dbesdk(t, raw)
			roundTrip(t, tokenEnc, rawEnc, 1)
			roundTrip(t, rawEnc, tokenEnc, 2)
			roundTrip(t, tokenEnc, tokenEnc, 3)

			ec := map[string]string{"tenant": "7", "aws-crypto-table": "t"}
			em := must(keyring.NewEncryptionMaterials(keyring.SuiteHMAC, ec, nil))
			if err := token.OnEncrypt(t.Context(), em); err != nil {
				t.Fatal(err)
			}
			edk := em.EncryptedDataKeys()[0]
			if edk.ProviderID != "ns" || len(edk.ProviderInfo) != len("key-name")+8+12 || !bytes.HasPrefix(edk.ProviderInfo, []byte("key-name\x00\x00\x00\x80\x00\x00\x00\x0c")) {
				t.Fatalf("EDK provider %q / %x", edk.ProviderID, edk.ProviderInfo)
			}
			dm := must(keyring.NewDecryptionMaterials(keyring.SuiteHMAC, ec))
			if err := raw.OnDecrypt(t.Context(), dm, em.EncryptedDataKeys()); err != nil {
				t.Fatalf("raw AES keyring reading the token keyring's EDK: %v", err)
			}
			if !bytes.Equal(dm.DataKey(), em.DataKey()) {
				t.Fatal("data keys differ")
			}
			// Another encryption context: the AAD differs, the token refuses.
			dm = must(keyring.NewDecryptionMaterials(keyring.SuiteHMAC, map[string]string{"tenant": "8", "aws-crypto-table": "t"}))
			if err := token.OnDecrypt(t.Context(), dm, em.EncryptedDataKeys()); !errors.Is(err, keyring.ErrAuthentication) {
				t.Fatalf("OnDecrypt under another context = %v, want ErrAuthentication", err)
			}
			// Another key of the same names: refused as a wrong key.
			other := importKey(t, p, p11.CKK_AES, randomKey(t, size), p11.CKA_ENCRYPT, p11.CKA_DECRYPT)
			otherKR := must(NewAESKeyring(t.Context(), p, other, "ns", "key-name"))
			stored := must(rawEnc.Encrypt(t.Context(), testItem(4)))
			if _, err := dbesdk(t, otherKR).Decrypt(t.Context(), stored); err == nil {
				t.Fatal("a wrong key in the token decrypted")
			}
		})
	}
}

// TestWrappedMatchesSoftware: the DDBEC provider over a key-encryption key
// and an HMAC key in the token writes items that cmp.NewWrapped over the
// same key bytes reads, and reads its items.
func TestWrappedMatchesSoftware(t *testing.T) {
	p := tokenPool(t)
	kekBytes, macBytes := randomKey(t, 32), randomKey(t, 32)
	kekLabel := importKey(t, p, p11.CKK_AES, kekBytes, p11.CKA_WRAP, p11.CKA_UNWRAP)
	macLabel := importKey(t, p, p11.CKK_GENERIC_SECRET, macBytes, p11.CKA_SIGN, p11.CKA_VERIFY)
	for _, alg := range []string{"", "AES/128", "AES"} {
		t.Run(alg, func(t *testing.T) {
			token := must(NewWrapped(t.Context(), p, WrappedConfig{WrappingKeyLabel: kekLabel, SigningKeyLabel: macLabel, ContentKeyAlgorithm: alg}))
			kek := must(cmp.NewAESKey(kekBytes))
			mac := must(cmp.NewHMACKey("", macBytes))
			soft := must(cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac, ContentKeyAlgorithm: alg}))
			stored := roundTrip(t, ddbec(t, token), ddbec(t, soft), 1)
			roundTrip(t, ddbec(t, soft), ddbec(t, token), 2)
			// An altered item fails under the token's key.
			stored["n"] = &types.AttributeValueMemberN{Value: "99"}
			if _, err := ddbec(t, token).Decrypt(t.Context(), stored); !errors.Is(err, cmp.ErrAuthentication) {
				t.Fatalf("Decrypt(altered) = %v", err)
			}
		})
	}
	// The token's MAC is HMAC-SHA256 of the software key; a wrapped key
	// altered in one bit is an authentication failure.
	tk := must(NewHMACKey(t.Context(), p, macLabel))
	mac := must(cmp.NewHMACKey("", macBytes))
	a, b := must(tk.Sign(nil, []byte("sts"))), must(mac.Sign(nil, []byte("sts")))
	if !bytes.Equal(a, b) {
		t.Fatal("the token's HMAC-SHA256 differs from cmp.HMACKey's")
	}
	kw := must(NewAESWrappingKey(t.Context(), p, kekLabel))
	ck := randomKey(t, 32)
	w, alg, err := kw.WrapKey(nil, ck)
	if err != nil {
		t.Fatal(err)
	}
	sw, _, err := must(cmp.NewAESKey(kekBytes)).WrapKey(nil, ck)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w, sw) {
		t.Fatal("the token's AES key wrap differs from cmp.AESKey's (RFC 3394 is deterministic)")
	}
	w[3] ^= 1
	if _, err := kw.UnwrapKey(w, alg, 32); !errors.Is(err, cmp.ErrAuthentication) {
		t.Fatalf("UnwrapKey(altered) = %v, want ErrAuthentication", err)
	}
	if _, err := kw.UnwrapKey(sw, "RSA", 32); !errors.Is(err, cmp.ErrUnsupportedAlgorithm) {
		t.Fatalf("UnwrapKey(RSA) = %v", err)
	}
}

// TestConcurrentUse: many goroutines over a pool of 4 sessions, both
// keyrings and the DDBEC provider, under -race.
func TestConcurrentUse(t *testing.T) {
	p := tokenPool(t)
	aesKey := randomKey(t, 32)
	token := must(NewAESKeyring(t.Context(), p, importKey(t, p, p11.CKK_AES, aesKey, p11.CKA_ENCRYPT, p11.CKA_DECRYPT), "ns", "k"))
	raw := must(keyring.NewRawAES("ns", "k", aesKey))
	kekLabel := importKey(t, p, p11.CKK_AES, randomKey(t, 32), p11.CKA_WRAP, p11.CKA_UNWRAP)
	macLabel := importKey(t, p, p11.CKK_GENERIC_SECRET, randomKey(t, 32), p11.CKA_SIGN)
	wrapped := must(NewWrapped(t.Context(), p, WrappedConfig{WrappingKeyLabel: kekLabel, SigningKeyLabel: macLabel}))
	tokenEnc, rawEnc, ddbecEnc := dbesdk(t, token), dbesdk(t, raw), ddbec(t, wrapped)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 16 {
		wg.Go(func() {
			for i := range 10 {
				n := 100*g + i
				for _, pair := range [][2]*itemcrypto.Encryptor{{tokenEnc, rawEnc}, {rawEnc, tokenEnc}, {ddbecEnc, ddbecEnc}} {
					stored, err := pair[0].Encrypt(context.Background(), testItem(n))
					if err == nil {
						var got itemcrypto.Item
						got, err = pair[1].Decrypt(context.Background(), stored)
						if err == nil && got["data"].(*types.AttributeValueMemberS).Value != "secret "+strconv.Itoa(n) {
							err = fmt.Errorf("item %d decrypted to %v", n, got["data"])
						}
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	p.mu.Lock()
	open := p.open
	p.mu.Unlock()
	if open > 4 {
		t.Errorf("%d sessions open, the pool's bound is 4", open)
	}
}

// TestPoolWaitsForContext: with every session taken, get waits, and gives
// up with the caller's context.
func TestPoolWaitsForContext(t *testing.T) {
	p := tokenPool(t)
	var held []p11.SessionHandle
	for len(held) < 4 {
		sh, err := p.get(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, sh)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.get(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("get with all sessions taken = %v, want context.Canceled", err)
	}
	for _, sh := range held {
		p.put(sh, nil)
	}
	if _, err := NewAESKeyring(t.Context(), p, "no such key", "ns", "k"); err == nil {
		t.Error("a missing key was found")
	}
	if s := fmt.Sprintf("%v %+v", Config{PIN: "secret-pin"}, p); bytes.Contains([]byte(s), []byte("secret-pin")) {
		t.Errorf("prints %s", s)
	}
}
