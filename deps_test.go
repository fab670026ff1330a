package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// buildTags are the tags the duet binary is built with (the Makefile's TAGS).
const buildTags = "goolm"

// TestBinaryLinksNoTestKit fails when the duet binary would link a test kit: a package under
// duet/internal/testkit, or a duet package that imports testing or net/http/httptest (test
// helpers that are not under the test kit). It asks `go list -deps` what the binary is built
// from, with the toolchain that runs the tests. It never skips: without a go command, or with a
// list that lacks the binary's own packages, it fails, since a guard that does not run guards
// nothing. (go test caches results without knowing the files go list read; CI runs -count=1.)
func TestBinaryLinksNoTestKit(t *testing.T) {
	goTool := goCommand(t)
	for _, tags := range []string{buildTags, ""} {
		args := []string{"list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`}
		if tags != "" {
			args = append(args, "-tags", tags)
		}
		cmd := exec.Command(goTool, append(args, ".")...)
		cmd.Stderr = new(strings.Builder)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, cmd.Stderr)
		}

		seen := map[string]bool{}
		for line := range strings.Lines(string(out)) {
			fields := strings.Fields(line)
			if len(fields) == 0 {
				continue
			}
			pkg, imports := fields[0], fields[1:]
			seen[pkg] = true
			if pkg == "duet/internal/testkit" || strings.HasPrefix(pkg, "duet/internal/testkit/") {
				t.Errorf("tags %q: the duet binary links %s; test kits are for tests only", tags, pkg)
			}
			if pkg != "duet" && !strings.HasPrefix(pkg, "duet/") {
				continue
			}
			for _, imp := range imports {
				if imp == "testing" || strings.HasPrefix(imp, "testing/") || imp == "net/http/httptest" {
					t.Errorf("tags %q: %s, linked into the duet binary, imports %s", tags, pkg, imp)
				}
			}
		}
		// The list must be the binary's: a wrong directory or an empty answer would pass above.
		for _, want := range []string{"duet", "duet/internal/cli", "duet/matrixsvc", "duet/ui", "duet/internal/demo"} {
			if !seen[want] {
				t.Fatalf("tags %q: `go list -deps .` does not list %s; it listed:\n%s", tags, want, out)
			}
		}
	}
}

// goCommand returns the go command of the toolchain running the tests: GOROOT/bin/go, or the
// first go on $PATH (go test puts GOROOT/bin first). No go command fails the test.
func goCommand(t *testing.T) string {
	t.Helper()
	name := "go"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if root := runtime.GOROOT(); root != "" {
		p := filepath.Join(root, "bin", name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command to list the binary's packages with (GOROOT %q): %v", runtime.GOROOT(), err)
	}
	return p
}
