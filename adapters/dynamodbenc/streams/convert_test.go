package streams

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
)

// allTypes has each of the ten DynamoDB types, the edge cases of each
// (numbers DynamoDB keeps as written, empty and nil binaries, empty
// collections) and nesting.
func allTypes() item {
	return item{
		"S":      s("héllo \"w\"\n"),
		"Sempty": s(""),
		"N":      n("-0.000000000000000000000000000000000000123456789012345678901234567890"),
		"Nbig":   n("99999999999999999999999999999999999999"),
		"B":      &types.AttributeValueMemberB{Value: []byte{0, 0xff, 1}},
		"Bempty": &types.AttributeValueMemberB{Value: []byte{}},
		"BOOL":   &types.AttributeValueMemberBOOL{Value: false},
		"NULL":   &types.AttributeValueMemberNULL{Value: true},
		"SS":     &types.AttributeValueMemberSS{Value: []string{"b", "a"}},
		"NS":     &types.AttributeValueMemberNS{Value: []string{"1E+2", "0.10"}},
		"BS":     &types.AttributeValueMemberBS{Value: [][]byte{{1}, {}, {2, 3}}},
		"L": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			s("x"), &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
			&types.AttributeValueMemberM{Value: item{"deep": &types.AttributeValueMemberBS{Value: [][]byte{{9}}}}},
		}},
		"M":      &types.AttributeValueMemberM{Value: item{"a.b": n("1"), "": s("empty name")}},
		"Mempty": &types.AttributeValueMemberM{Value: item{}},
	}
}

func TestLambdaRoundTrip(t *testing.T) {
	in := allTypes()
	l, err := ToLambdaMap(in)
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromLambdaMap(l)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, in) {
		t.Errorf("ddb -> lambda -> ddb:\n got %s\nwant %s", show(back), show(in))
	}
	// Through the JSON of a Lambda event, as the runtime delivers it.
	j, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON map[string]events.DynamoDBAttributeValue
	if err := json.Unmarshal(j, &fromJSON); err != nil {
		t.Fatal(err)
	}
	back, err = FromLambdaMap(fromJSON)
	if err != nil {
		t.Fatal(err)
	}
	// JSON cannot tell an empty binary from a nil one: compare by value.
	if !equalItems(back, in) {
		t.Errorf("through Lambda JSON:\n got %s\nwant %s", show(back), show(in))
	}
	// The copy shares no bytes with its source.
	l["B"].Binary()[0] = 42
	if in["B"].(*types.AttributeValueMemberB).Value[0] != 0 {
		t.Error("ToLambdaMap shares binary values with its argument")
	}
	if m, _ := ToLambdaMap(nil); m != nil {
		t.Error("ToLambdaMap(nil) is not nil")
	}
	if m, _ := FromLambdaMap(nil); m != nil {
		t.Error("FromLambdaMap(nil) is not nil")
	}
}

func TestStreamsRoundTrip(t *testing.T) {
	in := allTypes()
	st, err := ToStreamsMap(in)
	if err != nil {
		t.Fatal(err)
	}
	back, err := FromStreamsMap(st)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, in) {
		t.Errorf("ddb -> streams -> ddb:\n got %s\nwant %s", show(back), show(in))
	}
	// The SDK's own conversion (feature/dynamodb/attributevalue) agrees.
	sdk, err := attributevalue.FromDynamoDBStreamsMap(st)
	if err != nil {
		t.Fatal(err)
	}
	if !equalItems(sdk, back) {
		t.Errorf("the SDK's FromDynamoDBStreamsMap differs:\n got %s\nwant %s", show(sdk), show(back))
	}
	st["B"].(*streamtypes.AttributeValueMemberB).Value[0] = 42
	if in["B"].(*types.AttributeValueMemberB).Value[0] != 0 {
		t.Error("ToStreamsMap shares binary values with its argument")
	}
}

func TestConvertErrors(t *testing.T) {
	// The zero events.DynamoDBAttributeValue, nested: an error with its
	// path, not a panic.
	bad := map[string]events.DynamoDBAttributeValue{"a": events.NewListAttribute([]events.DynamoDBAttributeValue{
		events.NewStringAttribute("ok"), events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{"b": {}}),
	})}
	_, err := FromLambdaMap(bad)
	if err == nil || !strings.Contains(err.Error(), `"a"[1]."b"`) {
		t.Errorf("FromLambdaMap(unset value) = %v", err)
	}
	for name, v := range map[string]types.AttributeValue{
		"NULL false": &types.AttributeValueMemberNULL{Value: false},
		"nil":        nil,
		"unknown":    &types.UnknownUnionMember{Tag: "X"},
	} {
		if _, err := ToLambdaMap(item{"x": v}); err == nil {
			t.Errorf("ToLambdaMap(%s) did not fail", name)
		}
		if _, err := ToStreamsMap(item{"x": v}); err == nil {
			t.Errorf("ToStreamsMap(%s) did not fail", name)
		}
	}
	if _, err := FromStreamsMap(map[string]streamtypes.AttributeValue{"x": &streamtypes.UnknownUnionMember{Tag: "X"}}); err == nil {
		t.Error("FromStreamsMap(unknown) did not fail")
	}
	// Deeper than DynamoDB allows.
	var deep types.AttributeValue = s("x")
	for range maxDepth + 2 {
		deep = &types.AttributeValueMemberL{Value: []types.AttributeValue{deep}}
	}
	if _, err := ToLambdaMap(item{"d": deep}); !errors.Is(err, errTooDeep) {
		t.Errorf("ToLambdaMap(too deep) = %v", err)
	}
}

func TestTableName(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2015-06-27T00:48:05.899":  "Orders",
		"arn:aws-cn:dynamodb:cn-north-1:123456789012:table/a.b_c-d/stream/2024-01-01T00:00:00": "a.b_c-d",
		"arn:aws:dynamodb:eu-west-1:123456789012:table/Orders":                                 "Orders",
	} {
		if got, err := TableName(arn); err != nil || got != want {
			t.Errorf("TableName(%q) = %q, %v; want %q", arn, got, err, want)
		}
	}
	for _, arn := range []string{
		"", "Orders", "arn:aws:kinesis:us-east-1:123456789012:stream/Orders",
		"arn:aws:dynamodb:us-east-1:123456789012:global-table/Orders",
		"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/index/gsi",
		"arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/",
		"arn:aws:dynamodb:us-east-1:123456789012:table/a/stream/x",
		"arn:aws:dynamodb:us-east-1:123456789012:table/Or ders/stream/x",
	} {
		if got, err := TableName(arn); err == nil {
			t.Errorf("TableName(%q) = %q, want an error", arn, got)
		}
	}
}

func TestUnknownARNIsAnError(t *testing.T) {
	d, err := New(dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{"Orders": ddbecConfig(t)}})
	if err != nil {
		t.Fatal(err)
	}
	rec := events.DynamoDBEventRecord{EventID: "1", EventSourceArn: "not an arn"}
	_, err = d.DecryptEvent(ctxT(t), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec}})
	var be *BatchError
	if !errors.As(err, &be) || be.Records[0].EventID != "1" {
		t.Errorf("a record without a table ARN: %v", err)
	}
}

func TestNewChecks(t *testing.T) {
	tc := ddbecConfig(t)
	tc.PartitionKey, tc.SortKey = "", ""
	if _, err := New(dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{"Orders": tc}}); err == nil {
		t.Error("New accepted a table without PartitionKey nor DescribeTable")
	}
	bad := ddbecConfig(t)
	bad.Default = 0
	if _, err := New(dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{"Orders": bad}}); err == nil {
		t.Error("New accepted a table without Default")
	}
}
