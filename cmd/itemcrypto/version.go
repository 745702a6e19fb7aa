package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of itemcrypto",
		Long: `Print the version of itemcrypto: the module version when it was installed
with go install github.com/itemcrypto/go-itemcrypto/cmd/itemcrypto@vX.Y.Z,
otherwise the version control revision it was built from (with -dirty for
uncommitted changes), or "devel" when the build recorded neither.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			bi, _ := debug.ReadBuildInfo()
			fmt.Fprintf(cmd.OutOrStdout(), "itemcrypto %s (%s, %s/%s)\n", buildVersion(bi), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// buildVersion is the version bi records: the main module's version when it
// is a real one (go install ...@vX.Y.Z, or go build of a tagged checkout),
// else the VCS revision (vcs.revision, "-dirty" when vcs.modified), else
// "devel".
func buildVersion(bi *debug.BuildInfo) string {
	if bi == nil {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if modified {
		rev += "-dirty"
	}
	return rev
}
