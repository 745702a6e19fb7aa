package mongoenc

import (
	"path/filepath"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
)

const (
	readmePath     = "../../README.md"
	readmeSection  = "## MongoDB (mongoenc)"
	quickstartPath = "internal/quickstart/main.go"
)

// TestREADMEProgram checks that the README's program is quickstart/main.go.
func TestREADMEProgram(t *testing.T) {
	testenv.CheckREADMEProgram(t, readmePath, readmeSection, quickstartPath)
}

// TestREADMEProgramRuns runs the README's program against the test server
// and checks the output the README shows.
func TestREADMEProgramRuns(t *testing.T) {
	uri := testenv.MongoURI(t)
	if testing.Short() {
		t.Skip("builds and runs a program")
	}
	testenv.RunProgram(t, filepath.Dir(quickstartPath), []string{"MONGODB_URI=" + uri},
		"stored card: 48 bytes of ciphertext",
		"decrypted card: 4111 1111 1111 1111 ssn: 078-05-1120",
		"found: ada@example.com 4111 1111 1111 1111",
		"found: bob@example.com 5500 0000 0000 0004",
		"update of a signed field refused: true",
		"filter on an encrypted field refused: true",
		"tampered document detected: true true",
	)
}
