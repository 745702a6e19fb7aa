package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/testsupport/testenv"
)

// readmeCommands returns the command lines of the first ```sh block of the
// README section, continuation lines joined and comments dropped.
func readmeCommands(t *testing.T, section string) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "\n"+section+"\n")
	if i < 0 {
		t.Fatalf("README has no section %q", section)
	}
	text = text[i:]
	start := strings.Index(text, "```sh\n")
	if start < 0 {
		t.Fatalf("README section %q has no sh block", section)
	}
	text = text[start+len("```sh\n"):]
	text = text[:strings.Index(text, "```")]
	text = strings.ReplaceAll(text, "\\\n", " ")
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if j := strings.Index(l, " #"); j >= 0 {
			l = l[:j]
		}
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestREADMECommandLine runs the README's command-line section as it is
// written, in a fresh directory, through the CLI in-process.
func TestREADMECommandLine(t *testing.T) {
	vectors := testenv.VectorsDir(t)
	lines := readmeCommands(t, "## Command-line tool")
	dir := t.TempDir()
	t.Chdir(dir)
	const item = `{"customer_id": {"S": "c-1001"}, "created": {"N": "1700000000"}, "email": {"S": "ada@example.com"},
		"views": {"N": "3"}, "card": {"S": "4111 1111 1111 1111"}}`
	if err := os.WriteFile("item.json", []byte(item), 0o600); err != nil {
		t.Fatal(err)
	}
	ran := map[string]bool{}
	for _, line := range lines {
		words := strings.Fields(line)
		if len(words) < 4 || strings.Join(words[:3], " ") != "go run ./cmd/itemcrypto" {
			t.Fatalf("README command %q does not start with go run ./cmd/itemcrypto", line)
		}
		args, out := words[3:], ""
		if k := len(args) - 2; k > 0 && args[k] == ">" {
			args, out = args[:k], args[k+1]
		}
		for j, a := range args {
			a = strings.ReplaceAll(a, "../shared/vectors/ddbec", vectors)
			args[j] = strings.ReplaceAll(a, "/tmp/go-vectors", filepath.Join(dir, "go-vectors"))
		}
		code, stdout, stderr := runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("%s: exit status %d\nstdout: %s\nstderr: %s", line, code, stdout, stderr)
		}
		if out != "" {
			if err := os.WriteFile(out, []byte(stdout), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		ran[args[0]] = true
		switch {
		case args[0] == "encrypt" && strings.Contains(stdout, "4111"):
			t.Errorf("%s: the stored item shows the card", line)
		case args[0] == "decrypt" && !strings.Contains(stdout, "4111 1111 1111 1111"):
			t.Errorf("%s: the decrypted item lacks the card:\n%s", line, stdout)
		case args[0] == "vectors" && args[1] == "run" && !strings.Contains(stdout, " 0 failed"):
			t.Errorf("%s: %s", line, lastLine(stdout))
		}
	}
	for _, cmd := range []string{"keygen", "encrypt", "decrypt", "keyset", "vectors", "rotate"} {
		if !ran[cmd] {
			t.Errorf("the README's command-line section never runs %s", cmd)
		}
	}
}
