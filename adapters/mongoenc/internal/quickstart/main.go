// Command quickstart encrypts, stores, queries and decrypts customer
// documents in a MongoDB collection through mongoenc. It is the program of
// the README section "MongoDB (mongoenc)", verbatim (a test checks that they
// stay the same, and runs it against FerretDB).
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"os"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/mongoenc"
	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

type Profile struct {
	Name string `bson:"name"`
	SSN  string `bson:"ssn"`
}

type Customer struct {
	ID      bson.ObjectID `bson:"_id"`
	Email   string        `bson:"email"`
	Card    string        `bson:"card"`
	Visits  int32         `bson:"visits"`
	Profile Profile       `bson:"profile"`
}

func main() {
	ctx := context.Background()
	uri := os.Getenv("MONGODB_URI") // e.g. mongodb://127.0.0.1:27017/
	if uri == "" {
		uri = "mongodb://127.0.0.1:27017/"
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)
	plain := client.Database("quickstart").Collection("customers")
	defer plain.Drop(ctx)

	// A fresh AES-256 key per document, wrapped with a key-encryption key;
	// documents signed with HMAC-SHA256. Real programs load both keys from a
	// secret store or use a KMS provider; never hard-code them.
	kekBytes, macBytes := make([]byte, 32), make([]byte, 32)
	rand.Read(kekBytes)
	rand.Read(macBytes)
	kek, _ := cmp.NewAESKey(kekBytes)
	mac, _ := cmp.NewHMACKey("HmacSHA256", macBytes)
	provider, err := cmp.NewWrapped(cmp.WrappedConfig{WrappingKey: kek, UnwrappingKey: kek, SigningKey: mac})
	if err != nil {
		log.Fatal(err)
	}

	customers, err := mongoenc.NewCollection(plain, mongoenc.Config{
		Provider: provider,
		Default:  actions.SignOnly, // every field signed: _id, email, profile.name, ...
		Overrides: map[string]actions.Action{
			"card":        actions.EncryptAndSign,
			"profile.ssn": actions.EncryptAndSign, // a nested field
			"visits":      actions.DoNothing,      // free to $inc in place
		},
	})
	if err != nil {
		log.Fatal(err)
	}

	ada := Customer{ID: bson.NewObjectID(), Email: "ada@example.com", Card: "4111 1111 1111 1111",
		Profile: Profile{Name: "Ada", SSN: "078-05-1120"}}
	bob := Customer{ID: bson.NewObjectID(), Email: "bob@example.com", Card: "5500 0000 0000 0004",
		Profile: Profile{Name: "Bob", SSN: "219-09-9999"}}
	if _, err := customers.InsertMany(ctx, []Customer{ada, bob}); err != nil {
		log.Fatal(err)
	}

	// What the server stores: ciphertext in place of card and profile.ssn.
	var stored bson.Raw
	if err := plain.FindOne(ctx, bson.D{{Key: "_id", Value: ada.ID}}).Decode(&stored); err != nil {
		log.Fatal(err)
	}
	_, ct := stored.Lookup("card").Binary()
	fmt.Printf("stored card: %d bytes of ciphertext\n", len(ct))

	// Reads verify, then decrypt: the driver's own signatures.
	var got Customer
	if err := customers.FindOne(ctx, bson.D{{Key: "email", Value: "ada@example.com"}}).Decode(&got); err != nil {
		log.Fatal(err)
	}
	fmt.Println("decrypted card:", got.Card, "ssn:", got.Profile.SSN)

	cur, err := customers.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "email", Value: 1}}))
	if err != nil {
		log.Fatal(err)
	}
	var all []Customer
	if err := cur.All(ctx, &all); err != nil {
		log.Fatal(err)
	}
	for _, c := range all {
		fmt.Println("found:", c.Email, c.Card)
	}

	// In-place updates of DoNothing fields work; of signed fields they are
	// refused before anything is sent (replace the whole document instead).
	if _, err := customers.UpdateByID(ctx, ada.ID, bson.D{{Key: "$inc", Value: bson.D{{Key: "visits", Value: 1}}}}); err != nil {
		log.Fatal(err)
	}
	_, err = customers.UpdateByID(ctx, ada.ID, bson.D{{Key: "$set", Value: bson.D{{Key: "email", Value: "eve@example.com"}}}})
	fmt.Println("update of a signed field refused:", errors.Is(err, mongoenc.ErrUnsafeOperation))
	_, err = customers.Find(ctx, bson.D{{Key: "card", Value: "4111 1111 1111 1111"}})
	fmt.Println("filter on an encrypted field refused:", errors.Is(err, mongoenc.ErrUnsafeOperation))

	// Someone with write access copies Bob's card ciphertext into Ada's document.
	var bobStored bson.Raw
	if err := plain.FindOne(ctx, bson.D{{Key: "_id", Value: bob.ID}}).Decode(&bobStored); err != nil {
		log.Fatal(err)
	}
	if _, err := plain.UpdateByID(ctx, ada.ID, bson.D{{Key: "$set", Value: bson.D{{Key: "card", Value: bobStored.Lookup("card")}}}}); err != nil {
		log.Fatal(err)
	}
	err = customers.FindOne(ctx, bson.D{{Key: "_id", Value: ada.ID}}).Err()
	var de *mongoenc.DocumentError
	fmt.Println("tampered document detected:", errors.Is(err, itemcrypto.ErrAuthentication),
		errors.As(err, &de) && de.ID.ObjectID() == ada.ID)
}
