package dynamodbenc

import (
	"path/filepath"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
)

const (
	readmePath     = "../../README.md"
	readmeSection  = "## Switching an existing DynamoDB data layer to encrypted items"
	quickstartPath = "internal/quickstart/main.go"
)

// TestREADMEProgram checks that the README's program is quickstart/main.go.
func TestREADMEProgram(t *testing.T) {
	testenv.CheckREADMEProgram(t, readmePath, readmeSection, quickstartPath)
}

// TestREADMEProgramRuns runs the README's program against the test server
// and checks the output the README shows.
func TestREADMEProgramRuns(t *testing.T) {
	endpoint := testenv.DynamoDBEndpoint(t)
	if testing.Short() {
		t.Skip("builds and runs a program")
	}
	testenv.RunProgram(t, filepath.Dir(quickstartPath), []string{"DYNAMODB_ENDPOINT=" + endpoint},
		"stored card: 48 bytes of ciphertext",
		"decrypted card: 4111 1111 1111 1111",
		"decrypted card: 5500 0000 0000 0004",
		"decrypted card: 3400 0000 0000 009",
		"filter on an encrypted attribute refused: true",
	)
}

const (
	beaconsSection = "## Searchable encryption (beacons)"
	beaconsPath    = "internal/beacons/main.go"
)

// TestREADMEBeaconsProgram checks that the README's beacon program is
// beacons/main.go, and runs it against the test server.
func TestREADMEBeaconsProgram(t *testing.T) {
	testenv.CheckREADMEProgram(t, readmePath, beaconsSection, beaconsPath)
	endpoint := testenv.DynamoDBEndpoint(t)
	if testing.Short() {
		t.Skip("builds and runs a program")
	}
	testenv.RunProgram(t, filepath.Dir(beaconsPath), []string{"DYNAMODB_ENDPOINT=" + endpoint},
		"stored email: 33 bytes of ciphertext; its beacon: 1 hex digit",
		"found by email: Smithson",
		"last names starting with smi: [Smith Smithson]",
		"filter on an encrypted attribute without a beacon refused: true",
	)
}
