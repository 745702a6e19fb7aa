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

// A branch key store over AWS, one branch key per tenant, and the
// hierarchical keyring reading it. (Needs AWS credentials; not run.)
func Example() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	store, err := keystore.New(dynamodb.NewFromConfig(cfg), kms.NewFromConfig(cfg), func(o *keystore.Options) {
		o.TableName = "KeyStoreTable"
		o.LogicalName = "KeyStoreTable"
		o.KMS = keystore.KeyARN("arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := store.CreateKeyStore(ctx); err != nil {
		log.Fatal(err)
	}
	id, err := store.CreateKey(ctx, keystore.CreateKeyInput{})
	if err != nil {
		log.Fatal(err)
	}
	kr, err := hierarchy.New(store, func(o *hierarchy.Options) { o.BranchKeyID = id })
	if err != nil {
		log.Fatal(err)
	}
	_ = keyring.NewDefaultManager(kr) // the materials manager of a DB-ESDK table

	// Later: rotate. Items wrapped under older versions still decrypt.
	if err := store.VersionKey(ctx, id); err != nil {
		log.Fatal(err)
	}
}
