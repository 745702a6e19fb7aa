package vectors

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
)

// sharedManifest is the reference clients' manifest. The vectors live beside
// the repository (../shared/vectors/ddbec) or where ITEMCRYPTO_VECTORS points.
func sharedManifest(t *testing.T) string {
	t.Helper()
	return filepath.Join(testenv.VectorsDir(t), "encrypted_item", "scenarios.json")
}

func TestSharedScenarios(t *testing.T) {
	s, err := Load(sharedManifest(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := range s.Manifest.Scenarios {
		sc := &s.Manifest.Scenarios[i]
		r := s.Run(context.Background(), sc, RunOptions{})
		t.Logf("%s %s: %s decrypted=%d roundtrip=%d unmatched=%d", r.Outcome, sc.Name(), r.Reason, r.Decrypted, r.RoundTrip, r.Unmatched)
		if r.Outcome == Failed {
			t.Errorf("%s: %s", sc.Name(), r.Reason)
		}
	}
}

// TestLegacyDDBECScenarios runs the DB-ESDK's copy of the legacy vectors
// (more Java writers: static AES + RSA signing, wrapped AES + RSA signing,
// wrapped RSA + HMAC, non-ASCII descriptions, a nested item) with the
// reference plaintext and the v1_complex expectation of testdata.
func TestLegacyDDBECScenarios(t *testing.T) {
	dir := testenv.VectorsDir(t)
	s, err := Load(filepath.Join(dir, "..", "dbesdk", "legacy-ddbec", "encrypted_item", "scenarios.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UsePlaintext(filepath.Join(dir, "encrypted_item", "plaintext.json"), filepath.Join("testdata", "v1_complex.json")); err != nil {
		t.Fatal(err)
	}
	passed := 0
	for i := range s.Manifest.Scenarios {
		sc := &s.Manifest.Scenarios[i]
		r := s.Run(context.Background(), sc, RunOptions{})
		switch r.Outcome {
		case Failed:
			t.Errorf("%s: %s", sc.Name(), r.Reason)
		case Skipped:
			if !sc.Network {
				t.Errorf("%s: offline scenario skipped: %s", sc.Name(), r.Reason)
			}
		case Passed:
			passed++
		}
	}
	if passed != 23 {
		t.Errorf("%d scenarios passed, want every offline one (23)", passed)
	}
}
