package tinkcmp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/testing/fakekms"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/tinkcmp"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

func exampleItem(id string) itemcrypto.Item {
	return itemcrypto.Item{
		"customer": &types.AttributeValueMemberS{Value: id},
		"card":     &types.AttributeValueMemberS{Value: "4111 1111 1111 1111"},
	}
}

func exampleEncryptor(p *tinkcmp.Provider) *itemcrypto.Encryptor {
	policy := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "customer"})
	e, err := itemcrypto.New(itemcrypto.Config{TableName: "customers", Policy: policy, Provider: p})
	if err != nil {
		log.Fatal(err)
	}
	return e
}

func storedKeyID(stored itemcrypto.Item) uint32 {
	d, err := materialdesc.Decode(stored[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB).Value)
	if err != nil {
		log.Fatal(err)
	}
	id, _ := tinkcmp.KeyID(d)
	return id
}

func primaryKeyID(h *keyset.Handle) uint32 {
	e, err := h.Primary()
	if err != nil {
		log.Fatal(err)
	}
	return e.KeyID()
}

// Rotate a keyset: new items use the new primary key, old items still
// decrypt, and items of a disabled key fail with an error naming it.
func Example_rotation() {
	ctx := context.Background()
	// In production, read the keyset encrypted under a KMS key (see
	// NewFromEncryptedKeyset); here it is made on the spot.
	handle, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		log.Fatal(err)
	}
	p, err := tinkcmp.New(handle)
	if err != nil {
		log.Fatal(err)
	}
	enc := exampleEncryptor(p)
	oldKey := primaryKeyID(handle)
	old, err := enc.Encrypt(ctx, exampleItem("c-1"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("old item names the first key:", storedKeyID(old) == oldKey)

	// Rotate: add a key, make it primary, install the new keyset.
	m := keyset.NewManagerFromHandle(handle)
	newKey, err := m.Add(aead.AES256GCMKeyTemplate())
	if err != nil {
		log.Fatal(err)
	}
	if err := m.SetPrimary(newKey); err != nil {
		log.Fatal(err)
	}
	rotated, err := m.Handle()
	if err != nil {
		log.Fatal(err)
	}
	if err := p.SetKeyset(rotated); err != nil {
		log.Fatal(err)
	}
	fresh, err := enc.Encrypt(ctx, exampleItem("c-2"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new item names the new key:", storedKeyID(fresh) == newKey)
	_, err = enc.Decrypt(ctx, old)
	fmt.Println("old item decrypts after rotation:", err == nil)

	// Disable the old key.
	if err := m.Disable(oldKey); err != nil {
		log.Fatal(err)
	}
	disabled, err := m.Handle()
	if err != nil {
		log.Fatal(err)
	}
	if err := p.SetKeyset(disabled); err != nil {
		log.Fatal(err)
	}
	_, err = enc.Decrypt(ctx, old)
	var kd *tinkcmp.KeyDisabledError
	fmt.Println("old item fails with KeyDisabledError:", errors.As(err, &kd))
	fmt.Println("it names the old key:", kd.KeyID == oldKey, kd.Status)
	fmt.Println("it is an authentication failure:", errors.Is(err, itemcrypto.ErrAuthentication))
	_, err = enc.Decrypt(ctx, fresh)
	fmt.Println("new item decrypts:", err == nil)
	// Output:
	// old item names the first key: true
	// new item names the new key: true
	// old item decrypts after rotation: true
	// old item fails with KeyDisabledError: true
	// it names the old key: true Disabled
	// it is an authentication failure: false
	// new item decrypts: true
}

// The material description of an item a keyset provider wrote.
func ExampleNew() {
	handle, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		log.Fatal(err)
	}
	p, err := tinkcmp.New(handle)
	if err != nil {
		log.Fatal(err)
	}
	stored, err := exampleEncryptor(p).Encrypt(context.Background(), exampleItem("c-1"))
	if err != nil {
		log.Fatal(err)
	}
	d, err := materialdesc.Decode(stored[itemcrypto.MaterialDescriptionAttribute].(*types.AttributeValueMemberB).Value)
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range []string{materialdesc.KeyWrapAlg, materialdesc.KeyEnvelopeAlg, materialdesc.KeySymMode, materialdesc.KeySigningAlg} {
		fmt.Printf("%s = %s\n", k, d[k])
	}
	fmt.Println("amzn-ddb-env-key names the primary key:", storedKeyID(stored) == primaryKeyID(handle))
	// Output:
	// amzn-ddb-wrap-alg = itemcrypto-tink-aead-v1
	// amzn-ddb-env-alg = AES/256
	// amzn-ddb-map-sym-mode = /CBC/PKCS5Padding
	// amzn-ddb-map-signingAlg = HmacSHA256
	// amzn-ddb-env-key names the primary key: true
}

// A keyset stored encrypted under a KMS key: fakekms stands in for
// tink-go-awskms, tink-go-gcpkms or tink-go-hcvault.
func ExampleNewFromEncryptedKeyset() {
	ctx := context.Background()
	keyURI, err := fakekms.NewKeyURI() // e.g. "aws-kms://arn:aws:kms:…" with awskms
	if err != nil {
		log.Fatal(err)
	}
	kek, err := fakekms.NewAEADWithContext(keyURI)
	if err != nil {
		log.Fatal(err)
	}
	associatedData := []byte("customers keyset")

	// Once, at key generation: write the keyset encrypted.
	handle, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		log.Fatal(err)
	}
	var stored bytes.Buffer // a file or a secret store in practice
	if err := handle.WriteWithContext(ctx, keyset.NewJSONWriter(&stored), kek, associatedData); err != nil {
		log.Fatal(err)
	}

	// At start-up: read it back.
	p, err := tinkcmp.NewFromEncryptedKeyset(ctx, keyset.NewJSONReader(&stored), kek, associatedData)
	if err != nil {
		log.Fatal(err)
	}
	enc := exampleEncryptor(p)
	item, err := enc.Encrypt(ctx, exampleItem("c-1"))
	if err != nil {
		log.Fatal(err)
	}
	plain, err := enc.Decrypt(ctx, item)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(plain["card"].(*types.AttributeValueMemberS).Value)
	// Output:
	// 4111 1111 1111 1111
}

// Every item's keys wrapped by a KMS key directly.
func ExampleNewKMSClient() {
	ctx := context.Background()
	keyURI, err := fakekms.NewKeyURI()
	if err != nil {
		log.Fatal(err)
	}
	// With AWS KMS: client, err := awskms.NewClientWithOptions(ctx, "aws-kms://arn:aws:kms:eu-west-1:…")
	client, err := fakekms.NewClient("fake-kms://")
	if err != nil {
		log.Fatal(err)
	}
	p, err := tinkcmp.NewKMSClient(client, keyURI)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p) // never shows the key URI
	enc := exampleEncryptor(p)
	item, err := enc.Encrypt(ctx, exampleItem("c-1"))
	if err != nil {
		log.Fatal(err)
	}
	_, err = enc.Decrypt(ctx, item)
	fmt.Println("decrypts:", err == nil)

	// Moved to another partition key, it does not.
	item["customer"] = &types.AttributeValueMemberS{Value: "c-2"}
	_, err = enc.Decrypt(ctx, item)
	fmt.Println("moved item:", errors.Is(err, itemcrypto.ErrAuthentication))
	// Output:
	// tinkcmp.Provider{KMS}
	// decrypts: true
	// moved item: true
}
