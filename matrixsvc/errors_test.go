package matrixsvc

import (
	"errors"
	"fmt"
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
