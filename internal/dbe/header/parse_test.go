package header

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
)

// vectorHeaders returns the aws_dbe_head values of the shared DB-ESDK
// vectors.
func vectorHeaders(t testing.TB) [][]byte {
	t.Helper()
	dir := os.Getenv("ITEMCRYPTO_DBESDK_VECTORS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared", "vectors", "dbesdk")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "decrypt_*.json"))
	if len(files) == 0 {
		t.Fatalf("no DB-ESDK vectors in %s (set ITEMCRYPTO_DBESDK_VECTORS)", dir)
	}
	var out [][]byte
	for _, f := range files {
		var m struct {
			Tests map[string]struct {
				Encrypted map[string]struct{ B string } `json:"encrypted"`
			} `json:"tests"`
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, rec := range m.Tests {
			h, err := base64.StdEncoding.DecodeString(rec.Encrypted["aws_dbe_head"].B)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, h)
		}
	}
	return out
}

// TestParseVectors: every stored header parses, and serializes back to the
// same bytes.
func TestParseVectors(t *testing.T) {
	for i, raw := range vectorHeaders(t) {
		h, err := Parse(raw)
		if err != nil {
			t.Fatalf("header %d: %v", i, err)
		}
		if len(h.EDKs) != 1 || h.EDKs[0].ProviderID != "aws-kms-hierarchy" {
			t.Errorf("header %d: EDKs %+v", i, h.EDKs)
		}
		_, hasPub := h.Context[keyring.PublicKeyContextKey]
		if hasPub != h.Suite.Signed() {
			t.Errorf("header %d: suite %s with public key %v", i, h.Suite, hasPub)
		}
		again, err := h.AppendPartial(nil)
		if err != nil {
			t.Fatal(err)
		}
		again = append(again, h.Commitment[:]...)
		if !bytes.Equal(again, raw) {
			t.Errorf("header %d: round trip differs", i)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	raw := vectorHeaders(t)[0]
	cases := map[string][]byte{
		"empty":      nil,
		"version 3":  append([]byte{3}, raw[1:]...),
		"flavor 2":   append([]byte{raw[0], 2}, raw[2:]...),
		"truncated":  raw[:len(raw)-1],
		"extended":   append(bytes.Clone(raw), 0),
		"no EDKs":    nil,
		"bad legend": nil,
	}
	h, _ := Parse(raw)
	h2 := h
	h2.Legend = []byte{'x'}
	if b, err := h2.AppendPartial(nil); err == nil {
		cases["bad legend"] = append(b, h.Commitment[:]...)
	}
	h3 := h
	h3.Version = 1
	h3.Legend = []byte{'c'}
	if b, err := h3.AppendPartial(nil); err == nil {
		cases["context legend in version 1"] = append(b, h.Commitment[:]...)
	}
	delete(cases, "no EDKs")
	for name, b := range cases {
		if _, err := Parse(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// TestParseAllocationBound: Parse allocates at most 4 bytes per input byte
// plus a constant.
func TestParseAllocationBound(t *testing.T) {
	for _, raw := range vectorHeaders(t)[:4] {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const n = 100
		for range n {
			if _, err := Parse(raw); err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		perParse := float64(after.TotalAlloc-before.TotalAlloc) / n
		if limit := 4*float64(len(raw)) + 1024; perParse > limit {
			t.Errorf("Parse of %d bytes allocated %.0f bytes, bound %.0f", len(raw), perParse, limit)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, raw := range vectorHeaders(f) {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := Parse(b)
		if err != nil {
			return
		}
		again, err := h.AppendPartial(nil)
		if err != nil {
			t.Fatalf("AppendPartial of a parsed header: %v", err)
		}
		if !bytes.Equal(append(again, h.Commitment[:]...), b) {
			t.Fatal("parse then serialize differs from the input")
		}
	})
}
