// Command beacons writes contacts with encrypted email and last-name
// attributes through dynamodbenc, then finds them by the email's value and
// the last name's prefix through DB-ESDK beacons. It is the program of the
// README section "Searchable encryption (beacons)", verbatim (a test checks
// that they stay the same, and runs it).
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"os"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

const table = "contacts"

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

	// One branch key: its key encrypts the items (hierarchical keyring),
	// its beacon key computes the beacons. Real programs keep branch keys in
	// a keystore.Store (DynamoDB + KMS), which serves both.
	branch, err := hierarchy.NewBranchKey("contacts", "7e1f0a5c-2b3d-4e6f-8a9b-0c1d2e3f4a5b", randomBytes(32), randomBytes(32))
	if err != nil {
		log.Fatal(err)
	}
	keyring, err := hierarchy.New(hierarchy.NewStatic(branch), func(o *hierarchy.Options) { o.BranchKeyID = "contacts" })
	if err != nil {
		log.Fatal(err)
	}
	beaconKeys, err := search.NewStaticKeys(branch)
	if err != nil {
		log.Fatal(err)
	}

	client, err := dynamodbenc.New(ddb, dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{
		table: {
			Default:      actions.EncryptAndSign, // email and last are encrypted
			PartitionKey: "id",
			Format:       itemcrypto.FormatDBESDK,
			DBESDK:       &itemcrypto.DBESDKConfig{Keyring: keyring},
			Search: &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
				Version:   1,
				KeyStore:  beaconKeys,
				KeySource: search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "contacts", CacheTTL: time.Hour}},
				StandardBeacons: []search.StandardBeacon{
					{Name: "email", Length: 4},      // equality on email; see "Choosing a beacon length"
					{Name: "LastPrefix", Length: 6}, // equality on the virtual field below
				},
				// LastPrefix: the first three letters of last, lower-cased.
				VirtualFields: []search.VirtualField{{Name: "LastPrefix", Parts: []search.VirtualPart{
					{Loc: "last", Transforms: []search.Transform{search.Lower(), search.Prefix(3)}},
				}}},
			}}},
		},
	}})
	if err != nil {
		log.Fatal(err)
	}

	for i, c := range [][2]string{{"ann@example.com", "Smith"}, {"bob@example.com", "Smithson"}, {"cy@example.com", "Jones"}} {
		_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"id":    &types.AttributeValueMemberS{Value: fmt.Sprint(i)},
			"email": &types.AttributeValueMemberS{Value: c[0]},
			"last":  &types.AttributeValueMemberS{Value: c[1]},
		}})
		if err != nil {
			log.Fatal(err)
		}
	}
	stored, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: id("1")})
	if err != nil {
		log.Fatal(err)
	}
	beacon := stored.Item["aws_dbe_b_email"].(*types.AttributeValueMemberS).Value
	fmt.Printf("stored email: %d bytes of ciphertext; its beacon: %d hex digit\n",
		len(stored.Item["email"].(*types.AttributeValueMemberB).Value), len(beacon))

	// Equality on the encrypted email, through the index on its beacon.
	out, err := client.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(table), IndexName: aws.String("email-index"),
		KeyConditionExpression:    aws.String("email = :e"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": &types.AttributeValueMemberS{Value: "bob@example.com"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, it := range out.Items {
		fmt.Println("found by email:", it["last"].(*types.AttributeValueMemberS).Value)
	}

	// A prefix of the encrypted last name, through the virtual field.
	scan, err := client.Scan(ctx, &dynamodb.ScanInput{
		TableName: aws.String(table), FilterExpression: aws.String("LastPrefix = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "smi"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	var names []string
	for _, it := range scan.Items {
		names = append(names, it["last"].(*types.AttributeValueMemberS).Value)
	}
	slices.Sort(names)
	fmt.Println("last names starting with smi:", names)

	// An encrypted attribute without a beacon cannot be searched.
	_, err = client.Scan(ctx, &dynamodb.ScanInput{
		TableName: aws.String(table), FilterExpression: aws.String("#l = :l"),
		ExpressionAttributeNames:  map[string]string{"#l": "last"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":l": &types.AttributeValueMemberS{Value: "Jones"}},
	})
	fmt.Println("filter on an encrypted attribute without a beacon refused:", errors.Is(err, dynamodbenc.ErrUnsafeOperation))
}

// createTable makes the table and a global secondary index on the email
// beacon, and waits until they are active.
func createTable(ctx context.Context, ddb *dynamodb.Client) error {
	_, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("aws_dbe_b_email"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  aws.String("email-index"),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("aws_dbe_b_email"), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	})
	if err != nil {
		return err
	}
	return dynamodb.NewTableExistsWaiter(ddb, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	}).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 30*time.Second)
}

func id(v string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: v}}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
