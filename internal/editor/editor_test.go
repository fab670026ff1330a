package editor

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// script writes a stand-in editor: a sh script that gets the draft's path as its last
// argument ("$1" here, as no arguments come before it).
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ed.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCommand(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"VISUAL": "code --wait", "EDITOR": "nano"}, "code|--wait"},
		{map[string]string{"VISUAL": "  ", "EDITOR": "nvim -u NONE"}, "nvim|-u|NONE"},
		{map[string]string{}, "vi"},
	} {
		if got := strings.Join(Command(env(c.env)), "|"); got != c.want {
			t.Errorf("Command(%v) = %q, want %q", c.env, got, c.want)
		}
	}
}

func TestRunEdits(t *testing.T) {
	// The script appends to the line the draft is on, and checks the file is private.
	ed := script(t, `[ "$(stat -c %a "$1")" = 600 ] || exit 9
[ "$(stat -c %a "$(dirname "$1")")" = 700 ] || exit 8
printf '%s and more\n' "$(cat "$1")" > "$1.new" && mv "$1.new" "$1"`)
	var path string
	s, err := Start([]string{ed}, "hello")
	if err != nil {
		t.Fatal(err)
	}
	path = s.Path()
	got, err := s.Finish(s.Cmd.Run())
	if err != nil || got != "hello and more" {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Fatalf("the private directory is still there: %v", err)
	}
}

func TestRunArguments(t *testing.T) {
	// Arguments of the command come before the file.
	ed := script(t, `[ "$1" = --wait ] || exit 7
printf 'said %s\n' "$2" > "$2"`)
	got, err := Run([]string{ed, "--wait"}, "x", nil, nil, nil)
	if err != nil || !strings.HasPrefix(got, "said /") || strings.HasSuffix(got, "\n") {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestRunEmpty(t *testing.T) {
	ed := script(t, `printf '\n' > "$1"`)
	if got, err := Run([]string{ed}, "draft", nil, nil, nil); !errors.Is(err, ErrEmpty) || got != "" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestRunExitStatus(t *testing.T) {
	ed := script(t, `echo changed > "$1"; exit 3`)
	_, err := Run([]string{ed}, "draft", nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "exited with status 3") {
		t.Fatalf("err = %v", err)
	}
}

func TestRunMissing(t *testing.T) {
	_, err := Run([]string{filepath.Join(t.TempDir(), "no-such-editor")}, "draft", nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "could not run") {
		t.Fatalf("err = %v", err)
	}
}
