// Package testenv gives integration tests the real servers that
// scripts/test starts (see scripts/servers.sh): dynalite for the DynamoDB
// API and FerretDB for the MongoDB wire protocol. It is for _test.go files
// of this module only; nothing in the library imports it.
//
// Each server is found through an environment variable. When the variable
// is unset the test is skipped with a message on how to run it, except
// under CI=true, where a missing server fails the test: CI must never pass
// by silently skipping its integration tests.
package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	// DynamoDBEndpointEnv holds the DynamoDB-API endpoint, e.g. http://127.0.0.1:4567.
	DynamoDBEndpointEnv = "ITEMCRYPTO_DYNAMODB_ENDPOINT"
	// MongoURIEnv holds the MongoDB connection string, e.g. mongodb://127.0.0.1:27017/.
	MongoURIEnv = "ITEMCRYPTO_MONGODB_URI"
)

// lookup returns the value of env, or ends the test: Fatal under CI=true,
// Skip otherwise.
func lookup(t testing.TB, env, server string) string {
	t.Helper()
	if v := os.Getenv(env); v != "" {
		return v
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing under CI=true: the %s integration tests must run in CI; "+
			"scripts/test starts %s and sets it (see scripts/servers.sh)", env, server, server)
	}
	t.Skipf("%s not set: skipping the %s integration test; run ./scripts/test, which starts %s, "+
		"or start it yourself (source scripts/servers.sh) and set %s", env, server, server, env)
	return ""
}

// DynamoDBEndpoint returns $ITEMCRYPTO_DYNAMODB_ENDPOINT (dynalite, started
// by scripts/test). See the package comment for what happens when it is unset.
func DynamoDBEndpoint(t testing.TB) string {
	t.Helper()
	return lookup(t, DynamoDBEndpointEnv, "dynalite")
}

// MongoURI returns $ITEMCRYPTO_MONGODB_URI (FerretDB, started by
// scripts/test). See the package comment for what happens when it is unset.
func MongoURI(t testing.TB) string {
	t.Helper()
	return lookup(t, MongoURIEnv, "FerretDB")
}

// DynamoDBClient returns an SDK client for DynamoDBEndpoint, with dummy
// static credentials (dynalite checks that requests are signed, not by whom)
// and region us-east-1. The SDK's defaults — response CRC32 validation,
// gzip off, endpoint discovery off — all work against dynalite.
func DynamoDBClient(t testing.TB) *dynamodb.Client {
	t.Helper()
	endpoint := DynamoDBEndpoint(t)
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("fake", "fake", ""),
		// Only loopback here: fail fast instead of backing off for long.
		RetryMaxAttempts: 3,
	})
}

// TableName returns a valid, unique DynamoDB table name derived from the
// test's name: characters outside [A-Za-z0-9_.-] become '_', and a random
// suffix keeps parallel and repeated tests apart.
func TableName(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, r := range t.Name() {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := b.String()
	const maxPrefix = 200 // table names are at most 255 characters
	if len(name) > maxPrefix {
		name = name[:maxPrefix]
	}
	return fmt.Sprintf("%s-%08x", name, rand.Uint32())
}

// NewTable creates a uniquely named on-demand table with the given key
// schema, waits until it is ACTIVE and deletes it when the test ends. The
// types are "S", "N" or "B". sortKey "" makes a table with a partition key
// only (skType is then ignored). It returns the table's name.
func NewTable(t testing.TB, c *dynamodb.Client, partitionKey, pkType, sortKey, skType string) string {
	t.Helper()
	name := TableName(t)
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(partitionKey), AttributeType: types.ScalarAttributeType(pkType)},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(partitionKey), KeyType: types.KeyTypeHash},
		},
	}
	if sortKey != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions,
			types.AttributeDefinition{AttributeName: aws.String(sortKey), AttributeType: types.ScalarAttributeType(skType)})
		in.KeySchema = append(in.KeySchema,
			types.KeySchemaElement{AttributeName: aws.String(sortKey), KeyType: types.KeyTypeRange})
	}

	return CreatedTable(t, c, name, func(ctx context.Context) error {
		_, err := c.CreateTable(ctx, in)
		return err
	})
}

// CreatedTable runs create (which must create table name), deletes the
// table when the test ends, and waits until it is ACTIVE.
func CreatedTable(t testing.TB, c *dynamodb.Client, name string, create func(context.Context) error) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := create(ctx); err != nil {
		t.Fatalf("testenv: creating table %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		var notFound *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &notFound) {
			t.Errorf("testenv: DeleteTable %s: %v", name, err)
		}
	})

	// The SDK's TableExistsWaiter waits at least 20 s between polls; dynalite
	// (started with --createTableMs 0) is ready at once, so poll briefly.
	for delay := 5 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatalf("testenv: DescribeTable %s: %v", name, err)
		}
		if out.Table.TableStatus == types.TableStatusActive {
			return name
		}
		select {
		case <-ctx.Done():
			t.Fatalf("testenv: table %s not ACTIVE in time (status %s)", name, out.Table.TableStatus)
		case <-time.After(delay):
		}
	}
}

// VectorsDir returns the DDBEC reference vectors directory: $ITEMCRYPTO_VECTORS,
// or ../shared/vectors/ddbec beside the repository. It fails the test when
// they are missing: the vector tests never skip.
func VectorsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("ITEMCRYPTO_VECTORS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0) // .../internal/testsupport/testenv/testenv.go
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared", "vectors", "ddbec")
	}
	if _, err := os.Stat(filepath.Join(dir, "encrypted_item", "scenarios.json")); err != nil {
		t.Fatalf("DDBEC vectors not found in %s (set ITEMCRYPTO_VECTORS to their directory): %v", dir, err)
	}
	return dir
}

// DBESDKVectorsDir returns the directory of the shared DB-ESDK vectors
// (decrypt_*.json, keys.json): $ITEMCRYPTO_DBESDK_VECTORS, or
// ../shared/vectors/dbesdk beside the repository. It fails the test when
// they are missing.
func DBESDKVectorsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("ITEMCRYPTO_DBESDK_VECTORS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared", "vectors", "dbesdk")
	}
	if _, err := os.Stat(filepath.Join(dir, "keys.json")); err != nil {
		t.Fatalf("DB-ESDK vectors not found in %s (set ITEMCRYPTO_DBESDK_VECTORS to their directory): %v", dir, err)
	}
	return dir
}

// DBESDKVector is one record of the shared DB-ESDK decrypt manifests.
type DBESDKVector struct {
	File, ID string
	// Encrypted holds the binary attributes of the stored item (B is nil
	// for the others), among them aws_dbe_head and aws_dbe_foot.
	Encrypted map[string]struct {
		B []byte `json:"B"`
	} `json:"encrypted"`
	// Plaintext is the expected item in the harness's simplified JSON.
	Plaintext json.RawMessage `json:"plaintext"`
}

// DBESDKVectors returns every record of the decrypt_*.json manifests in
// DBESDKVectorsDir, failing the test when there are none.
func DBESDKVectors(t testing.TB) []DBESDKVector {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(DBESDKVectorsDir(t), "decrypt_*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no DB-ESDK decrypt manifests (%v)", err)
	}
	var out []DBESDKVector
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Tests map[string]DBESDKVector `json:"tests"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, id := range slices.Sorted(maps.Keys(m.Tests)) {
			v := m.Tests[id]
			v.File, v.ID = filepath.Base(f), id
			out = append(out, v)
		}
	}
	return out
}
