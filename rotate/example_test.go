package rotate_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/rotate"
)

// Moving a table to new keys from a program of your own (a Lambda, a
// Kubernetes job, a Step Functions task): Run reads every item with the old
// keys and writes it back under the new ones. A real program passes
// dynamodb.NewFromConfig(awsCfg) and sets Checkpoint, so that a stopped run
// resumes; here a small in-memory table stands in for DynamoDB.
func Example() {
	ctx := context.Background()
	oldKeys := exampleEncryptor(0x01) // real programs load keys from a secret store
	newKeys := exampleEncryptor(0x02)

	table := newMemoryTable()
	for _, id := range []string{"c-1", "c-2", "c-3"} {
		stored, err := oldKeys.Encrypt(ctx, itemcrypto.Item{
			"customer_id": &types.AttributeValueMemberS{Value: id},
			"email":       &types.AttributeValueMemberS{Value: id + "@example.com"},
		})
		if err != nil {
			log.Fatal(err)
		}
		table.items[id] = stored
	}

	stats, err := rotate.Run(ctx, table, rotate.Config{
		Table:    "customers",
		Source:   oldKeys,
		Target:   newKeys,
		Segments: 1,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("scanned %d, rotated %d, current %d, conflicts %d, failed %d\n",
		stats.Scanned, stats.Rotated, stats.Current, stats.Conflicts, stats.Failed)

	plain, err := newKeys.Decrypt(ctx, table.items["c-2"])
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("c-2 under the new keys:", plain["email"].(*types.AttributeValueMemberS).Value)

	// A second run finds every item current and writes nothing.
	stats, err = rotate.Run(ctx, table, rotate.Config{Table: "customers", Source: oldKeys, Target: newKeys, Segments: 1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("again: rotated %d, current %d\n", stats.Rotated, stats.Current)
	// Output:
	// scanned 3, rotated 3, current 0, conflicts 0, failed 0
	// c-2 under the new keys: c-2@example.com
	// again: rotated 0, current 3
}

// exampleEncryptor is an encryptor of the table "customers" under AES and
// HMAC keys filled with b.
func exampleEncryptor(b byte) *itemcrypto.Encryptor {
	kek, err := cmp.NewAESKey(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		log.Fatal(err)
	}
	mac, err := cmp.NewHMACKey("HmacSHA256", bytes.Repeat([]byte{b + 0x10}, 32))
	if err != nil {
		log.Fatal(err)
	}
	provider, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac})
	if err != nil {
		log.Fatal(err)
	}
	policy, err := actions.New(actions.Options{
		Default:      actions.EncryptAndSign,
		PartitionKey: "customer_id",
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

// memoryTable is just enough of a DynamoDB table for the example: one
// partition key "customer_id", a single Scan page, and the SET and REMOVE
// updates Run writes back (its conditions are not checked).
type memoryTable struct {
	items map[string]map[string]types.AttributeValue
}

func newMemoryTable() *memoryTable {
	return &memoryTable{items: map[string]map[string]types.AttributeValue{}}
}

func (m *memoryTable) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("customer_id"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("customer_id"), AttributeType: types.ScalarAttributeTypeS}},
		ItemCount:            aws.Int64(int64(len(m.items))),
	}}, nil
}

func (m *memoryTable) Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	out := &dynamodb.ScanOutput{}
	for _, id := range slices.Sorted(maps.Keys(m.items)) {
		out.Items = append(out.Items, m.items[id])
	}
	out.Count = int32(len(out.Items))
	return out, nil
}

func (m *memoryTable) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	item := m.items[in.Key["customer_id"].(*types.AttributeValueMemberS).Value]
	set, remove, _ := strings.Cut(strings.TrimPrefix(*in.UpdateExpression, "SET "), " REMOVE ")
	for _, a := range strings.Split(set, ",") {
		name, value, _ := strings.Cut(a, "=")
		item[in.ExpressionAttributeNames[name]] = in.ExpressionAttributeValues[value]
	}
	for _, name := range strings.Split(remove, ",") {
		delete(item, in.ExpressionAttributeNames[name])
	}
	return &dynamodb.UpdateItemOutput{}, nil
}

func (m *memoryTable) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	m.items[in.Item["customer_id"].(*types.AttributeValueMemberS).Value] = in.Item
	return &dynamodb.PutItemOutput{}, nil
}
