package keyring_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// dbesdkEncryptor is the item encryptor of the examples: the DB-ESDK
// format over table "customers", every attribute but the primary key
// encrypted, the data keys from kr.
func dbesdkEncryptor(kr keyring.Keyring) *itemcrypto.Encryptor {
	policy, err := actions.New(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "customer_id", SortKey: "created"})
	if err != nil {
		log.Fatal(err)
	}
	enc, err := itemcrypto.New(itemcrypto.Config{
		TableName: "customers", Policy: policy, Format: itemcrypto.FormatDBESDK,
		DBESDK: &itemcrypto.DBESDKConfig{Keyring: kr},
	})
	if err != nil {
		log.Fatal(err)
	}
	return enc
}

// customer is a sample item whose "card" is encrypted.
func customer(card string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"customer_id": &types.AttributeValueMemberS{Value: "c-1001"},
		"created":     &types.AttributeValueMemberN{Value: "1700000000"},
		"card":        &types.AttributeValueMemberS{Value: card},
	}
}

// writeAndRead encrypts a customer item with card under writer and
// decrypts it under reader: it returns the card reader sees.
func writeAndRead(writer, reader keyring.Keyring, card string) (string, error) {
	ctx := context.Background()
	stored, err := dbesdkEncryptor(writer).Encrypt(ctx, customer(card))
	if err != nil {
		return "", err
	}
	plain, err := dbesdkEncryptor(reader).Decrypt(ctx, stored)
	if err != nil {
		return "", err
	}
	return cardOf(plain), nil
}

// cardOf is the decrypted item's "card".
func cardOf(item map[string]types.AttributeValue) string {
	if s, ok := item["card"].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return fmt.Sprintf("%T", item["card"])
}

// A raw AES keyring: an AES-256 wrapping key the program holds itself
// (AES-GCM over each item's data key). Readers need the same namespace,
// name and key bytes.
func ExampleNewRawAES() {
	// Real programs load the key from a secret store; never hard-code it.
	key := bytes.Repeat([]byte{0x03}, 32)
	kr, err := keyring.NewRawAES("my-namespace", "my-key", key)
	if err != nil {
		log.Fatal(err)
	}
	enc := dbesdkEncryptor(kr)
	ctx := context.Background()
	stored, err := enc.Encrypt(ctx, customer("4111 1111 1111 1111"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored card is ciphertext:", cardOf(stored) != "4111 1111 1111 1111")

	plain, err := enc.Decrypt(ctx, stored)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("card:", cardOf(plain))
	fmt.Println(kr) // redacted: never the key
	// Output:
	// stored card is ciphertext: true
	// card: 4111 1111 1111 1111
	// keyring.RawAES{namespace: "my-namespace", name: "my-key", key: [redacted]}
}

// A raw RSA keyring: a writer that holds only the public key, and a
// reader that holds the private key. The writer cannot read what it wrote:
// it has no key to decrypt with.
func ExampleNewRawRSA() {
	// Real programs load the key pair (keyring.ParseRSAPrivateKeyPEM,
	// keyring.ParseRSAPublicKeyPEM).
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	writer, err := keyring.NewRawRSA("hr", "escrow-2026", keyring.RSAOAEPSHA256, &priv.PublicKey, nil)
	if err != nil {
		log.Fatal(err)
	}
	reader, err := keyring.NewRawRSA("hr", "escrow-2026", keyring.RSAOAEPSHA256, nil, priv)
	if err != nil {
		log.Fatal(err)
	}
	got, err := writeAndRead(writer, reader, "4111 1111 1111 1111")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("reader:", got)
	_, err = writeAndRead(writer, writer, "4111 1111 1111 1111")
	fmt.Println("writer:", errors.Is(err, keyring.ErrKeyringCannotDecrypt))
	// Output:
	// reader: 4111 1111 1111 1111
	// writer: true
}

// heldElsewhere stands for an RSA key in an HSM, a cloud KMS or an agent:
// only Public and Decrypt reach it (cmp/pkcs11's RSAKey is one).
type heldElsewhere struct {
	priv  *rsa.PrivateKey // in the HSM, out of the program's reach
	calls atomic.Int64
}

func (h *heldElsewhere) Public() crypto.PublicKey { return &h.priv.PublicKey }

func (h *heldElsewhere) Decrypt(r io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	h.calls.Add(1)
	return h.priv.Decrypt(r, msg, opts)
}

// A raw RSA keyring whose private key is held elsewhere, as a
// crypto.Decrypter: it reads what a keyring over the public key alone
// writes (and what keyring.NewRawRSA writes, byte for byte).
func ExampleNewRawRSAWithDecrypter() {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	hsm := &heldElsewhere{priv: priv}

	// pub nil: the public key is dec.Public().
	reader, err := keyring.NewRawRSAWithDecrypter("hr", "escrow-2026", keyring.RSAOAEPSHA256, nil, hsm)
	if err != nil {
		log.Fatal(err)
	}
	writer, err := keyring.NewRawRSA("hr", "escrow-2026", keyring.RSAOAEPSHA256, hsm.Public().(*rsa.PublicKey), nil)
	if err != nil {
		log.Fatal(err)
	}
	got, err := writeAndRead(writer, reader, "4111 1111 1111 1111")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("card:", got)
	fmt.Println("decrypter calls:", hsm.calls.Load())
	// Output:
	// card: 4111 1111 1111 1111
	// decrypter calls: 1
}

// A multi-keyring: each item's data key wrapped under an AES key (the
// generator, for everyday reads) and under an escrow RSA public key (a
// child). Either key alone reads the item.
func ExampleNewMulti() {
	aes, err := keyring.NewRawAES("my-namespace", "my-key", bytes.Repeat([]byte{0x03}, 32))
	if err != nil {
		log.Fatal(err)
	}
	escrowKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	escrow, err := keyring.NewRawRSA("hr", "escrow-2026", keyring.RSAOAEPSHA256, &escrowKey.PublicKey, nil)
	if err != nil {
		log.Fatal(err)
	}
	multi, err := keyring.NewMulti(aes, escrow)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	stored, err := dbesdkEncryptor(multi).Encrypt(ctx, customer("4111 1111 1111 1111"))
	if err != nil {
		log.Fatal(err)
	}
	descs, err := itemcrypto.DescribeEncryptedDataKeys(stored)
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range descs {
		fmt.Printf("wrapped for %s %s/%s\n", d.Kind, d.KeyNamespace, d.KeyName)
	}

	// The everyday reader holds the AES key only; the escrow reader the
	// RSA private key only.
	plain, err := dbesdkEncryptor(aes).Decrypt(ctx, stored)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("AES reader:", cardOf(plain))
	escrowReader, err := keyring.NewRawRSA("hr", "escrow-2026", keyring.RSAOAEPSHA256, nil, escrowKey)
	if err != nil {
		log.Fatal(err)
	}
	plain, err = dbesdkEncryptor(escrowReader).Decrypt(ctx, stored)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("escrow reader:", cardOf(plain))
	// Output:
	// wrapped for raw-aes my-namespace/my-key
	// wrapped for raw-rsa hr/escrow-2026
	// AES reader: 4111 1111 1111 1111
	// escrow reader: 4111 1111 1111 1111
}

// Two parties with static ECDH key pairs, each holding its own private key
// and the other's public key: each reads the items the other writes.
func ExampleNewRawECDHStatic() {
	// Real programs load their own private key
	// (keyring.ParseECDHPrivateKeyPEM) and the peer's public key
	// (keyring.ParseECDHPublicKey).
	alice, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	bob, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	aliceKR, err := keyring.NewRawECDHStatic(alice, bob.PublicKey())
	if err != nil {
		log.Fatal(err)
	}
	bobKR, err := keyring.NewRawECDHStatic(bob, alice.PublicKey())
	if err != nil {
		log.Fatal(err)
	}
	got, err := writeAndRead(aliceKR, bobKR, "from alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("bob reads:", got)
	got, err = writeAndRead(bobKR, aliceKR, "from bob")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("alice reads:", got)

	// A third party's key pair, with Alice's public key, does not read
	// Alice's item: one opaque authentication error.
	eve, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	eveKR, err := keyring.NewRawECDHStatic(eve, alice.PublicKey())
	if err != nil {
		log.Fatal(err)
	}
	_, err = writeAndRead(aliceKR, eveKR, "from alice")
	fmt.Println("eve:", errors.Is(err, itemcrypto.ErrAuthentication))
	// Output:
	// bob reads: from alice
	// alice reads: from bob
	// eve: true
}

// A required-encryption-context manager enforces the writers'
// configuration: here every item must be bound to its "tenant" attribute
// (the encryptor puts "aws-crypto-attr.tenant" in the encryption context
// when the policy says SignAndIncludeInEncryptionContext). An encryptor
// whose policy forgets it is refused; one that has it writes and reads.
func ExampleNewRequiredContextManager() {
	kr, err := keyring.NewRawAES("my-namespace", "my-key", bytes.Repeat([]byte{0x03}, 32))
	if err != nil {
		log.Fatal(err)
	}
	mm, err := keyring.NewRequiredContextManager(keyring.NewDefaultManager(kr), []string{"aws-crypto-attr.tenant"})
	if err != nil {
		log.Fatal(err)
	}
	newEncryptor := func(overrides map[string]actions.Action) *itemcrypto.Encryptor {
		policy, err := actions.New(actions.Options{
			Default: actions.EncryptAndSign, Overrides: overrides,
			PartitionKey: "customer_id", SortKey: "created",
		})
		if err != nil {
			log.Fatal(err)
		}
		enc, err := itemcrypto.New(itemcrypto.Config{
			TableName: "customers", Policy: policy, Format: itemcrypto.FormatDBESDK,
			DBESDK: &itemcrypto.DBESDKConfig{MaterialsManager: mm},
		})
		if err != nil {
			log.Fatal(err)
		}
		return enc
	}
	item := customer("4111 1111 1111 1111")
	item["tenant"] = &types.AttributeValueMemberS{Value: "acme"}
	ctx := context.Background()

	// "tenant" encrypted: not in the encryption context.
	_, err = newEncryptor(nil).Encrypt(ctx, item)
	fmt.Println("without tenant in the context:", errors.Is(err, keyring.ErrRequiredContext))

	enc := newEncryptor(map[string]actions.Action{
		"tenant": actions.SignAndIncludeInEncryptionContext,
	})
	stored, err := enc.Encrypt(ctx, item)
	if err != nil {
		log.Fatal(err)
	}
	plain, err := enc.Decrypt(ctx, stored)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("with tenant in the context:", cardOf(plain))
	// Output:
	// without tenant in the context: true
	// with tenant in the context: 4111 1111 1111 1111
}
