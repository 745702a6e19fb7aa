package ddbjson_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
)

// sample holds each of DynamoDB's ten types, with the strings and bytes
// that are hardest to escape and encode.
func sample() map[string]types.AttributeValue {
	var ctl strings.Builder
	for c := range rune(0x20) {
		ctl.WriteRune(c)
	}
	return map[string]types.AttributeValue{
		"str":       &types.AttributeValueMemberS{Value: "ünï <b>&amp;</b> 'q' \"q\" \\/ \u2028\u2029 \U0001F600 \ufffd"},
		"ctl":       &types.AttributeValueMemberS{Value: ctl.String() + "\x7f"},
		"empty":     &types.AttributeValueMemberS{Value: ""},
		"num":       &types.AttributeValueMemberN{Value: "-9.99999999999999999999999999999999999E+125"},
		"bin":       &types.AttributeValueMemberB{Value: []byte{0xfb, 0xff, 0xbf, 0, '<', '>'}},
		"bin_empty": &types.AttributeValueMemberB{Value: []byte{}},
		"yes":       &types.AttributeValueMemberBOOL{Value: true},
		"nul":       &types.AttributeValueMemberNULL{Value: false},
		"strs":      &types.AttributeValueMemberSS{Value: []string{"<", "\u2029", ""}},
		"nums":      &types.AttributeValueMemberNS{Value: []string{"0", "1e-130", "42"}},
		"bins":      &types.AttributeValueMemberBS{Value: [][]byte{{}, {0xfc}, {1, 2, 3, 4}}},
		"list": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				"deeper": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberNULL{Value: true}}},
			}},
			&types.AttributeValueMemberS{Value: "&"},
		}},
		"map": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"b": &types.AttributeValueMemberN{Value: "2"},
			"a": &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
		}},
		"<name> & \"quotes\"\n": &types.AttributeValueMemberBOOL{Value: false},
		"":                      &types.AttributeValueMemberS{Value: "empty name"},
	}
}

// protectedLike is shaped as a protected item: mostly binary.
func protectedLike() map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "o-1"}}
	for _, name := range []string{"card", "address", "*amzn-ddb-map-desc*", "*amzn-ddb-map-sig*"} {
		b := make([]byte, 4096)
		rand.Read(b)
		item[name] = &types.AttributeValueMemberB{Value: b}
	}
	return item
}

// TestMatchesEncodingJSON: the one-pass writer writes exactly what
// encoding/json writes, and the reader reads the same values.
func TestMatchesEncodingJSON(t *testing.T) {
	for name, item := range map[string]map[string]types.AttributeValue{
		"sample": sample(), "protected": protectedLike(), "empty": {},
	} {
		got, err := ddbjson.MarshalItem(item)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(refItemJSON(item))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: MarshalItem differs from encoding/json:\n got %s\nwant %s", name, got, want)
		}
		gotInd, err := ddbjson.MarshalItemIndent(item, ">", "\t")
		if err != nil {
			t.Fatal(err)
		}
		wantInd, _ := json.MarshalIndent(refItemJSON(item), ">", "\t")
		if !bytes.Equal(gotInd, wantInd) {
			t.Errorf("%s: MarshalItemIndent differs from encoding/json:\n got %s\nwant %s", name, gotInd, wantInd)
		}
		a, err := ddbjson.UnmarshalItem(want)
		if err != nil {
			t.Fatal(err)
		}
		b, err := refUnmarshalItem(want)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(a, item) {
			t.Errorf("%s: UnmarshalItem differs from encoding/json", name)
		}
		for k, v := range item {
			got, err := ddbjson.MarshalValue(v)
			want, _ := json.Marshal(refValueJSON(v))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: MarshalValue(%q) = %s, %v; want %s", name, k, got, err, want)
			}
			if back, err := ddbjson.UnmarshalValue(want); err != nil || !reflect.DeepEqual(back, v) {
				t.Errorf("%s: UnmarshalValue(%s) = %#v, %v", name, want, back, err)
			}
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
		a, err := ddbjson.UnmarshalItem([]byte(doc))
		if err != nil {
			t.Fatalf("UnmarshalItem(%q): %v", doc, err)
		}
		b, err := refUnmarshalItem([]byte(doc))
		if err != nil || !reflect.DeepEqual(a, b) {
			t.Fatalf("UnmarshalItem(%q) = %#v, encoding/json = %#v, %v", doc, a, b, err)
		}
	}
}

// TestStrictness: what encoding/json would let through (or read some other
// way), the reader refuses.
func TestStrictness(t *testing.T) {
	for name, doc := range map[string]string{
		"duplicate name":     `{"a":{"S":"x"},"a":{"S":"y"}}`,
		"duplicate type key": `{"a":{"S":"x","S":"y"}}`,
		"lower-case type":    `{"a":{"s":"x"}}`,
		"trailing data":      `{"a":{"S":"x"}} {}`,
		"top-level null":     `null`,
		"null set member":    `{"a":{"SS":[null]}}`,
		"number body":        `{"a":{"N":1}}`,
		"set of numbers":     `{"a":{"NS":[1]}}`,
		"BOOL as string":     `{"a":{"BOOL":"true"}}`,
		"list of non-values": `{"a":{"L":["x"]}}`,
	} {
		if _, err := ddbjson.UnmarshalItem([]byte(doc)); !errors.Is(err, ddbjson.ErrSyntax) {
			t.Errorf("%s: err = %v, want ErrSyntax", name, err)
		}
	}
}

// TestErrors: errors are *Error, name the top-level attribute, and never
// quote a value.
func TestErrors(t *testing.T) {
	for doc, attr := range map[string]string{
		`{"a":{"S":"s3cr3t","N":"1"}}`:                   "a",
		`{"a":{"N":"1"},"b":{"M":{"c":{"X":"s3cr3t"}}}}`: "b",
		`{"a":{"B":"s3cr3t!"}}`:                          "a",
		`{"a":{"S":"x"}} "s3cr3t"`:                       "",
		`["s3cr3t"]`:                                     "",
	} {
		_, err := ddbjson.UnmarshalItem([]byte(doc))
		var e *ddbjson.Error
		if !errors.As(err, &e) || e.Kind != ddbjson.ErrSyntax || e.Attribute != attr || e.Reason == "" {
			t.Errorf("UnmarshalItem(%s) = %#v; want an *Error of ErrSyntax on attribute %q", doc, err, attr)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("UnmarshalItem(%s): message quotes the value: %v", doc, err)
		}
	}
	deep := types.AttributeValue(&types.AttributeValueMemberNULL{Value: true})
	for range 40 {
		deep = &types.AttributeValueMemberL{Value: []types.AttributeValue{deep}}
	}
	for _, tc := range []struct {
		item map[string]types.AttributeValue
		attr string
		kind error
	}{
		{map[string]types.AttributeValue{"a": &types.AttributeValueMemberS{Value: "ok"}, "b": nil}, "b", ddbjson.ErrUnsupportedType},
		{map[string]types.AttributeValue{"a": (*types.AttributeValueMemberN)(nil)}, "a", ddbjson.ErrUnsupportedType},
		{map[string]types.AttributeValue{"a": deep}, "a", ddbjson.ErrUnsupportedType},
		{map[string]types.AttributeValue{"a": &types.AttributeValueMemberS{Value: "s3cr3t\xff"}}, "a", ddbjson.ErrInvalidUTF8},
		{map[string]types.AttributeValue{"\xff": &types.AttributeValueMemberS{Value: "x"}}, "\xff", ddbjson.ErrInvalidUTF8},
		{map[string]types.AttributeValue{"a": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"b": &types.AttributeValueMemberNS{Value: []string{"1", "\xfe"}},
		}}}, "a", ddbjson.ErrInvalidUTF8},
	} {
		_, err := ddbjson.MarshalItem(tc.item)
		var e *ddbjson.Error
		if !errors.As(err, &e) || !errors.Is(err, tc.kind) || e.Attribute != tc.attr {
			t.Errorf("MarshalItem(%#v) = %v; want %v on attribute %q", tc.item, err, tc.kind, tc.attr)
		} else if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("MarshalItem: message quotes the value: %v", err)
		}
		if _, err := ddbjson.MarshalItemIndent(tc.item, "", " "); !errors.Is(err, tc.kind) {
			t.Errorf("MarshalItemIndent(%#v) = %v; want %v", tc.item, err, tc.kind)
		}
	}
	if _, err := ddbjson.MarshalValue(deep); !errors.Is(err, ddbjson.ErrUnsupportedType) {
		t.Errorf("MarshalValue(41 nested lists) = %v; want ErrUnsupportedType", err)
	}
}

// FuzzUnmarshalItem: whatever UnmarshalItem accepts, encoding/json reads
// the same, and MarshalItem writes back what encoding/json writes, which
// reads the same again.
func FuzzUnmarshalItem(f *testing.F) {
	seed, _ := ddbjson.MarshalItem(sample())
	f.Add(seed)
	f.Add([]byte(`{"a":{"M":{"b":{"L":[{"NULL":true},{"BS":["AA=="]}]}}}}`))
	f.Add([]byte(`{"a":{"S":"\ud800"}}`))
	f.Add([]byte(`{"\u0061":{"\u0053":"\ud83d\ude00\ud800x\u00e9\/\b\f\n\r\t\"\\"}}`))
	f.Add([]byte(`{"a":{"B":"QQ\u003d\u003d"},"b":{"BS":["QQ==\r\n", ""]}}`))
	f.Add([]byte("{\"a\":{\"S\":\"\xff\xfe ok\"}}"))
	f.Add([]byte(" { \"a\" : { \"BOOL\" : true } , \"b\" : { \"L\" : [ ] } } "))
	f.Fuzz(func(t *testing.T, data []byte) {
		item, err := ddbjson.UnmarshalItem(data)
		if err != nil {
			if !errors.Is(err, ddbjson.ErrSyntax) {
				t.Fatalf("err = %v, want ErrSyntax", err)
			}
			return
		}
		ref, err := refUnmarshalItem(data)
		if err != nil {
			t.Fatalf("UnmarshalItem accepted what encoding/json refuses: %v", err)
		}
		if !reflect.DeepEqual(item, ref) {
			t.Fatalf("UnmarshalItem and encoding/json differ:\n%#v\n%#v", item, ref)
		}
		out, err := ddbjson.MarshalItem(item)
		if err != nil {
			return // e.g. a string that is not UTF-8 after unescaping
		}
		if want, _ := json.Marshal(refItemJSON(item)); !bytes.Equal(out, want) {
			t.Fatalf("MarshalItem differs from encoding/json:\n got %s\nwant %s", out, want)
		}
		back, err := ddbjson.UnmarshalItem(out)
		if err != nil || !reflect.DeepEqual(back, item) {
			t.Fatalf("MarshalItem did not round-trip: %v", err)
		}
	})
}
