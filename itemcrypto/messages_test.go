package itemcrypto_test

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/cmptest"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// TestErrorMessages pins the messages a user sees: one package prefix, the
// attribute named, what is missing said when it is no secret.
func TestErrorMessages(t *testing.T) {
	ctx := context.Background()
	pol := actions.Must(actions.Options{Default: actions.EncryptAndSign, PartitionKey: "pk", SortKey: "sk"})
	enc, err := itemcrypto.New(itemcrypto.Config{TableName: "t", Policy: pol, Provider: cmptest.NewFakeProvider("m")})
	if err != nil {
		t.Fatal(err)
	}
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	plain := itemcrypto.Item{"pk": s("a"), "sk": s("b"), "card": s("4111")}
	stored, err := enc.Encrypt(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	noSig := maps.Clone(stored)
	delete(noSig, itemcrypto.SignatureAttribute)
	for _, tc := range []struct {
		name   string
		call   func() error
		want   string
		wantIs []error
	}{
		{"missing key", func() error { _, err := enc.Encrypt(ctx, itemcrypto.Item{"pk": s("a")}); return err },
			`itemcrypto: attribute "sk" (SignOnly): key attribute missing`, []error{itemcrypto.ErrMissingKeyAttribute}},
		{"plaintext item", func() error { _, err := enc.Decrypt(ctx, plain); return err },
			"itemcrypto: item authentication failed: not an encrypted item (it has no *amzn-ddb-map-sig* and no *amzn-ddb-map-desc* attribute)",
			[]error{itemcrypto.ErrAuthentication, itemcrypto.ErrNotEncrypted}},
		{"signature dropped", func() error { _, err := enc.Decrypt(ctx, noSig); return err },
			"itemcrypto: item authentication failed: the item has no signature (no binary *amzn-ddb-map-sig* attribute)",
			[]error{itemcrypto.ErrAuthentication, itemcrypto.ErrNoSignature}},
	} {
		err := tc.call()
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: err = %v;\nwant %s", tc.name, err, tc.want)
		}
		for _, target := range tc.wantIs {
			if !errors.Is(err, target) {
				t.Errorf("%s: err does not match %v", tc.name, target)
			}
		}
	}
}
