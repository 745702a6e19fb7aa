package header_test

import (
	"bytes"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/header"
)

// TestParseVectors: every stored header parses, and serializes back to the
// same bytes.
func TestParseVectors(t *testing.T) {
	for i, raw := range vectorHeads(t) {
		h, err := header.Parse(raw)
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
	raw := vectorHeads(t)[0]
	cases := map[string][]byte{
		"empty":      nil,
		"version 3":  append([]byte{3}, raw[1:]...),
		"flavor 2":   append([]byte{raw[0], 2}, raw[2:]...),
		"truncated":  raw[:len(raw)-1],
		"extended":   append(bytes.Clone(raw), 0),
		"no EDKs":    nil,
		"bad legend": nil,
	}
	h, _ := header.Parse(raw)
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
		if _, err := header.Parse(b); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
