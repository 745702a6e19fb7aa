package mongoenc_test

import (
	"context"
	"fmt"
	"log"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/mongoenc"
	"github.com/itemcrypto/go-itemcrypto/cmp/cmptest"
)

// Patient's itemcrypto tags name BSON field paths: "ssn" (the lower-cased
// Go name) and "profile.card".
type Patient struct {
	ID      string `bson:"_id" itemcrypto:"partition"`
	Name    string `bson:"name"`
	SSN     string `itemcrypto:"encrypt"`
	Profile struct {
		Card string `bson:"card" itemcrypto:"encrypt"`
	} `bson:"profile"`
}

// A typed collection stores and returns the caller's type; the Config must
// give every tagged field path the tag's action, or NewTypedCollection
// refuses the type. (It needs a server, so it is not run here; the
// package's tests run the same against FerretDB.)
func ExampleNewTypedCollection() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://localhost:27017"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)

	coll, err := mongoenc.NewCollection(client.Database("clinic").Collection("patients"), mongoenc.Config{
		Provider: cmptest.NewFakeProvider("example"), // a real provider from package cmp in production
		Default:  actions.SignOnly,
		Overrides: map[string]actions.Action{
			"ssn":          actions.EncryptAndSign,
			"profile.card": actions.EncryptAndSign,
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	patients, err := mongoenc.NewTypedCollection[Patient](coll)
	if err != nil {
		log.Fatal(err) // a *mapenc.TagError had the Config lacked an override
	}
	var ada Patient
	ada.ID, ada.Name, ada.SSN, ada.Profile.Card = "p-1", "Ada", "078-05-1120", "4111 1111 1111 1111"
	if _, err := patients.InsertOne(ctx, ada); err != nil {
		log.Fatal(err)
	}
	got, err := patients.FindOne(ctx, bson.D{{Key: "_id", Value: "p-1"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Name, got.SSN)
}
