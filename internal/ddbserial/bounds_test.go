package ddbserial_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/avfuzz"
)

func TestNumberRange(t *testing.T) {
	d38 := "12345678901234567890123456789012345678"
	nines := strings.Repeat("9", 38)
	ok := []struct{ in, want string }{
		{"1E-130", "0." + strings.Repeat("0", 129) + "1"},
		{"-1e-130", "-0." + strings.Repeat("0", 129) + "1"},
		{"0.1E-129", "0." + strings.Repeat("0", 129) + "1"},
		{"1E125", "1" + strings.Repeat("0", 125)},
		{"100E123", "1" + strings.Repeat("0", 125)},
		{"9." + nines[1:] + "E+125", nines + strings.Repeat("0", 88)},
		{d38, d38},
		{"-" + d38 + "00000", "-" + d38 + "00000"},
		{"0.000" + d38, "0.000" + d38},
		{strings.Repeat("0", 500) + "7", "7"},           // leading zeros are not significant
		{"7." + strings.Repeat("0", 500), "7"},          // nor trailing ones
		{"1" + strings.Repeat("0", 400) + "e-400", "1"}, // long, but in range
		{"0e99", "0"},
		{"-0.0e-500", "0"},
	}
	for _, tc := range ok {
		got, err := ddbserial.CanonicalNumber(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("CanonicalNumber(%.40q) = %.40q, %v; want %.40q", tc.in, got, err, tc.want)
		}
	}
	longest := "-1." + d38[1:] + "E-130"
	if got, err := ddbserial.CanonicalNumber(longest); err != nil || len(got) != ddbserial.MaxCanonicalNumber {
		t.Errorf("CanonicalNumber(%q) has %d bytes, %v; want MaxCanonicalNumber = %d", longest, len(got), err, ddbserial.MaxCanonicalNumber)
	}
	for _, in := range []string{
		"1E-131", "-1E-131", "0.01E-129", "1E126", "10E125", "-1e126",
		d38 + "9", "1." + d38, "1" + strings.Repeat("0", 50) + "1",
		"1e65000", "-1e65000", "1e-65000", "1e65536", "1e99999999999999999999", "9e9223372036854775807",
		"1e-9223372036854775808", "0e99999999999999999999",
	} {
		got, err := ddbserial.CanonicalNumber(in)
		if !errors.Is(err, ddbserial.ErrInvalidNumber) {
			t.Errorf("CanonicalNumber(%.40q) = %.40q, %v; want ErrInvalidNumber", in, got, err)
		}
		if strings.ContainsAny(in[1:], "eE") && !strings.HasPrefix(in, "0e") && !errors.Is(err, ddbserial.ErrNumberOutOfRange) {
			t.Errorf("CanonicalNumber(%.40q): %v; want ErrNumberOutOfRange", in, err)
		}
	}
}

// TestNumberAllocs: parsing and rendering allocate only the result.
func TestNumberAllocs(t *testing.T) {
	v := &types.AttributeValueMemberNS{Value: []string{"1.5e3", "12.5E-7", "-3", "9.99E125", "1e-130"}}
	buf := make([]byte, 0, 4096)
	if a := testing.AllocsPerRun(100, func() { ddbserial.Measure(v) }); a != 0 {
		t.Errorf("Measure allocates %.0f times, want 0", a)
	}
	if a := testing.AllocsPerRun(100, func() { ddbserial.Append(buf[:0], v) }); a > 1 {
		t.Errorf("Append(NS) allocates %.0f times, want at most 1 (the sort keys)", a)
	}
	if a := testing.AllocsPerRun(100, func() { ddbserial.CanonicalNumber("1.5e3") }); a > 1 {
		t.Errorf("CanonicalNumber allocates %.0f times, want 1", a)
	}
}

// checkMeasure: Measure agrees with Marshal on every value: both fail, or
// Serialized is len(Marshal(v)); and neither panics.
func checkMeasure(t *testing.T, v types.AttributeValue) {
	t.Helper()
	s, merr := ddbserial.Measure(v)
	b, err := ddbserial.Marshal(v)
	loose, lerr := ddbserial.MeasureLoose(v)
	if merr == nil && (lerr != nil || loose != s) {
		t.Fatalf("MeasureLoose = %+v, %v; Measure = %+v", loose, lerr, s)
	}
	if lerr != nil && !errors.Is(lerr, ddbserial.ErrUnsupportedType) && !errors.Is(lerr, ddbserial.ErrTooDeep) {
		t.Fatalf("MeasureLoose error %v: want only ErrUnsupportedType or ErrTooDeep", lerr)
	}
	if (merr == nil) != (err == nil) {
		t.Fatalf("Measure error %v, Marshal error %v", merr, err)
	}
	if err != nil {
		return
	}
	if s.Serialized != len(b) {
		t.Fatalf("Measure = %d, len(Marshal) = %d", s.Serialized, len(b))
	}
	var w bytes.Buffer
	if _, err := ddbserial.WriteTo(&w, make([]byte, 0, 16), v); err != nil || !bytes.Equal(w.Bytes(), b) {
		t.Fatalf("WriteTo wrote %d bytes, %v; Marshal %d bytes", w.Len(), err, len(b))
	}
	if s.Stored > s.Serialized {
		t.Fatalf("Stored %d > Serialized %d", s.Stored, s.Serialized)
	}
}

func TestMeasureAllTypes(t *testing.T) {
	checkMeasure(t, allTypes())
	big := make([]string, 3000)
	for i := range big {
		big[i] = fmt.Sprintf("%de%d", i*7919%3001, i%250-125)
	}
	long := strings.Repeat("é", 5000)
	checkMeasure(t, &types.AttributeValueMemberL{Value: []types.AttributeValue{
		&types.AttributeValueMemberNS{Value: big},
		&types.AttributeValueMemberSS{Value: []string{long, "b", "a" + long}},
		&types.AttributeValueMemberBS{Value: [][]byte{[]byte(long), nil, {1}}},
		&types.AttributeValueMemberS{Value: long},
		&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{long: &types.AttributeValueMemberB{Value: []byte(long)}}},
	}})
	checkMeasure(t, nest(ddbserial.MaxDepth+1, true, &types.AttributeValueMemberNULL{Value: true}))
	checkMeasure(t, &types.AttributeValueMemberNS{Value: []string{"1", "1e65000"}})
	checkMeasure(t, &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"\xff": &types.AttributeValueMemberNULL{Value: true}}})
	checkMeasure(t, &types.AttributeValueMemberL{Value: []types.AttributeValue{(*types.AttributeValueMemberS)(nil)}})
}

// FuzzValues feeds hand-built values (typed nils, nil maps and sets, empty
// sets, unknown members, deep nesting, huge exponents) to Measure and
// Marshal: no panic, and the two agree.
func FuzzValues(f *testing.F) {
	for _, seed := range [][]byte{
		{1, 3}, {1, 9}, {11, 0, 0}, {8, 0}, {7, 0}, {9, 0}, {13, 2, 'a', 'b'},
		{14, 0x80 | 40, 216},    // 5,120 members "Ne64800": the amplification case
		{12, 47, 2, 0},          // 47 levels of nesting
		{5, 1, 255}, {5, 2, 90}, // 1e76500, -9.5e-270
		{10, 3, 1, 4, 5, 1, 'x', 11, 1, 1, 'k', 1, 6},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkMeasure(t, avfuzz.Value(data))
	})
}
