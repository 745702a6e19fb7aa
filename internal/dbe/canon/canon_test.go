package canon

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"
)

// The length field of a canonical path counts UTF-16 code units, as the
// reference implementation (Dafny strings) writes it; the name's bytes are
// UTF-8. Lengths measured on the reference's output.
func TestAppendPathLengthUTF16(t *testing.T) {
	for _, tc := range []struct {
		name string
		want uint64
	}{
		{"a", 1},
		{"partition_key", 13},
		{"é", 1},            // U+00E9: 2 UTF-8 bytes, 1 code unit
		{"日本語", 3},          // BMP, 3 bytes each
		{"\U00010000", 2},   // supplementary plane: 4 bytes, a surrogate pair
		{"c_\U0001D7C1", 4}, // c_𝟁
		{"\uFFFF\U0010FFFF", 3},
		{"", 0},
	} {
		p := AppendPath(nil, "T", tc.name)
		want := []byte("T")
		want = binary.BigEndian.AppendUint64(want, 1)
		want = append(want, '$')
		want = binary.BigEndian.AppendUint64(want, tc.want)
		want = append(want, tc.name...)
		if !bytes.Equal(p, want) {
			t.Errorf("AppendPath(%q) = %x, want %x", tc.name, p, want)
		}
		if got := UTF16Len(tc.name); uint64(got) != tc.want {
			t.Errorf("UTF16Len(%q) = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// ComparePaths must order names exactly as the bytes of their canonical
// paths order (the reference sorts the paths bytewise), also where UTF-8
// length, UTF-16 length and code point order disagree.
func TestComparePathsIsPathOrder(t *testing.T) {
	names := []string{
		"a", "b", "aa", "é", "ab", "日", "日本語", "abc", "\U00010000", "zz",
		"\uE000", "\uFFFF", "\U0001D7C1", "c_\U0001D7C1", "c_ab", "c_é", "ü", "z",
		"", "\U0010FFFF", "\uE000\uE000", "é\U00010000",
	}
	for _, a := range names {
		for _, b := range names {
			want := bytes.Compare(AppendPath(nil, "tbl", a), AppendPath(nil, "tbl", b))
			if got := ComparePaths(a, b); sign(got) != want {
				t.Errorf("ComparePaths(%q, %q) = %d, paths compare %d", a, b, got, want)
			}
		}
	}
	// Known answer: one UTF-16 unit sorts before two, whatever the bytes.
	got := slices.Clone(names[:6])
	slices.SortFunc(got, ComparePaths)
	want := []string{"a", "b", "é", "日", "aa", "ab"}
	if !slices.Equal(got, want) {
		t.Errorf("sorted %q, want %q", got, want)
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func BenchmarkComparePaths(b *testing.B) {
	for b.Loop() {
		ComparePaths("partition_key", "attribute2")
		ComparePaths("日本語", "attribute1")
	}
}
