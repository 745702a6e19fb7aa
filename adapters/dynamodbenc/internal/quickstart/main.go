// Command quickstart encrypts, stores, queries and decrypts customer items
// in a local DynamoDB through dynamodbenc. It is the program of the README
// section "Switching an existing DynamoDB data layer to encrypted items",
// verbatim (a test checks that they stay the same, and runs it).
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
	"github.com/itemcrypto/go-itemcrypto/cmp"
)

// Store is the data layer's own view of the DynamoDB client: it does not
// change when the items become encrypted.
type Store interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

const table = "accounts"

func main() {
	ctx := context.Background()
	endpoint := os.Getenv("DYNAMODB_ENDPOINT") // a local DynamoDB, e.g. http://127.0.0.1:8000
	if endpoint == "" {
		endpoint = "http://127.0.0.1:8000"
	}
	ddb := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	if err := createTable(ctx, ddb); err != nil {
		log.Fatal(err)
	}
	defer ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})

	// The keys: a key-encryption key that wraps each item's own content key,
	// and an HMAC key that signs items. Real programs load them from a secret
	// store (or use cmp.NewDirectKMS); these are fresh for the demo.
	kek, err := cmp.NewAESKey(randomBytes(32))
	if err != nil {
		log.Fatal(err)
	}
	mac, err := cmp.NewHMACKey("HmacSHA256", randomBytes(32))
	if err != nil {
		log.Fatal(err)
	}
	provider, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac})
	if err != nil {
		log.Fatal(err)
	}

	// Before: var store Store = ddb
	// After:
	client, err := dynamodbenc.New(ddb, dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{
		table: {
			Provider:  provider,
			Default:   actions.EncryptAndSign, // everything encrypted and signed...
			Overrides: map[string]actions.Action{"email": actions.SignOnly, "visits": actions.DoNothing},
			// ...except the keys (signed, never encrypted; their names come
			// from DescribeTable), "email" (signed) and "visits" (untouched).
		},
	}})
	if err != nil {
		log.Fatal(err)
	}
	var store Store = client

	// Encrypt and store.
	for i, card := range []string{"4111 1111 1111 1111", "5500 0000 0000 0004", "3400 0000 0000 009"} {
		_, err := store.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(table),
			Item: map[string]types.AttributeValue{
				"customer_id": &types.AttributeValueMemberS{Value: "c-1001"},
				"created":     &types.AttributeValueMemberN{Value: fmt.Sprint(1700000000 + i)},
				"email":       &types.AttributeValueMemberS{Value: "ada@example.com"},
				"card":        &types.AttributeValueMemberS{Value: card},
				"visits":      &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
			},
		})
		if err != nil {
			log.Fatal(err)
		}
	}

	// What DynamoDB holds: the card is ciphertext.
	raw, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
		"customer_id": &types.AttributeValueMemberS{Value: "c-1001"},
		"created":     &types.AttributeValueMemberN{Value: "1700000000"},
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("stored card: %d bytes of ciphertext\n", len(raw.Item["card"].(*types.AttributeValueMemberB).Value))

	// Query and decrypt, with the SDK's own paginator.
	pages := dynamodb.NewQueryPaginator(client, &dynamodb.QueryInput{
		TableName:              aws.String(table),
		KeyConditionExpression: aws.String("customer_id = :c AND created >= :t"),
		FilterExpression:       aws.String("visits < :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":c": &types.AttributeValueMemberS{Value: "c-1001"},
			":t": &types.AttributeValueMemberN{Value: "1700000000"},
			":v": &types.AttributeValueMemberN{Value: "10"},
		},
		Limit: aws.Int32(2),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			log.Fatal(err)
		}
		for _, it := range page.Items {
			fmt.Println("decrypted card:", it["card"].(*types.AttributeValueMemberS).Value)
		}
	}

	// A condition on an encrypted attribute cannot work: refused before sending.
	_, err = store.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(table),
		KeyConditionExpression: aws.String("customer_id = :c"),
		FilterExpression:       aws.String("card = :card"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":c":    &types.AttributeValueMemberS{Value: "c-1001"},
			":card": &types.AttributeValueMemberS{Value: "4111 1111 1111 1111"},
		},
	})
	fmt.Println("filter on an encrypted attribute refused:", errors.Is(err, dynamodbenc.ErrUnsafeOperation))
}

func createTable(ctx context.Context, ddb *dynamodb.Client) error {
	_, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("customer_id"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("created"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("customer_id"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("created"), KeyType: types.KeyTypeRange},
		},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "creating table %s at %s (a few seconds)...\n", table, *ddb.Options().BaseEndpoint)
	// A local DynamoDB is ready within a second: poll every half second,
	// not the waiter's default 20 s.
	return dynamodb.NewTableExistsWaiter(ddb, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 500*time.Millisecond, 2*time.Second
	}).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, time.Minute)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
