package mapenc

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/cmptest"
)

// TestMissingDefaultRefused: a Config without Default is an error naming
// the setting, never a codec that stores plaintext.
func TestMissingDefaultRefused(t *testing.T) {
	_, err := New(Config{TableName: testTable, Provider: cmptest.NewFakeProvider("p"), PartitionKey: "id"})
	const want = "mapenc: Config.Default: default action not set (choose EncryptAndSign, SignOnly or DoNothing; most tables want EncryptAndSign)"
	if err == nil || err.Error() != want || !errors.Is(err, actions.ErrDefaultNotSet) {
		t.Fatalf("New without Default: err = %v;\nwant %s", err, want)
	}
	if _, err := For[Customer](Config{TableName: testTable, Provider: cmptest.NewFakeProvider("p")}); !errors.Is(err, actions.ErrDefaultNotSet) {
		t.Fatalf("For without Default: err = %v, want ErrDefaultNotSet", err)
	}
}

type unkeyed struct {
	ID   string `dynamodbav:"id"`
	Card string `dynamodbav:"card" itemcrypto:"encrypt"`
}

type untagged struct {
	ID   string `dynamodbav:"id"`
	Card string `dynamodbav:"card"`
}

// TestMissingPartitionKeyRefused: without a partition key named by the
// Config or a tag, nothing is written (the key would be encrypted), through
// every entry point, unless NoPartitionKey says there is none.
func TestMissingPartitionKeyRefused(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{Default: actions.EncryptAndSign})
	const wantMap = `mapenc: Config.PartitionKey: partition key not named (name it, tag a struct field itemcrypto:"partition", or set Config.NoPartitionKey if the items have none)`
	const wantStruct = `mapenc: type mapenc.unkeyed: partition key not named (tag a field itemcrypto:"partition", name it in Config.PartitionKey, or set Config.NoPartitionKey if the items have none)`
	item := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "a"}}
	calls := []struct {
		name string
		call func() error
		want string
	}{
		{"EncryptMap", func() error { _, err := c.EncryptMap(ctx, map[string]any{"id": "a"}); return err }, wantMap},
		{"DecryptMap", func() error { _, err := c.DecryptMap(ctx, item); return err }, wantMap},
		{"Encrypt item", func() error { _, err := c.Encrypt(ctx, item); return err }, wantMap},
		{"Encrypt map", func() error { _, err := c.Encrypt(ctx, map[string]any{"id": "a"}); return err }, wantMap},
		{"Encrypt untagged struct", func() error { _, err := c.Encrypt(ctx, untagged{ID: "a"}); return err }, wantMap},
		{"Encrypt struct without partition tag", func() error { _, err := c.Encrypt(ctx, unkeyed{ID: "a"}); return err }, wantStruct},
		{"EncryptJSON", func() error { _, err := c.EncryptJSON(ctx, unkeyed{ID: "a"}); return err }, wantStruct},
		{"Decrypt into struct", func() error { var u unkeyed; return c.Decrypt(ctx, item, &u) }, wantStruct},
		{"Decrypt into any", func() error { var v any; return c.Decrypt(ctx, item, &v) }, wantMap},
		{"Decrypt into item", func() error { var m map[string]types.AttributeValue; return c.Decrypt(ctx, item, &m) }, wantMap},
		{"Typed", func() error { _, err := Typed[unkeyed](c); return err }, wantStruct},
	}
	for _, tc := range calls {
		err := tc.call()
		if err == nil || err.Error() != tc.want || !errors.Is(err, actions.ErrPartitionKeyNotSet) {
			t.Errorf("%s: err = %v;\nwant %s", tc.name, err, tc.want)
		}
	}
	if c.Encryptor() != nil {
		t.Errorf("Encryptor() of a Config without partition key is not nil")
	}
	// A struct with a partition tag is fine with the same Codec.
	if _, err := c.Encrypt(ctx, sampleCustomer()); err != nil {
		t.Errorf("Encrypt of a struct with a partition tag: %v", err)
	}

	// Said explicitly: every attribute gets its action, id included.
	none := newCodec(t, Config{Default: actions.EncryptAndSign, NoPartitionKey: true})
	stored, err := none.EncryptMap(ctx, map[string]any{"id": "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := stored["id"].(*types.AttributeValueMemberB); !ok {
		t.Errorf("NoPartitionKey: id stored as %T, want ciphertext", stored["id"])
	}
	if _, err := none.Encrypt(ctx, unkeyed{ID: "a"}); err != nil {
		t.Errorf("NoPartitionKey, struct without partition tag: %v", err)
	}
	_, err = none.Encrypt(ctx, sampleCustomer())
	if !errors.Is(err, ErrTagConflict) {
		t.Errorf("NoPartitionKey, struct with a partition tag: err = %v, want ErrTagConflict", err)
	}
	if _, err := New(Config{TableName: testTable, Provider: cmptest.NewFakeProvider("p"), Default: actions.EncryptAndSign, NoPartitionKey: true, PartitionKey: "id"}); !errors.Is(err, actions.ErrInvalidPolicy) {
		t.Errorf("NoPartitionKey and PartitionKey: err = %v, want ErrInvalidPolicy", err)
	}
}
