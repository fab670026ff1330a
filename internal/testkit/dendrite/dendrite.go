// Package dendrite is the test side of duet's Dendrite runner. duet/internal/homeserver builds
// and starts a throw-away Dendrite, which the demo needs at run time; what only tests need is
// here, so that the duet binary never links it: one server shared by a test package that fails,
// never skips, when it cannot start (StartShared); localparts that never collide on a shared
// server (RandomLocalpart); and a server of one test's own that the test can kill, restart and
// freeze (FaultServer).
//
// Only tests and the commands under internal/testkit import it.
package dendrite

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"duet/internal/homeserver"
)

// ErrOptedOut is returned by StartShared when a developer set DUET_SKIP_HOMESERVER=1.
var ErrOptedOut = errors.New("homeserver: DUET_SKIP_HOMESERVER=1 set, integration tests not run")

// StartTimeout covers a first build of Dendrite (minutes on a small machine) and a start.
const StartTimeout = 15 * time.Minute

// StartShared builds Dendrite if needed and starts one server for a test package's TestMain.
// stop stops it; call it after m.Run. Any error other than ErrOptedOut must FAIL the package,
// never skip it: a suite that skips its integration tests passes while testing nothing.
//
// DUET_SKIP_HOMESERVER=1 lets a developer opt out locally; StartShared then returns
// ErrOptedOut and the caller prints it and exits 0 without running the tests. When CI=true (set
// by CI systems) the variable is ignored. hstest.Main does all of this:
//
//	func TestMain(m *testing.M) {
//		srv, stop, err := dendrite.StartShared()
//		if errors.Is(err, dendrite.ErrOptedOut) {
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
func StartShared() (srv *homeserver.Server, stop func(), err error) {
	if OptedOut() {
		return nil, nil, ErrOptedOut
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	bin, err := BinDir(ctx)
	if err != nil {
		return nil, nil, err
	}
	srv, err = homeserver.Start(ctx, homeserver.Options{BinDir: bin})
	if err != nil {
		return nil, nil, err
	}
	return srv, func() {
		if err := srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}, nil
}

// BinDir builds the Dendrite binaries of the repository around the working directory when they
// are not current and returns their directory.
func BinDir(ctx context.Context) (string, error) {
	root, err := homeserver.RepoRoot()
	if err != nil {
		return "", err
	}
	return homeserver.Binaries(ctx, root)
}

// OptedOut reports whether a developer opted out of the homeserver (DUET_SKIP_HOMESERVER=1),
// which CI (CI=true) cannot do. Tests that start a server of their own check it too.
func OptedOut() bool {
	if strings.EqualFold(os.Getenv("CI"), "true") {
		return false
	}
	return os.Getenv("DUET_SKIP_HOMESERVER") == "1"
}

// RandomLocalpart returns prefix, made safe for a Matrix localpart (lowercase a-z, 0-9 and
// "._=-"), followed by "-" and ten random lowercase letters and digits, so tests sharing a
// server never collide: RandomLocalpart("Alice") might be "alice-k3x9q0m2ra".
func RandomLocalpart(prefix string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(prefix) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("._=-", r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		b.WriteString("user") // an all-digit localpart is reserved by Dendrite
	}
	b.WriteByte('-')
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	random := make([]byte, 10)
	_, _ = rand.Read(random) // never fails (crypto/rand panics instead)
	for _, c := range random {
		b.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return b.String()
}
