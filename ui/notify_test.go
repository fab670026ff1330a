package ui

import (
	"context"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"

	"duet/matrixsvc"
)

type fakeDesktop struct {
	mu   sync.Mutex
	sent []string
}

func (d *fakeDesktop) Notify(_ context.Context, summary, body string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sent = append(d.sent, summary+": "+body)
	return nil
}

func (d *fakeDesktop) got() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.sent...)
}

// A message the push rules say notify rings the bell (a BEL, once, written by the program just
// before a frame) and shows a
// desktop notification, unless it is on screen; one they say not to (a muted room) stays
// quiet; with the terminal in the background even the open conversation notifies. The title
// says how many messages are unread.
func TestNotifications(t *testing.T) {
	svc := fixture()
	h := newHarness(t, svc, 100, 30)
	desk := &fakeDesktop{}
	h.m.opts.Bell, h.m.opts.Desktop = true, desk
	openAlice(h)
	if v := h.m.View(); !strings.HasPrefix(v.WindowTitle, "duet (") || strings.Contains(h.written.String(), "\a") {
		t.Fatalf("the frame's title: %q; written: %q", v.WindowTitle, h.written.String())
	}
	title := h.m.term.Title()
	if !strings.Contains(title, "unread") {
		t.Fatalf("title %q", title)
	}
	fromBob := msg(bobRoom, "$b9", bob, testNow, "are you free at 3?")
	fromBob.Notify = true
	h.send(eventsMsg{events: []matrixsvc.Event{matrixsvc.SyncApplied{Messages: []matrixsvc.Message{fromBob}}}})
	if w := h.written.String(); w != "\a" {
		t.Fatalf("no bell: the terminal got %q", w)
	}
	if got := desk.got(); len(got) != 1 || !strings.Contains(got[0], "are you free at 3?") {
		t.Fatalf("desktop notifications: %v", got)
	}
	if strings.Contains(h.m.View().Content, "\a") {
		t.Fatal("the bell is in the frame's text")
	}
	// Muted: the push rules said no.
	quiet := msg(bobRoom, "$b10", bob, testNow, "psst")
	h.send(eventsMsg{events: []matrixsvc.Event{matrixsvc.SyncApplied{Messages: []matrixsvc.Message{quiet}}}})
	// On screen: alice's conversation is open.
	fromAlice := msg(aliceRoom, "$a9", alice, testNow, "here!")
	fromAlice.Notify = true
	h.send(eventsMsg{events: []matrixsvc.Event{matrixsvc.SyncApplied{Messages: []matrixsvc.Message{fromAlice}}}})
	if got := desk.got(); len(got) != 1 {
		t.Fatalf("notified of a muted or an on-screen message: %v", got)
	}
	// In the background, the open conversation notifies too.
	h.send(tea.BlurMsg{})
	again := msg(aliceRoom, "$a10", alice, testNow, "hello? \x1b[2J")
	again.Notify = true
	h.send(eventsMsg{events: []matrixsvc.Event{matrixsvc.SyncApplied{Messages: []matrixsvc.Message{again}}}})
	if got := desk.got(); len(got) != 2 || !strings.HasPrefix(got[1], "Alice: hello?") {
		t.Fatalf("in the background: %v", got)
	}
	h.send(tea.FocusMsg{})
	// A poll notifies as what it is, not by an empty body.
	poll := msg(bobRoom, "$b11", bob, testNow, "Lunch?")
	poll.Kind, poll.Poll, poll.Notify = matrixsvc.KindPoll, &matrixsvc.Poll{Question: "Lunch?"}, true
	call := msg(bobRoom, "$b12", bob, testNow, "")
	call.Kind, call.Call, call.Notify = matrixsvc.KindCallInvite, &matrixsvc.Call{Video: true}, true
	h.send(eventsMsg{events: []matrixsvc.Event{matrixsvc.SyncApplied{Messages: []matrixsvc.Message{poll, call}}}})
	if got := desk.got(); len(got) != 4 || !strings.Contains(got[2], "Poll: Lunch?") || !strings.Contains(got[3], "Started a video call") {
		t.Fatalf("a poll and a call: %v", got)
	}
}
