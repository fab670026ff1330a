// Package opener opens a file with the program the user has for it (an image viewer, a
// browser), from a full-screen terminal program: the program runs on its own, and nothing it
// prints reaches the terminal.
package opener

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
)

// EnvOpener names the program that opens files instead of the system's: a command name (or
// path) that gets the file's path as its one argument.
const EnvOpener = "DUET_OPENER"

// ErrNoOpener means no program to open files was found.
var ErrNoOpener = errors.New("no program to open files: set DUET_OPENER or install xdg-utils")

// Open starts the program that opens path ($DUET_OPENER, else xdg-open, or open on macOS) and
// returns once it started, without waiting for it. It runs detached from the terminal, in a
// session of its own, with no standard input or output.
func Open(path string) error {
	name := os.Getenv(EnvOpener)
	if name == "" {
		name = System()
	}
	prog, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(EnvOpener) != "" {
			return fmt.Errorf("%s=%s: no such program", EnvOpener, name)
		}
		return ErrNoOpener
	}
	if err := Start([]string{prog, path}); err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	return nil
}

// Start starts the program args[0] with the rest as its arguments, detached as Open runs it,
// and returns once it started.
func Start(args []string) error {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil // the null device: the UI owns the terminal
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", args[0], err)
	}
	go func() { _ = cmd.Wait() }() // reaped when it ends; nobody waits for it
	return nil
}

// System is the system's program that opens files and addresses: xdg-open, or open on macOS.
func System() string {
	if runtime.GOOS == "darwin" {
		return "open"
	}
	return "xdg-open"
}
