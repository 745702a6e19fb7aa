package footer_test

import (
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"

	"bytes"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/dbe/footer"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/header"
)

type footSeed struct {
	foot   []byte
	nTags  int
	signed bool
}

// vectorFooters returns the aws_dbe_foot of every record of the shared
// DB-ESDK decrypt manifests, with the EDK count and suite of its header.
func vectorFooters(t testing.TB) []footSeed {
	t.Helper()
	var seeds []footSeed
	for _, v := range testenv.DBESDKVectors(t) {
		head, foot := v.Encrypted["aws_dbe_head"].B, v.Encrypted["aws_dbe_foot"].B
		h, err := header.Parse(head)
		if err != nil {
			t.Fatalf("%s/%s: header: %v", v.File, v.ID, err)
		}
		seeds = append(seeds, footSeed{foot, len(h.EDKs), h.Suite.Signed()})
	}
	if len(seeds) < 42 {
		t.Fatalf("%d footers in the vectors, want at least 42", len(seeds))
	}
	return seeds
}

// FuzzParse: Parse never panics, and what it accepts is exactly nTags tags
// and, when signed, a signature, that concatenate back to the input.
func FuzzParse(f *testing.F) {
	for _, s := range vectorFooters(f) {
		f.Add(s.foot, s.nTags, s.signed)
	}
	f.Fuzz(func(t *testing.T, b []byte, nTags int, signed bool) {
		if nTags > 1<<16 {
			return // the header allows at most 255 EDKs
		}
		ft, err := footer.Parse(b, nTags, signed)
		if err != nil {
			return
		}
		if ft.NumTags() != nTags || (ft.Signature != nil) != signed || (signed && len(ft.Signature) != footer.SignatureLength) {
			t.Fatalf("Parse(%d bytes, %d, %t) = %d tags, signature of %d bytes", len(b), nTags, signed, ft.NumTags(), len(ft.Signature))
		}
		var out []byte
		for i := range ft.NumTags() {
			tag := ft.Tag(i)
			if len(tag) != footer.TagLength {
				t.Fatalf("tag of %d bytes", len(tag))
			}
			out = append(out, tag...)
		}
		out = append(out, ft.Signature...)
		if !bytes.Equal(out, b) {
			t.Fatal("tags and signature do not concatenate to the input")
		}
	})
}

func TestParseVectorFooters(t *testing.T) {
	for i, s := range vectorFooters(t) {
		if _, err := footer.Parse(s.foot, s.nTags, s.signed); err != nil {
			t.Fatalf("footer %d: %v", i, err)
		}
		if _, err := footer.Parse(s.foot, s.nTags, !s.signed); err == nil {
			t.Fatalf("footer %d parsed under the other suite", i)
		}
	}
}
