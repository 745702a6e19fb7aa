package materialdesc_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"

	"github.com/itemcrypto/go-itemcrypto/materialdesc"
)

// vectorsDir locates the reference vectors: $ITEMCRYPTO_VECTORS or the
// shared checkout beside the repository. Missing vectors fail, never skip.
func vectorsDir(t testing.TB) string {
	t.Helper()
	return testenv.VectorsDir(t)
}

type descVector struct {
	Description map[string]string `json:"material_description"`
	Serialized  []byte            `json:"serialized"`
}

func loadVectors(t testing.TB) []descVector {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(vectorsDir(t), "material_description.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vs []descVector
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 {
		t.Fatalf("material_description.json: %d vectors, want 3", len(vs))
	}
	return vs
}

// enc builds a description by hand, entries in the given order (duplicates allowed).
func enc(version uint32, kv ...string) []byte {
	b := binary.BigEndian.AppendUint32(nil, version)
	for _, s := range kv {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

func TestVectors(t *testing.T) {
	for i, vec := range loadVectors(t) {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			d := materialdesc.Description(vec.Description)
			if got := d.Encode(); !bytes.Equal(got, vec.Serialized) {
				t.Errorf("Encode(%v)\n got %x\nwant %x", vec.Description, got, vec.Serialized)
			}
			if got := d.AppendEncode([]byte("xy")); !bytes.Equal(got, append([]byte("xy"), vec.Serialized...)) {
				t.Errorf("AppendEncode(xy, %v) = %x; want xy||%x", vec.Description, got, vec.Serialized)
			}
			got, err := materialdesc.Decode(vec.Serialized)
			if err != nil {
				t.Fatalf("Decode(%x): %v", vec.Serialized, err)
			}
			if !maps.Equal(got, d) {
				t.Errorf("Decode(%x) = %q; want %q", vec.Serialized, map[string]string(got), vec.Description)
			}
		})
	}
}

func TestEncodeSorted(t *testing.T) {
	d := materialdesc.Description{"b": "2", "B": "3", "a": "1", "\U0001F600": "5", "\uE000": "4", "": "0"}
	want := enc(0, "", "0", "B", "3", "a", "1", "b", "2", "\uE000", "4", "\U0001F600", "5")
	for range 10 {
		if got := d.Encode(); !bytes.Equal(got, want) {
			t.Fatalf("Encode\n got %x\nwant %x", got, want)
		}
	}
	if got, want := materialdesc.Description(nil).Encode(), []byte{0, 0, 0, 0}; !bytes.Equal(got, want) {
		t.Errorf("nil.Encode() = %x; want %x", got, want)
	}
}

func TestDecodeAnyOrder(t *testing.T) {
	// Java writes hash-map order.
	b := enc(0, materialdesc.KeyEnvelopeKey, "AAAA", materialdesc.KeyKMSContextAttr, "*keys*", materialdesc.KeyEnvelopeAlg, "AES/256", "", "")
	got, err := materialdesc.Decode(b)
	want := materialdesc.Description{materialdesc.KeyEnvelopeKey: "AAAA", materialdesc.KeyKMSContextAttr: "*keys*", materialdesc.KeyEnvelopeAlg: "AES/256", "": ""}
	if err != nil || !maps.Equal(got, want) {
		t.Errorf("Decode = %q, %v; want %q", map[string]string(got), err, map[string]string(want))
	}
}

func TestDecodeErrors(t *testing.T) {
	const secretK, secretV = "SECRET-KEY", "SECRET-VALUE"
	valid := enc(0, secretK, secretV, "k2", "v2")
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"nil", nil, materialdesc.ErrMalformed},
		{"3-byte header", []byte{0, 0, 0}, materialdesc.ErrMalformed},
		{"version 1", enc(1, secretK, secretV), materialdesc.ErrUnsupportedVersion},
		{"version 2^32-1", enc(0xffffffff), materialdesc.ErrUnsupportedVersion},
		{"version 0x01000000", enc(0x01000000), materialdesc.ErrUnsupportedVersion},
		{"key without value", enc(0, secretK), materialdesc.ErrMalformed},
		{"value length cut", valid[:len(valid)-3], materialdesc.ErrMalformed},
		{"partial length", append(enc(0, secretK, secretV), 0, 0), materialdesc.ErrMalformed},
		{"key length beyond input", append(enc(0), 0, 0, 0, 5, 'a'), materialdesc.ErrMalformed},
		{"key length 2^32-1", append(enc(0), 0xff, 0xff, 0xff, 0xff), materialdesc.ErrMalformed},
		{"value length 2^32-1", append(enc(0, secretK), 0xff, 0xff, 0xff, 0xff, 'x'), materialdesc.ErrMalformed},
		{"duplicate key", enc(0, secretK, secretV, "x", "y", secretK, secretV+"2"), materialdesc.ErrMalformed},
		{"duplicate identical entry", enc(0, secretK, secretV, secretK, secretV), materialdesc.ErrMalformed},
		{"invalid UTF-8 key", enc(0, secretK+"\xff", secretV), materialdesc.ErrMalformed},
		{"invalid UTF-8 value", enc(0, secretK, secretV+"\xc3"), materialdesc.ErrMalformed},
		{"surrogate in value", enc(0, secretK, secretV+"\xed\xb0\x80"), materialdesc.ErrMalformed},
		{"larger than MaxSize", enc(0, secretK, secretV+strings.Repeat("v", materialdesc.MaxSize)), materialdesc.ErrMalformed},
	}
	for _, tc := range tests {
		got, err := materialdesc.Decode(tc.in)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Decode = %q, %v; want %v", tc.name, map[string]string(got), err, tc.want)
			continue
		}
		if got != nil {
			t.Errorf("%s: Decode returned %v with its error", tc.name, got)
		}
		if msg := err.Error(); strings.Contains(msg, "SECRET") {
			t.Errorf("%s: error %q quotes the description", tc.name, msg)
		}
	}
}

func TestDecodeEveryPrefix(t *testing.T) {
	full := enc(0, "k1", "value one", "k2", "", "", "v3")
	boundaries := map[int]materialdesc.Description{
		4:                             {},
		4 + 4 + 2 + 4 + 9:             {"k1": "value one"},
		4 + 4 + 2 + 4 + 9 + 4 + 2 + 4: {"k1": "value one", "k2": ""},
		len(full):                     {"k1": "value one", "k2": "", "": "v3"},
	}
	for i := 0; i <= len(full); i++ {
		got, err := materialdesc.Decode(full[:i])
		if want, ok := boundaries[i]; ok {
			if err != nil || !maps.Equal(got, want) {
				t.Errorf("Decode(first %d bytes) = %q, %v; want %q", i, map[string]string(got), err, map[string]string(want))
			}
		} else if !errors.Is(err, materialdesc.ErrMalformed) {
			t.Errorf("Decode(first %d bytes) = %q, %v; want ErrMalformed", i, map[string]string(got), err)
		}
	}
}

func TestDecodeLimits(t *testing.T) {
	// Exactly MaxSize bytes is accepted; one more is not.
	overhead := 4 + 4 + 1 + 4
	atMax := enc(0, "k", strings.Repeat("v", materialdesc.MaxSize-overhead))
	if len(atMax) != materialdesc.MaxSize {
		t.Fatalf("test bug: %d bytes", len(atMax))
	}
	if d, err := materialdesc.Decode(atMax); err != nil || len(d["k"]) != materialdesc.MaxSize-overhead {
		t.Errorf("Decode(MaxSize bytes) = %d entries, %v; want success", len(d), err)
	}
	overMax := enc(0, "k", strings.Repeat("v", materialdesc.MaxSize-overhead+1))
	if d, err := materialdesc.Decode(overMax); !errors.Is(err, materialdesc.ErrMalformed) {
		t.Errorf("Decode(MaxSize+1 bytes) = %d entries, %v; want ErrMalformed", len(d), err)
	}

	// Exactly MaxEntries entries is accepted; one more is not.
	var kv []string
	for i := range materialdesc.MaxEntries + 1 {
		kv = append(kv, fmt.Sprintf("key%03d", i), "v")
	}
	if d, err := materialdesc.Decode(enc(0, kv[:2*materialdesc.MaxEntries]...)); err != nil || len(d) != materialdesc.MaxEntries {
		t.Errorf("Decode(MaxEntries entries) = %d entries, %v; want %d", len(d), err, materialdesc.MaxEntries)
	}
	if d, err := materialdesc.Decode(enc(0, kv...)); !errors.Is(err, materialdesc.ErrMalformed) {
		t.Errorf("Decode(MaxEntries+1 entries) = %d entries, %v; want ErrMalformed", len(d), err)
	}
	// Many empty entries in a small input: the entry limit still applies.
	many := enc(0)
	for range 1000 {
		many = append(many, make([]byte, 8)...) // "" => "" repeated: limit or duplicate, never accepted
	}
	if _, err := materialdesc.Decode(many); !errors.Is(err, materialdesc.ErrMalformed) {
		t.Errorf("Decode(1000 empty entries) = %v; want ErrMalformed", err)
	}
}

func TestStringShowsKeysOnly(t *testing.T) {
	d := materialdesc.Description{materialdesc.KeyEnvelopeKey: "SECRET-WRAPPED-KEY", "b": "SECRET-2"}
	//lint:ignore S1025 each way of formatting is under test
	for _, s := range []string{d.String(), fmt.Sprint(d), fmt.Sprintf("%v", d), fmt.Sprintf("%s", d)} {
		if strings.Contains(s, "SECRET") {
			t.Errorf("formatted description %q shows values", s)
		}
		if !strings.Contains(s, materialdesc.KeyEnvelopeKey) || !strings.Contains(s, "b") {
			t.Errorf("formatted description %q does not list the keys", s)
		}
	}
}

func TestClone(t *testing.T) {
	d := materialdesc.Description{"a": "1"}
	c := d.Clone()
	c["a"] = "2"
	c["b"] = "3"
	if d["a"] != "1" || len(d) != 1 {
		t.Errorf("changing the clone changed the original: %q", map[string]string(d))
	}
	if c := materialdesc.Description(nil).Clone(); c == nil || len(c) != 0 {
		t.Errorf("nil.Clone() = %#v; want an empty writable map", c)
	}
}

// FuzzDecode: Decode never panics, respects its limits, and what it accepts
// survives an Encode/Decode round trip.
func FuzzDecode(f *testing.F) {
	for _, vec := range loadVectors(f) {
		f.Add(vec.Serialized)
	}
	f.Add(enc(0, "k", "v", "k", "v"))
	f.Add(enc(1))
	f.Add(enc(0, "\xff", ""))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := materialdesc.Decode(b)
		if err != nil {
			if d != nil {
				t.Fatalf("Decode returned %v with error %v", d, err)
			}
			if !errors.Is(err, materialdesc.ErrMalformed) && !errors.Is(err, materialdesc.ErrUnsupportedVersion) {
				t.Fatalf("Decode error %v is neither ErrMalformed nor ErrUnsupportedVersion", err)
			}
			return
		}
		if len(b) > materialdesc.MaxSize || len(d) > materialdesc.MaxEntries {
			t.Fatalf("Decode accepted %d bytes, %d entries", len(b), len(d))
		}
		e := d.Encode()
		if len(e) != len(b) {
			t.Fatalf("Encode(Decode(b)) is %d bytes, b is %d", len(e), len(b))
		}
		d2, err := materialdesc.Decode(e)
		if err != nil || !maps.Equal(d, d2) {
			t.Fatalf("Decode(Encode(d)) = %q, %v; want %q", map[string]string(d2), err, map[string]string(d))
		}
		if !bytes.Equal(d2.Encode(), e) {
			t.Fatalf("Encode not deterministic")
		}
	})
}
