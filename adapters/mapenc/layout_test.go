package mapenc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/cmp/cmptest"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// Struct layouts in which attributevalue would drop a value without a word.
type (
	twoTagsOneName struct {
		ID string `dynamodbav:"id"`
		A  string `dynamodbav:"x"`
		B  string `dynamodbav:"x"`
	}
	tagTakesFieldName struct {
		ID    string `dynamodbav:"id"`
		Name  string
		Other string `dynamodbav:"Name"`
	}
	layoutBase struct {
		ID      string `dynamodbav:"id"`
		Created string
	}
	shadowsPromoted struct {
		layoutBase
		Created string // hides layoutBase.Created
	}
	layoutA       struct{ X string }
	layoutB       struct{ X string }
	promotedTwice struct {
		ID string `dynamodbav:"id"`
		layoutA
		layoutB // X from both: attributevalue stores neither
	}
	layoutInner struct {
		P string `dynamodbav:"p"`
		Q string `dynamodbav:"p"`
	}
	nestedConflict struct {
		ID    string `dynamodbav:"id"`
		Items []*layoutInner
	}
	reservedName struct {
		ID  string `dynamodbav:"id"`
		Sig []byte `dynamodbav:"*amzn-ddb-map-sig*"`
	}
	// Fine: distinct names, a skipped duplicate, a time, a Marshaler.
	layoutOK struct {
		ID      string `dynamodbav:"id"`
		Amount  int
		Name    string
		NAME    string // another attribute name: DynamoDB names are case-sensitive
		Skipped string `dynamodbav:"-"`
		layoutBase2
		When time.Time
		Num  attributevalue.UnixTime
	}
	layoutBase2 struct{ Extra string }
)

func TestLayoutAmbiguityIsTagError(t *testing.T) {
	cfg := Config{TableName: testTable, Default: actions.EncryptAndSign, PartitionKey: "id", Provider: cmptest.NewFakeProvider("layout")}
	check := func(t *testing.T, err error, want error, field, attr string) {
		t.Helper()
		var te *TagError
		if !errors.As(err, &te) || !errors.Is(err, want) || te.Field != field || te.Attribute != attr {
			t.Fatalf("err = %v; want a *TagError for field %q, attribute %q, matching %v", err, field, attr, want)
		}
	}
	tests := []struct {
		name        string
		for_        func() error
		want        error
		field, attr string
	}{
		{"two tags, one name", func() error { _, err := For[twoTagsOneName](cfg); return err }, ErrDuplicateAttribute, "B", "x"},
		{"a tag takes a field's name", func() error { _, err := For[tagTakesFieldName](cfg); return err }, ErrDuplicateAttribute, "Other", "Name"},
		{"a field hides a promoted one", func() error { _, err := For[*shadowsPromoted](cfg); return err }, ErrDuplicateAttribute, "Created", "Created"},
		{"promoted from two embedded structs", func() error { _, err := For[promotedTwice](cfg); return err }, ErrDuplicateAttribute, "layoutB.X", "X"},
		{"inside a nested struct type", func() error { _, err := For[nestedConflict](cfg); return err }, ErrDuplicateAttribute, "Items.Q", "p"},
		{"reserved attribute name", func() error { _, err := For[reservedName](cfg); return err }, itemcrypto.ErrReservedAttribute, "Sig", "*amzn-ddb-map-sig*"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, tc.for_(), tc.want, tc.field, tc.attr)
		})
	}
	// The untyped Codec refuses the same types on every call.
	c := newCodec(t, cfg)
	_, err := c.Encrypt(context.Background(), twoTagsOneName{ID: "1", A: "a", B: "b"})
	check(t, err, ErrDuplicateAttribute, "B", "x")
	if err := c.Decrypt(context.Background(), map[string]types.AttributeValue{}, &promotedTwice{}); !errors.Is(err, ErrDuplicateAttribute) {
		t.Errorf("Decrypt into an ambiguous type = %v; want ErrDuplicateAttribute", err)
	}
	if !strings.Contains(err.Error(), `fields A and B both encode to attribute "x"`) {
		t.Errorf("message %q does not say which fields", err)
	}
	if _, err := For[layoutOK](cfg); err != nil {
		t.Errorf("For[layoutOK] = %v; want no error", err)
	}
}

// TestDecryptIgnoresCaseFoldedAttributes: an attribute that is no field's
// name but matches one case-insensitively ("amount" beside "Amount") is not
// decoded into that field: unsigned, it could otherwise overwrite the signed
// value.
func TestDecryptIgnoresCaseFoldedAttributes(t *testing.T) {
	ctx := context.Background()
	cfg := Config{TableName: testTable, Default: actions.DoNothing, PartitionKey: "id", Provider: cmptest.NewFakeProvider("layout"),
		Overrides: map[string]actions.Action{"Amount": actions.SignOnly}}
	tc, err := For[layoutOK](cfg)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := tc.Encrypt(ctx, layoutOK{ID: "1", Amount: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"amount", "AMOUNT", "aMoUnT"} {
		stored[name] = &types.AttributeValueMemberN{Value: "1000000"}
	}
	for range 20 { // map order is random: a race would show within a few runs
		got, err := tc.Decrypt(ctx, stored)
		if err != nil {
			t.Fatal(err)
		}
		if got.Amount != 10 {
			t.Fatalf("Amount = %d; an unsigned case-folded attribute overwrote the signed one", got.Amount)
		}
		var out layoutOK
		if err := tc.Codec().Decrypt(ctx, stored, &out); err != nil || out.Amount != 10 {
			t.Fatalf("Codec.Decrypt: Amount = %d, %v", out.Amount, err)
		}
	}
	// A case-folded attribute with no exact counterpart is not decoded
	// either: attribute names are case-sensitive.
	delete(stored, "Amount")
	if _, err := tc.Decrypt(ctx, stored); !errors.Is(err, itemcrypto.ErrAuthentication) {
		t.Fatalf("Decrypt without the signed attribute = %v; want ErrAuthentication", err)
	}
}
