package mapenc

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

type dbesdkOrder struct {
	ID     string `dynamodbav:"id" itemcrypto:"partition"`
	Card   string `dynamodbav:"card"`
	Amount int    `dynamodbav:"amount" itemcrypto:"sign"`
	Note   string `dynamodbav:"note" itemcrypto:"nothing"`
}

// TestDBESDKCodec: maps, structs and the JSON form in the DB-ESDK format.
func TestDBESDKCodec(t *testing.T) {
	kr, err := keyring.NewRawAES("mapenc", "k1", bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{TableName: testTable, Default: actions.EncryptAndSign, PartitionKey: "id",
		Format: itemcrypto.FormatDBESDK, DBESDK: &itemcrypto.DBESDKConfig{Keyring: kr, AllowedUnsigned: []string{"note"}}}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in := dbesdkOrder{ID: "o-1", Card: "4111", Amount: 12, Note: "free"}
	stored, err := c.Encrypt(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := stored["aws_dbe_head"].(*types.AttributeValueMemberB); !ok {
		t.Fatalf("no aws_dbe_head in %v", stored)
	}
	if _, ok := stored["card"].(*types.AttributeValueMemberB); !ok {
		t.Fatal("card not encrypted")
	}
	var out dbesdkOrder
	if err := c.Decrypt(ctx, stored, &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Fatalf("round trip %+v, want %+v", out, in)
	}
	js, err := c.EncryptJSON(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	out = dbesdkOrder{}
	if err := c.DecryptJSON(ctx, js, &out); err != nil || out != in {
		t.Fatalf("JSON round trip %+v, %v", out, err)
	}
}
