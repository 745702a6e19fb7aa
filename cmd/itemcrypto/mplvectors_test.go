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
