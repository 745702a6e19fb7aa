package dynamodbenc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// A table in the AWS Database Encryption SDK format: keys from a keyring
// (here a raw AES keyring), the item's header and footer stored in
// aws_dbe_head and aws_dbe_foot.
func ExampleNew_dbesdk() {
	ctx := context.Background()
	// Real programs load the key from a secret store, or use a KMS or
	// hierarchical keyring; never hard-code keys.
	kr, err := keyring.NewRawAES("my-app", "orders-key", bytes.Repeat([]byte{0x07}, 32))
	if err != nil {
		log.Fatal(err)
	}
	// In a real program: dynamodb.NewFromConfig(awsCfg). The stub keeps items
	// in memory, so this example runs without a network.
	ddb := newItemStub("id")
	client, err := dynamodbenc.New(ddb, dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{
		"orders": {
			Format:       itemcrypto.FormatDBESDK,
			DBESDK:       &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: []string{"note"}},
			Default:      actions.EncryptAndSign,
			Overrides:    map[string]actions.Action{"status": actions.SignOnly, "note": actions.DoNothing},
			PartitionKey: "id",
		},
	}})
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("orders"), Item: map[string]types.AttributeValue{
		"id":      &types.AttributeValueMemberS{Value: "o-1"},
		"status":  &types.AttributeValueMemberS{Value: "paid"},
		"address": &types.AttributeValueMemberS{Value: "1 Main St"},
		"note":    &types.AttributeValueMemberS{Value: "ring twice"},
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored in DynamoDB:")
	ddb.print("o-1")

	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("orders"),
		Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "o-1"}}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("read back: address =", out.Item["address"].(*types.AttributeValueMemberS).Value)
	// Output:
	// stored in DynamoDB:
	//   address              B
	//   aws_dbe_foot         B
	//   aws_dbe_head         B
	//   id                   S
	//   note                 S
	//   status               S
	// read back: address = 1 Main St
}

// Searchable encryption: a standard beacon of the encrypted email (an 8-bit
// truncated HMAC, two hex digits) is stored beside each item
// (aws_dbe_b_email, with the beacon version in aws_dbe_v_1), and a query on email is rewritten to
// the beacon and sent to the global secondary index keyed on it. The items
// that only a beacon collision brought are removed after decryption.
func ExampleNew_beacons() {
	ctx := context.Background()
	// The branch key gives the keyring's data keys and the beacon key; a
	// real program reads both from its branch key store (keystore.Store).
	bk, err := hierarchy.NewBranchKey("users-key", "4f2e1a0c-8d3b-4c6e-9f7a-1b2c3d4e5f60",
		bytes.Repeat([]byte{0x42}, 32), bytes.Repeat([]byte{0x5a}, 32))
	if err != nil {
		log.Fatal(err)
	}
	kr, err := hierarchy.New(hierarchy.NewStatic(bk), func(o *hierarchy.Options) { o.BranchKeyID = "users-key" })
	if err != nil {
		log.Fatal(err)
	}
	beaconKeys, err := search.NewStaticKeys(bk)
	if err != nil {
		log.Fatal(err)
	}

	// The table's GSI "email-index" has the partition key aws_dbe_b_email.
	ddb := newItemStub("id")
	ddb.indexes = map[string]string{"email-index": "aws_dbe_b_email"}
	client, err := dynamodbenc.New(ddb, dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{
		"users": {
			Format:       itemcrypto.FormatDBESDK,
			DBESDK:       &itemcrypto.DBESDKConfig{Keyring: kr},
			Default:      actions.EncryptAndSign,
			PartitionKey: "id",
			// The only thing to set for beacons: the client writes them,
			// and rewrites queries and filters on email.
			Search: &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
				Version:         1,
				KeyStore:        beaconKeys,
				KeySource:       search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "users-key", CacheTTL: time.Hour}},
				StandardBeacons: []search.StandardBeacon{{Name: "email", Length: 8}},
			}}},
		},
	}})
	if err != nil {
		log.Fatal(err)
	}
	for id, email := range map[string]string{"u-1": "ann@example.com", "u-2": "bob@example.com", "u-3": "cy@example.com"} {
		_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("users"), Item: map[string]types.AttributeValue{
			"id":    &types.AttributeValueMemberS{Value: id},
			"email": &types.AttributeValueMemberS{Value: email},
		}})
		if err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("stored in DynamoDB:")
	ddb.print("u-2")

	query := &dynamodb.QueryInput{
		TableName:                 aws.String("users"),
		IndexName:                 aws.String("email-index"),
		KeyConditionExpression:    aws.String("email = :e"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": &types.AttributeValueMemberS{Value: "bob@example.com"}},
	}
	out, err := client.Query(ctx, query)
	if err != nil {
		log.Fatal(err)
	}
	for _, it := range out.Items {
		fmt.Println("found:", it["id"].(*types.AttributeValueMemberS).Value, it["email"].(*types.AttributeValueMemberS).Value,
			slices.Sorted(maps.Keys(it)))
	}
	fmt.Println("sent as:", ddb.lastKeyCondition)

	// The beacon is a key of the index only: without IndexName, the query
	// is refused before it is sent.
	query.IndexName = nil
	_, err = client.Query(ctx, query)
	fmt.Println("without IndexName:", errors.Is(err, dynamodbenc.ErrUnsafeOperation))
	// Output:
	// stored in DynamoDB:
	//   aws_dbe_b_email      S
	//   aws_dbe_foot         B
	//   aws_dbe_head         B
	//   aws_dbe_v_1          S
	//   email                B
	//   id                   S
	// found: u-2 bob@example.com [email id]
	// sent as: aws_dbe_b_email = cf
	// without IndexName: true
}

// itemStub is an in-memory stand-in for DynamoDB with PutItem, GetItem and
// Query of one table, keyed by its partition key alone. Query reads a key
// condition "NAME = :v" (NAME may be a #placeholder) on the table's key or,
// with IndexName, on the partition key of that index (indexes); it is just
// enough for the examples. The other methods of dynamodbenc.API are left to
// the embedded nil interface: calling them panics.
type itemStub struct {
	dynamodbenc.API
	pk               string
	indexes          map[string]string // index name: its partition key
	items            map[string]map[string]types.AttributeValue
	lastKeyCondition string // the last query's key condition, values shown
}

func newItemStub(pk string) *itemStub {
	return &itemStub{pk: pk, items: map[string]map[string]types.AttributeValue{}}
}

func (s *itemStub) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	s.items[in.Item[s.pk].(*types.AttributeValueMemberS).Value] = maps.Clone(in.Item)
	return &dynamodb.PutItemOutput{}, nil
}

func (s *itemStub) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{Item: maps.Clone(s.items[in.Key[s.pk].(*types.AttributeValueMemberS).Value])}, nil
}

func (s *itemStub) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	f := strings.Fields(aws.ToString(in.KeyConditionExpression))
	if len(f) != 3 || f[1] != "=" {
		return nil, fmt.Errorf("itemStub: key condition %q", aws.ToString(in.KeyConditionExpression))
	}
	name := f[0]
	if n, ok := in.ExpressionAttributeNames[name]; ok {
		name = n
	}
	want, ok := in.ExpressionAttributeValues[f[2]].(*types.AttributeValueMemberS)
	if !ok {
		return nil, fmt.Errorf("itemStub: %s is not a string", f[2])
	}
	key := s.pk
	if in.IndexName != nil {
		key = s.indexes[*in.IndexName]
	}
	if name != key {
		return nil, fmt.Errorf("itemStub: %s is not the key of the table or index", name)
	}
	s.lastKeyCondition = name + " = " + want.Value
	out := &dynamodb.QueryOutput{}
	for _, id := range slices.Sorted(maps.Keys(s.items)) {
		if v, ok := s.items[id][name].(*types.AttributeValueMemberS); ok && v.Value == want.Value {
			out.Items = append(out.Items, maps.Clone(s.items[id]))
		}
	}
	out.Count = int32(len(out.Items))
	return out, nil
}

// print shows the attributes of a stored item and their types.
func (s *itemStub) print(id string) {
	for _, name := range slices.Sorted(maps.Keys(s.items[id])) {
		fmt.Printf("  %-20s %s\n", name, typeName(s.items[id][name]))
	}
}
