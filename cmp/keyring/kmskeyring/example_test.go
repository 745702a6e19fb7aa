package kmskeyring_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/kmskeyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
)

// The strict AWS KMS keyring: one KMS key, named by its key ARN, protects
// each item's data key, one KMS call per item written and per item read.
// The fake KMS (cmp/kmstest) stands in for AWS KMS; with AWS, pass
// awskms.New(kms.NewFromConfig(cfg)).
func ExampleNew() {
	srv := kmstest.New()
	defer srv.Close()
	_, keyARN := srv.CreateKey()
	kr, err := kmskeyring.New(awskms.New(srv.Client()), keyARN)
	if err != nil {
		fmt.Println(err)
		return
	}
	em, err := exampleItem(kr, map[string]string{"tenant": "a"})
	if err != nil {
		fmt.Println(err)
		return
	}
	edk := em.EncryptedDataKeys()[0]
	fmt.Println("provider id:", edk.ProviderID)
	fmt.Println("provider info is the key ARN:", string(edk.ProviderInfo) == keyARN)
	fmt.Println("decrypted:", exampleDecrypt(kr, em) == nil)
	for _, c := range srv.Calls() {
		fmt.Println("KMS", c.Op, "with the encryption context:", c.EncryptionContext)
	}
	// Output:
	// provider id: aws-kms
	// provider info is the key ARN: true
	// decrypted: true
	// KMS GenerateDataKey with the encryption context: map[tenant:a]
	// KMS Decrypt with the encryption context: map[tenant:a]
}

// Grant tokens (Options.GrantTokens, and the same field of every keyring's
// options) go with every KMS call the keyring makes.
func ExampleNew_grantTokens() {
	srv := kmstest.New()
	defer srv.Close()
	_, keyARN := srv.CreateKey()
	kr, err := kmskeyring.New(awskms.New(srv.Client()), keyARN, func(o *kmskeyring.Options) {
		o.GrantTokens = []string{"example-grant-token"}
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	em, err := exampleItem(kr, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := exampleDecrypt(kr, em); err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range srv.Calls() {
		fmt.Println(c.Op, c.GrantTokens)
	}
	// Output:
	// GenerateDataKey [example-grant-token]
	// Decrypt [example-grant-token]
}

// When KMS fails for one encrypted data key, a keyring goes on to the
// next; when none decrypts, its error holds every attempt's, each a
// *cmp.KMSError naming its key (errors.As and errors.Is reach each).
func ExampleNewDiscovery_failures() {
	srv := kmstest.New()
	defer srv.Close()
	_, first := srv.CreateKey()
	_, second := srv.CreateKey()
	client := awskms.New(srv.Client())
	firstKR, err := kmskeyring.New(client, first)
	if err != nil {
		fmt.Println(err)
		return
	}
	secondKR, err := kmskeyring.New(client, second)
	if err != nil {
		fmt.Println(err)
		return
	}
	writers, err := keyring.NewMulti(firstKR, secondKR) // one item, an EDK per key
	if err != nil {
		fmt.Println(err)
		return
	}
	em, err := exampleItem(writers, map[string]string{"tenant": "a"})
	if err != nil {
		fmt.Println(err)
		return
	}
	reader, err := kmskeyring.NewDiscovery(client, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv.DisableKey(first)
	fmt.Println("first key disabled:", exampleDecrypt(reader, em))
	srv.EnableKey(first)
	srv.FailNext(kmstest.OpDecrypt, kmstest.CodeAccessDenied, 2) // both keys' calls
	err = exampleDecrypt(reader, em)
	var ke *cmp.KMSError
	if errors.As(err, &ke) {
		fmt.Println("a *cmp.KMSError of", ke.Op)
	}
	fmt.Println("names both keys:", strings.Contains(err.Error(), first) && strings.Contains(err.Error(), second))
	// Output:
	// first key disabled: <nil>
	// a *cmp.KMSError of Decrypt
	// names both keys: true
}

// A KMS ECDH keyring of the KmsPublicKeyDiscovery schema reads every item
// written for its KMS key's public key, whoever the sender; it never
// encrypts. Each decryption is one KMS DeriveSharedSecret.
func ExampleNewECDHDiscovery() {
	ctx := context.Background()
	srv := kmstest.New()
	defer srv.Close()
	_, aliceARN := srv.CreateKey(kmstest.WithKeySpec(kmstest.KeySpecP384))
	_, bobARN := srv.CreateKey(kmstest.WithKeySpec(kmstest.KeySpecP384))
	_, recipientARN := srv.CreateKey(kmstest.WithKeySpec(kmstest.KeySpecP384))
	client := awskms.New(srv.Client())
	der, _, err := client.GetPublicKey(ctx, recipientARN)
	if err != nil {
		fmt.Println(err)
		return
	}
	recipientPublicKey, err := keyring.ParseECDHPublicKey(der)
	if err != nil {
		fmt.Println(err)
		return
	}
	reader, err := kmskeyring.NewECDHDiscovery(ctx, client, recipientARN)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, sender := range []string{aliceARN, bobARN} {
		writer, err := kmskeyring.NewECDHStatic(ctx, client, sender, recipientPublicKey)
		if err != nil {
			fmt.Println(err)
			return
		}
		em, err := exampleItem(writer, map[string]string{"tenant": "a"})
		if err != nil {
			fmt.Println(err)
			return
		}
		srv.ResetCalls()
		fmt.Println("decrypted:", exampleDecrypt(reader, em) == nil, "KMS calls:", len(srv.CallsFor(kmstest.OpDeriveSharedSecret)))
	}
	// Output:
	// decrypted: true KMS calls: 1
	// decrypted: true KMS calls: 1
}
