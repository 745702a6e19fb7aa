package testenv_test

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
)

func itemJSON(t *testing.T, item map[string]types.AttributeValue) string {
	t.Helper()
	b, err := ddbjson.MarshalItem(item)
	if err != nil {
		t.Fatalf("MarshalItem: %v", err)
	}
	return string(b)
}

func TestTableName(t *testing.T) {
	t.Run("odd/chars: and spaces", func(t *testing.T) {
		a, b := testenv.TableName(t), testenv.TableName(t)
		if a == b {
			t.Errorf("two names are equal: %q", a)
		}
		if !regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`).MatchString(a) {
			t.Errorf("invalid table name %q", a)
		}
		if !strings.HasPrefix(a, "TestTableName_odd_chars__and_spaces-") {
			t.Errorf("name %q does not start with the sanitized test name", a)
		}
	})
	t.Run(strings.Repeat("x", 260), func(t *testing.T) {
		if n := len(testenv.TableName(t)); n > 255 {
			t.Errorf("name is %d characters long", n)
		}
	})
}

// TestDynamoDBRoundTrip proves that dynalite understands what the SDK sends
// (signing, CRC32 response checksums, JSON protocol) for the calls the
// library's tests rely on: CreateTable/DescribeTable/DeleteTable, PutItem
// with a condition, GetItem, Query with a key condition.
func TestDynamoDBRoundTrip(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, "partition_key", "S", "sort_key", "N")

	item := map[string]types.AttributeValue{
		"partition_key": &types.AttributeValueMemberS{Value: "pk-1"},
		"sort_key":      &types.AttributeValueMemberN{Value: "7"},
		"attribute1":    &types.AttributeValueMemberB{Value: []byte{0x00, 0xff, 0x10, 'a', 0x80}},
		"attribute2":    &types.AttributeValueMemberS{Value: "héllo ✓"},
		":attribute3":   &types.AttributeValueMemberN{Value: "-12.5e3"},
		"bool":          &types.AttributeValueMemberBOOL{Value: true},
		"null":          &types.AttributeValueMemberNULL{Value: true},
		"ss":            &types.AttributeValueMemberSS{Value: []string{"b", "a"}},
		"ns":            &types.AttributeValueMemberNS{Value: []string{"1", "0.5", "-3"}},
		"bs":            &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}},
		"list": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "x"},
			&types.AttributeValueMemberN{Value: "1"},
		}},
		"map": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"nested": &types.AttributeValueMemberB{Value: bytes.Repeat([]byte{0xAB}, 1024)},
		}},
	}

	ctx := t.Context()
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(partition_key)"),
	})
	if err != nil {
		t.Fatalf("PutItem: %v", err)
	}

	// The condition must be enforced on the second put.
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(partition_key)"),
	})
	var condFailed *types.ConditionalCheckFailedException
	if !errors.As(err, &condFailed) {
		t.Fatalf("second conditional PutItem: got %v, want ConditionalCheckFailedException", err)
	}

	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"partition_key": &types.AttributeValueMemberS{Value: "pk-1"},
			"sort_key":      &types.AttributeValueMemberN{Value: "7"},
		},
	})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	if !ddbjson.EqualItems(item, got.Item, ddbserial.CanonicalNumber) {
		t.Fatalf("GetItem returned a different item:\n got  %s\n want %s", itemJSON(t, got.Item), itemJSON(t, item))
	}
	if b := got.Item["attribute1"].(*types.AttributeValueMemberB).Value; !bytes.Equal(b, []byte{0x00, 0xff, 0x10, 'a', 0x80}) {
		t.Errorf("binary attribute came back as %x", b)
	}

	// More items under the same and another partition key, then Query.
	for i := range 5 {
		for _, pk := range []string{"pk-1", "pk-2"} {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{
				TableName: aws.String(table),
				Item: map[string]types.AttributeValue{
					"partition_key": &types.AttributeValueMemberS{Value: pk},
					"sort_key":      &types.AttributeValueMemberN{Value: fmt.Sprint(10 + i)},
					"attribute2":    &types.AttributeValueMemberS{Value: fmt.Sprintf("%s/%d", pk, i)},
				},
			})
			if err != nil {
				t.Fatalf("PutItem %s/%d: %v", pk, i, err)
			}
		}
	}

	q, err := c.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(table),
		KeyConditionExpression: aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{
			"#pk": "partition_key",
			"#sk": "sort_key",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "pk-1"},
			":lo": &types.AttributeValueMemberN{Value: "7"},
			":hi": &types.AttributeValueMemberN{Value: "12"},
		},
		ScanIndexForward: aws.Bool(false),
		ConsistentRead:   aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	var sks []string
	for _, it := range q.Items {
		if pk := it["partition_key"].(*types.AttributeValueMemberS).Value; pk != "pk-1" {
			t.Errorf("Query returned an item of partition %q", pk)
		}
		sks = append(sks, it["sort_key"].(*types.AttributeValueMemberN).Value)
	}
	if want := "12,11,10,7"; strings.Join(sks, ",") != want {
		t.Errorf("Query sort keys = %v, want %s (descending)", sks, want)
	}
	if q.Count != 4 {
		t.Errorf("Query Count = %d, want 4", q.Count)
	}
	if !ddbjson.EqualItems(item, q.Items[len(q.Items)-1], ddbserial.CanonicalNumber) {
		t.Errorf("Query returned a different item:\n got  %s\n want %s", itemJSON(t, q.Items[len(q.Items)-1]), itemJSON(t, item))
	}
}

// TestNewTableHashOnly covers a table with a partition key only, and that
// the table is gone after its test's cleanup.
func TestNewTableHashOnly(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	var table string
	t.Run("create", func(t *testing.T) {
		table = testenv.NewTable(t, c, "id", "B", "", "")
		_, err := c.PutItem(t.Context(), &dynamodb.PutItemInput{
			TableName: aws.String(table),
			Item:      map[string]types.AttributeValue{"id": &types.AttributeValueMemberB{Value: []byte{1, 2}}},
		})
		if err != nil {
			t.Fatalf("PutItem: %v", err)
		}
	})
	// DeleteTable returns while the table is DELETING; dynalite drops it
	// right after (--deleteTableMs 0), so allow a short wait.
	var err error
	for range 50 {
		_, err = c.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		var notFound *types.ResourceNotFoundException
		if errors.As(err, &notFound) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("DescribeTable after cleanup: got %v, want ResourceNotFoundException", err)
}
