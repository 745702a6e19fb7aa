package main

import (
	"fmt"
	"strings"
	"testing"
)

func TestBeaconLength(t *testing.T) {
	var lines []string
	for i := range 4000 {
		lines = append(lines, fmt.Sprintf("secret-zip-%d", i%1000))
	}
	code, out, errOut := runCLI(t, strings.Join(lines, "\n")+"\n", "beacon-length")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// 1000 distinct values: sqrt(1000) ≈ 31.6 < 2^N < 500, so 5..8 bits.
	for _, want := range []string{"samples:            4000", "distinct values:    1000", "safe lengths:       5..8 bits", "suggested length:   8 bits"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "secret-zip") || strings.Contains(out, "warning") {
		t.Errorf("output shows a value or warns on an even distribution:\n%s", out)
	}

	// DynamoDB JSON items, the attribute taken from each; --distinct wins.
	items := `{"pk": {"S": "1"}, "email": {"S": "secret@x"}}` + "\n" + `{"pk": {"S": "2"}}` + "\n" + `{"email": {"S": "other@x"}}` + "\n"
	code, out, errOut = runCLI(t, items, "beacon-length", "--attribute", "email", "--distinct", "100000")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "samples:            2") || !strings.Contains(out, "safe lengths:       9..15 bits") || strings.Contains(out, "secret@x") {
		t.Errorf("--attribute output:\n%s", out)
	}

	// A skewed sample warns.
	lines = lines[:0]
	for i := range 3000 {
		if i%2 == 0 {
			lines = append(lines, "common")
		} else {
			lines = append(lines, fmt.Sprint(i))
		}
	}
	if _, out, _ := runCLI(t, strings.Join(lines, "\n"), "beacon-length"); !strings.Contains(out, "warning: the distribution is skewed") {
		t.Errorf("no skew warning:\n%s", out)
	}

	// Errors name the line, never its content.
	for _, tc := range []struct{ in, want string }{
		{`{"email": {"S": "ok"}}` + "\nnot json secret-content\n", "line 2: not a DynamoDB JSON item"},
		{`{"email": {"L": [{"S": "secret-content"}]}}` + "\n", `line 1: attribute "email" is not S, N or B`},
	} {
		code, out, errOut := runCLI(t, tc.in, "beacon-length", "--attribute", "email")
		if code == 0 || !strings.Contains(errOut, tc.want) || strings.Contains(out+errOut, "secret-content") {
			t.Errorf("exit %d, stderr %q; want an error with %q and no content", code, errOut, tc.want)
		}
	}
}
