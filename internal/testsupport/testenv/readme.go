package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// READMEProgram returns the Go program ("package main" and what follows) of
// the ```go block in the given section ("## ...") of the README at path.
func READMEProgram(t testing.TB, path, section string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i := strings.Index(text, section)
	if i < 0 {
		t.Fatalf("README.md has no section %q", section)
	}
	rest := text[i+len(section):]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	for {
		start := strings.Index(rest, "```go\n")
		if start < 0 {
			t.Fatalf("the README section %q has no complete Go program", section)
		}
		body := rest[start+len("```go\n"):]
		end := strings.Index(body, "```\n")
		if end < 0 {
			t.Fatalf("unterminated code block in the README section %q", section)
		}
		code := body[:end]
		if strings.HasPrefix(code, "package main\n") || strings.Contains(code, "\npackage main\n") {
			return code
		}
		rest = body[end:]
	}
}

// CheckREADMEProgram fails the test unless the README section's program is
// the file program (which the build compiles and vets), minus its leading
// doc comment: the README can then never show code that does not build.
func CheckREADMEProgram(t testing.TB, readme, section, program string) {
	t.Helper()
	want, err := os.ReadFile(program)
	if err != nil {
		t.Fatal(err)
	}
	w := string(want)
	if i := strings.Index(w, "package main\n"); i >= 0 {
		w = w[i:]
	}
	if got := READMEProgram(t, readme, section); got != w {
		t.Errorf("the program in README.md (%s) differs from %s; copy it over (from \"package main\")", section, program)
	}
}

// RunProgram runs `go run ./dir` with env added to the environment and
// fails the test unless its output holds every line of wants.
func RunProgram(t testing.TB, dir string, env []string, wants ...string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command: %v", err)
	}
	cmd := exec.Command(goBin, "run", "./"+dir)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run %s: %v\n%s", filepath.Clean(dir), err, out.String())
	}
	for _, want := range wants {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
