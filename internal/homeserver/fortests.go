package homeserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// ErrOptedOut is returned by StartForTests when a developer set DUET_SKIP_HOMESERVER=1.
var ErrOptedOut = errors.New("homeserver: DUET_SKIP_HOMESERVER=1 set, integration tests not run")

// startForTestsTimeout covers a first build of Dendrite (minutes on a small machine) and a start.
const startForTestsTimeout = 15 * time.Minute

// StartForTests builds Dendrite if needed and starts one server for a test package's TestMain.
// stop stops it; call it after m.Run. Any error other than ErrOptedOut must FAIL the package,
// never skip it: a suite that skips its integration tests passes while testing nothing.
//
// DUET_SKIP_HOMESERVER=1 lets a developer opt out locally; StartForTests then returns
// ErrOptedOut and the caller prints it and exits 0 without running the tests. When CI=true (set
// by CI systems) the variable is ignored.
//
//	func TestMain(m *testing.M) {
//		srv, stop, err := homeserver.StartForTests()
//		if errors.Is(err, homeserver.ErrOptedOut) {
//			fmt.Println(err)
//			os.Exit(0)
//		}
//		if err != nil {
//			fmt.Fprintln(os.Stderr, "FAIL:", err)
//			os.Exit(1)
//		}
//		hs = srv
//		code := m.Run()
//		stop()
//		os.Exit(code)
//	}
func StartForTests() (srv *Server, stop func(), err error) {
	if optedOut() {
		return nil, nil, ErrOptedOut
	}
	ctx, cancel := context.WithTimeout(context.Background(), startForTestsTimeout)
	defer cancel()
	root, err := RepoRoot()
	if err != nil {
		return nil, nil, err
	}
	bin, err := Binaries(ctx, root)
	if err != nil {
		return nil, nil, err
	}
	srv, err = Start(ctx, Options{BinDir: bin})
	if err != nil {
		return nil, nil, err
	}
	return srv, func() {
		if err := srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}, nil
}

// optedOut reports whether a developer opted out of the homeserver, which CI cannot do.
func optedOut() bool {
	if strings.EqualFold(os.Getenv("CI"), "true") {
		return false
	}
	return os.Getenv("DUET_SKIP_HOMESERVER") == "1"
}
