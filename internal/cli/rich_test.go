package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

type richOut struct {
	EventID   id.EventID `json:"event_id"`
	Sender    id.UserID  `json:"sender"`
	Body      string     `json:"body"`
	MsgType   string     `json:"msgtype"`
	ReplyTo   id.EventID `json:"reply_to"`
	E2E       bool       `json:"end_to_end_encrypted"`
	Reactions []struct {
		Key     string      `json:"key"`
		Count   int         `json:"count"`
		Senders []id.UserID `json:"senders"`
		Mine    bool        `json:"mine"`
	} `json:"reactions"`
	File *struct {
		Kind      string `json:"kind"`
		Name      string `json:"name"`
		MimeType  string `json:"mimetype"`
		Size      int64  `json:"size"`
		Encrypted bool   `json:"encrypted"`
	} `json:"file"`
}

// Issue 6 from the shell, in an encrypted DM between two duets: bob answers alice's message
// (--reply-to), reacts to it (--react) and sends a file (--file); alice's `messages --json`
// shows what the reply answers, the reaction with who made it, and the file with its name,
// type and size, sent encrypted. Bad uses are usage errors.
func TestRepliesReactionsAndFilesFromTheShell(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	alice.login(t)
	bob.login(t)
	bob.ok(t, "", "dms") // bob's first sync uploads his device's keys: alice's DM with him is encrypted (R10)
	first := alice.send(t, string(bob.ID), "shall we meet on friday?")
	bob.accept(t, string(first.RoomID))
	bob.waitDuetMessage(t, string(alice.ID), "shall we meet on friday?")

	var reply, react, file sendOut
	bob.jsonOut(t, &reply, "send", string(alice.ID), "friday works", "--reply-to", string(first.EventID))
	bob.jsonOut(t, &react, "send", string(alice.ID), "👍", "--react", string(first.EventID))
	path := filepath.Join(t.TempDir(), "map.txt")
	if err := os.WriteFile(path, []byte("turn left at the bakery\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bob.jsonOut(t, &file, "send", string(alice.ID), "--file", path)
	for _, s := range []sendOut{reply, react, file} {
		if s.RoomID != first.RoomID || !strings.HasPrefix(string(s.EventID), "$") {
			t.Fatalf("sent: %+v", s)
		}
	}

	var msgs []richOut
	hstest.Eventually(t, 20*time.Second, func() string {
		var out struct {
			Messages []richOut `json:"messages"`
		}
		alice.jsonOut(t, &out, "messages", string(bob.ID))
		msgs = out.Messages
		i := slices.IndexFunc(msgs, func(m richOut) bool { return m.EventID == first.EventID })
		j := slices.IndexFunc(msgs, func(m richOut) bool { return m.EventID == reply.EventID })
		k := slices.IndexFunc(msgs, func(m richOut) bool { return m.EventID == file.EventID })
		if i < 0 || j < 0 || k < 0 || len(msgs[i].Reactions) == 0 || msgs[k].File == nil {
			return fmt.Sprintf("messages: %+v", msgs)
		}
		return ""
	})
	for _, m := range msgs {
		if !m.E2E {
			t.Fatalf("not sent encrypted: %+v", m)
		}
		switch m.EventID {
		case first.EventID:
			if r := m.Reactions[0]; r.Key != "👍" || r.Count != 1 || !slices.Equal(r.Senders, []id.UserID{bob.ID}) || r.Mine {
				t.Fatalf("the reaction: %+v", m.Reactions)
			}
		case reply.EventID:
			if m.ReplyTo != first.EventID || m.Body != "friday works" {
				t.Fatalf("the reply: %+v", m)
			}
		case file.EventID:
			if f := m.File; f.Kind != "m.file" || f.Name != "map.txt" || !strings.HasPrefix(f.MimeType, "text/plain") || f.Size != 24 || !f.Encrypted {
				t.Fatalf("the file: %+v", f)
			}
		case react.EventID:
			t.Fatalf("the reaction shows as a message: %+v", m)
		}
	}
	plain := alice.ok(t, "", "messages", string(bob.ID))
	for _, want := range []string{"(reply to " + string(first.EventID) + ") friday works", "[👍 1]", "[file map.txt, text/plain"} {
		if !strings.Contains(plain, want) {
			t.Fatalf("messages lacks %q:\n%s", want, plain)
		}
	}

	// Bad uses: two kinds at once, a missing file, a reaction to something not an event.
	for _, args := range [][]string{
		{"send", string(alice.ID), "x", "--reply-to", string(first.EventID), "--react", string(first.EventID)},
		{"send", string(alice.ID), "👍", "--react", "not-an-event"},
	} {
		if r := bob.run(t, "", args...); r.code != 2 {
			t.Fatalf("%v: exit %d, %q", args, r.code, r.stderr)
		}
	}
	if r := bob.run(t, "", "send", string(alice.ID), "--file", "/no/such/file"); r.code != 1 || !strings.Contains(r.stderr, "no such file") {
		t.Fatalf("a missing file: exit %d, %q", r.code, r.stderr)
	}
}
