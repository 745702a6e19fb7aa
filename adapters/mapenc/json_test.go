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
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/actions"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
)

// allTypes holds each of DynamoDB's ten types, edge cases included.
func allTypes() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"s":       &types.AttributeValueMemberS{Value: "héllo <&> \"q\" \\ \u2028 \U0001F600"},
		"s_empty": &types.AttributeValueMemberS{Value: ""},
		"n":       &types.AttributeValueMemberN{Value: "-123456789012345678901234567890.000000001e-5"},
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
	c := newCodec(t, Config{Default: actions.EncryptAndSign})
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
	mdata, err := c.EncryptJSON(ctx, map[string]any{"k": "v", "n": 2})
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
	c := newCodec(t, Config{Default: actions.EncryptAndSign})
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

// TestJSONMatchesDDBJSON: the one-pass codec writes exactly what
// internal/ddbjson (encoding/json) writes, and reads the same values.
func TestJSONMatchesDDBJSON(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{Default: actions.EncryptAndSign})
	stored, err := c.Encrypt(ctx, sampleCustomer())
	if err != nil {
		t.Fatal(err)
	}
	for name, item := range map[string]map[string]types.AttributeValue{
		"all types": allTypes(), "stored": stored, "empty": {},
	} {
		got, err := MarshalJSON(item)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ddbjson.MarshalItem(item)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: MarshalJSON differs from ddbjson:\n got %s\nwant %s", name, got, want)
		}
		a, err := UnmarshalJSON(want)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ddbjson.UnmarshalItem(want)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: UnmarshalJSON differs from ddbjson", name)
		}
	}
	// White space, escapes, invalid UTF-8 and base64 line breaks are read
	// as encoding/json reads them.
	for _, doc := range []string{
		"{ \"a\" : { \"S\" : \"\\u00e9\\ud83d\\ude00\\/\" } ,\n\"b\":{\"B\":\"AAEC\\r\\nAw==\"}}",
		`{"\u0061":{"\u0053":"\ud800x\udc00\ud83d\u0041\b\f\n\r\t\"\\"}}`,
		"{\"a\":{\"S\":\"\xff\xc3 ok \xe2\x82\"}}",
		`{"a":{"B":"QQ\u003d\u003d"},"b":{"BS":["QQ==\r\n",""]},"c":{"NULL":false}}`,
		"\t{\r\n}\n",
	} {
		a, err := UnmarshalJSON([]byte(doc))
		if err != nil {
			t.Fatalf("UnmarshalJSON(%q): %v", doc, err)
		}
		b, err := ddbjson.UnmarshalItem([]byte(doc))
		if err != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("UnmarshalJSON(%q) = %#v, ddbjson = %#v, %v", doc, a, b, err)
		}
	}
}

func TestJSONStrictness(t *testing.T) {
	for name, doc := range map[string]string{
		"duplicate name":     `{"a":{"S":"x"},"a":{"S":"y"}}`,
		"lower-case type":    `{"a":{"s":"x"}}`,
		"trailing data":      `{"a":{"S":"x"}} {}`,
		"top-level null":     `null`,
		"number body":        `{"a":{"N":1}}`,
		"set of numbers":     `{"a":{"NS":[1]}}`,
		"BOOL as string":     `{"a":{"BOOL":"true"}}`,
		"list of non-values": `{"a":{"L":["x"]}}`,
	} {
		if _, err := UnmarshalJSON([]byte(doc)); !errors.Is(err, ErrInvalidJSON) {
			t.Errorf("%s: err = %v, want ErrInvalidJSON", name, err)
		}
	}
}

// TestJSONStringEscaping: appendJSONString escapes as encoding/json does.
func TestJSONStringEscaping(t *testing.T) {
	var all strings.Builder
	for c := range rune(0x80) {
		all.WriteRune(c)
	}
	for _, s := range []string{"", all.String(), "é\u2028\u2029\U0001F600\ufffd\u00a0<script>&amp;", strings.Repeat("ab\"c", 100)} {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzJSONString(f *testing.F) {
	f.Add("plain")
	f.Add("<\u2028\x00\x1f\"\\>")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}

// FuzzUnmarshalJSON: whatever UnmarshalJSON accepts, ddbjson reads the
// same, and MarshalJSON writes back something that reads the same again.
func FuzzUnmarshalJSON(f *testing.F) {
	seed, _ := MarshalJSON(allTypes())
	f.Add(seed)
	f.Add([]byte(`{"a":{"M":{"b":{"L":[{"NULL":true},{"BS":["AA=="]}]}}}}`))
	f.Add([]byte(`{"a":{"S":"\ud800"}}`))
	f.Add([]byte(`{"\u0061":{"\u0053":"\ud83d\ude00\ud800x\u00e9\/\b\f\n\r\t\"\\"}}`))
	f.Add([]byte(`{"a":{"B":"QQ\u003d\u003d"},"b":{"BS":["QQ==\r\n", ""]}}`))
	f.Add([]byte("{\"a\":{\"S\":\"\xff\xfe ok\"}}"))
	f.Add([]byte(" { \"a\" : { \"BOOL\" : true } , \"b\" : { \"L\" : [ ] } } "))
	f.Fuzz(func(t *testing.T, data []byte) {
		item, err := UnmarshalJSON(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidJSON) {
				t.Fatalf("err = %v, want ErrInvalidJSON", err)
			}
			return
		}
		ref, err := ddbjson.UnmarshalItem(data)
		if err != nil {
			t.Fatalf("UnmarshalJSON accepted what ddbjson refuses: %v", err)
		}
		if !reflect.DeepEqual(item, ref) {
			t.Fatalf("UnmarshalJSON and ddbjson differ:\n%#v\n%#v", item, ref)
		}
		out, err := MarshalJSON(item)
		if err != nil {
			return // e.g. a string that is not UTF-8 after unescaping
		}
		back, err := UnmarshalJSON(out)
		if err != nil || !reflect.DeepEqual(back, item) {
			t.Fatalf("MarshalJSON did not round-trip: %v", err)
		}
	})
}
