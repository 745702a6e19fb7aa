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
)

// A pipeline that would compute on ciphertext is refused before anything
// is sent, naming the stage, the operator and the field, so this example
// needs no server; one that computes on plaintext and signed fields only
// runs as with the driver.
func ExampleCollection_Aggregate() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:27017/"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)
	orders, err := mongoenc.NewCollection(client.Database("shop").Collection("orders"), mongoenc.Config{
		Provider:  cmptest.NewFakeProvider("example"), // a real provider from package cmp in production
		Default:   actions.SignOnly,
		Overrides: map[string]actions.Action{"card": actions.EncryptAndSign},
	})
	if err != nil {
		log.Fatal(err)
	}

	// Revenue per card number: the server only has the cards' ciphertexts.
	_, err = orders.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: bson.D{{Key: "status", Value: "paid"}}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$card"}, {Key: "total", Value: bson.D{{Key: "$sum", Value: "$amount"}}}}}},
	})
	var pe *mongoenc.PipelineError
	fmt.Println(errors.As(err, &pe), pe.Stage, pe.Operator, pe.Field, errors.Is(err, mongoenc.ErrUnsafeOperation))

	// Stages that write are refused wherever they are.
	_, err = orders.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$status"}}}},
		{{Key: "$out", Value: "summary"}},
	})
	fmt.Println(errors.As(err, &pe), pe.Stage, pe.Operator)

	// Revenue per status is computed from signed fields: this one would be
	// sent, and its cursor is the driver's, over the server's results:
	//
	//	cur, err := orders.Aggregate(ctx, mongo.Pipeline{
	//		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$status"}, {Key: "total", Value: bson.D{{Key: "$sum", Value: "$amount"}}}}}},
	//	})

	// Output:
	// true 1 $group card true
	// true 1 $out
}

// AggregateDocuments returns whole stored documents, verified and
// decrypted as Find returns them. (No Output: it needs a MongoDB server.)
func ExampleCollection_AggregateDocuments() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:27017/"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)
	orders, err := mongoenc.NewCollection(client.Database("shop").Collection("orders"), mongoenc.Config{
		Provider:  cmptest.NewFakeProvider("example"),
		Default:   actions.SignOnly,
		Overrides: map[string]actions.Action{"card": actions.EncryptAndSign},
	})
	if err != nil {
		log.Fatal(err)
	}
	cur, err := orders.AggregateDocuments(ctx, mongo.Pipeline{
		{{Key: "$match", Value: bson.D{{Key: "status", Value: "paid"}}}},
		{{Key: "$sort", Value: bson.D{{Key: "amount", Value: -1}}}},
		{{Key: "$limit", Value: 3}},
	})
	if err != nil {
		log.Fatal(err)
	}
	var top []struct {
		Card   string `bson:"card"` // decrypted
		Amount int    `bson:"amount"`
	}
	if err := cur.All(ctx, &top); err != nil {
		log.Fatal(err) // a *mongoenc.DocumentError if a document fails verification
	}
	fmt.Println(top)
}
