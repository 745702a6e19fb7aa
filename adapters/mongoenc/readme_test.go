package mongoenc

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/itemcrypto/go-itemcrypto/internal/testenv"
)

const (
	readmePath     = "../../README.md"
	readmeSection  = "## MongoDB (mongoenc)"
	quickstartPath = "internal/quickstart/main.go"
)

// readmeProgram returns the Go program of the README's MongoDB section: its
// ```go block that contains "package main".
func readmeProgram(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, readmeSection)
	if i < 0 {
		t.Fatalf("README.md has no section %q", readmeSection)
	}
	section := text[i+len(readmeSection):]
	if j := strings.Index(section, "\n## "); j >= 0 {
		section = section[:j]
	}
	for {
		start := strings.Index(section, "```go\n")
		if start < 0 {
			t.Fatal("the README section has no complete Go program")
		}
		body := section[start+len("```go\n"):]
		end := strings.Index(body, "```\n")
		if end < 0 {
			t.Fatal("unterminated code block in the README section")
		}
		code := body[:end]
		if strings.HasPrefix(code, "package main\n") || strings.Contains(code, "\npackage main\n") {
			return code
		}
		section = body[end:]
	}
}

// TestREADMEProgram checks that the README's program is quickstart/main.go
// (which the build compiles and vets), minus its leading doc comment.
func TestREADMEProgram(t *testing.T) {
	want, err := os.ReadFile(quickstartPath)
	if err != nil {
		t.Fatal(err)
	}
	w := string(want)
	if i := strings.Index(w, "package main\n"); i >= 0 {
		w = w[i:]
	}
	if got := readmeProgram(t); got != w {
		t.Errorf("the program in README.md differs from %s; copy it over (from \"package main\")", quickstartPath)
	}
}

// TestREADMEProgramRuns runs the README's program against the test server
// and checks the output the README shows.
func TestREADMEProgramRuns(t *testing.T) {
	uri := testenv.MongoURI(t)
	if testing.Short() {
		t.Skip("builds and runs a program")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	cmd := exec.Command(goBin, "run", "./"+filepath.Dir(quickstartPath))
	cmd.Env = append(os.Environ(), "MONGODB_URI="+uri)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run %s: %v\n%s", filepath.Dir(quickstartPath), err, out.String())
	}
	for _, want := range []string{
		"stored card: 48 bytes of ciphertext",
		"decrypted card: 4111 1111 1111 1111 ssn: 078-05-1120",
		"found: ada@example.com 4111 1111 1111 1111",
		"found: bob@example.com 5500 0000 0000 0004",
		"update of a signed field refused: true",
		"filter on an encrypted field refused: true",
		"tampered document detected: true true",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
