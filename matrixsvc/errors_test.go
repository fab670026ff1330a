package matrixsvc

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"syscall"
	"testing"
)

// Only failures to reach the server are explained as such: a local error (a terminal that
// cannot be opened, a full disk) says what it is.
func TestExplainTellsNetworkFromLocalErrors(t *testing.T) {
	local := fmt.Errorf("open /dev/tty: %w", syscall.ENXIO)
	if got := Explain(local); strings.Contains(got, "homeserver") {
		t.Fatalf("a local error explained as a network one: %q", got)
	}
	if Temporary(local) {
		t.Fatal("a local error taken for a passing network failure")
	}
	if got := Explain(fmt.Errorf("x: %w", ErrLoggedOut)); got != ErrLoggedOut.Error() {
		t.Fatalf("logged out: %q", got)
	}
	if !errors.Is(fmt.Errorf("%w", ErrLoggedOut), ErrLoggedOut) {
		t.Fatal("wrapping")
	}
}

// A server that stops answering is said so, not as "context deadline exceeded".
func TestExplainTimeout(t *testing.T) {
	err := &url.Error{Op: "Get", URL: "http://127.0.0.1:8008/_matrix/client/v3/sync", Err: context.DeadlineExceeded}
	got := Explain(err)
	if !strings.Contains(got, "http://127.0.0.1:8008 stopped answering") || strings.Contains(got, "deadline") {
		t.Fatalf("a timeout explained as %q", got)
	}
	refused := &url.Error{Op: "Get", URL: "http://127.0.0.1:8008/x", Err: syscall.ECONNREFUSED}
	if got := Explain(refused); !strings.Contains(got, "cannot reach the homeserver") {
		t.Fatalf("a refused connection explained as %q", got)
	}
}
