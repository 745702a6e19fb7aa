// Command streamhandler is a Lambda function that reads the DynamoDB stream
// of a table written through dynamodbenc: it verifies and decrypts each
// record's images and reports the records that fail as batch item failures.
// Outside Lambda it runs a local demonstration against a DynamoDB endpoint
// (dynalite has no streams, so it builds the event Lambda would deliver from
// the stored items). It is the program of the README section "DynamoDB
// Streams and Lambda", verbatim (a test checks that they stay the same, and
// runs it).
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc/streams"
	"github.com/itemcrypto/go-itemcrypto/cmp"
)

const table = "orders"

// handler is the Lambda function: DecryptEvent verifies and decrypts the
// records of the configured tables, and the records that fail are reported
// (by sequence number) for Lambda to retry, never dropped.
type handler struct{ dec *streams.Decrypter }

func (h handler) handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	records, err := h.dec.DecryptEvent(ctx, ev)
	var failed *streams.BatchError
	if err != nil && !errors.As(err, &failed) {
		return events.DynamoDBEventResponse{}, err
	}
	for _, rec := range records {
		switch rec.EventName {
		case "INSERT", "MODIFY":
			img := rec.Change.NewImage
			fmt.Printf("%s %s: card %s\n", rec.EventName, img["id"].String(), img["card"].String())
		case "REMOVE":
			fmt.Printf("REMOVE %s (was card %s)\n", rec.Change.Keys["id"].String(), rec.Change.OldImage["card"].String())
		}
	}
	if failed != nil {
		for _, f := range failed.Records {
			log.Printf("not verified: %v", f) // names the table, event and key attributes, never values
		}
	}
	return events.DynamoDBEventResponse{BatchItemFailures: failed.BatchItemFailures()}, nil
}

func main() {
	// The same configuration as the table's writers: in production the
	// keys come from KMS (cmp.DirectKMS, or the DB-ESDK's keyrings).
	tables := map[string]dynamodbenc.TableConfig{table: {
		Provider:     provider(),
		Default:      actions.EncryptAndSign, // card is encrypted
		Overrides:    map[string]actions.Action{"email": actions.SignOnly},
		PartitionKey: "id",
	}}
	log.SetFlags(0) // Lambda's logs have their own timestamps
	dec, err := streams.New(dynamodbenc.Config{Tables: tables})
	if err != nil {
		log.Fatal(err)
	}
	h := handler{dec}
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		lambda.Start(h.handle)
		return
	}
	if err := demo(context.Background(), tables, h); err != nil {
		log.Fatal(err)
	}
}

// demo writes items through dynamodbenc, builds the stream event that
// Lambda would deliver for the writes (view type NEW_AND_OLD_IMAGES) and
// hands it to the handler, with one image tampered with.
func demo(ctx context.Context, tables map[string]dynamodbenc.TableConfig, h handler) error {
	endpoint := os.Getenv("DYNAMODB_ENDPOINT") // a local DynamoDB, e.g. http://127.0.0.1:8000
	if endpoint == "" {
		endpoint = "http://127.0.0.1:8000"
	}
	ddb := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	_, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		return err
	}
	defer ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	if err := dynamodb.NewTableExistsWaiter(ddb).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 30*time.Second); err != nil {
		return err
	}
	client, err := dynamodbenc.New(ddb, dynamodbenc.Config{Tables: tables})
	if err != nil {
		return err
	}

	// Each write, and the stored (encrypted) item it leaves.
	var stored []map[string]types.AttributeValue
	for _, c := range [][3]string{{"1", "ann@example.com", "4111 1111 1111 1111"}, {"2", "bob@example.com", "5500 0000 0000 0004"},
		{"1", "ann@example.com", "3400 0000 0000 009"}} {
		key := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: c[0]}}
		_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"id": key["id"], "email": &types.AttributeValueMemberS{Value: c[1]}, "card": &types.AttributeValueMemberS{Value: c[2]},
		}})
		if err != nil {
			return err
		}
		out, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return err
		}
		stored = append(stored, out.Item)
	}
	if _, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
		"id": &types.AttributeValueMemberS{Value: "2"}}}); err != nil {
		return err
	}
	tampered := map[string]types.AttributeValue{}
	for name, v := range stored[1] {
		tampered[name] = v
	}
	tampered["email"] = &types.AttributeValueMemberS{Value: "mallory@example.com"} // signed: verification fails

	ev, err := event([]record{
		{"INSERT", nil, stored[0]}, {"INSERT", nil, stored[1]}, {"MODIFY", stored[0], stored[2]}, {"REMOVE", tampered, nil},
	})
	if err != nil {
		return err
	}
	fmt.Printf("stored card: %d bytes of ciphertext\n", len(stored[0]["card"].(*types.AttributeValueMemberB).Value))
	resp, err := h.handle(ctx, ev)
	if err != nil {
		return err
	}
	for _, f := range resp.BatchItemFailures {
		fmt.Println("batch item failure: sequence number", f.ItemIdentifier)
	}
	return nil
}

type record struct {
	name     string
	old, new map[string]types.AttributeValue
}

// event builds the Lambda event of the records as DynamoDB Streams writes
// it, through its JSON form, as the Lambda runtime decodes it.
func event(recs []record) (events.DynamoDBEvent, error) {
	var ev events.DynamoDBEvent
	for i, r := range recs {
		img := r.new
		if img == nil {
			img = r.old
		}
		rec := events.DynamoDBEventRecord{
			AWSRegion: "us-east-1", EventID: fmt.Sprintf("event-%d", i+1), EventName: r.name,
			EventSource: "aws:dynamodb", EventVersion: "1.1",
			EventSourceArn: "arn:aws:dynamodb:us-east-1:123456789012:table/" + table + "/stream/2024-05-01T12:34:56.789",
			Change: events.DynamoDBStreamRecord{
				SequenceNumber: fmt.Sprintf("%d00000000000000000000", i+1), StreamViewType: "NEW_AND_OLD_IMAGES",
			},
		}
		var err error
		for dst, src := range map[*map[string]events.DynamoDBAttributeValue]map[string]types.AttributeValue{
			&rec.Change.Keys: {"id": img["id"]}, &rec.Change.NewImage: r.new, &rec.Change.OldImage: r.old,
		} {
			if *dst, err = streams.ToLambdaMap(src); err != nil {
				return ev, err
			}
		}
		ev.Records = append(ev.Records, rec)
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return ev, err
	}
	var delivered events.DynamoDBEvent
	return delivered, json.Unmarshal(data, &delivered)
}

// provider returns a DDBEC provider with random keys, for the
// demonstration only.
func provider() cmp.Provider {
	kek, err := cmp.NewAESKey(randomBytes(32))
	if err != nil {
		log.Fatal(err)
	}
	mac, err := cmp.NewHMACKey("HmacSHA256", randomBytes(32))
	if err != nil {
		log.Fatal(err)
	}
	p, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac})
	if err != nil {
		log.Fatal(err)
	}
	return p
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		log.Fatal(err)
	}
	return b
}
