package ddbserial_test

import (
	"bytes"
	"errors"
	"math/big"
	"regexp"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/ddbserial"
)

// FuzzUnmarshal: Unmarshal never panics, and whatever it accepts Marshal
// writes back into bytes that decode to an Equal value and are canonical.
func FuzzUnmarshal(f *testing.F) {
	for _, name := range []string{"serialize_attribute.json", "deserialize_attribute.json"} {
		n := map[string]int{"serialize_attribute.json": 22, "deserialize_attribute.json": 15}[name]
		for _, vec := range loadAttrVectors(f, name, n) {
			f.Add(vec.Serialized)
		}
	}
	if b, err := ddbserial.Marshal(allTypes()); err == nil {
		f.Add(b)
	}
	for _, h := range []string{"", "0000", "003f02", "006e00000003316535", "0053ffffffff", "004d00000001006e0000000131 0000"} {
		f.Add(unhex(f, h))
	}
	f.Add(nestedBytes(ddbserial.MaxDepth, false, []byte{0, 0}))
	f.Add(nestedBytes(ddbserial.MaxDepth, true, []byte{0, 0}))

	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ddbserial.Unmarshal(b)
		if err != nil {
			if v != nil {
				t.Fatalf("Unmarshal returned a value with error %v", err)
			}
			if !errors.Is(err, ddbserial.ErrMalformed) {
				t.Fatalf("Unmarshal error %v does not match ErrMalformed", err)
			}
			return
		}
		out, err := ddbserial.Marshal(v)
		if errors.Is(err, ddbserial.ErrNumberOutOfRange) {
			return // plaintexts may hold numbers DynamoDB would refuse; Marshal refuses them
		}
		if err != nil {
			t.Fatalf("Unmarshal(%x) succeeded but Marshal failed: %v", b, err)
		}
		v2, err := ddbserial.Unmarshal(out)
		if err != nil {
			t.Fatalf("Unmarshal(Marshal(v)) = %v (Marshal gave %x)", err, out)
		}
		if !equal(v, v2) {
			t.Fatalf("Unmarshal(Marshal(v)) != v\n v  %s\n v2 %s", show(v), show(v2))
		}
		out2, err := ddbserial.Marshal(v2)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("Marshal not canonical: %x then %x (%v)", out, out2, err)
		}
	})
}

var canonicalRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$`)

// FuzzCanonicalNumber: accepted numbers come out in canonical form, as a fixed
// point, with the same value (checked against math/big).
func FuzzCanonicalNumber(f *testing.F) {
	for _, s := range []string{"55.00", "1.5e-3", "-0", ".5", "5.", "+7", "1E-130", "0E+5", "00012.3400", "1e", "NaN", "1..2", "-100.0", "1e65536", "1e-65536"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ddbserial.CanonicalNumber(s)
		if err != nil {
			if !errors.Is(err, ddbserial.ErrInvalidNumber) || c != "" {
				t.Fatalf("CanonicalNumber(%q) = %q, %v", s, c, err)
			}
			return
		}
		if !canonicalRE.MatchString(c) || c == "-0" {
			t.Fatalf("CanonicalNumber(%q) = %q: not canonical", s, c)
		}
		if again, err := ddbserial.CanonicalNumber(c); err != nil || again != c {
			t.Fatalf("CanonicalNumber(%q) = %q, %v; not a fixed point", c, again, err)
		}
		if len(s) > 64 || len(c) > 256 {
			return // keep big.Rat cheap
		}
		in, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("CanonicalNumber accepted %q, which math/big cannot parse", s)
		}
		out, ok := new(big.Rat).SetString(c)
		if !ok || in.Cmp(out) != 0 {
			t.Fatalf("CanonicalNumber(%q) = %q: value changed", s, c)
		}
	})
}
