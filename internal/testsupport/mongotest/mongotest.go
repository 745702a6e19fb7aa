// Package mongotest gives integration tests a MongoDB client for the
// MongoDB-wire-compatible server that scripts/test starts (FerretDB v1 with
// SQLite, see scripts/ferretdb.sh and internal/testdb). It is for _test.go
// files of this module only; nothing in the library imports it.
//
// The server is found through ITEMCRYPTO_MONGODB_URI (testenv.MongoURI):
// unset, the test is skipped with a how-to message, except under CI=true,
// where it fails.
//
// The server is FerretDB v1, not MongoDB: see mongotest_test.go for what it
// round-trips faithfully and what it does not.
package mongotest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
)

// Database is the database that Collection creates its collections in.
const Database = "itemcrypto_test"

// Client connects to $ITEMCRYPTO_MONGODB_URI, pings the server and
// disconnects when the test ends. Unset: Skip, or Fatal under CI=true.
func Client(t testing.TB) *mongo.Client {
	t.Helper()
	uri := testenv.MongoURI(t)

	opts := options.Client().ApplyURI(uri).
		// Loopback only: fail fast instead of waiting 30 s for a server.
		SetServerSelectionTimeout(10 * time.Second).
		SetConnectTimeout(5 * time.Second)
	client, err := mongo.Connect(opts)
	if err != nil {
		t.Fatalf("mongotest: connect to %s: %v", uri, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := client.Disconnect(ctx); err != nil {
			t.Errorf("mongotest: disconnect: %v", err)
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.Ping(ctx, readpref.Primary()); err != nil {
		t.Fatalf("mongotest: ping %s: %v (is the server from scripts/ferretdb.sh still running?)", uri, err)
	}
	return client
}

// CollectionName returns a valid, unique collection name derived from the
// test's name: characters outside [A-Za-z0-9_-] become '_', and a random
// suffix keeps parallel and repeated tests apart.
func CollectionName(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, r := range t.Name() {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := b.String()
	// FerretDB v1 limits collection names to 235 bytes; MongoDB's namespace
	// limit is 255 including the database name.
	const maxPrefix = 100
	if len(name) > maxPrefix {
		name = name[:maxPrefix]
	}
	return fmt.Sprintf("%s_%08x", name, rand.Uint32())
}

// Collection returns a uniquely named, new collection in database
// "itemcrypto_test", dropped when the test ends.
func Collection(t testing.TB, client *mongo.Client) *mongo.Collection {
	t.Helper()
	coll := client.Database(Database).Collection(CollectionName(t))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := coll.Drop(ctx); err != nil {
			t.Errorf("mongotest: drop collection %s: %v", coll.Name(), err)
		}
	})
	return coll
}
