package streams_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc/streams"
	"github.com/itemcrypto/go-itemcrypto/cmp"
)

// A Lambda handler for the stream of a table written through dynamodbenc.
// In the function, main calls lambda.Start(handle); here the event is built
// from an item encrypted as dynamodbenc stores it, without a network.
func Example_lambdaHandler() {
	ctx := context.Background()
	tables := map[string]dynamodbenc.TableConfig{"customers": {
		Provider:     exampleProvider(),
		Default:      actions.EncryptAndSign,
		Overrides:    map[string]actions.Action{"email": actions.SignOnly},
		PartitionKey: "id",
	}}
	dec, err := streams.New(dynamodbenc.Config{Tables: tables})
	if err != nil {
		log.Fatal(err)
	}
	handle := func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		records, err := dec.DecryptEvent(ctx, ev)
		var failed *streams.BatchError
		if err != nil && !errors.As(err, &failed) {
			return events.DynamoDBEventResponse{}, err
		}
		for _, rec := range records {
			fmt.Printf("%s %s: card %s\n", rec.EventName, rec.Change.Keys["id"].String(), rec.Change.NewImage["card"].String())
		}
		if failed != nil {
			for _, f := range failed.Records {
				fmt.Println("not verified:", f)
			}
		}
		return events.DynamoDBEventResponse{BatchItemFailures: failed.BatchItemFailures()}, nil
	}

	// The item as dynamodbenc stores it, and a copy whose signed email was
	// changed in the table.
	enc, err := dynamodbenc.NewEncryptor("customers", tables["customers"])
	if err != nil {
		log.Fatal(err)
	}
	stored, err := enc.Encrypt(ctx, map[string]types.AttributeValue{
		"id":    &types.AttributeValueMemberS{Value: "1"},
		"email": &types.AttributeValueMemberS{Value: "ann@example.com"},
		"card":  &types.AttributeValueMemberS{Value: "4111 1111 1111 1111"},
	})
	if err != nil {
		log.Fatal(err)
	}
	tampered := map[string]types.AttributeValue{}
	for k, v := range stored {
		tampered[k] = v
	}
	tampered["email"] = &types.AttributeValueMemberS{Value: "mallory@example.com"}

	var ev events.DynamoDBEvent
	for i, img := range []map[string]types.AttributeValue{stored, tampered} {
		newImage, err := streams.ToLambdaMap(img)
		if err != nil {
			log.Fatal(err)
		}
		keys, _ := streams.ToLambdaMap(map[string]types.AttributeValue{"id": img["id"]})
		ev.Records = append(ev.Records, events.DynamoDBEventRecord{
			EventID: fmt.Sprint("event-", i+1), EventName: "INSERT", EventSource: "aws:dynamodb",
			EventSourceArn: "arn:aws:dynamodb:us-east-1:123456789012:table/customers/stream/2024-05-01T12:34:56.789",
			Change: events.DynamoDBStreamRecord{
				Keys: keys, NewImage: newImage, SequenceNumber: fmt.Sprint(i+1, "00"), StreamViewType: "NEW_IMAGE",
			},
		})
	}
	resp, err := handle(ctx, ev)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("batch item failures: %+v\n", resp.BatchItemFailures)
	// Output:
	// INSERT 1: card 4111 1111 1111 1111
	// not verified: streams: table "customers" record "event-2" (INSERT) key id: NewImage: itemcrypto: item authentication failed
	// batch item failures: [{ItemIdentifier:200}]
}

func exampleProvider() cmp.Provider {
	kek, err := cmp.NewAESKey(make([]byte, 32)) // fixed keys: an example only
	if err != nil {
		log.Fatal(err)
	}
	mac, err := cmp.NewHMACKey("HmacSHA256", make([]byte, 32))
	if err != nil {
		log.Fatal(err)
	}
	p, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac})
	if err != nil {
		log.Fatal(err)
	}
	return p
}
