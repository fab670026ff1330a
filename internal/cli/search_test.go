package cli

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

type searchOut struct {
	Query   string `json:"query"`
	More    bool   `json:"more"`
	Results []struct {
		RoomID  id.RoomID  `json:"room_id"`
		EventID id.EventID `json:"event_id"`
		Person  id.UserID  `json:"person"`
		Name    string     `json:"name"`
		Body    string     `json:"body"`
		Snippet string     `json:"snippet"`
		Edited  bool       `json:"edited"`
	} `json:"results"`
}

func (u *duetUser) search(t *testing.T, args ...string) searchOut {
	t.Helper()
	var out searchOut
	u.jsonOut(t, &out, append([]string{"search"}, args...)...)
	return out
}

// Issue 11 from the shell: a word from a plain DM and one from an encrypted DM are found, newest
// first; --with keeps to one person; after an edit the old words no longer match and the new
// ones do; after a redaction nothing matches; bad queries are usage errors (exit 2).
func TestSearchFromTheShell(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob Search")
	carol := hstest.NewPerson(t, hs, "carol", "Carol Plain")
	alice.login(t)
	bob.login(t)
	bob.ok(t, "", "dms") // his first sync uploads his device's keys: alice's DM with him is encrypted (R10)

	enc := alice.send(t, string(bob.ID), "the secret ingredient is marmalade")
	bob.accept(t, string(enc.RoomID))
	if m := alice.waitDuetMessage(t, string(bob.ID), "the secret ingredient is marmalade"); !m.E2E {
		t.Fatal("the DM with bob is not encrypted")
	}
	plain := carol.CreateRoom(t, true, alice.ID)
	alice.accept(t, string(plain))
	first := carol.Say(t, plain, "meet me at the old lighthouse")
	carol.Say(t, plain, "bring the marmalade sandwiches")

	var found searchOut
	hstest.Eventually(t, 20*time.Second, func() string {
		found = alice.search(t, "marmalade")
		if len(found.Results) != 2 {
			return fmt.Sprintf("marmalade: %+v", found.Results)
		}
		return ""
	})
	if found.Results[0].Person != carol.ID || found.Results[1].Person != bob.ID || found.Results[1].RoomID != enc.RoomID {
		t.Fatalf("newest first, carol's then bob's encrypted one: %+v", found.Results)
	}
	if !strings.Contains(found.Results[0].Snippet, "marmalade") || strings.ContainsAny(found.Results[0].Snippet, "\x01\x02") {
		t.Fatalf("snippet: %q", found.Results[0].Snippet)
	}
	if got := alice.search(t, "MARMA", "--with", string(bob.ID)); len(got.Results) != 1 || got.Results[0].Person != bob.ID {
		t.Fatalf("--with bob: %+v", got.Results)
	}
	if got := alice.search(t, "lighthouse", "--with", string(bob.ID)); len(got.Results) != 0 {
		t.Fatalf("--with bob found carol's words: %+v", got.Results)
	}
	line := alice.ok(t, "", "search", "lighthouse")
	if !strings.Contains(line, "Carol Plain") || !strings.Contains(line, string(plain)) || strings.Count(line, "\n") != 1 {
		t.Fatalf("plain output: %q", line)
	}

	// carol edits the lighthouse message, as Element does.
	edit := &event.MessageEventContent{MsgType: event.MsgText, Body: "* meet me at the harbour",
		NewContent: &event.MessageEventContent{MsgType: event.MsgText, Body: "meet me at the harbour"},
		RelatesTo:  &event.RelatesTo{Type: event.RelReplace, EventID: first}}
	if _, err := carol.Client.SendMessageEvent(hstest.Ctx(t), plain, event.EventMessage, edit); err != nil {
		t.Fatal(err)
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		if got := alice.search(t, "harbour"); len(got.Results) != 1 || got.Results[0].EventID != first || !got.Results[0].Edited {
			return fmt.Sprintf("harbour: %+v", got.Results)
		}
		return ""
	})
	if got := alice.search(t, "lighthouse"); len(got.Results) != 0 {
		t.Fatalf("the words before the edit still match: %+v", got.Results)
	}
	if out := alice.ok(t, "", "messages", string(carol.ID)); !strings.Contains(out, "meet me at the harbour  (edited)") || strings.Contains(out, "* meet me") {
		t.Fatalf("messages after the edit:\n%s", out)
	}

	// carol deletes it.
	if _, err := carol.Client.RedactEvent(hstest.Ctx(t), plain, first); err != nil {
		t.Fatal(err)
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		if got := alice.search(t, "harbour"); len(got.Results) != 0 {
			return fmt.Sprintf("harbour after the redaction: %+v", got.Results)
		}
		return ""
	})
	if out := alice.ok(t, "", "messages", string(carol.ID)); !strings.Contains(out, "[message deleted]") {
		t.Fatalf("messages after the redaction:\n%s", out)
	}

	// No match: nothing on stdout, a line on stderr, exit 0.
	r := alice.run(t, "", "search", "xylophone")
	if r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "no messages match") {
		t.Fatalf("no match: %+v", r)
	}
	for _, q := range []string{`"unbalanced`, "*", strings.Repeat("long ", 2000)} {
		r := alice.run(t, "", "search", q)
		if r.code != 2 || r.stdout != "" || strings.Contains(r.stderr, "MATCH") || !strings.HasPrefix(r.stderr, "duet: bad search: ") {
			t.Fatalf("search %.20q: exit %d, stdout %q, stderr %q", q, r.code, r.stdout, r.stderr)
		}
	}
}

// duet send --edit replaces the text of our message: the other side gets an m.replace and
// messages shows the new text, edited; a bad event ID is a usage error.
func TestSendEdit(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	alice.login(t)
	sent := alice.send(t, string(bob.ID), "see you at 10")
	bob.Join(t, sent.RoomID)
	var edit struct {
		EventID id.EventID `json:"event_id"`
		Edits   id.EventID `json:"edits"`
	}
	alice.jsonOut(t, &edit, "send", string(bob.ID), "see you at 11", "--edit", string(sent.EventID))
	if edit.Edits != sent.EventID || edit.EventID == "" {
		t.Fatalf("send --edit printed %+v", edit)
	}
	waitForBodies(t, bob, sent.RoomID, "* see you at 11")
	hstest.Eventually(t, 20*time.Second, func() string {
		out := alice.ok(t, "", "messages", string(bob.ID))
		if !strings.Contains(out, "see you at 11  (edited)") || strings.Contains(out, "at 10") {
			return "messages: " + out
		}
		return ""
	})
	if r := alice.run(t, "", "send", string(bob.ID), "x", "--edit", "not-an-event"); r.code != 2 {
		t.Fatalf("a bad --edit: exit %d, %q", r.code, r.stderr)
	}
}
