package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"

	"duet/internal/paths"
)

// runOffline runs duet in-process with directories that hold nothing: for the commands that
// need no profile (help, version, completion).
func runOffline(t *testing.T, args ...string) result {
	t.Helper()
	base := t.TempDir()
	var out, errb bytes.Buffer
	env := Env{Dirs: paths.Dirs{Config: base + "/config", Data: base + "/data", State: base + "/state", Cache: base + "/cache"},
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
	code := Run(context.Background(), env, args)
	return result{out.String(), errb.String(), code}
}

// Every command's help (`duet help CMD`, the same as `duet CMD --help`) is pinned by a golden
// file: it comes from the command's definition, so a changed flag or argument shows here.
// Update with go test -tags goolm ./internal/cli/ -run TestHelp -update.
func TestHelp(t *testing.T) {
	root := newRoot(&invocation{})
	names := []string{"duet", "help"}
	for _, c := range root.Commands() {
		names = append(names, c.Name())
	}
	if len(names) < 18 {
		t.Fatalf("only %d commands: %v", len(names), names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			args := []string{"help", name}
			if name == "duet" {
				args = []string{"--help"}
			}
			r := runOffline(t, args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("duet %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
			}
			if !strings.Contains(r.stdout, "Exit status: 0 success") {
				t.Fatalf("duet %s says no exit status:\n%s", strings.Join(args, " "), r.stdout)
			}
			if name != "duet" && name != "help" {
				flagHelp := runOffline(t, name, "--help")
				if flagHelp.code != 0 || flagHelp.stdout != r.stdout {
					t.Fatalf("duet %s --help (exit %d) differs from duet help %s:\n%s", name, flagHelp.code, name, flagHelp.stdout)
				}
			}
			golden.RequireEqual(t, r.stdout)
		})
	}
}

// The version names the module version and the revision and date of the build, in a line and
// in JSON; `duet --version` and `duet version` say the same.
func TestVersion(t *testing.T) {
	saved := readBuildInfo
	t.Cleanup(func() { readBuildInfo = saved })
	readBuildInfo = func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "duet", Version: "v1.2.3"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}, true
	}
	want := "duet v1.2.3 (revision 0123456789abcdef, 2026-12-01T10:00:00Z, modified) go1.26.0\n"
	for _, args := range [][]string{{"--version"}, {"version"}} {
		if r := runOffline(t, args...); r.code != 0 || r.stdout != want || r.stderr != "" {
			t.Fatalf("duet %v: exit %d, %q, %q; want %q", args, r.code, r.stdout, r.stderr, want)
		}
	}
	for _, args := range [][]string{{"version", "--json"}, {"--version", "--json"}} {
		r := runOffline(t, args...)
		var v map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || r.code != 0 {
			t.Fatalf("%v: exit %d, %v: %q", args, r.code, err, r.stdout)
		}
		if v["version"] != "v1.2.3" || v["revision"] != "0123456789abcdef" || v["time"] != "2026-12-01T10:00:00Z" || v["modified"] != true || v["go"] != "go1.26.0" {
			t.Fatalf("%v: %v", args, v)
		}
	}
	// Without build info (a stripped build), it still answers.
	readBuildInfo = func() (*debug.BuildInfo, bool) { return nil, false }
	if r := runOffline(t, "--version"); r.code != 0 || r.stdout != "duet unknown\n" {
		t.Fatalf("no build info: exit %d, %q", r.code, r.stdout)
	}
}

// Bad usage is exit 2 with one line (and the pointer to --help), whatever part of the parser
// finds it; help and version take no profile lock.
func TestUsageExitCodes(t *testing.T) {
	for _, args := range [][]string{
		{"nosuchcommand"}, {"--nosuchflag"}, {"send"}, {"send", "@a:b", "--nosuchflag"}, {"whoami", "extra"},
		{"messages", "@a:b", "--limit", "0"}, {"messages", "@a:b", "--limit", "x"}, {"keys", "export"},
		{"login", "extra"}, {"demo", "extra"}, {"version", "extra"}, {"--profile", "../x", "whoami"},
		{"completion"}, {"completion", "nosuchshell"}, {"help", "nosuchcommand"}, {"--json"},
	} {
		r := runOffline(t, args...)
		if r.code != 2 || r.stdout != "" || strings.Count(r.stderr, "\n") != 2 || !strings.HasSuffix(r.stderr, "Run `duet --help` for usage.\n") {
			t.Errorf("duet %s: exit %d, stdout %q, stderr %q; want bad usage", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
}

// `duet completion SHELL` prints that shell's script, which asks duet's __complete command;
// the shell's candidates for commands and options come from the same definitions.
func TestCompletionScripts(t *testing.T) {
	for shell, marks := range map[string][]string{
		"bash": {"complete -o default -F __start_duet duet", "__complete"},
		"zsh":  {"#compdef duet", "compdef _duet duet", "__complete"},
		"fish": {"complete -c duet", "__complete"},
	} {
		r := runOffline(t, "completion", shell)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("completion %s: exit %d, %q", shell, r.code, r.stderr)
		}
		for _, m := range marks {
			if !strings.Contains(r.stdout, m) {
				t.Errorf("the %s script lacks %q", shell, m)
			}
		}
		// What the sanitizing writer passes is the script as cobra wrote it.
		var direct bytes.Buffer
		root := newRoot(&invocation{})
		root.AddCommand(helpCommand(&invocation{}))
		switch shell {
		case "bash":
			_ = root.GenBashCompletionV2(&direct, true)
		case "zsh":
			_ = root.GenZshCompletion(&direct)
		case "fish":
			_ = root.GenFishCompletion(&direct, true)
		}
		if direct.String() != r.stdout {
			t.Errorf("the %s script was changed on its way out", shell)
		}
	}
	// The candidates: commands with their descriptions, and a command's options.
	r := runOffline(t, "__complete", "se")
	if r.code != 0 || !strings.Contains(r.stdout, "send\tsend to @user") || !strings.Contains(r.stdout, "search\t") || strings.Contains(r.stdout, "whoami") {
		t.Fatalf("commands: exit %d, %q", r.code, r.stdout)
	}
	r = runOffline(t, "__complete", "send", "@a:b", "--re")
	if r.code != 0 || !strings.Contains(r.stdout, "--reply-to\tanswer the message EVENT\n") || !strings.Contains(r.stdout, "--react\t") || strings.Contains(r.stdout, "--json") {
		t.Fatalf("send's options: exit %d, %q", r.code, r.stdout)
	}
}
