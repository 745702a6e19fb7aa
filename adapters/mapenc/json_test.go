package mapenc

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// allTypes holds each of DynamoDB's ten types, edge cases included.
func allTypes() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"s":       &types.AttributeValueMemberS{Value: "héllo <&> \"q\" \\ \u2028 \U0001F600"},
		"s_empty": &types.AttributeValueMemberS{Value: ""},
		"n":       &types.AttributeValueMemberN{Value: "-123456789012345678901234567890.00000001e-5"}, // 38 digits, DynamoDB's most
		"b":       &types.AttributeValueMemberB{Value: []byte{0, 0xff, 0xfe, '"', '\\'}},
		"b_empty": &types.AttributeValueMemberB{Value: []byte{}},
		"bool":    &types.AttributeValueMemberBOOL{Value: false},
		"null":    &types.AttributeValueMemberNULL{Value: true},
		"ss":      &types.AttributeValueMemberSS{Value: []string{"b", "a", "ü"}},
		"ns":      &types.AttributeValueMemberNS{Value: []string{"1", "2.50", "-0"}},
		"bs":      &types.AttributeValueMemberBS{Value: [][]byte{{1}, {}, {0xff, 0}}},
		"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "x"},
			&types.AttributeValueMemberL{Value: []types.AttributeValue{}},
			&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
		}},
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"inner": &types.AttributeValueMemberN{Value: "1"},
			"":      &types.AttributeValueMemberBOOL{Value: true},
		}},
		":odd name *": &types.AttributeValueMemberS{Value: "x"},
	}
}

func TestJSONRoundTrip(t *testing.T) {
	item := allTypes()
	data, err := MarshalJSON(item)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(data) {
		t.Fatalf("MarshalJSON wrote invalid JSON")
	}
	back, err := UnmarshalJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, item) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", back, item)
	}
	again, err := MarshalJSON(back)
	if err != nil || !bytes.Equal(again, data) {
		t.Fatalf("MarshalJSON is not deterministic")
	}
}

// TestJSONStoredItemVerifies: every type, under every action, survives the
// JSON form and verifies.
func TestJSONStoredItemVerifies(t *testing.T) {
	ctx := context.Background()
	for _, a := range []actions.Action{actions.EncryptAndSign, actions.SignOnly} {
		c := newCodec(t, Config{Default: a, PartitionKey: "s"})
		stored, err := c.Encrypt(ctx, allTypes())
		if err != nil {
			t.Fatal(err)
		}
		data, err := MarshalJSON(stored)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]types.AttributeValue
		if err := c.DecryptJSON(ctx, data, &got); err != nil {
			t.Fatalf("%v: DecryptJSON: %v", a, err)
		}
		if a == actions.SignOnly && !reflect.DeepEqual(got, allTypes()) {
			t.Fatalf("%v: round trip changed the item", a)
		}
	}
}

func TestEncryptJSON(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{Default: actions.EncryptAndSign, PartitionKey: "id"})
	in := sampleCustomer()
	data, err := c.EncryptJSON(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"4111", "first customer", "London"} {
		if bytes.Contains(data, []byte(plain)) {
			t.Fatalf("JSON form contains plaintext %q", plain)
		}
	}
	var out Customer
	if err := c.DecryptJSON(ctx, data, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, wantCustomer(in)) {
		t.Fatalf("DecryptJSON = %+v", out)
	}
	tc, err := Typed[Customer](c)
	if err != nil {
		t.Fatal(err)
	}
	data2, err := tc.EncryptJSON(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tc.DecryptJSON(ctx, data2)
	if err != nil || !reflect.DeepEqual(got, wantCustomer(in)) {
		t.Fatalf("TypedCodec.DecryptJSON = %+v, %v", got, err)
	}
	// Maps too.
	mdata, err := c.EncryptJSON(ctx, map[string]any{"id": "m", "k": "v", "n": 2})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := c.DecryptJSON(ctx, mdata, &m); err != nil || m["k"] != "v" || m["n"] != 2.0 {
		t.Fatalf("map via JSON = %v, %v", m, err)
	}
}

// TestJSONTamper edits the stored JSON text as an attacker with write
// access to the document store would.
func TestJSONTamper(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{Default: actions.EncryptAndSign, PartitionKey: "id"})
	data, err := c.EncryptJSON(ctx, sampleCustomer())
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(doc map[string]map[string]any)) []byte {
		var doc map[string]map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		f(doc)
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	flipB := func(name string) func(map[string]map[string]any) {
		return func(doc map[string]map[string]any) {
			b, err := base64.StdEncoding.DecodeString(doc[name]["B"].(string))
			if err != nil {
				t.Fatal(err)
			}
			b[0] ^= 0x80
			doc[name]["B"] = base64.StdEncoding.EncodeToString(b)
		}
	}
	for name, bad := range map[string][]byte{
		"signed text edited": bytes.Replace(data, []byte("ada@example.com"), []byte("eve@example.com"), 1),
		"signed value edited": edit(func(doc map[string]map[string]any) {
			doc["created"] = map[string]any{"N": "1700000001"}
		}),
		"type changed": edit(func(doc map[string]map[string]any) {
			doc["created"] = map[string]any{"S": "1700000000"}
		}),
		"ciphertext flipped":  edit(flipB("card")),
		"description flipped": edit(flipB(itemcrypto.MaterialDescriptionAttribute)),
		"signature dropped": edit(func(doc map[string]map[string]any) {
			delete(doc, itemcrypto.SignatureAttribute)
		}),
	} {
		t.Run(name, func(t *testing.T) {
			if bytes.Equal(bad, data) {
				t.Fatal("the edit changed nothing")
			}
			out := Customer{ID: "untouched"}
			if err := c.DecryptJSON(ctx, bad, &out); !errors.Is(err, itemcrypto.ErrAuthentication) {
				t.Fatalf("DecryptJSON: err = %v, want ErrAuthentication", err)
			}
			if out.ID != "untouched" {
				t.Fatal("DecryptJSON wrote into out on failure")
			}
		})
	}
}

func TestJSONErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"not JSON":         `{"a":`,
		"not an object":    `["a"]`,
		"no type":          `{"a":{}}`,
		"two types":        `{"a":{"S":"x","N":"1"}}`,
		"unknown type":     `{"a":{"X":"s3cr3t"}}`,
		"wrong body":       `{"a":{"S":12345}}`,
		"bad base64":       `{"a":{"B":"s3cr3t!!"}}`,
		"null body":        `{"a":{"S":null}}`,
		"bare value":       `{"a":"s3cr3t"}`,
		"too deep":         `{"a":` + strings.Repeat(`{"L":[`, 40) + `{"S":"x"}` + strings.Repeat(`]}`, 40) + `}`,
		"nested bad value": `{"a":{"M":{"b":{"N":["s3cr3t"]}}}}`,
	} {
		_, err := UnmarshalJSON([]byte(doc))
		if !errors.Is(err, ErrInvalidJSON) {
			t.Errorf("%s: err = %v, want ErrInvalidJSON", name, err)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: message leaks the value: %v", name, err)
		}
	}
	// JSON cannot carry strings that are not UTF-8: refused, not altered.
	for name, item := range map[string]map[string]types.AttributeValue{
		"S":      {"a": &types.AttributeValueMemberS{Value: "\xff"}},
		"SS":     {"a": &types.AttributeValueMemberSS{Value: []string{"ok", "\xfe"}}},
		"name":   {"\xff": &types.AttributeValueMemberS{Value: "x"}},
		"M key":  {"a": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"\xff": &types.AttributeValueMemberNULL{Value: true}}}},
		"L elem": {"a": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "\xff"}}}},
	} {
		if _, err := MarshalJSON(item); !errors.Is(err, itemcrypto.ErrInvalidUTF8) {
			t.Errorf("%s: MarshalJSON err = %v, want ErrInvalidUTF8", name, err)
		}
	}
	if _, err := MarshalJSON(map[string]types.AttributeValue{"a": nil}); !errors.Is(err, itemcrypto.ErrUnsupportedValue) || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("nil value: err = %v, want ErrUnsupportedValue naming a", err)
	}
}
