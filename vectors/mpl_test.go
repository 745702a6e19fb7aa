package vectors_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
	"github.com/itemcrypto/go-itemcrypto/vectors"
)

func compact(raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "invalid JSON: " + err.Error()
	}
	return b.String()
}

func runMPL(t *testing.T, path string) (counts [3]int, reasons map[string]int) {
	t.Helper()
	m, err := vectors.LoadMPL(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	reasons = map[string]int{}
	for _, id := range m.IDs() {
		r := m.RunMPL(context.Background(), id)
		counts[r.Outcome]++
		switch r.Outcome {
		case vectors.Failed:
			t.Errorf("%s/%s (%s): %s", filepath.Base(path), id, m.Tests[id].Description, r.Reason)
		case vectors.Skipped:
			if r.Reason == "" {
				t.Errorf("%s/%s skipped without a reason", filepath.Base(path), id)
			}
			reasons[r.Reason]++
		}
	}
	return counts, reasons
}

// TestMPLManifests runs the MPL keyring vectors: every record whose key
// descriptions need no AWS account and whose suite is a DB-ESDK suite (or
// that tests the reproduced context) passes; the rest are skipped with
// the reason.
func TestMPLManifests(t *testing.T) {
	dir := filepath.Join(testenv.DBESDKVectorsDir(t), "mpl")
	for _, name := range []string{"test.json", "manifest.json"} {
		kind, err := vectors.DetectManifest(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{"test.json": vectors.MPLKeyringTests, "manifest.json": vectors.MPLDecryptManifestType}[name]; kind != want {
			t.Errorf("%s: kind %q, want %q", name, kind, want)
		}
	}
	counts, reasons := runMPL(t, filepath.Join(dir, "test.json"))
	// 16 raw AES/RSA and 2 hierarchy records of suites 0x6700/0x6701, and
	// 65 reproduced-context records run as 0x6700.
	if counts != [3]int{83, 0, 992} {
		t.Errorf("test.json: passed/failed/skipped %v, want [83 0 992]", counts)
	}
	// Every skip falls in one of these, by the start of its reason.
	kinds := []struct{ prefix, needs string }{
		{"key description caching-cmm over static-material-keyring", "no caching materials manager"},
		{"key description aws-kms-mrk-aware ", "needs an AWS account"},
		{"key description aws-kms-rsa ", "needs an AWS account"},
		{"key description aws-kms ", "needs an AWS account"},
		{"key description static-material-keyring ", "an AWS Encryption SDK suite"},
		{"algorithm suite 0x", "is an AWS Encryption SDK suite"},
	}
	skips := map[string]int{}
	for reason, n := range reasons {
		i := slices.IndexFunc(kinds, func(k struct{ prefix, needs string }) bool { return strings.HasPrefix(reason, k.prefix) })
		if i < 0 || !strings.Contains(reason, kinds[i].needs) {
			t.Errorf("%d records skipped for an unexpected reason: %s", n, reason)
			continue
		}
		skips[kinds[i].prefix] += n
	}
	wantSkips := map[string]int{kinds[0].prefix: 733, kinds[1].prefix: 104, kinds[2].prefix: 26, kinds[3].prefix: 26, kinds[4].prefix: 4, kinds[5].prefix: 99}
	if !maps.Equal(skips, wantSkips) {
		t.Errorf("skips by kind %v, want %v", skips, wantSkips)
	}
	if counts, _ := runMPL(t, filepath.Join(dir, "manifest.json")); counts != [3]int{1, 0, 0} {
		t.Errorf("manifest.json: passed/failed/skipped %v, want [1 0 0]", counts)
	}
}

// TestMPLGenerate turns mpl/test.json into a DB-ESDK decrypt manifest and
// runs it: every record carries the MPL's decrypt key description.
func TestMPLGenerate(t *testing.T) {
	m, err := vectors.LoadMPL(filepath.Join(testenv.DBESDKVectorsDir(t), "mpl", "test.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	dir := t.TempDir()
	written, skipped, err := m.GenerateMPL(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 18 || len(written)+len(skipped) != len(m.Tests) {
		t.Fatalf("wrote %d, skipped %d of %d", len(written), len(skipped), len(m.Tests))
	}
	g, err := vectors.LoadDBESDK(filepath.Join(dir, "decrypt_go_test.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for _, id := range g.IDs() {
		if r := g.RunDBESDK(context.Background(), id); r.Outcome != vectors.Passed {
			t.Errorf("generated %s: %s %s", id, r.Outcome, r.Reason)
		}
		_, dec := m.Tests[id].Descriptions()
		if compact(g.Manifest.Tests[id].Config.Key) != compact(dec) {
			t.Errorf("generated %s: key %s, want the MPL's %s", id, g.Manifest.Tests[id].Config.Key, dec)
		}
	}
}

// TestKeyDescriptionVectors runs the committed Go-written manifest of every
// key-description form (written by an earlier build: a change of format
// shows here), then writes it again and runs what was written.
func TestKeyDescriptionVectors(t *testing.T) {
	path := filepath.Join("testdata", "keydesc", "decrypt_go_keydesc.json")
	m, err := vectors.LoadDBESDK(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var counts [3]int
	for _, id := range m.IDs() {
		r := m.RunDBESDK(context.Background(), id)
		counts[r.Outcome]++
		if r.Outcome == vectors.Failed {
			t.Errorf("%s (%s): %s", id, m.Manifest.Tests[id].Description, r.Reason)
		}
		if r.Outcome == vectors.Skipped && !strings.Contains(r.Reason, "needs an AWS account") {
			t.Errorf("%s skipped: %s", id, r.Reason)
		}
	}
	if counts != [3]int{31, 0, 1} {
		t.Errorf("passed/failed/skipped %v, want [31 0 1]", counts)
	}
	dir := t.TempDir()
	written, skipped, err := m.GenerateDBESDK(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 31 || len(skipped) != 1 {
		t.Fatalf("wrote %d, skipped %v", len(written), skipped)
	}
	g, err := vectors.LoadDBESDK(filepath.Join(dir, filepath.Base(path)))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for _, id := range g.IDs() {
		if r := g.RunDBESDK(context.Background(), id); r.Outcome != vectors.Passed {
			t.Errorf("generated %s: %s %s", id, r.Outcome, r.Reason)
		}
		if compact(g.Manifest.Tests[id].Config.Key) != compact(m.Manifest.Tests[id].Config.Key) {
			t.Errorf("generated %s: key description %s, want %s", id, g.Manifest.Tests[id].Config.Key, m.Manifest.Tests[id].Config.Key)
		}
	}
}

// TestMPLCachingCMM: a caching-cmm without cache entry identifiers runs as
// its underlying keyring and says so (in the MPL runner, and in the
// DB-ESDK runner over what GenerateMPL writes); one with identifiers, and
// the static-materials keyring, are skipped with the reason.
func TestMPLCachingCMM(t *testing.T) {
	path := filepath.Join("testdata", "keydesc", "mpl_caching.json")
	m, err := vectors.LoadMPL(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want := map[string]struct {
		outcome vectors.Outcome
		reason  string
	}{
		"caching-encrypt":     {vectors.Passed, `round-tripped, 1 encrypted data keys (caching-cmm run as its underlying raw "aes-256": cmp/keyring has no caching materials manager, and a cache changes no bytes)`},
		"caching-both":        {vectors.Passed, `round-tripped, 1 encrypted data keys (caching-cmm run as its underlying raw "rsa-4096-private": cmp/keyring has no caching materials manager`},
		"caching-wrong-key":   {vectors.Passed, `failed to decrypt as expected: keyring: no encrypted data key this keyring can decrypt (caching-cmm run as its underlying raw "aes-256" and raw "aes-128"`},
		"caching-identifiers": {vectors.Skipped, `key description caching-cmm over raw "aes-256" (TTL 5 s): it tests a caching CMM's get and put entry identifiers against a test cache, and cmp/keyring has no caching materials manager`},
		"static-materials":    {vectors.Skipped, `static-material-keyring "static-plaintext-data-key": fixed materials of suite 0x0014 (a plaintext data key, 1 encrypted data key), an AWS Encryption SDK suite`},
	}
	if len(m.Tests) != len(want) {
		t.Fatalf("%d tests, want %d", len(m.Tests), len(want))
	}
	for id, w := range want {
		r := m.RunMPL(context.Background(), id)
		if r.Outcome != w.outcome || !strings.HasPrefix(r.Reason, w.reason) && !strings.Contains(r.Reason, w.reason) {
			t.Errorf("%s: %s %q, want %s %q", id, r.Outcome, r.Reason, w.outcome, w.reason)
		}
	}
	dir := t.TempDir()
	written, skipped, err := m.GenerateMPL(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(written, " ") != "caching-both caching-encrypt" || len(skipped) != 3 {
		t.Fatalf("wrote %v, skipped %v", written, skipped)
	}
	g, err := vectors.LoadDBESDK(filepath.Join(dir, "decrypt_go_mpl_caching.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	// A generated record keeps the decrypt description: caching-encrypt's
	// is a plain raw AES keyring.
	for id, reason := range map[string]string{"caching-both": `(caching-cmm run as its underlying raw "rsa-4096-private": `, "caching-encrypt": ""} {
		r := g.RunDBESDK(context.Background(), id)
		if r.Outcome != vectors.Passed || r.RoundTrip != 1 || !strings.HasPrefix(r.Reason, reason) || (reason == "") != (r.Reason == "") {
			t.Errorf("generated %s: %s %q, want a pass with %q", id, r.Outcome, r.Reason, reason)
		}
	}
}
