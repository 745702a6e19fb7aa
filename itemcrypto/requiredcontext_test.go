package itemcrypto_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/header"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

func requiredContextEncryptor(t *testing.T, table string, mm keyring.MaterialsManager) *itemcrypto.Encryptor {
	t.Helper()
	policy, err := actions.New(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "customer_id", SortKey: "created"})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := itemcrypto.New(itemcrypto.Config{
		TableName: table, Policy: policy, Format: itemcrypto.FormatDBESDK,
		DBESDK: &itemcrypto.DBESDKConfig{MaterialsManager: mm},
	})
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// A required key must be in the item encryptor's context; it is never
// stored in the header: the reader rebuilds it from its configuration.
func TestRequiredContextManagerItems(t *testing.T) {
	kr, err := keyring.NewRawAES("ns", "k", bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	mm, err := keyring.NewRequiredContextManager(keyring.NewDefaultManager(kr), []string{"aws-crypto-table-name"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	enc := requiredContextEncryptor(t, "customers", mm)
	stored, err := enc.Encrypt(ctx, exampleItem())
	if err != nil {
		t.Fatal(err)
	}
	h, err := header.Parse(stored["aws_dbe_head"].(*types.AttributeValueMemberB).Value)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.Context["aws-crypto-table-name"]; ok {
		t.Fatalf("required key stored in the header: %v", h.Context)
	}
	// The DB-ESDK item encryptor already reproduces its whole context:
	// the header keeps the signing public key only.
	if _, ok := h.Context[keyring.PublicKeyContextKey]; !ok || len(h.Context) != 1 {
		t.Fatalf("header context %v", h.Context)
	}
	if _, err := enc.Decrypt(ctx, stored); err != nil {
		t.Fatal(err)
	}
	// The same item, read as another table's: the table name is part of
	// the wrapping context, so it does not decrypt.
	other := requiredContextEncryptor(t, "suppliers", mm)
	if _, err := other.Decrypt(ctx, stored); !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Fatalf("other table: %v", err)
	}
	// A context without the required key is refused on encrypt.
	mm2, err := keyring.NewRequiredContextManager(keyring.NewDefaultManager(kr), []string{"tenant"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := requiredContextEncryptor(t, "customers", mm2).Encrypt(ctx, exampleItem()); !errors.Is(err, keyring.ErrRequiredContext) {
		t.Fatalf("missing required key: %v", err)
	}
}

// The manager enforces the writers' configuration: with
// "aws-crypto-attr.email" required, an encryptor that includes "email" in
// the context (SIGN_AND_INCLUDE_IN_ENCRYPTION_CONTEXT) writes and reads,
// and one that only signs it is refused.
func TestRequiredContextManagerAttribute(t *testing.T) {
	kr, err := keyring.NewRawAES("ns", "k", bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	mm, err := keyring.NewRequiredContextManager(keyring.NewDefaultManager(kr), []string{"aws-crypto-attr.email"})
	if err != nil {
		t.Fatal(err)
	}
	newEnc := func(emailAction actions.Action) *itemcrypto.Encryptor {
		policy, err := actions.New(actions.Options{
			Default: actions.EncryptAndSign, PartitionKey: "customer_id", SortKey: "created",
			Overrides: map[string]actions.Action{
				"email": emailAction,
				// The DB-ESDK: the keys too, once one attribute is.
				"customer_id": actions.SignAndIncludeInEncryptionContext,
				"created":     actions.SignAndIncludeInEncryptionContext,
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		enc, err := itemcrypto.New(itemcrypto.Config{
			TableName: "customers", Policy: policy, Format: itemcrypto.FormatDBESDK,
			DBESDK: &itemcrypto.DBESDKConfig{MaterialsManager: mm},
		})
		if err != nil {
			t.Fatal(err)
		}
		return enc
	}
	ctx := context.Background()
	enc := newEnc(actions.SignAndIncludeInEncryptionContext)
	stored, err := enc.Encrypt(ctx, exampleItem())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Decrypt(ctx, stored); err != nil {
		t.Fatal(err)
	}
	if _, err := newEnc(actions.SignOnly).Encrypt(ctx, exampleItem()); !errors.Is(err, keyring.ErrRequiredContext) {
		t.Fatalf("email not in the context: %v", err)
	}
}
