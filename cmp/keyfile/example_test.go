package keyfile_test

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyfile"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// A Go program reads the key file that "itemcrypto keygen --out keys.json"
// wrote, and encrypts with it what the CLI decrypts (and the reverse).
func Example() {
	dir, _ := os.MkdirTemp("", "keyfile-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "keys.json")
	b, _ := keyfile.Generate("aes-hmac", crand.Reader) // what keygen writes
	if err := os.WriteFile(path, b, 0o600); err != nil {
		log.Fatal(err)
	}

	keys, err := keyfile.Load(path, func(o *keyfile.Options) { o.Warn = os.Stderr })
	if err != nil {
		log.Fatal(err)
	}
	provider, err := keys.Provider(keyfile.Wrapped) // as itemcrypto encrypt --provider wrapped
	if err != nil {
		log.Fatal(err)
	}
	policy, err := actions.New(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "customer_id"})
	if err != nil {
		log.Fatal(err)
	}
	enc, err := itemcrypto.New(itemcrypto.Config{TableName: "customers", Policy: policy, Provider: provider})
	if err != nil {
		log.Fatal(err)
	}
	stored, err := enc.Encrypt(context.Background(), itemcrypto.Item{
		"customer_id": &types.AttributeValueMemberS{Value: "c-1001"},
		"card":        &types.AttributeValueMemberS{Value: "4111 1111 1111 1111"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s, card %T\n", keys, stored["card"])
	// Output: keyfile.Keys(aes-hmac, redacted), card *types.AttributeValueMemberB
}
