package ddbattr_test

import (
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"

	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/dbe/ddbattr"
	"github.com/itemcrypto/go-itemcrypto/vectors"
)

// seedValues returns every attribute value of the plaintexts of the shared
// DB-ESDK decrypt manifests, plus one value of every type, nested.
func seedValues(t testing.TB) []types.AttributeValue {
	t.Helper()
	var vals []types.AttributeValue
	for _, v := range testenv.DBESDKVectors(t) {
		item, err := vectors.SimpleItem(v.Plaintext)
		if err != nil {
			t.Fatalf("%s/%s: %v", v.File, v.ID, err)
		}
		for _, av := range item {
			vals = append(vals, av)
		}
	}
	all := &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"s":    &types.AttributeValueMemberS{Value: "𐀂 ﹌"},
		"n":    &types.AttributeValueMemberN{Value: "-1.5E-3"},
		"b":    &types.AttributeValueMemberB{Value: []byte{0, 1, 2}},
		"ss":   &types.AttributeValueMemberSS{Value: []string{"b", "a", "𐀂"}},
		"ns":   &types.AttributeValueMemberNS{Value: []string{"10", "2", "-3"}},
		"bs":   &types.AttributeValueMemberBS{Value: [][]byte{{2}, {1}}},
		"bool": &types.AttributeValueMemberBOOL{Value: true},
		"null": &types.AttributeValueMemberNULL{Value: true},
		"l":    &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: ""}, &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}}},
	}}
	return append(vals, all, &types.AttributeValueMemberL{Value: []types.AttributeValue{all, all}})
}

// FuzzParse: Parse never panics, and what it accepts serializes again
// (Append) to bytes that parse to the same serialization: Parse and Append
// agree on every value Parse takes.
func FuzzParse(f *testing.F) {
	for _, v := range seedValues(f) {
		b, typ, err := ddbattr.Append(nil, v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(typ, b)
	}
	f.Fuzz(func(t *testing.T, typ uint16, b []byte) {
		v, err := ddbattr.Parse(typ, b)
		if err != nil {
			return
		}
		out, typ2, err := ddbattr.Append(nil, v)
		if err != nil {
			t.Fatalf("Append of a parsed value: %v", err)
		}
		if typ2 != typ {
			t.Fatalf("type id %#04x parsed to a value of type %#04x", typ, typ2)
		}
		v2, err := ddbattr.Parse(typ2, out)
		if err != nil {
			t.Fatalf("Parse of Append's output: %v", err)
		}
		out2, _, err := ddbattr.Append(nil, v2)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("serialization not stable: %x then %x (%v)", out, out2, err)
		}
	})
}

// What Append writes parses back to the same bytes exactly.
func TestParseAppendRoundTrip(t *testing.T) {
	for i, v := range seedValues(t) {
		b, typ, err := ddbattr.Append(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ddbattr.Parse(typ, b)
		if err != nil {
			t.Fatalf("value %d: %v", i, err)
		}
		out, _, err := ddbattr.Append(nil, got)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("value %d does not round-trip (%v)", i, err)
		}
	}
}
