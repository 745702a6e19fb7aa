package keyring_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/kmskeyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
)

// TestKeyringsConcurrentUse shares one instance of every keyring between
// goroutines (run it with -race): a multi-keyring with the AWS KMS keyring
// (over the fake KMS) as generator and raw AES, raw RSA and hierarchical
// children encrypts, and each keyring alone decrypts its own recipient.
func TestKeyringsConcurrentUse(t *testing.T) {
	srv := kmstest.NewServer(t)
	_, arn := srv.CreateKey()
	kms, err := kmskeyring.New(awskms.New(srv.Client()), arn)
	if err != nil {
		t.Fatal(err)
	}
	aes := mustAES(t, "ns", "aes-256")
	other := anotherRSA(t)
	rsa, err := keyring.NewRawRSA("ns", "rsa-2048", keyring.RSAOAEPSHA256, &other.PublicKey, other)
	if err != nil {
		t.Fatal(err)
	}
	bk, err := hierarchy.NewBranchKey("branch", "8e5d0f1a-7b3c-4d2e-9f60-1a2b3c4d5e6f", bytes.Repeat([]byte{9}, 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	hier, err := hierarchy.New(hierarchy.NewStatic(bk), func(o *hierarchy.Options) { o.BranchKeyID = "branch" })
	if err != nil {
		t.Fatal(err)
	}
	recipients := []keyring.Keyring{kms, aes, rsa, hier}
	multi := mustMulti(t, kms, aes, rsa, hier)
	mm := keyring.NewDefaultManager(multi)

	const workers, items = 4, 6
	var wg sync.WaitGroup
	errs := make(chan error, workers*items)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range items {
				suite := []keyring.Suite{keyring.SuiteHMAC, keyring.SuiteECDSAP384}[i%2]
				ec := map[string]string{"worker": fmt.Sprint(w), "item": fmt.Sprint(i)}
				em, err := mm.EncryptionMaterials(context.Background(), keyring.EncryptionRequest{Suite: suite, EncryptionContext: ec})
				if err != nil {
					errs <- err
					return
				}
				r := (w + i) % len(recipients)
				dm, err := decryptWith(recipients[r], suite, em.EncryptionContext(), em.EncryptedDataKeys())
				if err != nil {
					errs <- fmt.Errorf("recipient %d: %w", r, err)
					return
				}
				if !bytes.Equal(dm.DataKey(), em.DataKey()) || !bytes.Equal(dm.SymmetricSigningKey(), em.SymmetricSigningKeys()[r]) {
					errs <- fmt.Errorf("recipient %d read other keys", r)
					return
				}
				// And through the multi-keyring, whose first reader is the
				// KMS generator.
				if _, err := decryptWith(multi, suite, em.EncryptionContext(), em.EncryptedDataKeys()); err != nil {
					errs <- fmt.Errorf("multi-keyring: %w", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(srv.CallsFor(kmstest.OpGenerateDataKey)); n != workers*items {
		t.Errorf("%d GenerateDataKey calls, want one per item (%d)", n, workers*items)
	}
}
