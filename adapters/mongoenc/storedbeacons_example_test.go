package mongoenc_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/mongoenc"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// customersWithBeacons is a collection whose e-mail is encrypted, with a
// standard beacon of length bits under beaconKey (none when length is 0).
func customersWithBeacons(coll *mongo.Collection, kr keyring.Keyring, beaconKey []byte, length int) (*mongoenc.Collection, error) {
	cfg := mongoenc.Config{
		Default:   actions.SignOnly,
		Overrides: map[string]actions.Action{"email": actions.EncryptAndSign},
		Format:    itemcrypto.FormatDBESDK,
		DBESDK:    &itemcrypto.DBESDKConfig{Keyring: kr},
	}
	if length > 0 {
		bk, err := search.NewBeaconKey("beacons", beaconKey)
		if err != nil {
			return nil, err
		}
		cfg.Search = &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
			Version: 1, KeyStore: bk,
			KeySource:       search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "beacons", CacheTTL: time.Hour}},
			StandardBeacons: []search.StandardBeacon{{Name: "email", Length: length}},
		}}}
	}
	return mongoenc.NewCollection(coll, cfg)
}

// BeaconIdentity tells two collections' beacons apart without revealing
// the beacon key; itemcrypto rotate binds it into a rotation's identity.
// Nothing is sent to a server.
func ExampleCollection_BeaconIdentity() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:27017/"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)
	coll := client.Database("shop").Collection("customers")
	kr, err := keyring.NewRawAES("shop", "k1", bytes.Repeat([]byte{1}, 32))
	if err != nil {
		log.Fatal(err)
	}
	key := bytes.Repeat([]byte{2}, 32) // load it from a keygen --type beacon file or a secret store
	identity := func(beaconKey []byte, length int) string {
		c, err := customersWithBeacons(coll, kr, beaconKey, length)
		if err != nil {
			log.Fatal(err)
		}
		id, err := c.BeaconIdentity(ctx)
		if err != nil {
			log.Fatal(err)
		}
		return id
	}
	id := identity(key, 8)
	fmt.Println("same beacons, another collection value:", id == identity(bytes.Clone(key), 8))
	fmt.Println("another length:", id == identity(key, 9))
	fmt.Println("another beacon key:", id == identity(bytes.Repeat([]byte{3}, 32), 8))
	fmt.Printf("no beacons: %q\n", identity(nil, 0))
	// Output:
	// same beacons, another collection value: true
	// another length: false
	// another beacon key: false
	// no beacons: ""
}

// WithBeacons gives documents written before the collection had beacons
// their beacons, by their _id and footer, so that a document rewritten in
// the meantime is left alone. itemcrypto rotate does this (and re-encrypts)
// over a whole collection, in segments, with checkpoints. (No Output: it
// needs a MongoDB server.)
func ExampleCollection_WithBeacons() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:27017/"))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)
	kr, err := keyring.NewRawAES("shop", "k1", bytes.Repeat([]byte{1}, 32))
	if err != nil {
		log.Fatal(err)
	}
	customers, err := customersWithBeacons(client.Database("shop").Collection("customers"), kr, bytes.Repeat([]byte{2}, 32), 8)
	if err != nil {
		log.Fatal(err)
	}
	cur, err := customers.Unprotected().Find(ctx, bson.D{{Key: "aws_dbe_b_email", Value: bson.D{{Key: "$exists", Value: false}}}})
	if err != nil {
		log.Fatal(err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		stored := bson.Raw(bytes.Clone(cur.Current)) // the driver reuses its buffer
		item, err := customers.StoredItem(stored)
		if err != nil {
			log.Fatal(err)
		}
		plain, err := customers.Encryptor().Decrypt(ctx, item) // verifies it
		if err != nil {
			log.Fatal(err)
		}
		withBeacons, err := customers.WithBeacons(ctx, stored, plain)
		if err != nil {
			log.Fatal(err)
		}
		var set bson.D // the beacon fields: the rest is as stored
		elems, err := withBeacons.Elements()
		if err != nil {
			log.Fatal(err)
		}
		for _, e := range elems {
			if k := e.Key(); strings.HasPrefix(k, search.BeaconPrefix) || k == search.VersionTag {
				set = append(set, bson.E{Key: k, Value: e.Value()})
			}
		}
		filter := bson.D{{Key: "_id", Value: stored.Lookup("_id")}, {Key: "aws_dbe_foot", Value: stored.Lookup("aws_dbe_foot")}}
		if _, err := customers.Unprotected().UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: set}}); err != nil {
			log.Fatal(err)
		}
	}
	if err := cur.Err(); err != nil {
		log.Fatal(err)
	}
}
