package dynamodbenc_test

import (
	"context"
	"fmt"
	"log"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
	"github.com/itemcrypto/go-itemcrypto/adapters/mapenc"
)

// Patient's itemcrypto tags say what to protect. attributevalue.MarshalMap
// drops them: the client sees only attribute names.
type Patient struct {
	ID   string `dynamodbav:"customer_id" itemcrypto:"partition"`
	Name string `dynamodbav:"name"`
	SSN  string `dynamodbav:"ssn" itemcrypto:"encrypt"`
}

// The client takes attribute maps, so it cannot read struct tags: build its
// table configuration from them with mapenc.StructPolicy, or the tags are
// lost (here the default signs everything, and the SSN would be stored in
// plaintext).
func ExampleNew_structTags() {
	ctx := context.Background()
	ddb := newStub()

	policy, err := mapenc.StructPolicy(reflect.TypeFor[Patient](), actions.Options{Default: actions.SignOnly})
	if err != nil {
		log.Fatal(err)
	}
	client, err := dynamodbenc.New(ddb, dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{
		"patients": {
			Provider:     exampleProvider(),
			Default:      policy.Default,
			Overrides:    policy.Overrides,
			PartitionKey: policy.PartitionKey,
			SortKey:      policy.SortKey, // none here
		},
	}})
	if err != nil {
		log.Fatal(err)
	}
	item, err := attributevalue.MarshalMap(Patient{ID: "c-1001", Name: "Ada", SSN: "078-05-1120"})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("patients"), Item: item}); err != nil {
		log.Fatal(err)
	}
	stored := ddb.items["c-1001"]
	fmt.Println("ssn stored as", typeName(stored["ssn"]), "- name stored as", typeName(stored["name"]))
	// Output:
	// ssn stored as B - name stored as S
}
