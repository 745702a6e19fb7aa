package dynamodbenc_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"reflect"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/dynamodbenc"
	"github.com/itemcrypto/go-itemcrypto/adapters/mapenc"
)

// A typed table stores and returns the caller's type. Its itemcrypto tags
// must agree with the table's configuration: a table whose SignOnly Default
// would store the SSN tagged encrypt in plaintext is refused; build the
// TableConfig from the tags with mapenc.StructPolicy instead.
func ExampleNewTable() {
	ctx := context.Background()
	ddb := newStub()

	// A configuration that ignores Patient's tags.
	careless, err := dynamodbenc.New(ddb, dynamodbenc.Config{Tables: map[string]dynamodbenc.TableConfig{
		"patients": {Provider: exampleProvider(), Default: actions.SignOnly, PartitionKey: "customer_id"},
	}})
	if err != nil {
		log.Fatal(err)
	}
	_, err = dynamodbenc.NewTable[Patient](careless, "patients")
	var te *mapenc.TagError
	fmt.Println("refused:", errors.Is(err, mapenc.ErrTagConflict), errors.As(err, &te) && te.Field == "SSN")

	// The configuration built from the tags.
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
			SortKey:      policy.SortKey,
		},
	}})
	if err != nil {
		log.Fatal(err)
	}
	patients, err := dynamodbenc.NewTable[Patient](client, "patients")
	if err != nil {
		log.Fatal(err)
	}
	if err := patients.Put(ctx, Patient{ID: "c-1001", Name: "Ada", SSN: "078-05-1120"}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("ssn stored as", typeName(ddb.items["c-1001"]["ssn"]))

	p, err := patients.Get(ctx, Patient{ID: "c-1001"}) // or map[string]any{"customer_id": "c-1001"}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %s\n", p.Name, p.SSN)
	// Output:
	// refused: true true
	// ssn stored as B
	// Ada 078-05-1120
}
