package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
)

// TestKeyNamesRequired: without both key names (or --endpoint to read
// them), encrypt and decrypt refuse before reading any item, so that a key
// attribute is never encrypted by omission.
func TestKeyNamesRequired(t *testing.T) {
	keys := keygen(t, "aes-hmac")
	item := `{"pk": {"S": "a"}, "sk": {"N": "1"}}`
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no partition key", []string{"--table", "users"},
			"Error: --partition-key is not set: name the table's keys (--partition-key NAME, and --sort-key NAME or --no-sort-key), or give --endpoint URL to read them from DescribeTable\n"},
		{"no sort key", []string{"--table", "users", "--partition-key", "pk"},
			"Error: --sort-key is not set: give --sort-key NAME, or --no-sort-key if table users has none (or --endpoint URL to read it from DescribeTable)\n"},
		{"both", []string{"--table", "users", "--partition-key", "pk", "--sort-key", "sk", "--no-sort-key"},
			"Error: --sort-key and --no-sort-key contradict each other\n"},
	} {
		for _, cmd := range []string{"encrypt", "decrypt"} {
			args := append(append([]string{cmd}, tc.args...), "--keys", keys)
			code, out, errOut := runCLI(t, item, args...)
			if code != exitUsage || out != "" || errOut != tc.want {
				t.Errorf("%s %s: exit %d, stdout %q, stderr %q;\nwant 2, nothing, %q", cmd, tc.name, code, out, errOut, tc.want)
			}
		}
	}
}

// TestKeyNamesFromDescribeTable: with --endpoint the key names come from
// the table, and names given that contradict it are refused.
func TestKeyNamesFromDescribeTable(t *testing.T) {
	c := testenv.DynamoDBClient(t)
	table := testenv.NewTable(t, c, "id", "S", "n", "N")
	ep := testenv.DynamoDBEndpoint(t)
	keys := keygen(t, "aes-hmac")
	item := `{"id": {"S": "a"}, "n": {"N": "1"}, "card": {"S": "4111"}}`
	code, stored, errOut := runCLI(t, item, "encrypt", "--table", table, "--endpoint", ep, "--keys", keys)
	if code != 0 {
		t.Fatalf("encrypt with --endpoint: %s", errOut)
	}
	got, _ := parseOutput(t, stored)
	for name, want := range map[string]string{"id": "*types.AttributeValueMemberS", "n": "*types.AttributeValueMemberN", "card": "*types.AttributeValueMemberB"} {
		if typ := typeName(got[name]); typ != want {
			t.Errorf("stored %s is %s, want %s (keys from DescribeTable stay readable)", name, typ, want)
		}
	}
	// The same item decrypts with the key names spelled out.
	if code, _, errOut := runCLI(t, stored, "decrypt", "--table", table, "--partition-key", "id", "--sort-key", "n", "--keys", keys); code != 0 {
		t.Errorf("decrypt with explicit key names: %s", errOut)
	}
	code, _, errOut = runCLI(t, item, "encrypt", "--table", table, "--endpoint", ep, "--partition-key", "id", "--no-sort-key", "--keys", keys)
	want := `Error: table ` + table + ` has partition key "id" and sort key "n" (DescribeTable), but the flags name "id" and ""` + "\n"
	if code != exitUsage || errOut != want {
		t.Errorf("contradicting --no-sort-key: exit %d, stderr %q; want %q", code, errOut, want)
	}
	code, _, errOut = runCLI(t, item, "encrypt", "--table", table+"-missing", "--endpoint", ep, "--keys", keys)
	if code != exitServer || !strings.HasPrefix(errOut, "Error: DescribeTable "+table+"-missing (to learn its key names): ") {
		t.Errorf("missing table: exit %d, stderr %q", code, errOut)
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }
