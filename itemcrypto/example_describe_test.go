package itemcrypto_test

import (
	"bytes"
	"context"
	"fmt"
	"log"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// Which keys protect a stored item, read from its header without
// decrypting it and without any key: here a raw AES key and a branch key
// of the hierarchical keyring, both recipients of one multi-keyring.
func ExampleDescribeEncryptedDataKeys() {
	aes, err := keyring.NewRawAES("my-namespace", "my-key", bytes.Repeat([]byte{0x03}, 32))
	if err != nil {
		log.Fatal(err)
	}
	bk, err := hierarchy.NewBranchKey("tenant-42", "6f1c8f8e-2b0a-4c7e-9a55-0d4b1f3e2a10", bytes.Repeat([]byte{0x05}, 32), nil)
	if err != nil {
		log.Fatal(err)
	}
	hier, err := hierarchy.New(hierarchy.NewStatic(bk), func(o *hierarchy.Options) { o.BranchKeyID = "tenant-42" })
	if err != nil {
		log.Fatal(err)
	}
	multi, err := keyring.NewMulti(aes, hier)
	if err != nil {
		log.Fatal(err)
	}
	policy, err := actions.New(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "customer_id", SortKey: "created"})
	if err != nil {
		log.Fatal(err)
	}
	enc, err := itemcrypto.New(itemcrypto.Config{
		TableName: "customers", Policy: policy, Format: itemcrypto.FormatDBESDK,
		DBESDK: &itemcrypto.DBESDKConfig{Keyring: multi},
	})
	if err != nil {
		log.Fatal(err)
	}
	stored, err := enc.Encrypt(context.Background(), exampleItem())
	if err != nil {
		log.Fatal(err)
	}

	descs, err := itemcrypto.DescribeEncryptedDataKeys(stored)
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range descs {
		switch d.Kind {
		case keyring.KindRawAES, keyring.KindRawRSA:
			fmt.Printf("%s: namespace %s, key %s\n", d.Kind, d.KeyNamespace, d.KeyName)
		case keyring.KindKMSHierarchy:
			fmt.Printf("%s: branch key %s, version %s\n", d.Kind, d.BranchKeyID, d.BranchKeyVersion)
		default:
			fmt.Printf("%s: %s\n", d.ProviderID, d.ProviderInfo)
		}
	}
	// Output:
	// raw-aes: namespace my-namespace, key my-key
	// aws-kms-hierarchy: branch key tenant-42, version 6f1c8f8e-2b0a-4c7e-9a55-0d4b1f3e2a10
}
