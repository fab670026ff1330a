package cli

import (
	"bytes"
	"errors"
	"testing"

	"duet/matrixsvc"
)

// Bad usage made from another error keeps that error as its cause, and is still reported as
// usage (exit 2) in the same words.
func TestUsageErrorKeepsItsCause(t *testing.T) {
	cause := matrixsvc.ErrUserNotFound
	err := usagef("--with: %w", cause)
	if !errors.Is(err, cause) {
		t.Fatalf("%v lost its cause", err)
	}
	var stderr bytes.Buffer
	if code := report(Env{Stderr: &stderr}, err); code != exitUsage {
		t.Fatalf("exit %d, want %d", code, exitUsage)
	}
	if want := "duet: --with: " + cause.Error() + "\nRun `duet --help` for usage.\n"; stderr.String() != want {
		t.Fatalf("reported %q, want %q", stderr.String(), want)
	}
	if err := usagef("%q is no user", "x"); errors.Unwrap(err) != nil || err.Error() != `"x" is no user` {
		t.Fatalf("usage without a cause: %v, %v", err, errors.Unwrap(err))
	}
}
