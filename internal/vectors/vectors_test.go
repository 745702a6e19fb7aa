package vectors

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/testenv"
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
