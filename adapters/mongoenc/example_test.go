package mongoenc_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/mongoenc"
	"github.com/itemcrypto/go-itemcrypto/cmp/cmptest"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// CustomerStore is an application's own interface over its collection:
// both *mongo.Collection and *mongoenc.Collection satisfy it.
type CustomerStore interface {
	InsertOne(ctx context.Context, document any, opts ...options.Lister[options.InsertOneOptions]) (*mongo.InsertOneResult, error)
	FindOne(ctx context.Context, filter any, opts ...options.Lister[options.FindOneOptions]) *mongo.SingleResult
	UpdateOne(ctx context.Context, filter any, update any, opts ...options.Lister[options.UpdateOneOptions]) (*mongo.UpdateResult, error)
}

var (
	_ CustomerStore = (*mongo.Collection)(nil)
	_ CustomerStore = (*mongoenc.Collection)(nil)
)

// The store switches to protected documents by changing one constructor.
// (No Output: it needs a MongoDB server; internal/quickstart runs the same
// against one.)
func Example() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:27017/"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)

	// Before: var store CustomerStore = client.Database("shop").Collection("customers")
	coll, err := mongoenc.NewCollection(client.Database("shop").Collection("customers"), mongoenc.Config{
		Provider: cmptest.NewFakeProvider("example"), // a real provider from package cmp in production
		Default:  actions.SignOnly,
		Overrides: map[string]actions.Action{
			"card":        actions.EncryptAndSign,
			"profile.ssn": actions.EncryptAndSign,
			"visits":      actions.DoNothing,
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	var store CustomerStore = coll

	id := bson.NewObjectID()
	if _, err := store.InsertOne(ctx, bson.D{
		{Key: "_id", Value: id},
		{Key: "email", Value: "ada@example.com"},
		{Key: "card", Value: "4111 1111 1111 1111"},
		{Key: "profile", Value: bson.D{{Key: "name", Value: "Ada"}, {Key: "ssn", Value: "078-05-1120"}}},
	}); err != nil {
		log.Fatal(err)
	}
	var doc struct {
		Card string `bson:"card"`
	}
	err = store.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&doc)
	if errors.Is(err, itemcrypto.ErrAuthentication) {
		log.Fatal("the stored document was tampered with")
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Println(doc.Card)
}

// Queries the server would evaluate on ciphertext, and updates the
// signature could not survive, are refused before anything is sent, so
// this example needs no server.
func Example_guardRails() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:27017/"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)
	coll, err := mongoenc.NewCollection(client.Database("shop").Collection("customers"), mongoenc.Config{
		Provider:  cmptest.NewFakeProvider("example"),
		Default:   actions.SignOnly,
		Overrides: map[string]actions.Action{"card": actions.EncryptAndSign, "visits": actions.DoNothing},
	})
	if err != nil {
		log.Fatal(err)
	}

	_, err = coll.Find(ctx, bson.D{{Key: "card", Value: "4111 1111 1111 1111"}})
	var ue *mongoenc.UnsafeOperationError
	fmt.Println(errors.As(err, &ue), ue.Op, ue.Field)

	_, err = coll.UpdateOne(ctx, bson.D{{Key: "email", Value: "ada@example.com"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "email", Value: "eve@example.com"}}}})
	fmt.Println(errors.As(err, &ue), ue.Op, ue.Field)

	_, err = coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "card", Value: 1}}))
	fmt.Println(errors.Is(err, mongoenc.ErrUnsafeOperation))
	// Output:
	// true Find card
	// true UpdateOne email
	// true
}

// BeginsWith builds the prefix filter of a compound beacon: the prefix's
// regular expression metacharacters (here the split character | and the
// dots) are escaped, so the collection reads it as a literal prefix.
func ExampleBeginsWith() {
	filter := mongoenc.BeginsWith("KindEmail", "K-admin|E-ann@example.com")
	js, err := bson.MarshalExtJSON(filter, false, false)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(js))
	// Output: {"KindEmail":{"$regularExpression":{"pattern":"^K-admin\\|E-ann@example\\.com","options":""}}}
}
