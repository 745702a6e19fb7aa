package dynamodbenc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
	"github.com/itemcrypto/go-itemcrypto/cmp"
)

// CustomerStore is an application's own interface over the SDK client. Both
// *dynamodb.Client and *dynamodbenc.Client satisfy it.
type CustomerStore interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// exampleProvider: a fresh AES-256 content key per item, wrapped under a
// key-encryption key, items signed with HMAC-SHA256.
func exampleProvider() cmp.Provider {
	// Real programs load these from a secret store; never hard-code keys.
	kek, err := cmp.NewAESKey(bytes.Repeat([]byte{0x01}, 32))
	if err != nil {
		log.Fatal(err)
	}
	mac, err := cmp.NewHMACKey("HmacSHA256", bytes.Repeat([]byte{0x02}, 32))
	if err != nil {
		log.Fatal(err)
	}
	p, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac})
	if err != nil {
		log.Fatal(err)
	}
	return p
}

func Example() {
	ctx := context.Background()
	// In a real program: ddb := dynamodb.NewFromConfig(awsCfg). The stub keeps
	// items in memory, so this example runs without a network.
	ddb := newStub()

	// Before: var store CustomerStore = ddb
	client, err := dynamodbenc.New(ddb, dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{
		"customers": {
			Provider:     exampleProvider(),
			Default:      actions.EncryptAndSign,
			Overrides:    map[string]actions.Action{"email": actions.SignOnly, "visits": actions.DoNothing},
			PartitionKey: "customer_id",
			SortKey:      "created",
		},
	}})
	if err != nil {
		log.Fatal(err)
	}
	var store CustomerStore = client

	_, err = store.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String("customers"),
		Item: map[string]types.AttributeValue{
			"customer_id": &types.AttributeValueMemberS{Value: "c-1001"},
			"created":     &types.AttributeValueMemberN{Value: "1700000000"},
			"email":       &types.AttributeValueMemberS{Value: "ada@example.com"},
			"card":        &types.AttributeValueMemberS{Value: "4111 1111 1111 1111"},
			"visits":      &types.AttributeValueMemberN{Value: "17"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}

	fmt.Println("stored in DynamoDB:")
	stored := ddb.items["c-1001"]
	for _, name := range slices.Sorted(maps.Keys(stored)) {
		fmt.Printf("  %-20s %s\n", name, typeName(stored[name]))
	}

	key := map[string]types.AttributeValue{
		"customer_id": &types.AttributeValueMemberS{Value: "c-1001"},
		"created":     &types.AttributeValueMemberN{Value: "1700000000"},
	}
	out, err := store.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("customers"), Key: key})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("read back: card =", out.Item["card"].(*types.AttributeValueMemberS).Value)

	// Updating a DoNothing attribute in place is fine; a signed one is not.
	_, err = store.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String("customers"),
		Key:                       key,
		UpdateExpression:          aws.String("SET email = :e"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": &types.AttributeValueMemberS{Value: "new@example.com"}},
	})
	fmt.Println("refused:", errors.Is(err, dynamodbenc.ErrUnsafeOperation))
	// Output:
	// stored in DynamoDB:
	//   *amzn-ddb-map-desc*  B
	//   *amzn-ddb-map-sig*   B
	//   card                 B
	//   created              N
	//   customer_id          S
	//   email                S
	//   visits               N
	// read back: card = 4111 1111 1111 1111
	// refused: true
}

func typeName(v types.AttributeValue) string {
	switch v.(type) {
	case *types.AttributeValueMemberS:
		return "S"
	case *types.AttributeValueMemberN:
		return "N"
	case *types.AttributeValueMemberB:
		return "B"
	}
	return fmt.Sprintf("%T", v)
}

// stub is an in-memory stand-in for DynamoDB with PutItem and GetItem of
// the "customers" table, keyed by customer_id. The other methods of
// dynamodbenc.API are left to the embedded nil interface: calling them
// panics.
type stub struct {
	dynamodbenc.API
	items map[string]map[string]types.AttributeValue
}

func newStub() *stub { return &stub{items: map[string]map[string]types.AttributeValue{}} }

func (s *stub) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	id := in.Item["customer_id"].(*types.AttributeValueMemberS).Value
	s.items[id] = maps.Clone(in.Item)
	return &dynamodb.PutItemOutput{}, nil
}

func (s *stub) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	id := in.Key["customer_id"].(*types.AttributeValueMemberS).Value
	return &dynamodb.GetItemOutput{Item: maps.Clone(s.items[id])}, nil
}
