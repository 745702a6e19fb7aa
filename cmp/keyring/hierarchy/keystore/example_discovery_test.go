package keystore_test

import (
	"context"
	"log"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy/keystore"
)

// A read-only client of a key store: Discovery reads branch keys under
// whatever KMS key their item names (the client's credentials must still
// be allowed to decrypt with it), and cannot create or version keys. A
// hierarchical keyring over it reads items wrapped under any branch key of
// the store: each item names its own. (Needs AWS credentials; not run.)
func ExampleDiscovery() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	store, err := keystore.New(dynamodb.NewFromConfig(cfg), kms.NewFromConfig(cfg), func(o *keystore.Options) {
		o.TableName = "KeyStoreTable"
		o.LogicalName = "KeyStoreTable" // the writers' logical name
		o.KMS = keystore.Discovery()    // or keystore.MRDiscovery("eu-west-1") for a multi-Region key's replica
	})
	if err != nil {
		log.Fatal(err)
	}
	kr, err := hierarchy.New(store, func(o *hierarchy.Options) {
		o.BranchKeyID = "tenant-42" // for writing; reading takes the id from the item
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = keyring.NewDefaultManager(kr) // the materials manager of a DB-ESDK reader
}
