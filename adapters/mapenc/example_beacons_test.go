package mapenc_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/mapenc"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// A store that is neither DynamoDB nor MongoDB, here a map from beacon
// value to documents (an index, as a Redis set or an SQL column would be):
// Beacons gives the fields to index when writing, Term the values to look
// up when querying, DecryptMatch drops the candidates that only share the
// (deliberately short) beacon.
func ExampleCodec_Term() {
	ctx := context.Background()
	// Fixed keys for a reproducible example; real branch keys come from a
	// keystore.Store.
	branch, err := hierarchy.NewBranchKey("users", "00000000-0000-4000-8000-000000000001", bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32))
	if err != nil {
		log.Fatal(err)
	}
	keyring, err := hierarchy.New(hierarchy.NewStatic(branch), func(o *hierarchy.Options) { o.BranchKeyID = "users" })
	if err != nil {
		log.Fatal(err)
	}
	beaconKeys, err := search.NewStaticKeys(branch)
	if err != nil {
		log.Fatal(err)
	}
	codec, err := mapenc.New(mapenc.Config{
		TableName: "redis:users", Default: actions.EncryptAndSign, PartitionKey: "id",
		Format: itemcrypto.FormatDBESDK, DBESDK: &itemcrypto.DBESDKConfig{Keyring: keyring},
		Search: &search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
			Version: 1, KeyStore: beaconKeys,
			KeySource:       search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "users", CacheTTL: time.Hour}},
			StandardBeacons: []search.StandardBeacon{{Name: "email", Length: 1}}, // 1 bit: collisions for the example
		}}},
	})
	if err != nil {
		log.Fatal(err)
	}

	index := map[string][]map[string]types.AttributeValue{} // beacon value → documents
	for i, email := range []string{"ann@example.com", "bob@example.com", "cy@example.com", "dee@example.com"} {
		stored, err := codec.EncryptMap(ctx, map[string]any{"id": fmt.Sprint(i), "email": email})
		if err != nil {
			log.Fatal(err)
		}
		b := codec.Beacons(stored)["aws_dbe_b_email"][0]
		index[b] = append(index[b], stored)
	}

	term, err := codec.Term(ctx, "email", search.Equals, "cy@example.com")
	if err != nil {
		log.Fatal(err)
	}
	candidates := 0
	for _, v := range term.Values {
		for _, stored := range index[v] {
			candidates++
			var user map[string]any
			ok, err := codec.DecryptMatch(ctx, stored, term, &user)
			if err != nil {
				log.Fatal(err)
			}
			if ok {
				fmt.Println("found:", user["id"], user["email"])
			}
		}
	}
	fmt.Println(term.Attribute, "candidates > 1:", candidates > 1)
	// Output:
	// found: 2 cy@example.com
	// aws_dbe_b_email candidates > 1: true
}
