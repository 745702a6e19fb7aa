package search_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/search"
)

// A store that is not DynamoDB (SQL, a key-value store, a file) stores the
// beacon attributes EncryptedBeacons returns beside the encrypted item, and
// answers a query with Term: compare the stored attribute with the term's
// values, decrypt the candidates, keep those Keep accepts.
func ExampleSearch_Term() {
	// In production the beacon key comes from the branch key store.
	bk, err := hierarchy.NewBranchKey("tenant-key", "00000000-0000-4000-8000-000000000000",
		make([]byte, 32), bytes.Repeat([]byte{7}, 32))
	if err != nil {
		panic(err)
	}
	keys, err := search.NewStaticKeys(bk)
	if err != nil {
		panic(err)
	}
	policy := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "id"})
	sr, err := search.New(search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
		Version: 1, KeyStore: keys,
		KeySource:       search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "tenant-key", CacheTTL: time.Hour}},
		StandardBeacons: []search.StandardBeacon{{Name: "email", Length: 8}},
	}}}, policy)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	// Writing: the beacon stored beside the encrypted item.
	ann := search.Item{"id": &types.AttributeValueMemberS{Value: "1"}, "email": &types.AttributeValueMemberS{Value: "ann@example.com"}}
	beacons, err := sr.EncryptedBeacons(ctx, ann, nil)
	if err != nil {
		panic(err)
	}
	stored := beacons["aws_dbe_b_email"].(*types.AttributeValueMemberS).Value

	// Querying: WHERE aws_dbe_b_email IN (term.Values), then Keep.
	term, err := sr.Term(ctx, search.TermQuery{Beacon: "email", Value: &types.AttributeValueMemberS{Value: "ann@example.com"}})
	if err != nil {
		panic(err)
	}
	fmt.Println(term.Attribute, term.Values[0] == stored)
	bob := search.Item{"id": &types.AttributeValueMemberS{Value: "2"}, "email": &types.AttributeValueMemberS{Value: "bob@example.com"}}
	keepAnn, _ := term.Keep(ann)
	keepBob, _ := term.Keep(bob) // a collision of the 8-bit beacon would be dropped here
	fmt.Println(keepAnn, keepBob)
	// Output:
	// aws_dbe_b_email true
	// true false
}

// BeaconIdentity tells two configurations apart by the beacons they write:
// the same beacons under another beacon key (or another length) give
// another identity.
func ExampleSearch_BeaconIdentity() {
	policy := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "id"})
	newSearch := func(beaconKey byte, length int) *search.Search {
		// In production the beacon key comes from the branch key store.
		bk, err := search.NewBeaconKey("beacon-key", bytes.Repeat([]byte{beaconKey}, 32))
		if err != nil {
			panic(err)
		}
		s, err := search.New(search.Config{WriteVersion: 1, Versions: []search.BeaconVersion{{
			Version: 1, KeyStore: bk,
			KeySource:       search.KeySource{Single: &search.SingleKeySource{BranchKeyID: "beacon-key", CacheTTL: time.Hour}},
			StandardBeacons: []search.StandardBeacon{{Name: "email", Length: length}},
		}}}, policy)
		if err != nil {
			panic(err)
		}
		return s
	}
	ctx := context.Background()
	id := func(s *search.Search) string {
		v, err := s.BeaconIdentity(ctx)
		if err != nil {
			panic(err)
		}
		return v
	}
	a := id(newSearch(1, 1))
	fmt.Println(a == id(newSearch(1, 1)), a == id(newSearch(2, 1)), a == id(newSearch(1, 2)))
	// Output: true false false
}
