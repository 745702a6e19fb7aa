package mapenc_test

import (
	"errors"
	"maps"
	"reflect"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/adapters/mapenc"
)

type taggedCustomer struct {
	ID    string `dynamodbav:"id" itemcrypto:"partition"`
	At    int64  `dynamodbav:"at" itemcrypto:"sort"`
	SSN   string `dynamodbav:"ssn" itemcrypto:"encrypt"`
	Email string `itemcrypto:"sign"`
	Views int    `dynamodbav:"views" itemcrypto:"nothing"`
	Plain string `dynamodbav:"plain"`
}

// StructPolicy is the one reading of the tags, for the adapters that take
// attribute maps: the actions and key names it returns are those a Codec
// uses for the type.
func TestStructPolicy(t *testing.T) {
	got, err := mapenc.StructPolicy(reflect.TypeFor[*taggedCustomer](), actions.Options{Default: actions.SignOnly, Overrides: map[string]actions.Action{"extra": actions.DoNothing}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]actions.Action{"ssn": actions.EncryptAndSign, "Email": actions.SignOnly, "views": actions.DoNothing, "extra": actions.DoNothing}
	if got.Default != actions.SignOnly || got.PartitionKey != "id" || got.SortKey != "at" || !maps.Equal(got.Overrides, want) {
		t.Fatalf("StructPolicy = %+v, want Default SignOnly, keys id/at, overrides %v", got, want)
	}
	p, err := actions.New(got)
	if err != nil {
		t.Fatal(err)
	}
	if p.Action("ssn") != actions.EncryptAndSign || p.Action("plain") != actions.SignOnly {
		t.Fatalf("policy: ssn %v, plain %v", p.Action("ssn"), p.Action("plain"))
	}

	// A tag that contradicts the configuration is an error, never a choice.
	_, err = mapenc.StructPolicy(reflect.TypeFor[taggedCustomer](), actions.Options{Default: actions.SignOnly, Overrides: map[string]actions.Action{"ssn": actions.SignOnly}})
	var te *mapenc.TagError
	if !errors.As(err, &te) || !errors.Is(err, mapenc.ErrTagConflict) || te.Field != "SSN" {
		t.Fatalf("conflicting override: %v, want a TagError on SSN matching ErrTagConflict", err)
	}
	_, err = mapenc.StructPolicy(reflect.TypeFor[taggedCustomer](), actions.Options{Default: actions.SignOnly, PartitionKey: "other"})
	if !errors.Is(err, mapenc.ErrTagConflict) {
		t.Fatalf("conflicting partition key: %v", err)
	}
	type bad struct {
		X string `itemcrypto:"encrypt,sign"`
	}
	if _, err := mapenc.StructPolicy(reflect.TypeFor[bad](), actions.Options{Default: actions.SignOnly, NoPartitionKey: true}); !errors.Is(err, mapenc.ErrInvalidTag) {
		t.Fatalf("two actions in a tag: %v", err)
	}
	if _, err := mapenc.StructPolicy(reflect.TypeFor[string](), actions.Options{}); err == nil {
		t.Fatal("a non-struct type was accepted")
	}
	// Untagged: base as given.
	type plain struct{ A string }
	base := actions.Options{Default: actions.EncryptAndSign, PartitionKey: "A"}
	if got, err := mapenc.StructPolicy(reflect.TypeFor[plain](), base); err != nil || got.PartitionKey != "A" || got.Default != actions.EncryptAndSign {
		t.Fatalf("untagged: %+v %v", got, err)
	}
}
