package vectors_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
	"github.com/itemcrypto/go-itemcrypto/vectors"
)

func dbesdkManifests(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join(testenv.DBESDKVectorsDir(t), "decrypt_*.json"))
	if err != nil || len(files) < 4 {
		t.Fatalf("DB-ESDK manifests not found: %v (%d files)", err, len(files))
	}
	return files
}

func TestDBESDKManifests(t *testing.T) {
	positive, negative := 0, 0
	for _, path := range dbesdkManifests(t) {
		m, err := vectors.LoadDBESDK(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range m.IDs() {
			r := m.RunDBESDK(context.Background(), id)
			if r.Outcome != vectors.Passed {
				t.Errorf("%s/%s (%s): %s %s", filepath.Base(path), id, m.Manifest.Tests[id].Description, r.Outcome, r.Reason)
				continue
			}
			if m.Manifest.Tests[id].Type == "positive-decrypt" {
				positive++
				if r.Decrypted != 1 || r.RoundTrip != 1 {
					t.Errorf("%s/%s: result %+v", filepath.Base(path), id, r)
				}
			} else {
				negative++
			}
		}
	}
	if positive != 38 || negative != 4 {
		t.Errorf("ran %d positive and %d negative records, want 38 and 4", positive, negative)
	}
}

// TestDBESDKGenerate writes our own encryption of every positive record and
// runs the result: it must decrypt under the same configurations.
func TestDBESDKGenerate(t *testing.T) {
	for _, path := range dbesdkManifests(t) {
		m, err := vectors.LoadDBESDK(path)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		written, skipped, err := m.GenerateDBESDK(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(written) == 0 || len(skipped) != 1 {
			t.Fatalf("%s: wrote %d, skipped %v", path, len(written), skipped)
		}
		g, err := vectors.LoadDBESDK(filepath.Join(dir, filepath.Base(path)))
		if err != nil {
			t.Fatal(err)
		}
		if g.Manifest.Client.Name != "go-itemcrypto" {
			t.Errorf("client %q", g.Manifest.Client.Name)
		}
		for _, id := range g.IDs() {
			if r := g.RunDBESDK(context.Background(), id); r.Outcome != vectors.Passed {
				t.Errorf("generated %s/%s: %s %s", filepath.Base(path), id, r.Outcome, r.Reason)
			}
			if string(g.Manifest.Tests[id].Encrypted) == string(m.Manifest.Tests[id].Encrypted) {
				t.Errorf("generated %s/%s equals the reference ciphertext", filepath.Base(path), id)
			}
		}
	}
}
