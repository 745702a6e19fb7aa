package itemcrypto_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// Items in the AWS Database Encryption SDK format, as its Java, .NET and
// Rust clients write them: a raw AES keyring, the default suite (0x6701,
// with an ECDSA P-384 signature), "views" outside the signature.
func Example_dbesdk() {
	// Real programs load the wrapping key from a secret store.
	kr, err := keyring.NewRawAES("my-namespace", "my-key", bytes.Repeat([]byte{0x03}, 32))
	if err != nil {
		log.Fatal(err)
	}
	policy, err := actions.New(actions.Options{
		Default:      actions.EncryptAndSign,
		Overrides:    map[string]actions.Action{"email": actions.SignOnly, "views": actions.DoNothing},
		PartitionKey: "customer_id",
		SortKey:      "created",
	})
	if err != nil {
		log.Fatal(err)
	}
	enc, err := itemcrypto.New(itemcrypto.Config{
		TableName: "customers",
		Policy:    policy,
		Format:    itemcrypto.FormatDBESDK,
		DBESDK:    &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: []string{"views"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	stored, err := enc.Encrypt(ctx, exampleItem())
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range slices.Sorted(maps.Keys(stored)) {
		fmt.Println(name, typeName(stored[name]))
	}
	plain, err := enc.Decrypt(ctx, stored)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("card:", plain["card"].(*types.AttributeValueMemberS).Value)
	// Output:
	// aws_dbe_foot B
	// aws_dbe_head B
	// card B
	// created N
	// customer_id S
	// email S
	// tags B
	// views N
	// card: 4111 1111 1111 1111
}

// An encryptor that still reads plaintext items (a table moving to
// encryption) cannot have beacons: CheckBeacons says so before any item is
// written with them.
func ExampleEncryptor_CheckBeacons() {
	kr, err := keyring.NewRawAES("my-namespace", "my-key", bytes.Repeat([]byte{0x03}, 32))
	if err != nil {
		log.Fatal(err)
	}
	policy := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "id"})
	for _, pp := range []itemcrypto.PlaintextPolicy{
		itemcrypto.ForbidPlaintextWriteForbidPlaintextRead,
		itemcrypto.ForbidPlaintextWriteAllowPlaintextRead,
	} {
		enc, err := itemcrypto.New(itemcrypto.Config{
			TableName: "customers", Policy: policy, Format: itemcrypto.FormatDBESDK,
			DBESDK: &itemcrypto.DBESDKConfig{Keyring: kr, PlaintextPolicy: pp},
		})
		if err != nil {
			log.Fatal(err)
		}
		err = enc.CheckBeacons()
		fmt.Println(pp, errors.Is(err, itemcrypto.ErrOverrideWithBeacons))
	}
	// Output:
	// FORBID_PLAINTEXT_WRITE_FORBID_PLAINTEXT_READ false
	// FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ true
}
