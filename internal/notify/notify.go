// Package notify shows desktop notifications through the freedesktop notification service on
// the D-Bus session bus (org.freedesktop.Notifications), the way notify-send does.
package notify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/godbus/dbus/v5"

	"duet/internal/sanitize"
)

// ErrUnavailable means desktop notifications cannot be shown here: there is no session bus (an
// SSH login, a headless machine) or no notification service on it. The error returned wraps it
// with the reason.
var ErrUnavailable = errors.New("desktop notifications are not available")

// ErrClosed is returned by Notify after Close.
var ErrClosed = errors.New("desktop notifications are closed")

const (
	service = "org.freedesktop.Notifications"
	path    = dbus.ObjectPath("/org/freedesktop/Notifications")
	method  = service + ".Notify"

	appName = "duet"
	// maxBody is how many characters of a message a notification shows.
	maxBody = 200
	// retryAfter is how long an unavailable service is not asked again.
	retryAfter = 60 * time.Second
)

// Desktop sends notifications to the desktop's notification service. It connects on first use
// and is safe for concurrent use; the zero value is not usable (use NewDesktop).
type Desktop struct {
	address func() (string, error) // where the session bus is
	now     func() time.Time

	// lock guards the fields below; a channel, so that waiting for it respects a context.
	lock     chan struct{}
	conn     *dbus.Conn
	down     error // the last ErrUnavailable, repeated until downTill
	downTill time.Time
	closed   bool
}

// NewDesktop returns a Desktop for the session bus named by $DBUS_SESSION_BUS_ADDRESS (or, when
// that is unset, the bus socket in $XDG_RUNTIME_DIR). It does not connect yet.
func NewDesktop() *Desktop {
	return newDesktop(sessionAddress)
}

func newDesktop(address func() (string, error)) *Desktop {
	return &Desktop{address: address, now: time.Now, lock: make(chan struct{}, 1)}
}

// sessionAddress finds the session bus as libdbus does, never starting one.
func sessionAddress() (string, error) {
	if addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" && addr != "autolaunch:" {
		return addr, nil
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		bus := filepath.Join(dir, "bus")
		if fi, err := os.Stat(bus); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return "unix:path=" + dbus.EscapeBusAddressValue(bus), nil
		}
	}
	return "", errors.New("no session bus: DBUS_SESSION_BUS_ADDRESS is not set")
}

// Notify shows a notification: summary as its title, body as its text. Both are sanitized (they
// come from the network); the body is cut to 200 characters and its markup characters escaped.
// It returns an error wrapping ErrUnavailable when nothing can show it, at once for a minute
// after the first such answer, and never waits longer than ctx allows.
func (d *Desktop) Notify(ctx context.Context, summary, body string) error {
	conn, err := d.connection(ctx)
	if err != nil {
		return err
	}
	hints := map[string]dbus.Variant{"category": dbus.MakeVariant("im.received")}
	var id uint32
	err = conn.Object(service, path).CallWithContext(ctx, method, 0,
		appName, uint32(0), "", sanitize.Line(summary), escape(cut(sanitize.Line(body), maxBody)),
		[]string{}, hints, int32(-1)).Store(&id)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("notify: %w", ctx.Err())
	}
	if noOwner(err) {
		err = fmt.Errorf("%w: no notification service on the session bus (%v)", ErrUnavailable, err)
		if d.acquire(ctx) {
			d.markDown(err)
			d.release()
		}
		return err
	}
	if !conn.Connected() && d.acquire(ctx) {
		// The bus went away: the next call connects again.
		if d.conn == conn {
			_ = conn.Close()
			d.conn = nil
		}
		d.release()
	}
	return fmt.Errorf("notify: %w", err)
}

// Close closes the connection to the bus. Notify fails with ErrClosed afterwards. It waits for
// a connection attempt under way, which its caller's context bounds.
func (d *Desktop) Close() error {
	d.lock <- struct{}{}
	defer d.release()
	d.closed = true
	if d.conn == nil {
		return nil
	}
	err := d.conn.Close()
	d.conn = nil
	return err
}

// connection returns the connection to the bus, connecting when there is none.
func (d *Desktop) connection(ctx context.Context) (*dbus.Conn, error) {
	if !d.acquire(ctx) {
		return nil, fmt.Errorf("notify: %w", ctx.Err())
	}
	defer d.release()
	switch {
	case d.closed:
		return nil, ErrClosed
	case d.down != nil && d.now().Before(d.downTill):
		return nil, d.down
	case d.conn != nil && d.conn.Connected():
		return d.conn, nil
	}
	if d.conn != nil {
		_ = d.conn.Close()
		d.conn = nil
	}
	addr, err := d.address()
	if err != nil {
		return nil, d.markDown(fmt.Errorf("%w: %v", ErrUnavailable, err))
	}
	conn, err := connect(ctx, addr)
	if err != nil {
		if ctx.Err() != nil { // our caller gave up: that says nothing about the bus
			return nil, fmt.Errorf("notify: connect to the session bus: %w", ctx.Err())
		}
		return nil, d.markDown(fmt.Errorf("%w: cannot connect to the session bus: %v", ErrUnavailable, err))
	}
	d.conn, d.down = conn, nil
	return conn, nil
}

// connect opens and authenticates a connection, giving up (and closing it) when ctx ends.
func connect(ctx context.Context, addr string) (*dbus.Conn, error) {
	conn, err := dbus.Dial(addr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	err = conn.Auth(nil)
	if err == nil {
		err = conn.Hello()
	}
	if !stop() { // ctx ended: the connection is closed
		return nil, ctx.Err()
	}
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}

// acquire takes the lock unless ctx ends first.
func (d *Desktop) acquire(ctx context.Context) bool {
	select {
	case d.lock <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (d *Desktop) release() { <-d.lock }

// markDown remembers that notifications are unavailable, so that the next minute's calls
// return err at once. The caller holds the lock.
func (d *Desktop) markDown(err error) error {
	d.down, d.downTill = err, d.now().Add(retryAfter)
	return err
}

// noOwner reports whether a call failed because nobody provides the service (and the bus
// cannot start one).
func noOwner(err error) bool {
	var name string
	var val dbus.Error
	var ptr *dbus.Error
	switch {
	case errors.As(err, &val):
		name = val.Name
	case errors.As(err, &ptr):
		name = ptr.Name
	}
	return name == "org.freedesktop.DBus.Error.ServiceUnknown" || name == "org.freedesktop.DBus.Error.NameHasNoOwner"
}

// cut shortens s to at most n characters, ending with "…" when it was longer.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n-1 {
			break
		}
		count++
	}
	return s[:i] + "…"
}

// bodyEscaper escapes what the notification spec reads as markup in a body.
var bodyEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escape(s string) string { return bodyEscaper.Replace(s) }
