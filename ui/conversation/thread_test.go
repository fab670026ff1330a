package conversation

import (
	"strings"
	"testing"
	"time"

	"duet/matrixsvc"
	"duet/ui/styles"
)

// A thread reply shows the root it belongs to above it (loaded: as it is now; else as the store
// had it; else "an earlier message"), a root how many replies it has and the key that opens
// them; a hostile root text stays inert; a new reply counted by sync raises the count in place.
// The thread's own timeline shows neither line.
func TestThreadLines(t *testing.T) {
	m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
	m.SetSize(70, 20)
	m.SetName(alice, "Alice")
	m.SetThreadKey("t")
	at := func(min int) time.Time { return now.Add(time.Duration(min-60) * time.Minute) }
	root := text("$root", alice, at(1), "shall we plan the trip?")
	root.ThreadReplies = 2
	r1 := text("$r1", me, at(2), "yes, in May")
	r1.Thread = "$root"
	r2 := text("$r2", alice, at(3), "May works")
	r2.Thread, r2.ThreadRoot = "$root", &matrixsvc.Quote{Sender: alice, Body: "stale text"}
	far := text("$r3", alice, at(4), "about the old one")
	far.Thread, far.ThreadRoot = "$old", &matrixsvc.Quote{Sender: me, Body: "old root \x1b[2J"}
	lost := text("$r4", alice, at(5), "and this")
	lost.Thread = "$unknown"
	m.AddPage([]matrixsvc.Message{root, r1, r2, far, lost}, false)
	v := m.View()
	for _, want := range []string{"💬 2 replies in thread · t opens it", "⤷ in a thread on: Alice: shall we plan the trip?",
		"⤷ in a thread on: you: old root ␛[2J", "⤷ in a thread on: an earlier message"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "stale text") || strings.Contains(v, "\x1b[2J") {
		t.Errorf("view shows the stored root instead of the loaded one, or an escape:\n%s", v)
	}
	root.ThreadReplies = 3
	m.Changed([]matrixsvc.Message{root})
	if v := m.View(); !strings.Contains(v, "💬 3 replies in thread") {
		t.Errorf("the count did not go up:\n%s", v)
	}

	th := m.ForThread("$root")
	th.AddPage([]matrixsvc.Message{root, r1, r2}, false)
	tv := th.View()
	if strings.Contains(tv, "in a thread on") || strings.Contains(tv, "replies in thread") {
		t.Errorf("the thread's own view repeats the thread lines:\n%s", tv)
	}
	for _, want := range []string{"Alice: shall we plan the trip?", "you: yes, in May", "Alice: May works"} {
		if !strings.Contains(tv, want) {
			t.Errorf("thread view lacks %q:\n%s", want, tv)
		}
	}
}
