package cmptest_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/cmptest"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// Code under test gets a fake provider instead of a KMS. Fakes of one name
// share keys, even across processes; a fake of another name refuses the
// items as not its own.
func ExampleNewFakeProvider() {
	policy := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "id"})
	newEncryptor := func(p cmp.Provider) *itemcrypto.Encryptor {
		e, err := itemcrypto.New(itemcrypto.Config{TableName: "orders", Policy: policy, Provider: p})
		if err != nil {
			log.Fatal(err)
		}
		return e
	}
	ctx := context.Background()

	stored, err := newEncryptor(cmptest.NewFakeProvider("orders-key")).Encrypt(ctx, itemcrypto.Item{
		"id":   &types.AttributeValueMemberS{Value: "o-1"},
		"card": &types.AttributeValueMemberS{Value: "4111 1111 1111 1111"},
	})
	if err != nil {
		log.Fatal(err)
	}

	item, err := newEncryptor(cmptest.NewFakeProvider("orders-key")).Decrypt(ctx, stored)
	fmt.Println("same name:", item["card"].(*types.AttributeValueMemberS).Value, err)

	_, err = newEncryptor(cmptest.NewFakeProvider("billing-key")).Decrypt(ctx, stored)
	fmt.Println("other name refused:", errors.Is(err, cmp.ErrNoMaterials))
	// Output:
	// same name: 4111 1111 1111 1111 <nil>
	// other name refused: true
}
