package cli

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hostile"
	"duet/internal/testkit/hstest"
	"duet/internal/testkit/termtest"
)

// osc52 writes "hi" to the terminal's clipboard when a terminal acts on it.
const osc52 = "\x1b]52;c;aGk=\x07"

// A peer fills every field it controls with escape sequences and terminal controls (body,
// formatted body and its data-mx-maths, the event ID a reply claims to answer, a file's name
// and type, a reaction key, an emote): `duet messages` prints none of them raw, neither in its
// human output nor in --json, and --json still gives every value back exactly as sent.
func TestHostileFieldsNeverReachTheTerminal(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	alice.login(t)
	room := bob.CreateRoom(t, true, alice.ID)
	alice.accept(t, string(room))

	body := "osc " + osc52 + " csi \u009b31m del \x7f bidi \u202eevil"
	replyTo := "$x" + osc52
	send := func(typ event.Type, content map[string]any) id.EventID {
		t.Helper()
		resp, err := bob.Client.SendMessageEvent(hstest.Ctx(t), room, typ, content)
		if err != nil {
			t.Fatal(err)
		}
		return resp.EventID
	}
	text := send(event.EventMessage, map[string]any{"msgtype": "m.text", "body": body,
		"format": "org.matrix.custom.html", "formatted_body": `<span data-mx-maths="` + osc52 + `m">x</span> &#27;]0;t&#7;`,
		"m.relates_to": map[string]any{"m.in_reply_to": map[string]any{"event_id": replyTo}}})
	send(event.EventMessage, map[string]any{"msgtype": "m.emote", "body": "waves " + osc52})
	send(event.EventMessage, map[string]any{"msgtype": "m.file", "body": "f" + osc52 + ".txt", "url": "mxc://example.org/abc",
		"info": map[string]any{"mimetype": "text/\x1b[2J\u009b", "size": 3}})
	send(event.EventReaction, map[string]any{"m.relates_to": map[string]any{"rel_type": "m.annotation", "event_id": text, "key": "\u009b" + osc52}})

	var human string
	hstest.Eventually(t, 20*time.Second, func() string {
		r := alice.run(t, "", "messages", string(bob.ID))
		human = r.stdout + r.stderr
		if r.code != 0 || !strings.Contains(human, "csi") || !strings.Contains(human, "waves") || !strings.Contains(human, "[file") || !strings.Contains(human, " 1]") {
			return "not all shown yet: " + human
		}
		return ""
	})
	if err := termtest.Output(human); err != nil {
		t.Fatalf("duet messages: %v", err)
	}
	if !strings.Contains(human, "(reply to $x␛]52;c;aGk=␇)") {
		t.Fatalf("the reply's event ID is not shown inert:\n%s", human)
	}

	r := alice.run(t, "", "messages", string(bob.ID), "--json")
	if r.code != 0 {
		t.Fatalf("messages --json: exit %d, %q", r.code, r.stderr)
	}
	if err := termtest.Output(r.stdout + r.stderr); err != nil {
		t.Fatalf("duet messages --json: %v", err)
	}
	var out struct {
		Messages []richOut `json:"messages"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("messages --json printed %q: %v", r.stdout, err)
	}
	var got *richOut
	for i, m := range out.Messages {
		if m.EventID == text {
			got = &out.Messages[i]
		}
	}
	if got == nil || got.Body != body || got.ReplyTo != id.EventID(replyTo) || len(got.Reactions) != 1 || got.Reactions[0].Key != "\u009b"+osc52 {
		t.Fatalf("--json does not give the values back as sent: %+v", got)
	}
}

// An error text from the server (a hostile one) holding an escape sequence reaches stderr
// inert: the command's one line still says what went wrong.
func TestServerErrorTextIsPrintedHarmlessly(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	alice.login(t)
	bob.login(t)
	first := alice.send(t, string(bob.ID), "hello")
	proxy := hostile.Start(t, hs.URL)
	alice.setHomeserver(t, proxy.URL)
	proxy.Handle(http.MethodPut, "/send/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"errcode":"M_FORBIDDEN","error":"\u001b]52;c;aGk=\u0007\u009b2J no \u202eway"}`))
	})
	for _, args := range [][]string{{"send", string(bob.ID), "again"}, {"send", string(first.RoomID), "again", "--json"}} {
		r := alice.run(t, "", args...)
		if r.code != 1 || !strings.Contains(r.stderr, "no") {
			t.Fatalf("duet %v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
		if err := termtest.Output(r.stdout + r.stderr); err != nil {
			t.Fatalf("duet %v: %v", args, err)
		}
		if !strings.Contains(r.stderr, "␛]52;c;aGk=␇") {
			t.Fatalf("duet %v: the server's text is not shown inert: %q", args, r.stderr)
		}
	}
}
