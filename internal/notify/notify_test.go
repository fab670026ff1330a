package notify

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/godbus/dbus/v5"
)

// busConfig is a session bus that lets its one user own any name and starts no services: a
// notification service exists only when a test provides one.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// startBus runs a private dbus-daemon for one test and returns its address.
func startBus(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("dbus-daemon is not installed (apt-get install dbus-daemon); .ci/run installs it")
		}
		t.Skip("dbus-daemon is not installed: apt-get install dbus-daemon")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, busConfig, filepath.Join(dir, "bus")), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config-file="+conf, "--nofork", "--nopidfile", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case addr := <-line:
		if addr == "" {
			t.Fatalf("dbus-daemon printed no address: %s", stderr.String())
		}
		return addr
	case <-time.After(10 * time.Second):
		t.Fatalf("dbus-daemon did not start: %s", stderr.String())
		return ""
	}
}

// call is one Notify call the fake notification service received.
type call struct {
	App     string
	Replace uint32
	Icon    string
	Summary string
	Body    string
	Actions []string
	Hints   map[string]dbus.Variant
	Expire  int32
}

// fakeService is a fake desktop notification service on a test bus, as a notification daemon runs
// one: it owns org.freedesktop.Notifications and records what it is asked to show.
type fakeService struct {
	mu    sync.Mutex
	calls []call
	hold  chan struct{} // when not nil, Notify answers only once it is closed
}

func (s *fakeService) Notify(app string, replace uint32, icon, summary, body string, actions []string,
	hints map[string]dbus.Variant, expire int32) (uint32, *dbus.Error) {
	if s.hold != nil {
		<-s.hold
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call{app, replace, icon, summary, body, actions, hints, expire})
	return uint32(len(s.calls)), nil
}

func (s *fakeService) received() []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]call(nil), s.calls...)
}

// serve starts a notification service on the bus at addr.
func serve(t *testing.T, addr string, hold chan struct{}) *fakeService {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &fakeService{hold: hold}
	if err := conn.Export(s, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own org.freedesktop.Notifications: %v, %v", reply, err)
	}
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// A message's sender and text reach the notification service as the spec asks: duet's name, a
// new notification, the im.received category, the server's default timeout; the hostile parts
// of the text sanitized and its markup escaped.
func TestNotifyReachesTheDesktop(t *testing.T) {
	addr := startBus(t)
	svc := serve(t, addr, nil)
	d := NewDesktopAt(addr)
	defer d.Close()
	ctx := testCtx(t)
	if err := d.Notify(ctx, "Bob\x1b]0;pwned\a", "\x1b[2J<b>hi</b> & bye\nsecond line"); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 300)
	if err := d.Notify(ctx, "Bob", long); err != nil {
		t.Fatal(err)
	}
	got := svc.received()
	if len(got) != 2 {
		t.Fatalf("the service received %d notifications, want 2: %+v", len(got), got)
	}
	first := got[0]
	if first.App != "duet" || first.Replace != 0 || first.Icon != "" || len(first.Actions) != 0 || first.Expire != -1 {
		t.Errorf("notification fields: %+v", first)
	}
	if cat, _ := first.Hints["category"].Value().(string); cat != "im.received" || len(first.Hints) != 1 {
		t.Errorf("hints: %v", first.Hints)
	}
	if want := "Bob␛]0;pwned␇"; first.Summary != want {
		t.Errorf("summary %q, want %q", first.Summary, want)
	}
	if want := "␛[2J&lt;b&gt;hi&lt;/b&gt; &amp; bye second line"; first.Body != want {
		t.Errorf("body %q, want %q", first.Body, want)
	}
	if n := utf8.RuneCountInString(got[1].Body); n != 200 || !strings.HasSuffix(got[1].Body, "é…") {
		t.Errorf("a long body arrives as %d characters: %q", n, got[1].Body)
	}
}

// NewDesktop finds the bus from the environment, as every desktop program does.
func TestNotifyUsesTheSessionBusOfTheEnvironment(t *testing.T) {
	addr := startBus(t)
	svc := serve(t, addr, nil)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	d := NewDesktop()
	defer d.Close()
	if err := d.Notify(testCtx(t), "Bob", "hello"); err != nil {
		t.Fatal(err)
	}
	if got := svc.received(); len(got) != 1 || got[0].Body != "hello" {
		t.Fatalf("received %+v", got)
	}
}

// Without a notification service (a session bus, but no desktop) Notify says so, and then says
// so at once for a minute without asking the bus again.
func TestNotifyWithoutAService(t *testing.T) {
	addr := startBus(t)
	d := NewDesktopAt(addr)
	defer d.Close()
	clock := time.Now()
	d.now = func() time.Time { return clock }
	ctx := testCtx(t)
	err := d.Notify(ctx, "Bob", "hello")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no notification service") {
		t.Fatalf("without a service: %v", err)
	}
	// A service appears: within the minute nobody asks it.
	svc := serve(t, addr, nil)
	clock = clock.Add(59 * time.Second)
	if err := d.Notify(ctx, "Bob", "still quiet"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("within the minute: %v", err)
	}
	if got := svc.received(); len(got) != 0 {
		t.Fatalf("the bus was asked again within the minute: %+v", got)
	}
	clock = clock.Add(2 * time.Second)
	if err := d.Notify(ctx, "Bob", "after a minute"); err != nil {
		t.Fatalf("after the minute: %v", err)
	}
	if got := svc.received(); len(got) != 1 || got[0].Body != "after a minute" {
		t.Fatalf("received %+v", got)
	}
}

// Without a session bus at all (SSH, a headless machine) Notify says so without starting one.
func TestNotifyWithoutABus(t *testing.T) {
	ctx := testCtx(t)
	d := NewDesktopAt("unix:path=" + filepath.Join(t.TempDir(), "no-bus-here"))
	defer d.Close()
	err := d.Notify(ctx, "Bob", "hello")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "cannot connect") {
		t.Fatalf("with a bus address that does not exist: %v", err)
	}
	if again := d.Notify(ctx, "Bob", "hello"); again != err {
		t.Fatalf("the second call must repeat the first answer at once: %v", again)
	}

	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	env := NewDesktop()
	defer env.Close()
	if err := env.Notify(ctx, "Bob", "hello"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("with no session bus in the environment: %v", err)
	}
}

// A notification service that does not answer holds Notify only as long as its context allows,
// and is not taken for a missing one.
func TestNotifyRespectsTheContext(t *testing.T) {
	addr := startBus(t)
	hold := make(chan struct{})
	serve(t, addr, hold)
	t.Cleanup(func() { close(hold) }) // runs before the service's connection closes
	d := NewDesktopAt(addr)
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := d.Notify(ctx, "Bob", "hello")
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Notify took %v with a 300 ms context", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("a slow service: %v", err)
	}
}

// Notifications from many goroutines all arrive over the one connection.
func TestNotifyConcurrently(t *testing.T) {
	addr := startBus(t)
	svc := serve(t, addr, nil)
	d := NewDesktopAt(addr)
	defer d.Close()
	ctx := testCtx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() { errs <- d.Notify(ctx, "Bob", fmt.Sprintf("message %d", i)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := svc.received(); len(got) != 20 {
		t.Fatalf("received %d notifications, want 20", len(got))
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Notify(ctx, "Bob", "after Close"); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 5, ""},
		{"hello", 5, "hello"},
		{"hello!", 5, "hell…"},
		{"ééééééé", 3, "éé…"},
		{"a👍b👍c", 4, "a👍b…"},
	} {
		if got := cut(tc.in, tc.n); got != tc.want {
			t.Errorf("cut(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
	if got := escape(`<a href="x">&amp;</a>`); got != `&lt;a href="x"&gt;&amp;amp;&lt;/a&gt;` {
		t.Errorf("escape: %q", got)
	}
}
