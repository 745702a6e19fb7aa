package keyring_test

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
)

func mustAES(t testing.TB, namespace, keyName string) *keyring.RawAES {
	t.Helper()
	k, err := keyring.NewRawAES(namespace, keyName, symmetricKey(t, keyName))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustMulti(t testing.TB, gen keyring.Keyring, children ...keyring.Keyring) *keyring.Multi {
	t.Helper()
	k, err := keyring.NewMulti(gen, children...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// stubKeyring fails as told and counts its calls.
type stubKeyring struct {
	encErr, decErr error
	noKey          bool // OnDecrypt reports success without setting a key
	calls          atomic.Int32
}

func (s *stubKeyring) OnEncrypt(context.Context, *keyring.EncryptionMaterials) error {
	s.calls.Add(1)
	return s.encErr
}

func (s *stubKeyring) OnDecrypt(context.Context, *keyring.DecryptionMaterials, []keyring.EncryptedDataKey) error {
	s.calls.Add(1)
	if s.noKey {
		return nil
	}
	return s.decErr
}

var errKMSDown = errors.New("stub: key service unavailable")

func TestMultiEncryptsForEveryKeyring(t *testing.T) {
	pub, priv := vectorRSA(t)
	aes256 := mustAES(t, "ns-a", "aes-256")
	aes128 := mustAES(t, "ns-b", "aes-128")
	rsaEnc := mustRSA(t, keyring.RSAOAEPSHA256, pub, nil)
	rsaDec := mustRSA(t, keyring.RSAOAEPSHA256, nil, priv)
	multi := mustMulti(t, aes256, rsaEnc, aes128)
	ec := map[string]string{"tenant": "x"}
	for _, suite := range []keyring.Suite{keyring.SuiteHMAC, keyring.SuiteECDSAP384} {
		em := encryptWith(t, multi, suite, ec)
		edks := em.EncryptedDataKeys()
		var ids []string
		for _, e := range edks {
			ids = append(ids, e.ProviderID)
		}
		if len(edks) != 3 || ids[0] != "ns-a" || ids[1] != rsaNamespace || ids[2] != "ns-b" {
			t.Fatalf("EDK providers %q, want generator then children in order", ids)
		}
		if len(em.SymmetricSigningKeys()) != 3 {
			t.Fatalf("%d recipient HMAC keys, want 3", len(em.SymmetricSigningKeys()))
		}
		// Every recipient reads the item alone, with its own HMAC key.
		for i, kr := range []keyring.Keyring{aes256, rsaDec, aes128} {
			dm, err := decryptWith(kr, suite, em.EncryptionContext(), edks)
			if err != nil {
				t.Fatalf("recipient %d: %v", i, err)
			}
			checkSameKeys(t, em, dm, i)
		}
		// A multi-keyring of decrypting keyrings, without a generator.
		dm, err := decryptWith(mustMulti(t, nil, rsaDec, aes128), suite, em.EncryptionContext(), edks)
		if err != nil {
			t.Fatal(err)
		}
		checkSameKeys(t, em, dm, 1)
	}
}

func TestMultiEncryptRules(t *testing.T) {
	aes := mustAES(t, "ns", "aes-256")
	newMaterials := func(withKey bool) *keyring.EncryptionMaterials {
		m, err := keyring.NewEncryptionMaterials(keyring.SuiteHMAC, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if withKey {
			if err := m.SetDataKey(bytes.Repeat([]byte{1}, 32)); err != nil {
				t.Fatal(err)
			}
		}
		return m
	}
	ctx := context.Background()
	if err := mustMulti(t, aes).OnEncrypt(ctx, newMaterials(true)); !errors.Is(err, keyring.ErrInvalidMaterials) {
		t.Errorf("generator with a data key present = %v, want ErrInvalidMaterials", err)
	}
	if err := mustMulti(t, nil, aes).OnEncrypt(ctx, newMaterials(false)); !errors.Is(err, keyring.ErrInvalidMaterials) {
		t.Errorf("no generator and no data key = %v, want ErrInvalidMaterials", err)
	}
	m := newMaterials(true)
	if err := mustMulti(t, nil, aes, mustAES(t, "ns2", "aes-192")).OnEncrypt(ctx, m); err != nil {
		t.Fatalf("children only, data key present: %v", err)
	}
	if len(m.EncryptedDataKeys()) != 2 || !bytes.Equal(m.DataKey(), bytes.Repeat([]byte{1}, 32)) {
		t.Fatal("the children did not wrap the existing data key")
	}
	// A generator that sets no data key.
	if err := mustMulti(t, &stubKeyring{}).OnEncrypt(ctx, newMaterials(false)); !errors.Is(err, keyring.ErrInvalidMaterials) {
		t.Errorf("generator without a data key = %v, want ErrInvalidMaterials", err)
	}
	// A failing generator or child fails the whole call, and the manager
	// hands out no materials.
	for _, kr := range []keyring.Keyring{
		mustMulti(t, &stubKeyring{encErr: errKMSDown}, aes),
		mustMulti(t, aes, mustAES(t, "ns2", "aes-128"), &stubKeyring{encErr: errKMSDown}),
	} {
		got, err := keyring.NewDefaultManager(kr).EncryptionMaterials(ctx, keyring.EncryptionRequest{Suite: keyring.SuiteHMAC})
		if !errors.Is(err, errKMSDown) || got != nil {
			t.Errorf("EncryptionMaterials = %v, %v, want errKMSDown and no materials", got, err)
		}
	}
}

func TestMultiDecrypt(t *testing.T) {
	aes := mustAES(t, "ns", "aes-256")
	em := encryptWith(t, aes, keyring.SuiteHMAC, nil)
	edks := em.EncryptedDataKeys()
	wrongKey, err := keyring.NewRawAES("ns", "aes-256", symmetricKey(t, "aes-128"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("tries the generator first and stops at the first success", func(t *testing.T) {
		first, last := &stubKeyring{decErr: errKMSDown}, &stubKeyring{}
		dm, err := decryptWith(mustMulti(t, first, aes, last), keyring.SuiteHMAC, nil, edks)
		if err != nil {
			t.Fatal(err)
		}
		checkSameKeys(t, em, dm, 0)
		if first.calls.Load() != 1 || last.calls.Load() != 0 {
			t.Fatalf("calls: generator %d, after the success %d", first.calls.Load(), last.calls.Load())
		}
	})
	t.Run("none has a key", func(t *testing.T) {
		_, err := decryptWith(mustMulti(t, mustAES(t, "other", "aes-256"), mustAES(t, "ns", "aes-128")), keyring.SuiteHMAC, nil, edks)
		if !errors.Is(err, keyring.ErrNoDecryptableKey) {
			t.Fatalf("OnDecrypt = %v, want ErrNoDecryptableKey", err)
		}
	})
	t.Run("collects every failure", func(t *testing.T) {
		_, err := decryptWith(mustMulti(t, nil, mustAES(t, "other", "aes-256"), wrongKey, &stubKeyring{decErr: errKMSDown}), keyring.SuiteHMAC, nil, edks)
		if !errors.Is(err, keyring.ErrAuthentication) || !errors.Is(err, errKMSDown) {
			t.Fatalf("OnDecrypt = %v, want ErrAuthentication and errKMSDown", err)
		}
		if errors.Is(err, keyring.ErrNoDecryptableKey) {
			t.Fatalf("OnDecrypt = %v: a keyring's own EDK failed, not 'no key'", err)
		}
	})
	t.Run("authentication failure alone stays the bare sentinel", func(t *testing.T) {
		_, err := decryptWith(mustMulti(t, wrongKey, mustAES(t, "other", "aes-256")), keyring.SuiteHMAC, nil, edks)
		if err != keyring.ErrAuthentication { //nolint:errorlint // exactly the opaque error
			t.Fatalf("OnDecrypt = %v, want exactly ErrAuthentication", err)
		}
	})
	t.Run("success without a data key is a broken keyring", func(t *testing.T) {
		_, err := decryptWith(mustMulti(t, &stubKeyring{noKey: true}), keyring.SuiteHMAC, nil, edks)
		if !errors.Is(err, keyring.ErrInvalidMaterials) {
			t.Fatalf("OnDecrypt = %v, want ErrInvalidMaterials", err)
		}
	})
	t.Run("materials with a data key", func(t *testing.T) {
		dm, err := decryptWith(aes, keyring.SuiteHMAC, nil, edks)
		if err != nil {
			t.Fatal(err)
		}
		stub := &stubKeyring{}
		if err := mustMulti(t, stub).OnDecrypt(context.Background(), dm, edks); !errors.Is(err, keyring.ErrInvalidMaterials) || stub.calls.Load() != 0 {
			t.Fatalf("OnDecrypt = %v after %d calls, want ErrInvalidMaterials before any", err, stub.calls.Load())
		}
	})
	t.Run("stops when the context is done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		stub := &stubKeyring{}
		m, err := keyring.NewDecryptionMaterials(keyring.SuiteHMAC, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = mustMulti(t, stub, aes).OnDecrypt(ctx, m, edks)
		if !errors.Is(err, context.Canceled) || stub.calls.Load() != 0 || m.HasDataKey() {
			t.Fatalf("OnDecrypt = %v after %d calls, want context.Canceled before any", err, stub.calls.Load())
		}
	})
	t.Run("nested", func(t *testing.T) {
		inner := mustMulti(t, nil, mustAES(t, "other", "aes-256"), aes)
		dm, err := decryptWith(mustMulti(t, &stubKeyring{decErr: keyring.ErrNoDecryptableKey}, inner), keyring.SuiteHMAC, nil, edks)
		if err != nil {
			t.Fatal(err)
		}
		checkSameKeys(t, em, dm, 0)
	})
}

func TestNewMultiValidates(t *testing.T) {
	if _, err := keyring.NewMulti(nil); err == nil {
		t.Error("NewMulti() without keyrings succeeded")
	}
	if _, err := keyring.NewMulti(mustAES(t, "ns", "aes-256"), nil); err == nil {
		t.Error("NewMulti with a nil child succeeded")
	}
	if _, err := keyring.NewMulti(nil, mustAES(t, "ns", "aes-256")); err != nil {
		t.Errorf("children only: %v", err)
	}
}
