package ddbjson

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestStringEscaping: appendString escapes as encoding/json does.
func TestStringEscaping(t *testing.T) {
	var all strings.Builder
	for c := range rune(0x80) {
		all.WriteRune(c)
	}
	for _, s := range []string{"", all.String(), "é\u2028\u2029\U0001F600\ufffd\u00a0<script>&amp;", strings.Repeat("ab\"c", 100)} {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzString(f *testing.F) {
	f.Add("plain")
	f.Add("<\u2028\x00\x1f\"\\>")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}
