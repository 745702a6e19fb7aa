package header_test

import (
	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"

	"bytes"
	"fmt"
	"runtime"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/cmp/keyring"
	"github.com/itemcrypto/go-itemcrypto/internal/dbe/header"
)

// vectorHeads returns the aws_dbe_head of every record of the shared
// DB-ESDK decrypt manifests.
func vectorHeads(t testing.TB) [][]byte {
	t.Helper()
	var heads [][]byte
	for _, v := range testenv.DBESDKVectors(t) {
		heads = append(heads, v.Encrypted["aws_dbe_head"].B)
	}
	return heads
}

// FuzzParse: Parse never panics, and a header it accepts serializes back
// to the same bytes (AppendPartial plus the commitment).
func FuzzParse(f *testing.F) {
	for _, h := range vectorHeads(f) {
		f.Add(h)
	}
	f.Add(largeHeader(f, 3, 2))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := header.Parse(b)
		if err != nil {
			if h.EDKs != nil || h.Context != nil {
				t.Fatal("Parse returned a header and an error")
			}
			return
		}
		out, err := h.AppendPartial(nil)
		if err != nil {
			t.Fatalf("AppendPartial of a parsed header: %v", err)
		}
		out = append(out, h.Commitment[:]...)
		if !bytes.Equal(out, b) {
			t.Fatalf("round trip changed the header:\n in %x\nout %x", b, out)
		}
	})
}

// Every vector header parses and round-trips (the seeds alone, so that a
// plain go test checks them).
// largeHeader is a header with n context entries and e EDKs.
func largeHeader(t testing.TB, n, e int) []byte {
	t.Helper()
	h := header.Header{Version: 1, Suite: keyring.SuiteECDSAP384, Legend: []byte("ees"), Context: map[string]string{}}
	for i := range n {
		h.Context[fmt.Sprintf("key-%04d", i)] = fmt.Sprintf("value %d", i)
	}
	for i := range e {
		h.EDKs = append(h.EDKs, keyring.EncryptedDataKey{ProviderID: "ns", ProviderInfo: []byte(fmt.Sprint(i)), Ciphertext: make([]byte, 80)})
	}
	b, err := h.AppendPartial(nil)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, make([]byte, header.CommitmentLength)...)
}

// TestParseAllocationBound checks the bound the package documents: Parse
// allocates at most its input's length plus a constant per
// encryption-context entry and per encrypted data key. The constants here
// (a fixed 512 bytes and 4 allocations, 160 bytes and 3 allocations per
// entry or EDK) are what the implementation needs with room to spare; a
// change that copies more of the input, or allocates per byte, fails.
func TestParseAllocationBound(t *testing.T) {
	const fixedBytes, perItemBytes, fixedAllocs, perItemAllocs = 512, 160, 4, 3
	for i, b := range append(vectorHeads(t), largeHeader(t, 300, 20)) {
		h, err := header.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		items := len(h.Context) + len(h.EDKs)
		allocs := testing.AllocsPerRun(20, func() { header.Parse(b) })
		if max := float64(fixedAllocs + perItemAllocs*items); allocs > max {
			t.Errorf("header %d (%d entries and EDKs): %.0f allocations, bound %.0f", i, items, allocs, max)
		}
		const runs = 50
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range runs {
			header.Parse(b)
		}
		runtime.ReadMemStats(&after)
		perRun := (after.TotalAlloc - before.TotalAlloc) / runs
		if max := uint64(len(b) + fixedBytes + perItemBytes*items); perRun > max {
			t.Errorf("header %d (%d bytes, %d entries and EDKs): %d bytes allocated, bound %d", i, len(b), items, perRun, max)
		}
	}
}
