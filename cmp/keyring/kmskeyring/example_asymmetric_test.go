package kmskeyring_test

import (
	"context"
	"fmt"

	"github.com/itemcrypto/go-itemcrypto/cmp/awskms"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/kmskeyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/kmstest"
)

// A KMS RSA keyring encrypts offline with the public key of an asymmetric
// KMS key and decrypts through KMS. The fake KMS (cmp/kmstest) stands in
// for AWS KMS; with AWS, pass awskms.New(kms.NewFromConfig(cfg)).
func ExampleNewRSA() {
	srv := kmstest.New()
	defer srv.Close()
	_, keyARN := srv.CreateKey(kmstest.WithKeySpec(kmstest.KeySpecRSA2048))
	client := awskms.New(srv.Client())
	der, _, err := client.GetPublicKey(context.Background(), keyARN)
	if err != nil {
		fmt.Println(err)
		return
	}
	publicKey, err := kmskeyring.ParseRSAPublicKey(der)
	if err != nil {
		fmt.Println(err)
		return
	}
	// A writer needs only the public key; nil: no KMS client.
	writer, err := kmskeyring.NewRSA(nil, keyARN, kmskeyring.RSAESOAEPSHA256, func(o *kmskeyring.RSAOptions) { o.PublicKey = publicKey })
	if err != nil {
		fmt.Println(err)
		return
	}
	reader, err := kmskeyring.NewRSA(client, keyARN, kmskeyring.RSAESOAEPSHA256)
	if err != nil {
		fmt.Println(err)
		return
	}
	em, err := exampleItem(writer, map[string]string{"tenant": "a"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("KMS calls to encrypt:", len(srv.Calls())-1) // the GetPublicKey above
	fmt.Println("decrypted:", exampleDecrypt(reader, em) == nil)
	// Output:
	// KMS calls to encrypt: 0
	// decrypted: true
}

// A KMS ECDH keyring of the KmsPrivateKeyToStaticPublicKey schema writes
// items for a recipient's public key with the sender's KMS key agreement
// key; the recipient reads them with a KmsPublicKeyDiscovery keyring of its
// own KMS key.
func ExampleNewECDHStatic() {
	ctx := context.Background()
	srv := kmstest.New()
	defer srv.Close()
	_, senderARN := srv.CreateKey(kmstest.WithKeySpec(kmstest.KeySpecP256))
	_, recipientARN := srv.CreateKey(kmstest.WithKeySpec(kmstest.KeySpecP256))
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
	writer, err := kmskeyring.NewECDHStatic(ctx, client, senderARN, recipientPublicKey)
	if err != nil {
		fmt.Println(err)
		return
	}
	reader, err := kmskeyring.NewECDHDiscovery(ctx, client, recipientARN)
	if err != nil {
		fmt.Println(err)
		return
	}
	em, err := exampleItem(writer, map[string]string{"tenant": "a"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("discovery:", writer.Discovery(), reader.Discovery())
	fmt.Println("decrypted by the recipient:", exampleDecrypt(reader, em) == nil)
	fmt.Println("encrypt with discovery:", reader.OnEncrypt(ctx, em))
	// Output:
	// discovery: false true
	// decrypted by the recipient: true
	// encrypt with discovery: keyring: this keyring has no key to encrypt with
}
