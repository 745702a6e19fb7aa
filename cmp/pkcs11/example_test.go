package pkcs11_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"log"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/pkcs11"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// The examples need a token holding keys under the labels they name, so
// they are compiled but not run.

// policy encrypts every attribute but the primary key.
func policy() *actions.Policy {
	p, err := actions.New(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "customer_id", SortKey: "created"})
	if err != nil {
		log.Fatal(err)
	}
	return p
}

func item() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"customer_id": &types.AttributeValueMemberS{Value: "c-1001"},
		"created":     &types.AttributeValueMemberN{Value: "1700000000"},
		"card":        &types.AttributeValueMemberS{Value: "4111 1111 1111 1111"},
	}
}

// dbesdkEncryptor is an item encryptor of the DB-ESDK format with the data
// keys from kr.
func dbesdkEncryptor(kr keyring.Keyring) *itemcrypto.Encryptor {
	enc, err := itemcrypto.New(itemcrypto.Config{
		TableName: "customers", Policy: policy(), Format: itemcrypto.FormatDBESDK,
		DBESDK: &itemcrypto.DBESDKConfig{Keyring: kr},
	})
	if err != nil {
		log.Fatal(err)
	}
	return enc
}

// roundTrip encrypts the sample item with enc, decrypts it and prints its
// card.
func roundTrip(ctx context.Context, enc *itemcrypto.Encryptor) {
	stored, err := enc.Encrypt(ctx, item())
	if err != nil {
		log.Fatal(err)
	}
	plain, err := enc.Decrypt(ctx, stored)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("card:", plain["card"].(*types.AttributeValueMemberS).Value)
}

// Opening AWS CloudHSM: its PKCS#11 library, the cluster's one token, a
// crypto user's name and password as the PIN. One Pool per process,
// closed at exit.
func ExampleOpen() {
	pool, err := pkcs11.Open(pkcs11.Config{
		Module: "/opt/cloudhsm/lib/libcloudhsm_pkcs11.so",
		PIN:    os.Getenv("HSM_USER") + ":" + os.Getenv("HSM_PASSWORD"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	fmt.Println(pool) // the slot and token label; the pool keeps no PIN
}

// A DB-ESDK keyring whose AES wrapping key (label "items-kek") stays in a
// SoftHSM2 token. Its items are those of keyring.NewRawAES over the same
// namespace, name and key bytes.
func ExampleNewAESKeyring() {
	pool, err := pkcs11.Open(pkcs11.Config{
		Module:     "/usr/lib/softhsm/libsofthsm2.so",
		TokenLabel: "itemcrypto",
		PIN:        os.Getenv("HSM_PIN"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	ctx := context.Background()
	kr, err := pkcs11.NewAESKeyring(ctx, pool, "items-kek", "my-namespace", "my-key")
	if err != nil {
		log.Fatal(err)
	}
	roundTrip(ctx, dbesdkEncryptor(kr))
}

// A DDBEC wrapped provider whose key-encryption key ("items-kek",
// AES key wrap) and HMAC-SHA256 signing key ("items-mac") stay in AWS
// CloudHSM.
func ExampleNewWrapped() {
	pool, err := pkcs11.Open(pkcs11.Config{
		Module: "/opt/cloudhsm/lib/libcloudhsm_pkcs11.so",
		PIN:    os.Getenv("HSM_USER") + ":" + os.Getenv("HSM_PASSWORD"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	ctx := context.Background()
	provider, err := pkcs11.NewWrapped(ctx, pool, pkcs11.WrappedConfig{
		WrappingKeyLabel: "items-kek",
		SigningKeyLabel:  "items-mac",
	})
	if err != nil {
		log.Fatal(err)
	}
	enc, err := itemcrypto.New(itemcrypto.Config{TableName: "customers", Policy: policy(), Provider: provider})
	if err != nil {
		log.Fatal(err)
	}
	roundTrip(ctx, enc)
}

// An RSA private key in AWS CloudHSM ("escrow-rsa") reads the items of a
// DB-ESDK raw RSA keyring through keyring.NewRawRSAWithDecrypter; writers
// need only its public key. (SoftHSM 2.6 does OAEP with SHA-1 only: with
// it, use keyring.RSAOAEPSHA1 on both sides.)
func ExampleNewRSAKey() {
	pool, err := pkcs11.Open(pkcs11.Config{
		Module: "/opt/cloudhsm/lib/libcloudhsm_pkcs11.so",
		PIN:    os.Getenv("HSM_USER") + ":" + os.Getenv("HSM_PASSWORD"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	ctx := context.Background()
	key, err := pkcs11.NewRSAKey(ctx, pool, "escrow-rsa")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key) // the key size only

	// The writer: the public key (here read from the token; writers
	// elsewhere load it from a PEM file).
	writer, err := keyring.NewRawRSA("hr", "escrow-rsa", keyring.RSAOAEPSHA256, key.Public().(*rsa.PublicKey), nil)
	if err != nil {
		log.Fatal(err)
	}
	// The reader: the token decrypts each item's wrapped key.
	reader, err := keyring.NewRawRSAWithDecrypter("hr", "escrow-rsa", keyring.RSAOAEPSHA256, nil, key)
	if err != nil {
		log.Fatal(err)
	}
	stored, err := dbesdkEncryptor(writer).Encrypt(ctx, item())
	if err != nil {
		log.Fatal(err)
	}
	plain, err := dbesdkEncryptor(reader).Decrypt(ctx, stored)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("card:", plain["card"].(*types.AttributeValueMemberS).Value)
}

// An ECDSA P-384 key pair in a SoftHSM2 token ("items-ecdsa", private and
// public objects under one label) signs DDBEC items; the content keys are
// wrapped under an AES key in the same token ("items-kek").
func ExampleNewECDSAKey() {
	pool, err := pkcs11.Open(pkcs11.Config{
		Module:     "/usr/lib/softhsm/libsofthsm2.so",
		TokenLabel: "itemcrypto",
		PIN:        os.Getenv("HSM_PIN"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	ctx := context.Background()
	key, err := pkcs11.NewECDSAKey(ctx, pool, "items-ecdsa")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key) // the curve only
	// "" picks the hash of the curve: SHA384withECDSA on P-384.
	signer, err := cmp.NewECDSASigningKeyFromSigner(key, "")
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := cmp.NewECDSAVerificationKey(key.Public().(*ecdsa.PublicKey), "")
	if err != nil {
		log.Fatal(err)
	}
	kek, err := pkcs11.NewAESWrappingKey(ctx, pool, "items-kek")
	if err != nil {
		log.Fatal(err)
	}
	provider, err := cmp.NewWrapped(cmp.WrappedConfig{
		WrappingKey: kek, UnwrappingKey: kek, SigningKey: signer, VerificationKey: verifier,
	})
	if err != nil {
		log.Fatal(err)
	}
	enc, err := itemcrypto.New(itemcrypto.Config{TableName: "customers", Policy: policy(), Provider: provider})
	if err != nil {
		log.Fatal(err)
	}
	roundTrip(ctx, enc)
}
