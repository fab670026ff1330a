package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"
)

// editorEnv is an Env whose $EDITOR is a stand-in sh script written here, that leaves a mark
// when it runs; stdin is set by each case.
func editorEnv(t *testing.T, body string) (Env, string) {
	t.Helper()
	dir := t.TempDir()
	mark := filepath.Join(dir, "ran")
	ed := filepath.Join(dir, "ed.sh")
	if err := os.WriteFile(ed, []byte("#!/bin/sh\n: > "+mark+"\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return Env{Getenv: func(k string) string { return map[string]string{"EDITOR": ed}[k] }}, mark
}

// newTerminal is a real terminal (a pseudo-terminal's tty end) for standard input.
func newTerminal(t *testing.T) *os.File {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { tty.Close(); ptmx.Close() })
	return tty
}

func ran(mark string) bool { _, err := os.Stat(mark); return err == nil }

// `duet send @user` with no TEXT on a terminal writes the message in the editor.
func TestSendTextFromEditorOnATerminal(t *testing.T) {
	env, mark := editorEnv(t, `printf 'written in the editor\n' > "$1"`)
	env.Stdin = newTerminal(t)
	text, err := sendArgText(env, &opts{pos: []string{"@bob:example.org"}})
	if err != nil || text != "written in the editor" || !ran(mark) {
		t.Fatalf("got %q, %v (editor ran: %v)", text, err, ran(mark))
	}
	// A TEXT argument needs no editor.
	env, mark = editorEnv(t, `echo no > "$1"`)
	env.Stdin = newTerminal(t)
	if text, err := sendArgText(env, &opts{pos: []string{"@bob:example.org", "hi"}}); err != nil || text != "hi" || ran(mark) {
		t.Fatalf("got %q, %v (editor ran: %v)", text, err, ran(mark))
	}
}

// An empty message is "nothing to send" (exit 2), as empty standard input is; a failed editor
// is a failure (exit 1).
func TestSendEditorEmptyOrFailed(t *testing.T) {
	env, _ := editorEnv(t, `: > "$1"`)
	env.Stdin = newTerminal(t)
	_, err := sendArgText(env, &opts{pos: []string{"@bob:example.org"}})
	var usage usageError
	if !errors.As(err, &usage) || !strings.Contains(err.Error(), "nothing to send") {
		t.Fatalf("empty: err = %v", err)
	}
	env, _ = editorEnv(t, `echo text > "$1"; exit 3`)
	env.Stdin = newTerminal(t)
	_, err = sendArgText(env, &opts{pos: []string{"@bob:example.org"}})
	if err == nil || errors.As(err, &usage) || !strings.Contains(err.Error(), "exited with status 3") {
		t.Fatalf("exit 3: err = %v", err)
	}
}

// Standard input that is not a terminal (a pipe, a file) is read as before: no editor.
func TestSendStdinNotATerminalIsRead(t *testing.T) {
	env, mark := editorEnv(t, `echo no > "$1"`)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() { w.WriteString("piped\n"); w.Close() }()
	env.Stdin = r
	if text, err := sendArgText(env, &opts{pos: []string{"@bob:example.org"}}); err != nil || text != "piped" || ran(mark) {
		t.Fatalf("got %q, %v (editor ran: %v)", text, err, ran(mark))
	}
	env.Stdin = strings.NewReader("")
	if _, err := sendArgText(env, &opts{pos: []string{"@bob:example.org"}}); err == nil || ran(mark) {
		t.Fatalf("empty stdin: %v (editor ran: %v)", err, ran(mark))
	}
}
