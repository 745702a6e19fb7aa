package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/itemcrypto/go-itemcrypto/cmp"
	"github.com/itemcrypto/go-itemcrypto/itemcrypto"
	"github.com/itemcrypto/go-itemcrypto/rotate"
)

// TestExitCodes runs one command line per exit status through the
// command's entry point (the rotations that end in 6 are in rotate_test.go,
// against dynalite, and below through the error they return).
func TestExitCodes(t *testing.T) {
	keys := keygen(t, "aes-hmac")
	code, stored, errOut := runCLI(t, sampleItem, cryptArgs("encrypt", keys)...)
	if code != exitOK {
		t.Fatalf("encrypt: exit status %d: %s", code, errOut)
	}
	item, _ := parseOutput(t, stored)
	item["email"] = &types.AttributeValueMemberS{Value: "eve@example.com"}
	tampered, err := formatItem(item, true)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unreadable := filepath.Join(dir, "unreadable.json")
	if err := os.WriteFile(unreadable, []byte(sampleItem), 0o000); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.json")

	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  int
	}{
		{"ok", "", []string{"version"}, exitOK},
		{"help", "", []string{"--help"}, exitOK},
		{"unknown command", "", []string{"encrpyt"}, exitUsage},
		{"unknown subcommand", "", []string{"keyset", "bogus"}, exitUsage},
		{"unknown flag", sampleItem, cryptArgs("encrypt", keys, "--bogus"), exitUsage},
		{"bad flag value", "", []string{"rotate", "--table", "t", "--segments", "many"}, exitUsage},
		{"required flag", sampleItem, []string{"encrypt", "--keys", keys}, exitUsage},
		{"too many arguments", sampleItem, cryptArgs("encrypt", keys, "a.json", "b.json"), exitUsage},
		{"flags in conflict", sampleItem, cryptArgs("encrypt", keys, "--keyset", keys), exitUsage},
		{"no keys", sampleItem, []string{"encrypt", "--table", "users", "--partition-key", "pk", "--no-sort-key"}, exitUsage},
		{"authentication", string(tampered), cryptArgs("decrypt", keys), exitAuth},
		{"not encrypted", sampleItem, cryptArgs("decrypt", keys), exitAuth},
		{"item file missing", "", cryptArgs("encrypt", keys, missing), exitInput},
		{"key file missing", sampleItem, cryptArgs("encrypt", missing), exitInput},
		{"manifest missing", "", []string{"vectors", "run", missing}, exitInput},
		{"checkpoint missing", "", []string{"rotate", "status", missing}, exitInput},
		{"server unreachable", "", []string{"rotate", "--table", "t", "--partition-key", "id", "--no-sort-key",
			"--endpoint", "http://127.0.0.1:1", "--from-keys", keys, "--to-keys", keys, "--checkpoint", filepath.Join(dir, "cp")}, exitServer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.stdin, tc.args...)
			if code != tc.want {
				t.Errorf("%s: exit status %d, want %d\nstdout: %s\nstderr: %s", strings.Join(tc.args, " "), code, tc.want, out, errOut)
			}
		})
	}
	if os.Geteuid() != 0 { // root reads a file of mode 0000
		if code, _, errOut := runCLI(t, "", cryptArgs("encrypt", keys, unreadable)...); code != exitInput {
			t.Errorf("unreadable item file: exit status %d, want %d: %s", code, exitInput, errOut)
		}
	}
}

// TestExitCodeOf maps the errors of the library and of the services, as
// the commands return them wrapped, to their exit status.
func TestExitCodeOf(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("command: %w", err) }
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitOK},
		{"other", errors.New("boom"), exitFailure},
		{"vectors failed", quietError{msg: "2 scenarios failed"}, exitFailure},
		{"usage", usagef("--rate must not be negative"), exitUsage},
		{"required flag", errors.New(`required flag(s) "table" not set`), exitUsage},
		{"authentication", wrap(itemcrypto.ErrAuthentication), exitAuth},
		{"authentication hinted", hinted{wrap(itemcrypto.ErrAuthentication), authHint}, exitAuth},
		{"not found", wrap(&fs.PathError{Op: "open", Path: "item.json", Err: fs.ErrNotExist}), exitInput},
		{"permission", wrap(&fs.PathError{Op: "open", Path: "keys.json", Err: fs.ErrPermission}), exitInput},
		{"api", wrap(&smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "no table"}), exitServer},
		{"kms", wrap(&cmp.KMSError{Op: "Decrypt", KeyID: "k", Err: errors.New("throttled")}), exitServer},
		{"network", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), exitServer},
		{"conflicts", quietError{"rotation incomplete", errPartial}, exitPartial},
		{"interrupted", causedError{"interrupted; rerun to resume (checkpoint cp)", rotate.ErrInterrupted}, exitPartial},
		{"stopped by the server", causedError{"DescribeTable: ...; rerun to resume", &smithy.GenericAPIError{Code: "InternalServerError"}}, exitServer},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("%s: exitCode(%v) = %d, want %d", tc.name, tc.err, got, tc.want)
		}
	}
}

// TestExitCodesDocumented: the root command's help and the README list
// every exit status.
func TestExitCodesDocumented(t *testing.T) {
	code, out, _ := runCLI(t, "", "--help")
	if code != 0 || !strings.Contains(out, exitCodesHelp) {
		t.Errorf("itemcrypto --help does not end with the exit statuses:\n%s", out)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for c := exitOK; c <= exitPartial; c++ {
		if !strings.Contains(string(readme), fmt.Sprintf("| %d |", c)) {
			t.Errorf("the README's table of exit statuses has no row for %d", c)
		}
	}
}
