package metastore_test

import (
	"context"
	crand "crypto/rand"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/cmp/cmptest"
	"github.com/itemcrypto/go-itemcrypto/cmp/metastore"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
)

// TestConformanceDynamoDB runs the cmptest suite on a MostRecent provider
// over the DynamoDB store, against dynalite. It skips when
// ITEMCRYPTO_DYNAMODB_ENDPOINT is unset (and fails under CI=true).
func TestConformanceDynamoDB(t *testing.T) {
	client := testenv.DynamoDBClient(t)
	table := confMetaTable(t, client)

	// The meta items are protected by a Wrapped provider over fixed keys.
	kek := confMust(cmp.NewAESKey(confKey(t)))
	meta := confMust(cmp.NewWrapped(cmp.WrappedConfig{
		WrappingKey: kek, UnwrappingKey: kek, SigningKey: confMust(cmp.NewHMACKey("HmacSHA256", confKey(t))),
	}))
	newMostRecent := func(material string) func(t *testing.T) cmp.Provider {
		return func(t *testing.T) cmp.Provider {
			// A new store and a new provider per instance: all that they
			// share is the table and the meta keys.
			store := confMust(metastore.New(client, table, meta))
			return confMust(cmp.NewMostRecent(cmp.MostRecentConfig{Store: store, MaterialName: material, TTL: time.Minute}))
		}
	}
	cmptest.Run(t, newMostRecent("conformance"), func(o *cmptest.Options) {
		o.FreshKeyPerItem = true
		// Another material in the same table. Its items' amzn-ddb-meta-id
		// ("other#0") names the same version as ours ("conformance#0"), and
		// readers use only the version: the keys must still differ.
		o.Other = newMostRecent("other")
	})
}

// confMetaTable creates a uniquely named meta table, waits until it is
// ACTIVE and deletes it when the test ends.
func confMetaTable(t *testing.T, c *dynamodb.Client) string {
	t.Helper()
	name := testenv.TableName(t)
	return testenv.CreatedTable(t, c, name, func(ctx context.Context) error { return metastore.CreateTable(ctx, c, name) })
}

func confKey(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 32)
	if _, err := crand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// confMust returns v, and panics on error: the constructors here fail only
// on a bug of this file.
func confMust[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
