// Package homeserver builds and runs a real Matrix homeserver (Dendrite) on loopback: the
// throw-away server of `duet demo`, and the one duet's integration tests run against.
//
// Dendrite is pinned in its own module, tools/homeserver, so that its dependency tree never
// enters duet's go.mod. Binaries builds it into <repo>/.bin (once; later calls see the binaries
// current), Start runs one throw-away server with its state in a fresh directory, Register
// creates accounts on it, and Stop kills it and removes its state.
//
// This package is what the demo needs at run time and is linked into the duet binary. What
// only tests need (a server shared by a test package, random localparts, killing, restarting
// and freezing a server) is in duet/internal/testkit/dendrite, which the binary never links.
//
// The package needs a Unix system (process groups, flock) and, for the first build, a C
// compiler (Dendrite uses cgo SQLite).
package homeserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"duet/internal/flock"
)

// binaryNames are the Dendrite commands duet needs, built from tools/homeserver.
var binaryNames = []string{"dendrite", "generate-keys", "generate-config"}

const dendriteCmdPrefix = "github.com/matrix-org/dendrite/cmd/"

// RepoRoot returns the directory of duet's go.mod (the one declaring `module duet`), found by
// walking up from the working directory. Tests run in their package's directory, so this works
// from any package of the repository.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("homeserver: working directory: %w", err)
	}
	for {
		if modulePath(filepath.Join(dir, "go.mod")) == "duet" {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("homeserver: no go.mod with `module duet` above the working directory")
		}
		dir = parent
	}
}

// modulePath returns the module path declared in the go.mod file at path, or "" when the file
// cannot be read or declares none.
func modulePath(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 2 && fields[0] == "module" {
			return strings.Trim(fields[1], "\"`")
		}
	}
	return ""
}

// Binaries makes sure dendrite, generate-keys and generate-config are built into
// <repoRoot>/.bin from the tools/homeserver module and returns that directory.
//
// The build is skipped when all three binaries are newer than tools/homeserver's go.mod, go.sum
// and tools.go. A file lock (<repoRoot>/.bin/.lock) serialises builds across processes, so test
// packages that `go test ./...` runs in parallel build once: the others wait, then find the
// binaries current. The first build takes minutes (it needs a C compiler for SQLite); after
// that Go's build cache makes a rebuild quick. Build output is part of the returned error.
func Binaries(ctx context.Context, repoRoot string) (binDir string, err error) {
	toolsDir := filepath.Join(repoRoot, "tools", "homeserver")
	binDir = filepath.Join(repoRoot, ".bin")

	current, err := binariesCurrent(toolsDir, binDir)
	if err != nil || current {
		return binDir, err
	}
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", fmt.Errorf("homeserver: %w", err)
	}
	unlock, err := lockFile(ctx, filepath.Join(binDir, ".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()

	// Another process may have built while we waited for the lock.
	if current, err := binariesCurrent(toolsDir, binDir); err != nil || current {
		return binDir, err
	}
	if err := build(ctx, toolsDir, binDir); err != nil {
		return "", err
	}
	if current, err := binariesCurrent(toolsDir, binDir); err != nil {
		return "", err
	} else if !current {
		return "", fmt.Errorf("homeserver: binaries in %s still older than %s after building", binDir, toolsDir)
	}
	return binDir, nil
}

// binariesCurrent reports whether every binary exists in binDir and is newer than the tools
// module's files. A missing tools file is an error: there is nothing to build from.
func binariesCurrent(toolsDir, binDir string) (bool, error) {
	var newestSource time.Time
	for _, name := range []string{"go.mod", "go.sum", "tools.go"} {
		fi, err := os.Stat(filepath.Join(toolsDir, name))
		if err != nil {
			return false, fmt.Errorf("homeserver: tools module: %w", err)
		}
		if fi.ModTime().After(newestSource) {
			newestSource = fi.ModTime()
		}
	}
	for _, name := range binaryNames {
		fi, err := os.Stat(filepath.Join(binDir, name))
		if err != nil || !fi.Mode().IsRegular() || !fi.ModTime().After(newestSource) {
			return false, nil
		}
	}
	return true, nil
}

// build runs `go build` for the three commands into a temporary directory inside binDir and
// then renames each binary into place, so an interrupted build never leaves a truncated binary
// that looks current.
func build(ctx context.Context, toolsDir, binDir string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("homeserver: the go command is needed to build dendrite: %w", err)
	}
	tmp, err := os.MkdirTemp(binDir, ".build-")
	if err != nil {
		return fmt.Errorf("homeserver: %w", err)
	}
	defer os.RemoveAll(tmp)

	args := []string{"build", "-C", toolsDir, "-o", tmp + string(filepath.Separator)}
	for _, name := range binaryNames {
		args = append(args, dendriteCmdPrefix+name)
	}
	cmd := exec.CommandContext(ctx, goTool, args...)
	// A go.work above the repository must not pull the tools module into a workspace.
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("homeserver: %s: %w\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	for _, name := range binaryNames {
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(binDir, name)); err != nil {
			return fmt.Errorf("homeserver: installing %s: %w", name, err)
		}
	}
	return nil
}

// lockFile waits for the flock on path; the returned func releases it.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	unlock, err = flock.Wait(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("homeserver: %w", err)
	}
	return unlock, nil
}
