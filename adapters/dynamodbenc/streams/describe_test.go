package streams

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
)

// describer answers DescribeTable with a pk/sk key schema, after failing
// the first fail calls.
type describer struct{ calls, fail int }

func (d *describer) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	d.calls++
	if d.calls <= d.fail {
		return nil, errors.New("throttled")
	}
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{TableName: in.TableName, KeySchema: []types.KeySchemaElement{
		{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
	}}}, nil
}

// TestDescribeTable learns the key names of a table configured without
// them, once, and does not cache a failure.
func TestDescribeTable(t *testing.T) {
	tc := ddbecConfig(t)
	enc, err := dynamodbenc.NewEncryptor("Orders", tc)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := enc.Encrypt(ctxT(t), customer("alice", 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	newImage, err := ToLambdaMap(stored)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := ToLambdaMap(item{"pk": stored["pk"], "sk": stored["sk"]})
	rec := events.DynamoDBEventRecord{EventID: "1", EventName: "INSERT", EventSourceArn: streamARN("Orders"),
		Change: events.DynamoDBStreamRecord{Keys: keys, NewImage: newImage, SequenceNumber: "1", StreamViewType: "NEW_IMAGE"}}

	tc.PartitionKey, tc.SortKey = "", ""
	desc := &describer{fail: 1}
	d, err := New(dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{"Orders": tc}}, func(o *Options) { o.DescribeTable = desc })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.DecryptEventRecord(ctxT(t), rec); err == nil {
		t.Fatal("a failed DescribeTable did not fail the record")
	}
	for range 2 {
		got, err := d.DecryptEventRecord(ctxT(t), rec)
		if err != nil {
			t.Fatal(err)
		}
		wantItem(t, "NewImage", lambdaItem(t, got.Change.NewImage), customer("alice", 1, 1))
	}
	if desc.calls != 2 {
		t.Errorf("DescribeTable called %d times, want 2 (one failure, then once)", desc.calls)
	}
}
