// Package editor writes a message in the user's own editor: $VISUAL, else $EDITOR, else vi,
// on a private temporary file that holds the draft and is removed afterwards. The UI runs the
// command with Bubble Tea's ExecProcess (the screen suspends); the command line runs it
// directly (Run).
package editor

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Fallback is the editor when neither $VISUAL nor $EDITOR is set.
const Fallback = "vi"

// ErrEmpty is an edit that saved nothing: the draft stays as it was.
var ErrEmpty = errors.New("the file was empty")

// Command is the editor's command line: $VISUAL, else $EDITOR, else vi. It may hold arguments
// ("code --wait", "nvim -u NONE"); they are split at white space (strings.Fields), not as a
// shell would: no quotes, no escapes, no variables.
func Command(getenv func(string) string) []string {
	if getenv == nil {
		getenv = os.Getenv
	}
	for _, name := range []string{"VISUAL", "EDITOR"} {
		if argv := strings.Fields(getenv(name)); len(argv) > 0 {
			return argv
		}
	}
	return []string{Fallback}
}

// Session is one edit: the draft in a private file and the command that edits it. Finish
// reads the result and removes the file.
type Session struct {
	Cmd  *exec.Cmd // the editor on the file; nothing runs until the caller runs it
	name string    // the editor's program name (no directory), for messages
	dir  string    // private (0700), removed by Finish
	path string    // the draft (0600)
}

// Start writes text to a new private file and builds the editor's command on it (argv, then
// the file's path). Nothing runs yet.
func Start(argv []string, text string) (*Session, error) {
	if len(argv) == 0 {
		argv = []string{Fallback}
	}
	dir, err := os.MkdirTemp("", "duet-edit-") // 0700
	if err != nil {
		return nil, fmt.Errorf("make a private directory for the draft: %w", err)
	}
	path := filepath.Join(dir, "message.txt")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = io.WriteString(f, text)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("write the draft: %w", err)
	}
	args := append(append([]string(nil), argv[1:]...), path)
	return &Session{Cmd: exec.Command(argv[0], args...), name: filepath.Base(argv[0]), dir: dir, path: path}, nil
}

// Path is the draft's file.
func (s *Session) Path() string { return s.path }

// Finish takes runErr, what running Cmd returned, reads what was saved and removes the file.
// The text comes back without its trailing newline. A non-zero exit, an editor that could not
// start, or a file left empty (or only white space) is an error, and the draft should stay as
// it was.
func (s *Session) Finish(runErr error) (string, error) {
	defer os.RemoveAll(s.dir)
	if runErr != nil {
		var exit *exec.ExitError
		if errors.As(runErr, &exit) {
			if code := exit.ExitCode(); code >= 0 {
				return "", fmt.Errorf("%s exited with status %d", s.name, code)
			}
			return "", fmt.Errorf("%s was stopped (%v)", s.name, exit)
		}
		if errors.Is(runErr, exec.ErrNotFound) || errors.Is(runErr, fs.ErrNotExist) {
			return "", fmt.Errorf("could not run %s: not found", s.name)
		}
		return "", fmt.Errorf("could not run %s: %w", s.name, runErr)
	}
	data, err := os.ReadFile(s.path)
	if err != nil {
		return "", fmt.Errorf("read the draft back: %w", err)
	}
	text := strings.TrimSuffix(string(data), "\n")
	text = strings.TrimSuffix(text, "\r")
	if strings.TrimSpace(text) == "" {
		return "", ErrEmpty
	}
	return text, nil
}

// Run edits text in the editor argv on the given terminal streams, and returns what was
// saved (see Finish).
func Run(argv []string, text string, stdin io.Reader, stdout, stderr io.Writer) (string, error) {
	s, err := Start(argv, text)
	if err != nil {
		return "", err
	}
	s.Cmd.Stdin, s.Cmd.Stdout, s.Cmd.Stderr = stdin, stdout, stderr
	return s.Finish(s.Cmd.Run())
}
