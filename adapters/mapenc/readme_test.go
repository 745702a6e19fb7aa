package mapenc

import (
	"path/filepath"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
)

const (
	readmePath      = "../../README.md"
	anyStoreSection = "## Searchable fields in any store"
	anyStorePath    = "internal/anystore/main.go"
)

// TestREADMEAnyStoreProgram checks that the README's program for a store
// that is neither DynamoDB nor MongoDB is anystore/main.go, and runs it (it
// needs no server: its store is a file).
func TestREADMEAnyStoreProgram(t *testing.T) {
	testenv.CheckREADMEProgram(t, readmePath, anyStoreSection, anyStorePath)
	if testing.Short() {
		t.Skip("builds and runs a program")
	}
	testenv.RunProgram(t, filepath.Dir(anyStorePath), nil,
		"beacon fields: [aws_dbe_b_DeptLast aws_dbe_b_email aws_dbe_b_last]",
		"the file holds aws_dbe_b_email: true and no email: true",
		"found by email: Smithson",
		"in sales: [Jones Smith]",
	)
}
