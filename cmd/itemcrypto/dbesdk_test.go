package main

import (
	"strings"
	"testing"
)

// TestCryptDBESDK: keygen's files encrypt and decrypt items in the DB-ESDK
// format (raw AES over an aes-hmac file, raw RSA over an rsa file), and a
// reader of the other format, key name or table refuses them.
func TestCryptDBESDK(t *testing.T) {
	item := `{"id": {"S": "a-1"}, "secret": {"S": "PLAINTEXT-secret"}, "email": {"S": "x@example.com"}, "views": {"N": "3"}}`
	for _, typ := range []string{"aes-hmac", "rsa"} {
		keys := keygen(t, typ)
		common := []string{"--table", "t", "--partition-key", "id", "--no-sort-key", "--keys", keys,
			"--sign", "email", "--nothing", "views", "--format", "dbesdk"}
		code, stored, errOut := runCLI(t, item, append([]string{"encrypt"}, common...)...)
		if code != 0 {
			t.Fatalf("%s: encrypt: %d %s", typ, code, errOut)
		}
		if !strings.Contains(stored, "aws_dbe_head") || !strings.Contains(stored, "aws_dbe_foot") || strings.Contains(stored, "PLAINTEXT-secret") {
			t.Fatalf("%s: stored item %s", typ, stored)
		}
		code, plain, errOut := runCLI(t, stored, append([]string{"decrypt"}, common...)...)
		if code != 0 || !strings.Contains(plain, "PLAINTEXT-secret") || strings.Contains(plain, "aws_dbe") {
			t.Fatalf("%s: decrypt: %d %s %s", typ, code, plain, errOut)
		}
		for what, args := range map[string][]string{
			"other key name": append(append([]string{}, common...), "--key-name", "other"),
			"other table":    append(append([]string{}, common...), "--table", "t2"),
			"DDBEC reader":   append(append([]string{}, common...), "--format", "ddbec"),
		} {
			if code, _, _ := runCLI(t, stored, append([]string{"decrypt"}, args...)...); code == 0 {
				t.Errorf("%s: %s decrypted a DB-ESDK item", typ, what)
			}
		}
	}
	if code, _, errOut := runCLI(t, item, "encrypt", "--table", "t", "--partition-key", "id", "--no-sort-key", "--keys", keygen(t, "aes-hmac"), "--format", "nope"); code == 0 || !strings.Contains(errOut, "--format") {
		t.Errorf("--format nope: %d %s", code, errOut)
	}
}
