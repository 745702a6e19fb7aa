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
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// exampleEncryptor builds the encryptor of the examples: a wrapped provider
// (a fresh AES-256 content key per item, wrapped under an AES key-encryption
// key, items signed with HMAC-SHA256) and a policy that encrypts everything
// except the primary key (signed), "email" (signed) and "views" (untouched).
func exampleEncryptor() *itemcrypto.Encryptor {
	// Real programs load these from a secret store; never hard-code keys.
	kekBytes := bytes.Repeat([]byte{0x01}, 32)
	macBytes := bytes.Repeat([]byte{0x02}, 32)

	kek, err := cmp.NewAESKey(kekBytes)
	if err != nil {
		log.Fatal(err)
	}
	mac, err := cmp.NewHMACKey("HmacSHA256", macBytes)
	if err != nil {
		log.Fatal(err)
	}
	provider, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac})
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
	enc, err := itemcrypto.New(itemcrypto.Config{TableName: "customers", Policy: policy, Provider: provider})
	if err != nil {
		log.Fatal(err)
	}
	return enc
}

func exampleItem() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"customer_id": &types.AttributeValueMemberS{Value: "c-1001"},
		"created":     &types.AttributeValueMemberN{Value: "1700000000"},
		"email":       &types.AttributeValueMemberS{Value: "ada@example.com"},
		"card":        &types.AttributeValueMemberS{Value: "4111 1111 1111 1111"},
		"tags":        &types.AttributeValueMemberSS{Value: []string{"gold", "eu"}},
		"views":       &types.AttributeValueMemberN{Value: "17"},
	}
}

// typeName is the DynamoDB type of a value.
func typeName(v types.AttributeValue) string {
	switch v.(type) {
	case *types.AttributeValueMemberS:
		return "S"
	case *types.AttributeValueMemberN:
		return "N"
	case *types.AttributeValueMemberB:
		return "B"
	case *types.AttributeValueMemberSS:
		return "SS"
	}
	return fmt.Sprintf("%T", v)
}

func ExampleNew() {
	enc := exampleEncryptor()
	ctx := context.Background()

	stored, err := enc.Encrypt(ctx, exampleItem())
	if err != nil {
		log.Fatal(err)
	}
	// stored is ready for PutItem; after GetItem, Decrypt it.
	plain, err := enc.Decrypt(ctx, stored)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("card:", plain["card"].(*types.AttributeValueMemberS).Value)
	fmt.Println("email:", plain["email"].(*types.AttributeValueMemberS).Value)
	tags := plain["tags"].(*types.AttributeValueMemberSS).Value
	slices.Sort(tags)
	fmt.Println("tags:", tags)

	// Any change to a signed attribute is caught, and no item comes back.
	stored["email"] = &types.AttributeValueMemberS{Value: "mallory@example.com"}
	plain, err = enc.Decrypt(ctx, stored)
	fmt.Println("tampered:", errors.Is(err, itemcrypto.ErrAuthentication), plain == nil)
	// Output:
	// card: 4111 1111 1111 1111
	// email: ada@example.com
	// tags: [eu gold]
	// tampered: true true
}

func ExampleEncryptor_Encrypt() {
	enc := exampleEncryptor()
	stored, err := enc.Encrypt(context.Background(), exampleItem())
	if err != nil {
		log.Fatal(err)
	}
	// Encrypted attributes become binary ciphertexts; the keys, "email"
	// and "views" stay readable; two reserved attributes are added.
	for _, name := range slices.Sorted(maps.Keys(stored)) {
		fmt.Println(name, typeName(stored[name]))
	}
	fmt.Println("email:", stored["email"].(*types.AttributeValueMemberS).Value)
	// Output:
	// *amzn-ddb-map-desc* B
	// *amzn-ddb-map-sig* B
	// card B
	// created N
	// customer_id S
	// email S
	// tags B
	// views N
	// email: ada@example.com
}

func ExampleEncryptor_Decrypt() {
	enc := exampleEncryptor()
	ctx := context.Background()
	stored, err := enc.Encrypt(ctx, exampleItem())
	if err != nil {
		log.Fatal(err)
	}

	// "views" is DoNothing: it may change without breaking the signature.
	stored["views"] = &types.AttributeValueMemberN{Value: "18"}
	plain, err := enc.Decrypt(ctx, stored)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("views:", plain["views"].(*types.AttributeValueMemberN).Value)
	fmt.Println("card:", plain["card"].(*types.AttributeValueMemberS).Value)
	_, hasSig := plain[itemcrypto.SignatureAttribute]
	fmt.Println("reserved attributes removed:", !hasSig)

	// Moving two encrypted values around is caught.
	stored["card"], stored["tags"] = stored["tags"], stored["card"]
	_, err = enc.Decrypt(ctx, stored)
	fmt.Println("swapped:", errors.Is(err, itemcrypto.ErrAuthentication))
	// Output:
	// views: 18
	// card: 4111 1111 1111 1111
	// reserved attributes removed: true
	// swapped: true
}

func ExampleAttributeError() {
	enc := exampleEncryptor()
	item := exampleItem()
	item["tags"] = &types.AttributeValueMemberSS{} // DynamoDB forbids empty sets
	_, err := enc.Encrypt(context.Background(), item)
	var ae *itemcrypto.AttributeError
	if errors.As(err, &ae) {
		fmt.Println("attribute:", ae.Name)
		fmt.Println("empty set:", errors.Is(err, itemcrypto.ErrEmptySet))
		fmt.Println("unsupported value:", errors.Is(err, itemcrypto.ErrUnsupportedValue))
	}
	// Output:
	// attribute: tags
	// empty set: true
	// unsupported value: true
}
