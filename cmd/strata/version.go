package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is the release version, set at build time with
// -ldflags "-X main.version=v1.2.3". When empty, the module version from the
// build info is used (set by `go install module@version`).
var version string

// cliVersion returns the version of this binary, or "dev" for a local build.
func cliVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// buildRevision returns the VCS revision recorded in the binary, if any.
func buildRevision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of this binary",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			line := fmt.Sprintf("strata %s (%s %s/%s", cliVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			if rev := buildRevision(); rev != "" {
				line += ", commit " + rev
			}
			_, err := fmt.Fprintln(cmd.OutOrStdout(), line+")")
			return err
		},
	}
}
