package hierarchy_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring/hierarchy"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// exampleEncryptor is the item encryptor of the examples: the DB-ESDK
// format over table "customers", every attribute but the primary key
// encrypted, the data keys from kr.
func exampleEncryptor(kr keyring.Keyring) *itemcrypto.Encryptor {
	policy, err := actions.New(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "customer_id", SortKey: "created"})
	if err != nil {
		log.Fatal(err)
	}
	enc, err := itemcrypto.New(itemcrypto.Config{
		TableName: "customers", Policy: policy, Format: itemcrypto.FormatDBESDK,
		DBESDK: &itemcrypto.DBESDKConfig{Keyring: kr},
	})
	if err != nil {
		log.Fatal(err)
	}
	return enc
}

func exampleItem(id, card string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"customer_id": &types.AttributeValueMemberS{Value: id},
		"created":     &types.AttributeValueMemberN{Value: "1700000000"},
		"card":        &types.AttributeValueMemberS{Value: card},
	}
}

// A hierarchical keyring over one fixed branch key (hierarchy.NewStatic);
// in production the Source is the DynamoDB branch key store
// (cmp/keyring/hierarchy/keystore), whose branch keys are encrypted under
// AWS KMS.
func ExampleNew() {
	// Real programs never hold a branch key in their source: it comes from
	// the key store.
	bk, err := hierarchy.NewBranchKey("tenant-42", "6f1c8f8e-2b0a-4c7e-9a55-0d4b1f3e2a10", bytes.Repeat([]byte{0x05}, 32), nil)
	if err != nil {
		log.Fatal(err)
	}
	kr, err := hierarchy.New(hierarchy.NewStatic(bk), func(o *hierarchy.Options) { o.BranchKeyID = "tenant-42" })
	if err != nil {
		log.Fatal(err)
	}
	enc := exampleEncryptor(kr)
	ctx := context.Background()
	stored, err := enc.Encrypt(ctx, exampleItem("c-1001", "4111 1111 1111 1111"))
	if err != nil {
		log.Fatal(err)
	}
	descs, err := itemcrypto.DescribeEncryptedDataKeys(stored)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrapped under branch key", descs[0].BranchKeyID, "version", descs[0].BranchKeyVersion)
	plain, err := enc.Decrypt(ctx, stored)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("card:", plain["card"].(*types.AttributeValueMemberS).Value)
	// Output:
	// wrapped under branch key tenant-42 version 6f1c8f8e-2b0a-4c7e-9a55-0d4b1f3e2a10
	// card: 4111 1111 1111 1111
}

// countingSource counts the reads that reach the branch key store.
type countingSource struct {
	hierarchy.Source
	reads atomic.Int64
}

func (c *countingSource) ActiveBranchKey(ctx context.Context, id string) (*hierarchy.BranchKey, error) {
	c.reads.Add(1)
	return c.Source.ActiveBranchKey(ctx, id)
}

func (c *countingSource) BranchKeyVersion(ctx context.Context, id, version string) (*hierarchy.BranchKey, error) {
	c.reads.Add(1)
	return c.Source.BranchKeyVersion(ctx, id, version)
}

// One branch key cache shared by two keyrings (two tables' encryptors, say)
// over one key store: with the same PartitionID and logical key store
// name, a branch key one keyring read serves the other, so the second
// keyring's first item reads nothing from the store.
func ExampleNewSharedCache() {
	bk, err := hierarchy.NewBranchKey("tenant-42", "6f1c8f8e-2b0a-4c7e-9a55-0d4b1f3e2a10", bytes.Repeat([]byte{0x05}, 32), nil)
	if err != nil {
		log.Fatal(err)
	}
	store := &countingSource{Source: hierarchy.NewStatic(bk)}
	cache, err := hierarchy.NewSharedCache(100)
	if err != nil {
		log.Fatal(err)
	}
	newKeyring := func() *hierarchy.Keyring {
		kr, err := hierarchy.New(store, func(o *hierarchy.Options) {
			o.BranchKeyID = "tenant-42"
			o.Cache = cache
			o.PartitionID = "orders-service"        // the same on every keyring that shares entries
			o.LogicalKeyStoreName = "KeyStoreTable" // the key store's (keystore.Store sets it itself)
		})
		if err != nil {
			log.Fatal(err)
		}
		return kr
	}
	first, second := exampleEncryptor(newKeyring()), exampleEncryptor(newKeyring())
	ctx := context.Background()

	if _, err := first.Encrypt(ctx, exampleItem("c-1001", "4111 1111 1111 1111")); err != nil {
		log.Fatal(err)
	}
	fmt.Println("store reads after the first keyring's item:", store.reads.Load())
	stored, err := second.Encrypt(ctx, exampleItem("c-1002", "5500 0000 0000 0004"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("store reads after the second keyring's first item:", store.reads.Load())
	plain, err := first.Decrypt(ctx, stored)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("first keyring reads the second's item:", plain["card"].(*types.AttributeValueMemberS).Value)
	// Output:
	// store reads after the first keyring's item: 1
	// store reads after the second keyring's first item: 1
	// first keyring reads the second's item: 5500 0000 0000 0004
}
