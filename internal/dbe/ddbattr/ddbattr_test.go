package ddbattr

import (
	"bytes"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestNormalizeNumber(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"0", "0"}, {"-0", "0"}, {"+0", "0"}, {"0000", "0"}, {"0.000", "0"}, {"-0.0e5", "0"},
		{"1", "1"}, {"+1", "1"}, {"-1", "-1"}, {"00.0011", "0.0011"}, {"2000.000", "2000"},
		{"10.01", "10.01"}, {"1e3", "1000"}, {"1E3", "1000"}, {"1.5e-3", "0.0015"}, {"-12.34e+1", "-123.4"},
		{".5", "0.5"}, {"5.", "5"}, {"123.456e-1", "12.3456"}, {"0.1e1", "1"},
		{"1e125", "1" + strings.Repeat("0", 125)}, {"9.9999999999999999999999999999999999999E+125", "99999999999999999999999999999999999999" + strings.Repeat("0", 88)},
		{"1e-130", "0." + strings.Repeat("0", 129) + "1"},
		{"12345678901234567890123456789012345678", "12345678901234567890123456789012345678"},
		{"1234567890123456789012345678901234567800000", "1234567890123456789012345678901234567800000"},
	} {
		got, err := NormalizeNumber(c.in)
		if err != nil || got != c.want {
			t.Errorf("NormalizeNumber(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct {
		in   string
		want error
	}{
		{"", ErrNumberSyntax}, {"-", ErrNumberSyntax}, {".", ErrNumberSyntax}, {"e5", ErrNumberSyntax}, {"1e", ErrNumberSyntax},
		{"1x", ErrNumberSyntax}, {"1.2.3", ErrNumberSyntax}, {"--1", ErrNumberSyntax}, {"1e+-3", ErrNumberSyntax}, {"NaN", ErrNumberSyntax},
		{"123456789012345678901234567890123456789", ErrNumberPrecision},
		{"1e126", ErrNumberRange}, {"1e-131", ErrNumberRange}, {"1e65000", ErrNumberRange}, {"1e-99999999999999", ErrNumberRange},
	} {
		if _, err := NormalizeNumber(c.in); !errors.Is(err, c.want) {
			t.Errorf("NormalizeNumber(%q) error %v, want %v", c.in, err, c.want)
		}
	}
}

// TestNormalizeBound: a number of n bytes never yields more than n+170
// bytes, however it is written.
func TestNormalizeBound(t *testing.T) {
	for _, in := range []string{"1e125", "1e-130", strings.Repeat("0", 10000) + "1", "0." + strings.Repeat("0", 129) + "1"} {
		out, err := NormalizeNumber(in)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) > len(in)+170 {
			t.Errorf("%d bytes in, %d out", len(in), len(out))
		}
	}
}

func TestCompareUTF16(t *testing.T) {
	// U+FF61 sorts after U+10002 in UTF-16 order, before it in UTF-8.
	a, b := "\uff61", "\U00010002"
	if !LessUTF16(b, a) || LessUTF16(a, b) {
		t.Error("UTF-16 order of U+FF61 and U+10002")
	}
	ss := []string{"b", "\uff61", "a", "\U00010002", "", "ab", "\u00e9", "\ud7ff"}
	slices.SortFunc(ss, CompareUTF16)
	want := []string{"", "a", "ab", "b", "\u00e9", "\ud7ff", "\U00010002", "\uff61"}
	if !slices.Equal(ss, want) {
		t.Errorf("sorted %q, want %q", ss, want)
	}
}

func TestSerialize(t *testing.T) {
	for _, c := range []struct {
		name string
		v    types.AttributeValue
		typ  uint16
		hex  string
	}{
		{"null", &types.AttributeValueMemberNULL{Value: true}, TypeNull, ""},
		{"S", &types.AttributeValueMemberS{Value: "ab"}, TypeString, "6162"},
		{"N", &types.AttributeValueMemberN{Value: "010.50"}, TypeNumber, "31302e35"},
		{"B", &types.AttributeValueMemberB{Value: []byte{1, 2}}, TypeBinary, "0102"},
		{"BOOL", &types.AttributeValueMemberBOOL{Value: true}, TypeBoolean, "01"},
		{"SS", &types.AttributeValueMemberSS{Value: []string{"b", "a"}}, TypeStringSet, "00000002" + "0000000161" + "0000000162"},
		{"NS", &types.AttributeValueMemberNS{Value: []string{"10", "9", "1e0"}}, TypeNumberSet, "00000003" + "0000000131" + "000000023130" + "0000000139"},
		{"BS", &types.AttributeValueMemberBS{Value: [][]byte{{2}, {1, 0}}}, TypeBinarySet, "00000002" + "000000020100" + "0000000102"},
		{"L", &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "x"}, &types.AttributeValueMemberNULL{Value: true}}},
			TypeList, "00000002" + "0001" + "00000001" + "78" + "0000" + "00000000"},
		{"M", &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"b": &types.AttributeValueMemberBOOL{}, "a": &types.AttributeValueMemberN{Value: "1"}}},
			TypeMap, "00000002" + "0001" + "00000001" + "61" + "0002" + "00000001" + "31" + "0001" + "00000001" + "62" + "0004" + "00000001" + "00"},
	} {
		got, typ, err := Append(nil, c.v)
		if err != nil || typ != c.typ || hex.EncodeToString(got) != c.hex {
			t.Errorf("%s: %x %04x %v, want %s %04x", c.name, got, typ, err, c.hex, c.typ)
			continue
		}
		back, err := Parse(typ, got)
		if err != nil {
			t.Errorf("%s: Parse: %v", c.name, err)
			continue
		}
		again, _, _ := Append(nil, back)
		if !bytes.Equal(again, got) {
			t.Errorf("%s: Parse then Append = %x, want %x", c.name, again, got)
		}
	}
}

func TestSerializeErrors(t *testing.T) {
	deep := types.AttributeValue(&types.AttributeValueMemberNULL{Value: true})
	for range MaxDepth + 2 {
		deep = &types.AttributeValueMemberL{Value: []types.AttributeValue{deep}}
	}
	for _, c := range []struct {
		name string
		v    types.AttributeValue
		want error
	}{
		{"nil", nil, ErrNilValue},
		{"typed nil S", (*types.AttributeValueMemberS)(nil), ErrNilValue},
		{"nil in list", &types.AttributeValueMemberL{Value: []types.AttributeValue{nil}}, ErrNilValue},
		{"duplicate SS", &types.AttributeValueMemberSS{Value: []string{"a", "a"}}, ErrDuplicate},
		{"duplicate NS after normalizing", &types.AttributeValueMemberNS{Value: []string{"1", "1.0"}}, ErrDuplicate},
		{"duplicate BS", &types.AttributeValueMemberBS{Value: [][]byte{{1}, {1}}}, ErrDuplicate},
		{"bad number", &types.AttributeValueMemberN{Value: "1e999"}, ErrNumberRange},
		{"bad UTF-8", &types.AttributeValueMemberS{Value: "\xff"}, ErrNotUTF8},
		{"too deep", deep, ErrTooDeep},
	} {
		if _, _, err := Append(nil, c.v); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	h := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	for _, c := range []struct {
		name string
		typ  uint16
		b    []byte
	}{
		{"null with bytes", TypeNull, []byte{0}},
		{"bool 2", TypeBoolean, []byte{2}},
		{"bool empty", TypeBoolean, nil},
		{"bad number", TypeNumber, []byte("1e999")},
		{"set count too large", TypeStringSet, h("7fffffff")},
		{"set trailing", TypeStringSet, h("00000001000000016100")},
		{"set duplicate", TypeStringSet, h("00000002000000016100000001" + "61")},
		{"number set duplicate by value", TypeNumberSet, h("00000002" + "0000000130" + "00000002" + "3030")},
		{"binary set duplicate, not adjacent", TypeBinarySet, h("00000003" + "0000000101" + "0000000102" + "0000000101")},
		{"map key type", TypeMap, h("00000001" + "0002" + "00000001" + "61" + "0000" + "00000000")},
		{"map duplicate", TypeMap, h("00000002" + "0001000000016100000000000" + "0" + "0001000000016100000000000" + "0")},
		{"list short", TypeList, h("00000001" + "0001" + "00000005" + "61")},
		{"unknown type", 0x0777, nil},
	} {
		if _, err := Parse(c.typ, c.b); err == nil {
			t.Errorf("%s: parsed", c.name)
		}
	}
}

// TestParseAllocationBound: a count that promises more elements than the
// input can hold is refused before anything is allocated for them.
func TestParseAllocationBound(t *testing.T) {
	in := []byte{0x00, 0x10, 0x00, 0x00} // a list of 1M elements, no data
	allocs := testing.AllocsPerRun(100, func() { Parse(TypeList, in) })
	if allocs > 2 {
		t.Errorf("%v allocations for a 4-byte lying list header", allocs)
	}
}
