package cli

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// buildVersion is what `duet --version` and `duet version` say: the module version and the
// version control revision and date the binary was built from (runtime/debug's build info).
type buildVersion struct {
	Version  string `json:"version"`
	Revision string `json:"revision"`
	Time     string `json:"time"`
	Modified bool   `json:"modified"`
	Go       string `json:"go"`
}

// readBuildInfo is runtime/debug.ReadBuildInfo; tests give other build infos.
var readBuildInfo = debug.ReadBuildInfo

func currentVersion() buildVersion {
	v := buildVersion{Version: "unknown"}
	info, ok := readBuildInfo()
	if !ok || info == nil {
		return v
	}
	if info.Main.Version != "" {
		v.Version = info.Main.Version
	}
	v.Go = info.GoVersion
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String is the one line of `duet --version`: "duet VERSION (REVISION, DATE[, modified]) GO".
func (v buildVersion) String() string {
	var from []string
	if v.Revision != "" {
		from = append(from, "revision "+v.Revision)
	}
	if v.Time != "" {
		from = append(from, v.Time)
	}
	if v.Modified {
		from = append(from, "modified")
	}
	line := "duet " + v.Version
	if len(from) > 0 {
		line += " (" + strings.Join(from, ", ") + ")"
	}
	if v.Go != "" {
		line += " " + v.Go
	}
	return line
}

func printVersion(w io.Writer, asJSON bool) error {
	v := currentVersion()
	if asJSON {
		return printJSON(w, v)
	}
	_, err := fmt.Fprintln(w, v)
	return err
}

func versionCommand(inv *invocation) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version [--json]",
		Short: "the version of duet, and the revision and date it was built from",
		Long: "The module version of duet, and the version control revision and date it was built from\n" +
			"(as the Go toolchain recorded them in the binary). The same as duet --version.",
		Example:               "  duet version\n  duet version --json",
		DisableFlagsInUseLine: true,
		Args:                  argCount("version [--json]", 0, 0),
		RunE: inv.wrap(func(cmd *cobra.Command, args []string) error {
			return printVersion(inv.env.Stdout, asJSON)
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document: version, revision, time, modified, go")
	return cmd
}
