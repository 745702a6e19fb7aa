package streams

import (
	"path/filepath"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
)

const (
	readmePath    = "../../../README.md"
	readmeSection = "## DynamoDB Streams and Lambda"
	handlerPath   = "internal/streamhandler/main.go"
)

// TestREADMEProgram checks that the README's Lambda handler is
// streamhandler/main.go, and runs it against the test server.
func TestREADMEProgram(t *testing.T) {
	testenv.CheckREADMEProgram(t, readmePath, readmeSection, handlerPath)
	endpoint := testenv.DynamoDBEndpoint(t)
	if testing.Short() {
		t.Skip("builds and runs a program")
	}
	testenv.RunProgram(t, filepath.Dir(handlerPath), []string{"DYNAMODB_ENDPOINT=" + endpoint, "AWS_LAMBDA_RUNTIME_API="},
		"stored card: 48 bytes of ciphertext",
		"INSERT 1: card 4111 1111 1111 1111",
		"INSERT 2: card 5500 0000 0000 0004",
		"MODIFY 1: card 3400 0000 0000 009",
		`not verified: streams: table "orders" record "event-4" (REMOVE) key id: OldImage: itemcrypto: item authentication failed`,
		"batch item failure: sequence number 400000000000000000000",
	)
}
