package main

import (
	"context"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyfile"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// TestKeygenFileFromGo: what the CLI encrypts with a keygen file, a Go
// program decrypts with keyfile.Load of the same file.
func TestKeygenFileFromGo(t *testing.T) {
	path := keygen(t, "aes-hmac")
	code, stored, errOut := runCLI(t, `{"pk": {"S": "a"}, "secret": {"S": "s3cr3t"}}`,
		"encrypt", "--table", "t", "--partition-key", "pk", "--no-sort-key", "--keys", path)
	if code != 0 {
		t.Fatalf("encrypt: %s", errOut)
	}
	keys, err := keyfile.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := keys.Provider(keyfile.Wrapped)
	if err != nil {
		t.Fatal(err)
	}
	pol := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "pk"})
	enc, err := itemcrypto.New(itemcrypto.Config{TableName: "t", Policy: pol, Provider: p})
	if err != nil {
		t.Fatal(err)
	}
	item, err := ddbjson.UnmarshalItem([]byte(stored))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := enc.Decrypt(context.Background(), item)
	if err != nil {
		t.Fatalf("Go decrypt of the CLI's item: %v", err)
	}
	if got, _ := ddbjson.MarshalItem(plain); string(got) != `{"pk":{"S":"a"},"secret":{"S":"s3cr3t"}}` {
		t.Errorf("decrypted %s", got)
	}
}
