package chat

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
)

// t on a picked thread reply opens its thread: the root and its replies only, with a header
// saying how to go back; what is written there goes into the thread (a reply picked there too);
// a live reply shows in it; esc (CloseThread) brings the conversation back as it was.
func TestThreadView(t *testing.T) {
	at := func(min int) time.Time { return time.Date(2026, 3, 2, 15, min, 0, 0, time.UTC) }
	root := bobSays("$root", "trip in May?")
	root.Timestamp, root.ThreadReplies = at(1), 1
	other := bobSays("$other", "unrelated chatter")
	other.Timestamp = at(2)
	r1 := bobSays("$r1", "first in thread")
	r1.Timestamp, r1.Thread = at(3), "$root"
	c, svc, host := newChat(t, root, other, r1)
	if !c.StartPick() {
		t.Fatal("nothing to pick")
	}
	cmd, next := c.PickKey(tea.KeyPressMsg{Code: 't', Text: "t"})
	run(c, cmd)
	if next != ToComposer || c.Thread() != "$root" {
		t.Fatalf("t did not open the thread (next %v, thread %q, err %q)", next, c.Thread(), host.err)
	}
	v := strings.Join(c.View(60, true), "\n")
	for _, want := range []string{"thread", "esc", "trip in May?", "first in thread"} {
		if !strings.Contains(v, want) {
			t.Errorf("thread view lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "unrelated chatter") {
		t.Errorf("thread view shows a message outside the thread:\n%s", v)
	}

	run(c, c.Send("count me in", false))
	if len(svc.sent) != 1 || svc.sent[0].Thread != "$root" || svc.sent[0].Room != room || svc.sent[0].Kind != matrixsvc.KindText {
		t.Fatalf("enqueued %+v", svc.sent)
	}
	live := bobSays("$r2", "great, booking")
	live.Timestamp, live.Thread = at(4), "$root"
	run(c, c.Synced(matrixsvc.SyncApplied{Messages: []matrixsvc.Message{live, func() matrixsvc.Message {
		m := bobSays("$x", "main timeline only")
		m.Timestamp = at(5)
		return m
	}()}}, true))
	v = strings.Join(c.View(60, true), "\n")
	if !strings.Contains(v, "great, booking") || strings.Contains(v, "main timeline only") {
		t.Fatalf("live messages went to the wrong view:\n%s", v)
	}

	// A reply picked in the thread stays in it.
	if !c.StartPick() {
		t.Fatal("nothing to pick in the thread")
	}
	cmd, _ = c.PickKey(tea.KeyPressMsg{Code: 'r', Text: "r"})
	run(c, cmd)
	if cmd, handled := c.Submit("yes!"); !handled {
		t.Fatal("the reply was not sent")
	} else {
		run(c, cmd)
	}
	if o := svc.sent[len(svc.sent)-1]; o.Kind != matrixsvc.KindReply || o.Thread != "$root" || o.ReplyTo != id.EventID("$r2") {
		t.Fatalf("reply in thread enqueued as %+v", o)
	}

	c.CloseThread()
	v = strings.Join(c.View(60, true), "\n")
	if c.Thread() != "" || !strings.Contains(v, "main timeline only") || !strings.Contains(v, "unrelated chatter") {
		t.Fatalf("esc did not bring the conversation back:\n%s", v)
	}
}
