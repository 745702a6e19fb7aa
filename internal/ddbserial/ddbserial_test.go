package ddbserial_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/alloctest"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbjson"
	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
)

// vectorsDir locates the reference vectors: $ITEMCRYPTO_VECTORS or the
// shared checkout beside the repository. Missing vectors fail, never skip.
func vectorsDir(t testing.TB) string {
	t.Helper()
	return testenv.VectorsDir(t)
}

// attrVector is one entry of serialize_attribute.json / deserialize_attribute.json.
type attrVector struct {
	Attribute  json.RawMessage `json:"attribute"`
	Serialized []byte          `json:"serialized"` // standard base64 in the file
}

func loadAttrVectors(t testing.TB, name string, want int) []attrVector {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(vectorsDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	var vs []attrVector
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(vs) != want {
		t.Fatalf("%s: %d vectors, want %d", name, len(vs), want)
	}
	return vs
}

func equal(a, b types.AttributeValue) bool { return ddbjson.Equal(a, b, ddbserial.CanonicalNumber) }

func show(v types.AttributeValue) string {
	b, err := ddbjson.MarshalValue(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSerializeVectors(t *testing.T) {
	for i, vec := range loadAttrVectors(t, "serialize_attribute.json", 22) {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			attr, err := ddbjson.UnmarshalValue(vec.Attribute)
			if err != nil {
				t.Fatalf("UnmarshalValue(%s): %v", vec.Attribute, err)
			}
			got, err := ddbserial.Marshal(attr)
			if err != nil {
				t.Fatalf("Marshal(%s): %v", vec.Attribute, err)
			}
			if !bytes.Equal(got, vec.Serialized) {
				t.Errorf("Marshal(%s)\n got %x\nwant %x", vec.Attribute, got, vec.Serialized)
			}
			// Append must give the same bytes after an existing prefix.
			prefix := []byte("prefix")
			got2, err := ddbserial.Append(slices.Clip(prefix), attr)
			if err != nil || !bytes.Equal(got2, append(prefix, vec.Serialized...)) {
				t.Errorf("Append(prefix, %s) = %x, %v; want prefix||%x", vec.Attribute, got2, err, vec.Serialized)
			}
		})
	}
}

func TestDeserializeVectors(t *testing.T) {
	for i, vec := range loadAttrVectors(t, "deserialize_attribute.json", 15) {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			want, err := ddbjson.UnmarshalValue(vec.Attribute)
			if err != nil {
				t.Fatalf("UnmarshalValue(%s): %v", vec.Attribute, err)
			}
			got, err := ddbserial.Unmarshal(vec.Serialized)
			if err != nil {
				t.Fatalf("Unmarshal(%x): %v", vec.Serialized, err)
			}
			if !equal(got, want) {
				t.Errorf("Unmarshal(%x)\n got %s\nwant %s", vec.Serialized, show(got), vec.Attribute)
			}
			again, err := ddbserial.Marshal(got)
			if err != nil {
				t.Fatalf("Marshal(Unmarshal(%x)): %v", vec.Serialized, err)
			}
			if !bytes.Equal(again, vec.Serialized) {
				t.Errorf("Marshal(Unmarshal(b)) != b\n got %x\nwant %x", again, vec.Serialized)
			}
		})
	}
}

func TestCanonicalNumber(t *testing.T) {
	zeros129 := strings.Repeat("0", 129)
	tests := []struct{ in, want string }{
		// spec §2.3 examples
		{"55.00", "55"},
		{"55.34000", "55.34"},
		{"1.230", "1.23"},
		{"35.0", "35"},
		{"00012.3400", "12.34"},
		{"1e5", "100000"},
		{"1E+5", "100000"},
		{"1.5e-3", "0.0015"},
		{"+7", "7"},
		{"-100.0", "-100"},
		{"0E+5", "0"},
		{".5", "0.5"},
		{"5.", "5"},
		{"-0", "0"},
		{"1E-130", "0." + zeros129 + "1"},
		{"12345678901234567890123456789012345678", "12345678901234567890123456789012345678"},
		{"-99999999999999999999999999999999999999", "-99999999999999999999999999999999999999"},
		{"10000000000000000000000000000000000000", "10000000000000000000000000000000000000"},
		{"1234567890123456789012345678901", "1234567890123456789012345678901"}, // no 28-digit rounding (Java)
		// more
		{"0", "0"},
		{"+0", "0"},
		{"-0.000", "0"},
		{"-0e-7", "0"},
		{"000", "0"},
		{"0.0", "0"},
		{"55", "55"},
		{"-55.34", "-55.34"},
		{"0.001", "0.001"},
		{"0.00100", "0.001"},
		{"100", "100"},
		{"1.0e2", "100"},
		{"12.5E1", "125"},
		{"12.5e-1", "1.25"},
		{"123e-5", "0.00123"},
		{"123e-3", "0.123"},
		{"123e-2", "1.23"},
		{"1e0", "1"},
		{"1e-0", "1"},
		{"1e007", "10000000"},
		{"9.99E+125", "999" + strings.Repeat("0", 123)},
		{"-1E-130", "-0." + zeros129 + "1"},
	}
	for _, tc := range tests {
		got, err := ddbserial.CanonicalNumber(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("CanonicalNumber(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			continue
		}
		// The canonical form is a fixed point.
		if again, err := ddbserial.CanonicalNumber(got); err != nil || again != got {
			t.Errorf("CanonicalNumber(%q) = %q, %v; want it unchanged", got, again, err)
		}
	}
}

func TestCanonicalNumberRejects(t *testing.T) {
	for _, in := range []string{
		"", "abc", " 1", "1 ", "NaN", "nan", "Infinity", "-Infinity", "inf",
		"1_000", "0x10", "1e", "1e+", "1e-", "--1", "+-1", "-+1", "1..2", "1.2.3",
		".", "e5", "E5", ".e5", "+", "-", "+.", "1e5.5", "1e5e5", "1ee5", "1-",
		"1,5", "1/2", "١", "1\x00", "\xff", "1e99999999999999999999",
	} {
		got, err := ddbserial.CanonicalNumber(in)
		if !errors.Is(err, ddbserial.ErrInvalidNumber) {
			t.Errorf("CanonicalNumber(%q) = %q, %v; want ErrInvalidNumber", in, got, err)
		}
	}
}

func TestSetOrdering(t *testing.T) {
	lv := func(ms ...string) string {
		var b []byte
		b = fmt.Appendf(b, "%08x", len(ms))
		for _, m := range ms {
			b = fmt.Appendf(b, "%08x%x", len(m), m)
		}
		return string(b)
	}
	tests := []struct {
		name string
		in   types.AttributeValue
		want string // hex
	}{
		{"NS lexicographic not numeric",
			&types.AttributeValueMemberNS{Value: []string{"7.6", "15", "-3", "0", "-34.2"}},
			"004e" + lv("-3", "-34.2", "0", "15", "7.6")},
		{"NS sorted after canonicalisation",
			&types.AttributeValueMemberNS{Value: []string{"55.2", "34", "35.0", "1.230"}},
			"004e" + lv("1.23", "34", "35", "55.2")},
		{"NS 1e1 sorts as 10",
			&types.AttributeValueMemberNS{Value: []string{"9", "1e1", "1.5E0"}},
			"004e" + lv("1.5", "10", "9")},
		{"SS prefix first",
			&types.AttributeValueMemberSS{Value: []string{"ab", "b", "a", ""}},
			"0053" + lv("", "a", "ab", "b")},
		{"SS UTF-8 byte order (U+E000..U+FFFF before supplementary)",
			&types.AttributeValueMemberSS{Value: []string{"\U0001F600", "\uFFFD", "\uE000", "z", "é"}},
			"0053" + lv("z", "é", "\uE000", "\uFFFD", "\U0001F600")},
		{"BS unsigned byte order",
			&types.AttributeValueMemberBS{Value: [][]byte{{0xff}, {0x80}, {0x7f}, {0x00}, {0x00, 0x00}, {}}},
			"0042" + lv("", "\x00", "\x00\x00", "\x7f", "\x80", "\xff")},
		{"BS already sorted",
			&types.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}},
			"0042" + lv("\x01", "\x02")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := show(tc.in)
			got, err := ddbserial.Marshal(tc.in)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if hex.EncodeToString(got) != tc.want {
				t.Errorf("Marshal(%s)\n got %x\nwant %s", before, got, tc.want)
			}
			if after := show(tc.in); after != before {
				t.Errorf("Marshal modified its input: %s -> %s", before, after)
			}
		})
	}
}

func TestMapKeyOrdering(t *testing.T) {
	m := &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"\U0001F600": &types.AttributeValueMemberNULL{Value: true},
		"\uE000":     &types.AttributeValueMemberNULL{Value: true},
		"b":          &types.AttributeValueMemberNULL{Value: true},
		"B":          &types.AttributeValueMemberNULL{Value: true},
		"ab":         &types.AttributeValueMemberNULL{Value: true},
		"a":          &types.AttributeValueMemberNULL{Value: true},
		"":           &types.AttributeValueMemberNULL{Value: true},
	}}
	want := "004d00000007"
	for _, k := range []string{"", "B", "a", "ab", "b", "\uE000", "\U0001F600"} {
		want += fmt.Sprintf("0073%08x%x0000", len(k), k)
	}
	for range 20 { // map iteration order is random; it must not matter
		got, err := ddbserial.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != want {
			t.Fatalf("Marshal(map)\n got %x\nwant %s", got, want)
		}
	}
}

func TestMarshalEncodings(t *testing.T) {
	tests := []struct {
		name string
		in   types.AttributeValue
		want string
	}{
		{"empty S", &types.AttributeValueMemberS{Value: ""}, "0073 00000000"},
		{"empty B", &types.AttributeValueMemberB{Value: nil}, "0062 00000000"},
		{"empty L", &types.AttributeValueMemberL{}, "004c 00000000"},
		{"empty M", &types.AttributeValueMemberM{}, "004d 00000000"},
		{"BOOL false", &types.AttributeValueMemberBOOL{}, "003f 00"},
		{"NULL", &types.AttributeValueMemberNULL{Value: true}, "0000"},
		{"S UTF-8", &types.AttributeValueMemberS{Value: "é"}, "0073 00000002 c3a9"},
		{"N canonical", &types.AttributeValueMemberN{Value: "-0.50"}, "006e 00000004 2d302e35"},
		{"L keeps order", &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberBOOL{Value: true}, &types.AttributeValueMemberNULL{Value: true},
		}}, "004c 00000002 003f01 0000"},
		{"SS duplicates kept", &types.AttributeValueMemberSS{Value: []string{"a", "a"}}, "0053 00000002 0000000161 0000000161"},
	}
	for _, tc := range tests {
		got, err := ddbserial.Marshal(tc.in)
		want := strings.ReplaceAll(tc.want, " ", "")
		if err != nil || hex.EncodeToString(got) != want {
			t.Errorf("%s: Marshal = %x, %v; want %s", tc.name, got, err, want)
		}
	}
}

func TestMarshalErrors(t *testing.T) {
	null := &types.AttributeValueMemberNULL{Value: true}
	tests := []struct {
		name string
		in   types.AttributeValue
		want error
	}{
		{"nil", nil, ddbserial.ErrUnsupportedType},
		{"unknown union member", &types.UnknownUnionMember{Tag: "X", Value: []byte("x")}, ddbserial.ErrUnsupportedType},
		{"NULL false", &types.AttributeValueMemberNULL{Value: false}, ddbserial.ErrUnsupportedType},
		{"empty SS", &types.AttributeValueMemberSS{}, ddbserial.ErrEmptySet},
		{"empty NS", &types.AttributeValueMemberNS{Value: []string{}}, ddbserial.ErrEmptySet},
		{"empty BS", &types.AttributeValueMemberBS{}, ddbserial.ErrEmptySet},
		{"invalid N", &types.AttributeValueMemberN{Value: "1e"}, ddbserial.ErrInvalidNumber},
		{"empty N", &types.AttributeValueMemberN{Value: ""}, ddbserial.ErrInvalidNumber},
		{"invalid NS member", &types.AttributeValueMemberNS{Value: []string{"1", "NaN"}}, ddbserial.ErrInvalidNumber},
		{"invalid UTF-8 S", &types.AttributeValueMemberS{Value: "a\xffb"}, ddbserial.ErrInvalidUTF8},
		{"surrogate S", &types.AttributeValueMemberS{Value: "\xed\xa0\x80"}, ddbserial.ErrInvalidUTF8},
		{"invalid UTF-8 SS member", &types.AttributeValueMemberSS{Value: []string{"ok", "\xc3"}}, ddbserial.ErrInvalidUTF8},
		{"invalid UTF-8 map key", &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"\xff": null}}, ddbserial.ErrInvalidUTF8},
		{"nested nil in L", &types.AttributeValueMemberL{Value: []types.AttributeValue{null, nil}}, ddbserial.ErrUnsupportedType},
		{"nested NULL false in M", &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"a": null, "b": &types.AttributeValueMemberNULL{}}}, ddbserial.ErrUnsupportedType},
		{"nested empty set in L in M", &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"a": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberBS{}}}}}, ddbserial.ErrEmptySet},
	}
	for _, tc := range tests {
		got, err := ddbserial.Marshal(tc.in)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Marshal = %x, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

// TestMarshalTypedNil: a nil pointer of a member type is as unsupported as a
// nil interface; it must be an error, not a panic.
func TestMarshalTypedNil(t *testing.T) {
	for _, v := range []types.AttributeValue{
		(*types.AttributeValueMemberNULL)(nil),
		(*types.AttributeValueMemberBOOL)(nil),
		(*types.AttributeValueMemberS)(nil),
		(*types.AttributeValueMemberN)(nil),
		(*types.AttributeValueMemberB)(nil),
		(*types.AttributeValueMemberSS)(nil),
		(*types.AttributeValueMemberNS)(nil),
		(*types.AttributeValueMemberBS)(nil),
		(*types.AttributeValueMemberL)(nil),
		(*types.AttributeValueMemberM)(nil),
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("Marshal(%T(nil)) panicked: %v", v, r)
				}
			}()
			if got, err := ddbserial.Marshal(v); !errors.Is(err, ddbserial.ErrUnsupportedType) {
				t.Errorf("Marshal(%T(nil)) = %x, %v; want ErrUnsupportedType", v, got, err)
			}
		}()
	}
}

// nest wraps inner in n lists (or maps under key "k").
func nest(n int, useMap bool, inner types.AttributeValue) types.AttributeValue {
	v := inner
	for range n {
		if useMap {
			v = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": v}}
		} else {
			v = &types.AttributeValueMemberL{Value: []types.AttributeValue{v}}
		}
	}
	return v
}

// nestedBytes serializes n nested lists (or maps under "k") around inner
// without going through Marshal, so that depths Marshal refuses can be built.
func nestedBytes(n int, useMap bool, inner []byte) []byte {
	var b []byte
	for range n {
		if useMap {
			b = append(b, 0x00, 'M', 0, 0, 0, 1, 0x00, 's', 0, 0, 0, 1, 'k')
		} else {
			b = append(b, 0x00, 'L', 0, 0, 0, 1)
		}
	}
	return append(b, inner...)
}

func TestDepthLimit(t *testing.T) {
	if ddbserial.MaxDepth != 32 {
		t.Fatalf("MaxDepth = %d, want 32 (DynamoDB's limit)", ddbserial.MaxDepth)
	}
	emptyL := []byte{0x00, 'L', 0, 0, 0, 0}
	null := []byte{0x00, 0x00}
	for _, useMap := range []bool{false, true} {
		kind := map[bool]string{false: "lists", true: "maps"}[useMap]
		// MaxDepth containers holding a scalar, or MaxDepth-1 around an
		// empty list, are allowed: MaxDepth container levels in all.
		okCases := []struct {
			v types.AttributeValue
			b []byte
		}{
			{nest(ddbserial.MaxDepth, useMap, &types.AttributeValueMemberNULL{Value: true}), nestedBytes(ddbserial.MaxDepth, useMap, null)},
			{nest(ddbserial.MaxDepth-1, useMap, &types.AttributeValueMemberL{}), nestedBytes(ddbserial.MaxDepth-1, useMap, emptyL)},
		}
		for i, c := range okCases {
			got, err := ddbserial.Marshal(c.v)
			if err != nil || !bytes.Equal(got, c.b) {
				t.Errorf("%s ok case %d: Marshal = %x, %v; want %x", kind, i, got, err, c.b)
			}
			v, err := ddbserial.Unmarshal(c.b)
			if err != nil || !equal(v, c.v) {
				t.Errorf("%s ok case %d: Unmarshal: %v", kind, i, err)
			}
		}
		// One level more is refused in both directions.
		badCases := []struct {
			v types.AttributeValue
			b []byte
		}{
			{nest(ddbserial.MaxDepth+1, useMap, &types.AttributeValueMemberNULL{Value: true}), nestedBytes(ddbserial.MaxDepth+1, useMap, null)},
			{nest(ddbserial.MaxDepth, useMap, &types.AttributeValueMemberL{}), nestedBytes(ddbserial.MaxDepth, useMap, emptyL)},
			{nest(ddbserial.MaxDepth, useMap, &types.AttributeValueMemberM{}), nestedBytes(ddbserial.MaxDepth, useMap, []byte{0x00, 'M', 0, 0, 0, 0})},
		}
		for i, c := range badCases {
			if got, err := ddbserial.Marshal(c.v); !errors.Is(err, ddbserial.ErrTooDeep) {
				t.Errorf("%s bad case %d: Marshal = %x, %v; want ErrTooDeep", kind, i, got, err)
			}
			if _, err := ddbserial.Unmarshal(c.b); !errors.Is(err, ddbserial.ErrTooDeep) || !errors.Is(err, ddbserial.ErrMalformed) {
				t.Errorf("%s bad case %d: Unmarshal error = %v; want ErrMalformed and ErrTooDeep", kind, i, err)
			}
		}
	}
	// Far deeper input fails fast without exhausting the stack.
	deep := nestedBytes(1_000_000, false, null)
	if _, err := ddbserial.Unmarshal(deep); !errors.Is(err, ddbserial.ErrTooDeep) {
		t.Errorf("Unmarshal(10^6 nested lists) = %v; want ErrTooDeep", err)
	}
	// Mixed lists and maps count together.
	mixed := &types.AttributeValueMemberNULL{Value: true}
	var v types.AttributeValue = mixed
	for i := range ddbserial.MaxDepth + 1 {
		v = nest(1, i%2 == 0, v)
	}
	if _, err := ddbserial.Marshal(v); !errors.Is(err, ddbserial.ErrTooDeep) {
		t.Errorf("Marshal(33 mixed levels) = %v; want ErrTooDeep", err)
	}
}

func TestUnmarshalScalars(t *testing.T) {
	tests := []struct {
		in   string
		want types.AttributeValue
	}{
		{"0000", &types.AttributeValueMemberNULL{Value: true}},
		{"003f00", &types.AttributeValueMemberBOOL{Value: false}},
		{"003f01", &types.AttributeValueMemberBOOL{Value: true}},
		{"0073 00000000", &types.AttributeValueMemberS{Value: ""}},
		{"0062 00000000", &types.AttributeValueMemberB{Value: []byte{}}},
		{"006e 00000005 35352e3030", &types.AttributeValueMemberN{Value: "55.00"}}, // stored as is, compared canonically
		{"004c 00000000", &types.AttributeValueMemberL{Value: []types.AttributeValue{}}},
		{"004d 00000000", &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}},
		{"0053 00000002 0000000162 0000000161", &types.AttributeValueMemberSS{Value: []string{"a", "b"}}}, // any stored order
	}
	for _, tc := range tests {
		in := unhex(t, tc.in)
		got, err := ddbserial.Unmarshal(in)
		if err != nil || !equal(got, tc.want) {
			t.Errorf("Unmarshal(%x) = %s, %v; want %s", in, show(got), err, show(tc.want))
		}
	}
	// The exact stored number string is preserved.
	got, err := ddbserial.Unmarshal(unhex(t, "006e 00000005 35352e3030"))
	if n, ok := got.(*types.AttributeValueMemberN); err != nil || !ok || n.Value != "55.00" {
		t.Errorf("Unmarshal(N 55.00) = %#v, %v; want N 55.00", got, err)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		also error // in addition to ErrMalformed
	}{
		{"empty", "", nil},
		{"one byte", "00", nil},
		{"nonzero reserved byte", "0173 00000000", nil},
		{"reserved byte 0xff", "ff00", nil},
		{"unknown tag", "0078 00000000", nil},
		{"unknown tag 'x' only", "0078", nil},
		{"lower-case set tag confusion", "0001", nil},
		{"BOOL byte 2", "003f02", nil},
		{"BOOL byte ff", "003fff", nil},
		{"BOOL missing byte", "003f", nil},
		{"map key is N", "004d 00000001 006e 0000000131 0000", nil},
		{"map key is NULL", "004d 00000001 0000 0000", nil},
		{"map key nonzero reserved", "004d 00000001 0173 0000000161 0000", nil},
		{"map duplicate key", "004d 00000002 0073 0000000161 0000 0073 0000000161 0000", nil},
		{"trailing byte", "0000 00", nil},
		{"two values", "0000 0000", nil},
		{"trailing after S", "0073 00000001 61 62", nil},
		{"S invalid UTF-8", "0073 00000001 ff", ddbserial.ErrInvalidUTF8},
		{"SS invalid UTF-8", "0053 00000001 00000002 c328", ddbserial.ErrInvalidUTF8},
		{"map key invalid UTF-8", "004d 00000001 0073 00000001 80 0000", ddbserial.ErrInvalidUTF8},
		{"N invalid", "006e 00000003 616263", ddbserial.ErrInvalidNumber},
		{"N empty", "006e 00000000", ddbserial.ErrInvalidNumber},
		{"NS member invalid", "004e 00000002 0000000131 00000003 4e614e", ddbserial.ErrInvalidNumber},
		{"set count beyond members", "0053 00000002 0000000161", nil},
		{"list count beyond elements", "004c 00000003 0000 0000", nil},
		{"nested error inside list", "004c 00000001 003f05", nil},
		// DynamoDB has no empty sets and Marshal refuses them; reading one
		// must fail too, or a decrypted value cannot be written back.
		{"empty SS", "0053 00000000", ddbserial.ErrEmptySet},
		{"empty NS", "004e 00000000", ddbserial.ErrEmptySet},
		{"empty BS", "0042 00000000", ddbserial.ErrEmptySet},
	}
	for _, tc := range tests {
		in := unhex(t, tc.in)
		got, err := ddbserial.Unmarshal(in)
		if !errors.Is(err, ddbserial.ErrMalformed) || (tc.also != nil && !errors.Is(err, tc.also)) {
			want := "ErrMalformed"
			if tc.also != nil {
				want += " and " + tc.also.Error()
			}
			t.Errorf("%s: Unmarshal(%x) = %s, %v; want %s", tc.name, in, show(got), err, want)
		} else if got != nil {
			t.Errorf("%s: Unmarshal returned a value (%s) with its error", tc.name, show(got))
		}
	}
}

// allTypes is one value using every type, nested.
func allTypes() types.AttributeValue {
	return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		"null": &types.AttributeValueMemberNULL{Value: true},
		"bool": &types.AttributeValueMemberBOOL{Value: true},
		"s":    &types.AttributeValueMemberS{Value: "héllo"},
		"n":    &types.AttributeValueMemberN{Value: "-12.5e3"},
		"b":    &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 0xff}},
		"ss":   &types.AttributeValueMemberSS{Value: []string{"x", "", "yy"}},
		"ns":   &types.AttributeValueMemberNS{Value: []string{"1", "0.5", "-2"}},
		"bs":   &types.AttributeValueMemberBS{Value: [][]byte{{9}, {}, {1, 2}}},
		"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "in list"},
			&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				"deep": &types.AttributeValueMemberBOOL{Value: false},
			}},
			&types.AttributeValueMemberL{},
		}},
		"m": &types.AttributeValueMemberM{},
	}}
}

func TestUnmarshalEveryPrefixTruncated(t *testing.T) {
	full, err := ddbserial.Marshal(allTypes())
	if err != nil {
		t.Fatal(err)
	}
	v, err := ddbserial.Unmarshal(full)
	if err != nil || !equal(v, allTypes()) {
		t.Fatalf("Unmarshal(Marshal(allTypes)) = %s, %v", show(v), err)
	}
	for i := range len(full) {
		if got, err := ddbserial.Unmarshal(full[:i]); !errors.Is(err, ddbserial.ErrMalformed) {
			t.Errorf("Unmarshal(first %d of %d bytes) = %s, %v; want ErrMalformed", i, len(full), show(got), err)
		}
	}
	if _, err := ddbserial.Unmarshal(append(slices.Clip(full), 0)); !errors.Is(err, ddbserial.ErrMalformed) {
		t.Errorf("Unmarshal(value + 1 byte) = %v; want ErrMalformed", err)
	}
}

func TestUnmarshalHugeLengths(t *testing.T) {
	type tc struct {
		name string
		in   []byte
	}
	tests := []tc{
		{"S len 2^32-1", unhex(t, "0073 ffffffff 616263")},
		{"S len 2^31-1", unhex(t, "0073 7fffffff 616263")},
		{"S len 2^31", unhex(t, "0073 80000000")},
		{"N len 2^32-1", unhex(t, "006e ffffffff 31")},
		{"B len 2^32-1", unhex(t, "0062 ffffffff")},
		{"SS count 2^32-1", unhex(t, "0053 ffffffff 0000000161")},
		{"NS count 2^31-1", unhex(t, "004e 7fffffff 0000000131")},
		{"BS count 2^32-1", unhex(t, "0042 ffffffff 00000000")},
		{"BS member len 2^32-1", unhex(t, "0042 00000001 ffffffff")},
		{"L count 2^32-1", unhex(t, "004c ffffffff 0000")},
		{"M count 2^32-1", unhex(t, "004d ffffffff")},
		{"M key len 2^32-1", unhex(t, "004d 00000001 0073 ffffffff")},
		{"SS member len 2^32-1", unhex(t, "0053 00000001 ffffffff")},
	}
	// Counts up to the input length, at every nesting level, with nothing behind them.
	var b []byte
	for range ddbserial.MaxDepth {
		b = append(b, 0x00, 'L', 0, 0, 0xff, 0xff)
	}
	tests = append(tests, tc{"nested lists claiming 64K elements", append(b, make([]byte, 1<<16)...)})
	b = b[:0]
	for range ddbserial.MaxDepth {
		b = append(b, 0x00, 'M', 0, 0, 0xff, 0xff, 0x00, 's', 0, 0, 0, 1, 'k')
	}
	tests = append(tests, tc{"nested maps claiming 64K entries", append(b, make([]byte, 1<<16)...)})
	tests = append(tests, tc{"BS claiming 16K empty members", append(unhex(t, "0042 00004000"), make([]byte, 1<<14)...)})

	for _, tc := range tests {
		got, err := ddbserial.Unmarshal(tc.in)
		if !errors.Is(err, ddbserial.ErrMalformed) {
			t.Errorf("%s: Unmarshal = %s, %v; want ErrMalformed", tc.name, show(got), err)
		}
		limit := uint64(64*len(tc.in) + 1<<20)
		if alloc := alloctest.Bytes(3, func() { ddbserial.Unmarshal(tc.in) }); alloc > limit {
			t.Errorf("%s: Unmarshal of %d bytes allocated %d bytes (limit %d)", tc.name, len(tc.in), alloc, limit)
		}
	}
}

func TestUnmarshalDoesNotAliasInput(t *testing.T) {
	in := unhex(t, "004c 00000002 0062 00000002 0102 0042 00000001 00000001 03")
	v, err := ddbserial.Unmarshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want := show(v)
	for i := range in {
		in[i] ^= 0xff
	}
	if got := show(v); got != want {
		t.Errorf("value changed with its input: %s -> %s", want, got)
	}
}

// TestErrorsDoNotQuoteValues: error strings never carry the offending content.
func TestErrorsDoNotQuoteValues(t *testing.T) {
	const secret = "SECRET-VALUE"
	marshal := []types.AttributeValue{
		&types.AttributeValueMemberS{Value: secret + "\xff"},
		&types.AttributeValueMemberN{Value: secret},
		&types.AttributeValueMemberNS{Value: []string{"1", secret}},
		&types.AttributeValueMemberSS{Value: []string{secret + "\xff"}},
		&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{secret + "\xff": &types.AttributeValueMemberNULL{Value: true}}},
		&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{secret: nil}},
	}
	for _, v := range marshal {
		_, err := ddbserial.Marshal(v)
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("Marshal error %q: want an error without the value", err)
		}
	}
	s := fmt.Sprintf("%08x%x", len(secret)+1, secret+"\xff")
	n := fmt.Sprintf("%08x%x", len(secret), secret)
	for _, h := range []string{
		"0073" + s,
		"006e" + n,
		"004e00000001" + n,
		"004d00000001" + "0073" + s + "0000",
		"004d00000001" + "0073" + n + "003f07",
		"0073" + n + "00",
	} {
		_, err := ddbserial.Unmarshal(unhex(t, h))
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("Unmarshal(%s) error %q: want an error without the value", h, err)
		}
	}
}
