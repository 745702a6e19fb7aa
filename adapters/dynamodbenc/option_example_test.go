package dynamodbenc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
)

// memoryEndpoint is a DynamoDB endpoint in memory, just enough for the
// example: it keeps the item of the last PutItem, as the SDK serialized it,
// and returns it to GetItem.
type memoryEndpoint struct {
	item     json.RawMessage
	requests int
}

func (m *memoryEndpoint) Do(r *http.Request) (*http.Response, error) {
	m.requests++
	var body struct{ Item json.RawMessage }
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return nil, err
	}
	resp := []byte("{}")
	switch strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.") {
	case "PutItem":
		m.item = body.Item
	case "GetItem":
		resp, _ = json.Marshal(map[string]json.RawMessage{"Item": m.item})
	}
	return &http.Response{StatusCode: http.StatusOK, Request: r, Body: io.NopCloser(bytes.NewReader(resp)),
		Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}}}, nil
}

// The option makes a plain *dynamodb.Client encrypt: for code that holds
// the concrete client, or a library that builds its own from an aws.Config
// and client options (guregu/dynamo: dynamo.New(awsCfg, opt)).
func ExampleNewOption() {
	ctx := context.Background()
	opt, err := dynamodbenc.NewOption(dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{
		"customers": {
			Provider:     exampleProvider(),
			Default:      actions.EncryptAndSign,
			Overrides:    map[string]actions.Action{"email": actions.SignOnly},
			PartitionKey: "customer_id", // required by the option
		},
	}})
	if err != nil {
		log.Fatal(err) // a bad configuration fails here, not at the first request
	}

	// In a real program: db := dynamodb.NewFromConfig(awsCfg, opt). Here the
	// endpoint is in memory, so the example runs without a network.
	endpoint := &memoryEndpoint{}
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", Credentials: aws.AnonymousCredentials{},
		BaseEndpoint: aws.String("http://dynamodb.invalid"), HTTPClient: endpoint}, opt)

	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("customers"), Item: map[string]types.AttributeValue{
		"customer_id": &types.AttributeValueMemberS{Value: "c-42"},
		"email":       &types.AttributeValueMemberS{Value: "ann@example.com"},
		"card":        &types.AttributeValueMemberS{Value: "4111 1111 1111 1111"},
	}})
	if err != nil {
		log.Fatal(err)
	}
	var sent map[string]map[string]any
	if err := json.Unmarshal(endpoint.item, &sent); err != nil {
		log.Fatal(err)
	}
	_, binary := sent["card"]["B"]
	fmt.Println("card sent as ciphertext:", binary, "- email sent as:", sent["email"]["S"])

	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("customers"),
		Key: map[string]types.AttributeValue{"customer_id": &types.AttributeValueMemberS{Value: "c-42"}}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("card read back:", out.Item["card"].(*types.AttributeValueMemberS).Value)

	// A request that cannot be made safe fails before it is sent.
	before := endpoint.requests
	_, err = db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("customers"), FilterExpression: aws.String("card = :c"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": &types.AttributeValueMemberS{Value: "4111 1111 1111 1111"}}})
	fmt.Println("filter on card refused:", errors.Is(err, dynamodbenc.ErrUnsafeOperation), "- requests sent:", endpoint.requests-before)
	// Output:
	// card sent as ciphertext: true - email sent as: ann@example.com
	// card read back: 4111 1111 1111 1111
	// filter on card refused: true - requests sent: 0
}
