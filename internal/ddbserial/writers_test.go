package ddbserial

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestPythonNumberMatchesReference checks PythonNumber against what the
// Python client itself serialized (testdata/python-numbers.py).
func TestPythonNumberMatchesReference(t *testing.T) {
	b, err := os.ReadFile("testdata/python-numbers.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases [][2]*string
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 500 {
		t.Fatalf("only %d cases", len(cases))
	}
	raised := 0
	for _, c := range cases {
		in := *c[0]
		got, err := PythonNumber(in)
		if c[1] == nil {
			raised++
			if err == nil {
				t.Errorf("PythonNumber(%q) = %q; the Python client raises", in, got)
			}
			continue
		}
		if err != nil || got != *c[1] {
			t.Errorf("PythonNumber(%q) = %q, %v; Python wrote %q", in, got, err, *c[1])
		}
	}
	if raised == 0 {
		t.Error("corpus has no number Python refuses")
	}
}

func TestPythonNumber(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"-0", "-0"},
		{"-0.000", "-0"},
		{"-0E+5", "-0"},
		{"0", "0"},
		{"+0.0", "0"},
		{"55.00", "55"},
		{"1234567890123456789012345678901", "1234567890123456789012345679000"},
		{"-1234567890123456789012345678901", "-1234567890123456789012345679000"},
		{"1234567890123456789012345678", "1234567890123456789012345678"},           // 28 digits: exact
		{"12345678901234567890123456785", "12345678901234567890123456780"},         // tie, even stays (checked against the Python client)
		{"12345678901234567890123456775", "12345678901234567890123456780"},         // tie, odd rounds up
		{"123456789012345678901234567850001", "123456789012345678901234567900000"}, // above the tie
		{"99999999999999999999999999999", "100000000000000000000000000000"},        // carry
		{"0.000000000099999999999999999999999999999", "0.0000000001"},              // 29 digits
	} {
		got, err := PythonNumber(c.in)
		if err != nil || got != c.want {
			t.Errorf("PythonNumber(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	// At Python's Etiny (1E-165) and above: accepted.
	for _, in := range []string{"1E-130", "1.2345678901234567890123456789012345678E-128", "1.234567890123456789012345678901234567E-129", "1.23456789012345678901234567890123456E-130", "1.00000000000000000000000000000000000E-130"} {
		if _, err := PythonNumber(in); err != nil {
			t.Errorf("PythonNumber(%q): %v", in, err)
		}
	}
	for _, in := range []string{"123456789012345678901234567890123456789", "1.000000000000000000000000000000000000000", "abc", "",
		// A last digit below 1E-165, Etiny of Python's number context:
		// Python raises decimal.Underflow writing or verifying it.
		"1.2345678901234567890123456789012345678E-130", "1.2345678901234567890123456789012345678E-129",
		"1.234567890123456789012345678901234567E-130", "1.000000000000000000000000000000000000E-130"} {
		if got, err := PythonNumber(in); !errors.Is(err, ErrInvalidNumber) {
			t.Errorf("PythonNumber(%q) = %q, %v; want ErrInvalidNumber", in, got, err)
		}
	}
}

// TestJavaOrdersMatchReference checks CompareUTF16 and CompareSignedBytes
// against String.compareTo and ByteBuffer.compareTo (testdata/Order.java).
func TestJavaOrdersMatchReference(t *testing.T) {
	b, err := os.ReadFile("testdata/java-order.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Strings [][3]json.RawMessage `json:"strings"`
		Bytes   [][3]json.RawMessage `json:"bytes"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	sign := func(n int) int { return min(max(n, -1), 1) }
	differs := 0
	for _, c := range ref.Strings {
		var x, y string
		var want int
		json.Unmarshal(c[0], &x)
		json.Unmarshal(c[1], &y)
		json.Unmarshal(c[2], &want)
		if got := sign(CompareUTF16(x, y)); got != want {
			t.Errorf("CompareUTF16(%+q, %+q) = %d, Java %d", x, y, got, want)
		}
		if sign(CompareUTF16(x, y)) != sign(bytes.Compare([]byte(x), []byte(y))) {
			differs++
		}
	}
	for _, c := range ref.Bytes {
		var x, y string
		var want int
		json.Unmarshal(c[0], &x)
		json.Unmarshal(c[1], &y)
		json.Unmarshal(c[2], &want)
		xb, _ := base64.StdEncoding.DecodeString(x)
		yb, _ := base64.StdEncoding.DecodeString(y)
		if got := sign(CompareSignedBytes(xb, yb)); got != want {
			t.Errorf("CompareSignedBytes(%x, %x) = %d, Java %d", xb, yb, got, want)
		}
	}
	if len(ref.Strings) < 100 || len(ref.Bytes) < 100 || differs == 0 {
		t.Fatalf("corpus too small or without a divergent pair (%d, %d, %d)", len(ref.Strings), len(ref.Bytes), differs)
	}
}

func TestAppendFormDivergences(t *testing.T) {
	ss := func(m ...string) types.AttributeValue { return &types.AttributeValueMemberSS{Value: m} }
	n := func(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }
	bs := &types.AttributeValueMemberBS{Value: [][]byte{{0x01}, {0x80}}}
	long := "1234567890123456789012345678901"
	for _, c := range []struct {
		name                 string
		v                    types.AttributeValue
		java, python         bool   // diverges from the default form
		wantJava, wantPython []byte // serialized, when it diverges
	}{
		{name: "plain", v: &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"a": n("1"), "b": ss("x", "y")}}},
		{name: "-0", v: n("-0"), python: true, wantPython: []byte("\x00n\x00\x00\x00\x02-0")},
		{name: "long", v: n(long), python: true, wantPython: append([]byte("\x00n\x00\x00\x00\x1f"), "1234567890123456789012345679000"...)},
		{name: "NS -0", v: &types.AttributeValueMemberNS{Value: []string{"5", "-0.0"}}, python: true,
			wantPython: []byte("\x00N\x00\x00\x00\x02\x00\x00\x00\x02-0\x00\x00\x00\x015")},
		{name: "BS high bit", v: bs, java: true, wantJava: []byte("\x00B\x00\x00\x00\x02\x00\x00\x00\x01\x80\x00\x00\x00\x01\x01")},
		{name: "BS same sign", v: &types.AttributeValueMemberBS{Value: [][]byte{{0x81}, {0x80}}}},
		{name: "SS supplementary", v: ss("\U0001F600", "\uE000"), java: true,
			wantJava: []byte("\x00S\x00\x00\x00\x02\x00\x00\x00\x04\U0001F600\x00\x00\x00\x03\uE000")},
		{name: "SS BMP only", v: ss("\uE000", "\u4E2D")},
		{name: "map keys", v: &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"\uFFFD": n("1"), "\U0001F511": n("2")}}, java: true,
			wantJava: []byte("\x00M\x00\x00\x00\x02\x00s\x00\x00\x00\x04\U0001F511\x00n\x00\x00\x00\x012\x00s\x00\x00\x00\x03\uFFFD\x00n\x00\x00\x00\x011")},
		{name: "nested -0", v: &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"z": n("-0")}}}}, python: true},
		{name: "nested BS", v: &types.AttributeValueMemberL{Value: []types.AttributeValue{bs}}, java: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			def, err := Marshal(c.v)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				form     Form
				diverges bool
				want     []byte
			}{{FormJava, c.java, c.wantJava}, {FormPython, c.python, c.wantPython}, {FormDefault, false, nil}} {
				got, err := AppendForm(nil, c.v, f.form)
				if err != nil {
					t.Fatalf("%v: %v", f.form, err)
				}
				if d := Diverges(c.v, f.form); d != f.diverges {
					t.Errorf("Diverges(%v) = %v, want %v", f.form, d, f.diverges)
				}
				if bytes.Equal(got, def) == f.diverges {
					t.Errorf("%v: bytes equal to the default form: %v, want %v", f.form, bytes.Equal(got, def), !f.diverges)
				}
				if f.want != nil && !bytes.Equal(got, f.want) {
					t.Errorf("%v: got %q, want %q", f.form, got, f.want)
				}
			}
		})
	}
}

func TestAppendFormErrors(t *testing.T) {
	for _, c := range []struct {
		v    types.AttributeValue
		want error
	}{
		{&types.AttributeValueMemberSS{}, ErrEmptySet},
		{&types.AttributeValueMemberNS{}, ErrEmptySet},
		{&types.AttributeValueMemberBS{}, ErrEmptySet},
		{&types.AttributeValueMemberSS{Value: []string{"\xff"}}, ErrInvalidUTF8},
		{&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"\xff": &types.AttributeValueMemberNULL{Value: true}}}, ErrInvalidUTF8},
		{&types.AttributeValueMemberN{Value: "1e"}, ErrInvalidNumber},
		{(*types.AttributeValueMemberN)(nil), ErrUnsupportedType},
		{&types.AttributeValueMemberL{Value: []types.AttributeValue{nil}}, ErrUnsupportedType},
	} {
		for _, f := range []Form{FormJava, FormPython} {
			if _, err := AppendForm(nil, c.v, f); !errors.Is(err, c.want) {
				t.Errorf("AppendForm(%#v, %v) = %v, want %v", c.v, f, err, c.want)
			}
		}
	}
	deep := types.AttributeValue(&types.AttributeValueMemberNULL{Value: true})
	for range MaxDepth + 1 {
		deep = &types.AttributeValueMemberL{Value: []types.AttributeValue{deep}}
	}
	if _, err := AppendForm(nil, deep, FormJava); !errors.Is(err, ErrTooDeep) {
		t.Errorf("deep: %v", err)
	}
}

// FuzzAppendForm: every form serializes whatever the default one does, and
// a value that does not diverge has the default bytes.
func FuzzAppendForm(f *testing.F) {
	f.Add([]byte("\x00N\x00\x00\x00\x02\x00\x00\x00\x02-0\x00\x00\x00\x015"))
	f.Add([]byte("\x00B\x00\x00\x00\x02\x00\x00\x00\x01\x01\x00\x00\x00\x01\x80"))
	f.Add([]byte("\x00S\x00\x00\x00\x02\x00\x00\x00\x03\uE000\x00\x00\x00\x04\U0001F600"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Unmarshal(b)
		if err != nil {
			return
		}
		def, err := Marshal(v)
		if err != nil {
			return
		}
		for _, form := range []Form{FormJava, FormPython} {
			got, err := AppendForm(nil, v, form)
			if err != nil {
				if form == FormPython && errors.Is(err, ErrInvalidNumber) {
					continue // a number Python cannot write
				}
				t.Fatalf("%v: %v", form, err)
			}
			if !Diverges(v, form) && !bytes.Equal(got, def) {
				t.Fatalf("%v: no divergence reported but bytes differ", form)
			}
			back, err := Unmarshal(got)
			if err != nil {
				t.Fatalf("%v: output does not parse: %v", form, err)
			}
			_ = back
		}
	})
}
