package main

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"
)

func TestBuildVersion(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "devel"},
		{"go install @version", &debug.BuildInfo{Main: debug.Module{Version: "v0.1.0"}}, "v0.1.0"},
		{"version wins over VCS", &debug.BuildInfo{Main: debug.Module{Version: "v0.2.1"}, Settings: vcs("abc123", "false")}, "v0.2.1"},
		{"VCS revision", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("0123456789abcdef", "false")}, "0123456789abcdef"},
		{"modified checkout", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("0123456789abcdef", "true")}, "0123456789abcdef-dirty"},
		{"neither", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
		{"empty version", &debug.BuildInfo{}, "devel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := buildVersion(tc.bi); got != tc.want {
				t.Errorf("buildVersion = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestVersionCommand runs the command as built for the test: a test binary
// records no module version (and go test no VCS revision), so it says devel.
func TestVersionCommand(t *testing.T) {
	cmd := newVersionCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	bi, _ := debug.ReadBuildInfo()
	want := "itemcrypto " + buildVersion(bi) + " ("
	if !strings.HasPrefix(out.String(), want) {
		t.Errorf("version printed %q, want it to start with %q", out.String(), want)
	}
}
