package mapenc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/mapenc"
	"github.com/itemcrypto/go-itemcrypto/cmp/cmptest"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// showStored prints each stored attribute with its type: ciphertexts are
// binary (B); nothing here prints a value.
func showStored(item map[string]types.AttributeValue) {
	for _, name := range slices.Sorted(maps.Keys(item)) {
		var t string
		switch item[name].(type) {
		case *types.AttributeValueMemberS:
			t = "S"
		case *types.AttributeValueMemberN:
			t = "N"
		case *types.AttributeValueMemberB:
			t = "B"
		default:
			t = fmt.Sprintf("%T", item[name])
		}
		fmt.Printf("  %s: %s\n", name, t)
	}
}

func ExampleCodec_EncryptMap() {
	ctx := context.Background()
	codec, err := mapenc.New(mapenc.Config{
		TableName: "app.customers", // bound into every signature
		// A test provider with public keys; use a cmp provider over real keys.
		Provider:     cmptest.NewFakeProvider("example"),
		Default:      actions.EncryptAndSign,
		Overrides:    map[string]actions.Action{"email": actions.SignOnly, "views": actions.DoNothing},
		PartitionKey: "customer_id",
	})
	if err != nil {
		log.Fatal(err)
	}

	stored, err := codec.EncryptMap(ctx, map[string]any{
		"customer_id": "c-1001",
		"email":       "ada@example.com",
		"card":        "4111-1111-1111-1111",
		"tags":        []string{"vip"},
		"views":       7,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored:")
	showStored(stored)

	m, err := codec.DecryptMap(ctx, stored)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("decrypted:", m["customer_id"], m["card"], m["tags"], m["views"])

	stored["email"] = &types.AttributeValueMemberS{Value: "eve@example.com"}
	_, err = codec.DecryptMap(ctx, stored)
	fmt.Println("tampered:", errors.Is(err, itemcrypto.ErrAuthentication))
	// Output:
	// stored:
	//   *amzn-ddb-map-desc*: B
	//   *amzn-ddb-map-sig*: B
	//   card: B
	//   customer_id: S
	//   email: S
	//   tags: B
	//   views: N
	// decrypted: c-1001 4111-1111-1111-1111 [vip] 7
	// tampered: true
}

// Order's tags say what to do with each attribute; attributes without an
// action tag take Config.Default.
type Order struct {
	Customer string   `dynamodbav:"customer" itemcrypto:"partition"`
	ID       int      `dynamodbav:"id" itemcrypto:"sort"`
	Card     string   `dynamodbav:"card" itemcrypto:"encrypt"`
	Email    string   `dynamodbav:"email,omitempty" itemcrypto:"sign"`
	Views    int      `dynamodbav:"views" itemcrypto:"nothing"`
	Items    []string `dynamodbav:"items"`
	Internal string   `dynamodbav:"-"` // never stored
}

func ExampleFor() {
	ctx := context.Background()
	orders, err := mapenc.For[Order](mapenc.Config{
		TableName: "shop.orders",
		Provider:  cmptest.NewFakeProvider("example"),
		Default:   actions.EncryptAndSign,
	})
	if err != nil {
		log.Fatal(err) // a tag contradicting the Config is reported here
	}

	stored, err := orders.Encrypt(ctx, Order{
		Customer: "c-1001", ID: 42, Card: "4111-1111-1111-1111", Email: "ada@example.com",
		Items: []string{"book", "pen"}, Internal: "scratch",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored:")
	showStored(stored)

	o, err := orders.Decrypt(ctx, stored)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("decrypted: %s #%d %s %v %q\n", o.Customer, o.ID, o.Card, o.Items, o.Internal)

	stored["id"] = &types.AttributeValueMemberN{Value: "43"} // move it to another order
	_, err = orders.Decrypt(ctx, stored)
	fmt.Println("tampered:", errors.Is(err, itemcrypto.ErrAuthentication))

	// A tag that contradicts the Config is an error naming the field.
	_, err = mapenc.For[Order](mapenc.Config{
		TableName: "shop.orders",
		Provider:  cmptest.NewFakeProvider("example"),
		Default:   actions.EncryptAndSign,
		Overrides: map[string]actions.Action{"card": actions.SignOnly},
	})
	var te *mapenc.TagError
	fmt.Println("conflict:", errors.Is(err, mapenc.ErrTagConflict), errors.As(err, &te) && te.Field == "Card")
	// Output:
	// stored:
	//   *amzn-ddb-map-desc*: B
	//   *amzn-ddb-map-sig*: B
	//   card: B
	//   customer: S
	//   email: S
	//   id: N
	//   items: B
	//   views: N
	// decrypted: c-1001 #42 4111-1111-1111-1111 [book pen] ""
	// tampered: true
	// conflict: true true
}

func ExampleCodec_EncryptJSON() {
	ctx := context.Background()
	codec, err := mapenc.New(mapenc.Config{
		TableName: "docs.orders", // e.g. a Postgres table with a jsonb column
		Provider:  cmptest.NewFakeProvider("example"),
		Default:   actions.EncryptAndSign,
	})
	if err != nil {
		log.Fatal(err)
	}

	doc, err := codec.EncryptJSON(ctx, Order{Customer: "c-1001", ID: 42, Card: "4111-1111-1111-1111"})
	if err != nil {
		log.Fatal(err)
	}
	// doc is DynamoDB JSON: {"card":{"B":"..."},"customer":{"S":"c-1001"},...}
	var shape map[string]map[string]json.RawMessage
	if err := json.Unmarshal(doc, &shape); err != nil {
		log.Fatal(err)
	}
	for _, name := range slices.Sorted(maps.Keys(shape)) {
		fmt.Printf("  %s: %s\n", name, slices.Collect(maps.Keys(shape[name])))
	}

	var o Order
	if err := codec.DecryptJSON(ctx, doc, &o); err != nil {
		log.Fatal(err)
	}
	fmt.Println("decrypted:", o.Customer, o.ID, o.Card)

	tampered := []byte(string(doc[:len(doc)-1]) + `,"note":{"S":"added"}}`)
	err = codec.DecryptJSON(ctx, tampered, &o)
	fmt.Println("tampered:", errors.Is(err, itemcrypto.ErrAuthentication))
	// Output:
	//   *amzn-ddb-map-desc*: [B]
	//   *amzn-ddb-map-sig*: [B]
	//   card: [B]
	//   customer: [S]
	//   id: [N]
	//   items: [B]
	//   views: [N]
	// decrypted: c-1001 42 4111-1111-1111-1111
	// tampered: true
}
