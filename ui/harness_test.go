package ui

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"duet/internal/testkit/termtest"
)

func TestMain(m *testing.M) {
	termtest.Plain()
	os.Exit(m.Run())
}

// harness drives the root model synchronously: every Cmd is run at once and its message fed
// back, except messages the test chooses to hold back (a request still "in flight").
type harness struct {
	t    testing.TB
	svc  *fakeSvc
	more []*fakeSvc // the other accounts' services, when several are open
	m    *Model
	quit bool
	hold func(tea.Msg) bool
	held []tea.Msg

	execs int // commands run by tea.ExecProcess (an editor)

	// written is what commands had the program write to the terminal (the bell, the
	// clipboard), which Bubble Tea writes just before its next frame.
	written strings.Builder
}

// newAccountsHarness is newHarness with several accounts open, svcs[0] first.
func newAccountsHarness(t testing.TB, profiles []Profile, w, h int) *harness {
	t.Helper()
	hs := &harness{t: t, svc: profiles[0].Svc.(*fakeSvc), m: NewAccounts(profiles, Options{Now: fixedNow})}
	for _, p := range profiles[1:] {
		hs.more = append(hs.more, p.Svc.(*fakeSvc))
	}
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.run(hs.m.Init())
	return hs
}

func newHarness(t testing.TB, svc *fakeSvc, w, h int) *harness {
	t.Helper()
	hs := &harness{t: t, svc: svc, m: New(svc, Options{Now: fixedNow})}
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.run(hs.m.Init())
	return hs
}

func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	next, cmd := h.m.Update(msg)
	h.m = next.(*Model)
	h.run(cmd)
	// The fake outbox's reports come as events, like the real service's.
	if evts := h.svc.takeEvents(); len(evts) > 0 {
		h.deliver(eventsMsg{events: evts})
	}
	for i, f := range h.more {
		if evts := f.takeEvents(); len(evts) > 0 {
			h.deliver(eventsMsg{acct: i + 1, events: evts})
		}
	}
}

func (h *harness) deliver(msg tea.Msg) {
	inner := msg
	if a, ok := msg.(acctMsg); ok {
		inner = a.msg // held by what it is, whichever account's it is
	}
	if h.hold != nil && h.hold(inner) {
		h.held = append(h.held, msg)
		return
	}
	h.send(msg)
}

func (h *harness) run(cmd tea.Cmd) {
	h.t.Helper()
	if cmd == nil {
		return
	}
	msg := cmd()
	switch t := reflect.TypeOf(msg); {
	case t == nil:
		return
	case t.String() == "tea.setClipboardMsg": // tea.SetClipboard: the program writes OSC 52
		h.written.WriteString(ansi.SetSystemClipboard(reflect.ValueOf(msg).String()))
		return
	case t.String() == "tea.execMsg": // tea.ExecProcess: the program runs it, then calls back
		h.exec(msg)
		return
	}
	switch msg := msg.(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			h.run(c)
		}
	case tea.RawMsg:
		h.written.WriteString(fmt.Sprint(msg.Msg))
	case tea.QuitMsg:
		h.quit = true
	case countdownMsg:
		// The offline countdown re-arms itself every second for as long as the bar says
		// offline; run synchronously it would never end. One tick is enough here.
	default:
		h.deliver(msg)
	}
}

// exec does what the program does with tea.ExecProcess's message, but for the terminal: it
// runs the command (for real, with no terminal: stdin empty, output to the test's log) and
// delivers the callback's message. The message's fields are unexported; they are read here
// as the program reads them.
func (h *harness) exec(msg tea.Msg) {
	h.t.Helper()
	v := reflect.New(reflect.TypeOf(msg)).Elem()
	v.Set(reflect.ValueOf(msg))
	field := func(name string) any {
		f := v.FieldByName(name)
		return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface()
	}
	c, _ := field("cmd").(tea.ExecCommand)
	fn, _ := field("fn").(tea.ExecCallback)
	if c == nil {
		h.t.Fatalf("tea.execMsg without a command: %#v", msg)
	}
	out := testWriter{h.t}
	c.SetStdout(out)
	c.SetStderr(out)
	err := c.Run()
	h.execs++
	if fn != nil {
		h.deliver(fn(err))
	}
}

// testWriter writes to the test's log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("exec: %s", p)
	return len(p), nil
}

// release delivers the held messages.
func (h *harness) release() {
	held := h.held
	h.held, h.hold = nil, nil
	for _, msg := range held {
		h.send(msg)
	}
}

func (h *harness) key(code rune) { h.send(tea.KeyPressMsg{Code: code}) }

func (h *harness) typeText(s string) {
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// view is what the screen shows (the title and the bell that go with a frame are tested on
// their own).
func (h *harness) view() string { return h.m.screen() }

// requireFits checks the screen is exactly w x h.
func requireFits(t testing.TB, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Fatalf("view has %d lines, want %d:\n%s", len(lines), h, view)
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw > w {
			t.Fatalf("line %d is %d wide, more than %d: %q", i, lw, w, l)
		}
	}
}
