package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
)

// TestVectorsMPL: "vectors run" takes the MPL keyring manifests, and
// "vectors generate" turns mpl/test.json into a DB-ESDK decrypt manifest
// that "vectors run" passes.
func TestVectorsMPL(t *testing.T) {
	mpl := filepath.Join(testenv.DBESDKVectorsDir(t), "mpl")
	code, out, errOut := runCLI(t, "", "vectors", "run", filepath.Join(mpl, "test.json"), filepath.Join(mpl, "manifest.json"))
	if code != 0 || !strings.HasSuffix(strings.TrimSpace(out), "84 passed, 0 failed, 992 skipped") {
		t.Fatalf("run: %d %s\n%s", code, lastLines(out), errOut)
	}
	if !strings.Contains(out, "raw RSA") && !strings.Contains(out, "needs an AWS account") {
		t.Errorf("run gives no skip reasons:\n%s", lastLines(out))
	}
	dir := filepath.Join(t.TempDir(), "gen")
	code, out, errOut = runCLI(t, "", "vectors", "generate", "--from", filepath.Join(mpl, "test.json"), "--out", dir)
	if code != 0 || !strings.Contains(out, "18 scenarios written") {
		t.Fatalf("generate: %d %s\n%s", code, lastLines(out), errOut)
	}
	code, out, errOut = runCLI(t, "", "vectors", "run", filepath.Join(dir, "decrypt_go_test.json"))
	if code != 0 || !strings.HasSuffix(strings.TrimSpace(out), "18 passed, 0 failed, 0 skipped") {
		t.Fatalf("run generated: %d %s\n%s", code, lastLines(out), errOut)
	}
	if code, _, errOut := runCLI(t, "", "vectors", "generate", "--from", filepath.Join(mpl, "manifest.json"), "--out", t.TempDir()); code == 0 || !strings.Contains(errOut, "stored data keys") {
		t.Errorf("generate from manifest.json: %d %s", code, errOut)
	}
}

func lastLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-3):], "\n")
}

// TestVectorsCachingCMM: "vectors run" says on the line of a record that a
// caching CMM ran as its underlying keyring, for an MPL manifest and for
// the DB-ESDK manifest "vectors generate" writes from it.
func TestVectorsCachingCMM(t *testing.T) {
	src := filepath.Join("..", "..", "vectors", "testdata", "keydesc", "mpl_caching.json")
	code, out, errOut := runCLI(t, "", "vectors", "run", src)
	if code != 0 || !strings.HasSuffix(strings.TrimSpace(out), "3 passed, 0 failed, 2 skipped") {
		t.Fatalf("run: %d %s\n%s", code, lastLines(out), errOut)
	}
	for _, want := range []string{
		`PASS  mpl_caching.json/caching-encrypt  go-itemcrypto: caching CMM over raw AES writes, raw AES reads (positive-keyring): round-tripped, 1 encrypted data keys (caching-cmm run as its underlying raw "aes-256": cmp/keyring has no caching materials manager, and a cache changes no bytes)`,
		`SKIP  mpl_caching.json/caching-identifiers  go-itemcrypto: caching CMM with cache entry identifiers (positive-keyring): key description caching-cmm over raw "aes-256" (TTL 5 s): it tests a caching CMM's get and put entry identifiers`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("run: no line %q in\n%s", want, out)
		}
	}
	dir := filepath.Join(t.TempDir(), "gen")
	if code, out, errOut := runCLI(t, "", "vectors", "generate", "--from", src, "--out", dir); code != 0 || !strings.Contains(out, "2 scenarios written") {
		t.Fatalf("generate: %d %s\n%s", code, lastLines(out), errOut)
	}
	code, out, errOut = runCLI(t, "", "vectors", "run", filepath.Join(dir, "decrypt_go_mpl_caching.json"))
	want := `decrypted, round-tripped (caching-cmm run as its underlying raw "rsa-4096-private": cmp/keyring has no caching materials manager, and a cache changes no bytes)`
	if code != 0 || !strings.HasSuffix(strings.TrimSpace(out), "2 passed, 0 failed, 0 skipped") || !strings.Contains(out, want) {
		t.Fatalf("run generated: %d %s\n%s", code, out, errOut)
	}
}
