package matrixsvc

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/hstest"
)

// Formatting against Dendrite: what duet sends in Markdown arrives with an HTML formatted_body
// (and the text as typed in body); plain text goes without one. What another client sends as a
// formatted reply is kept as HTML, without the reply fallback in either body or HTML.
func TestFormattedMessages(t *testing.T) {
	t.Parallel()
	svc, _, bob, room := acceptedDM(t)
	ctx := hstest.Ctx(t)
	if _, err := svc.SendText(ctx, room, "this is **bold** and `code`", false, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SendText(ctx, room, "just plain", false, ""); err != nil {
		t.Fatal(err)
	}
	var got map[string]*event.MessageEventContent
	hstest.Eventually(t, 20*time.Second, func() string {
		resp, err := bob.Client.Messages(ctx, room, "", "", mautrix.DirectionBackward, nil, 20)
		if err != nil {
			return err.Error()
		}
		got = map[string]*event.MessageEventContent{}
		for _, evt := range resp.Chunk {
			_ = evt.Content.ParseRaw(evt.Type)
			if c, ok := evt.Content.Parsed.(*event.MessageEventContent); ok {
				got[c.Body] = c
			}
		}
		if got["this is **bold** and `code`"] == nil || got["just plain"] == nil {
			return fmt.Sprintf("bob has %v", got)
		}
		return ""
	})
	md := got["this is **bold** and `code`"]
	if md.Format != event.FormatHTML || !strings.Contains(md.FormattedBody, "<strong>bold</strong>") || !strings.Contains(md.FormattedBody, "<code>code</code>") {
		t.Fatalf("markdown sent as %q / %q", md.Format, md.FormattedBody)
	}
	if plain := got["just plain"]; plain.Format != "" || plain.FormattedBody != "" {
		t.Fatalf("plain text sent with HTML: %q", plain.FormattedBody)
	}

	first := bob.Say(t, room, "the original")
	reply := &event.MessageEventContent{MsgType: event.MsgText,
		Body:          "> <" + string(bob.ID) + "> the original\n\nthe *answer*",
		Format:        event.FormatHTML,
		FormattedBody: `<mx-reply><blockquote><a href="https://matrix.to/#/!r/$x">In reply to</a> the original</blockquote></mx-reply>the <em>answer</em>`,
		RelatesTo:     &event.RelatesTo{InReplyTo: &event.InReplyTo{EventID: first}},
	}
	if _, err := bob.Client.SendMessageEvent(ctx, room, event.EventMessage, reply); err != nil {
		t.Fatal(err)
	}
	waitForCopy(t, svc, room, func(m Message) bool { return strings.Contains(m.Body, "answer") }, func(m Message) string {
		if m.Body != "the *answer*" || m.HTML != "the <em>answer</em>" {
			return fmt.Sprintf("the reply is kept as %q / %q", m.Body, m.HTML)
		}
		return ""
	})
}

// waitForCopy waits until duet's own copy of the message that is finds, among a room's newest,
// passes check (which says what is wrong, or "").
func waitForCopy(t *testing.T, svc *Service, room id.RoomID, is func(Message) bool, check func(Message) string) {
	t.Helper()
	ctx := hstest.Ctx(t)
	hstest.Eventually(t, 20*time.Second, func() string {
		if _, err := svc.CatchUp(ctx); err != nil {
			return err.Error()
		}
		msgs, _, err := svc.History(ctx, room, "", 10)
		if err != nil {
			return err.Error()
		}
		for _, m := range msgs {
			if is(m) {
				return check(m)
			}
		}
		return "the message is not in the history"
	})
}

func byID(evt id.EventID) func(Message) bool { return func(m Message) bool { return m.EventID == evt } }

func TestWithoutReplyFallback(t *testing.T) {
	for _, c := range []struct{ body, html, wantBody, wantHTML string }{
		{"> <@a:x> hi\n> there\n\nanswer", "<mx-reply><blockquote>hi</blockquote></mx-reply><b>answer</b>", "answer", "<b>answer</b>"},
		{"no fallback", "", "no fallback", ""},
		{"> quoted by hand\nand more", "", "and more", ""},
		{"answer", "<MX-REPLY>\n<p>x</p></MX-REPLY>answer <mx-reply>kept later</mx-reply>", "answer", "answer <mx-reply>kept later</mx-reply>"},
	} {
		b, h := withoutReplyFallback(c.body, c.html)
		if b != c.wantBody || h != c.wantHTML {
			t.Errorf("withoutReplyFallback(%q, %q) = %q, %q", c.body, c.html, b, h)
		}
	}
}

// An edit through the outbox, against Dendrite: bob's client gets m.replace with the new text
// in m.new_content (formatted) and "* " and the text as the fallback; duet's own copy of the
// message shows the new text, marked edited.
func TestEditThroughTheOutbox(t *testing.T) {
	t.Parallel()
	svc, _, bob, room := acceptedDM(t)
	ctx := hstest.Ctx(t)
	orig, err := svc.SendText(ctx, room, "meet at 10", false, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindEdit, Room: room, Of: orig, Body: "meet at **11**"}); err != nil {
		t.Fatal(err)
	}
	if sent, err := svc.FlushOutbox(ctx); sent != 1 || err != nil {
		t.Fatalf("flush: %d, %v", sent, err)
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		resp, err := bob.Client.Messages(ctx, room, "", "", mautrix.DirectionBackward, nil, 10)
		if err != nil {
			return err.Error()
		}
		for _, evt := range resp.Chunk {
			_ = evt.Content.ParseRaw(evt.Type)
			c, ok := evt.Content.Parsed.(*event.MessageEventContent)
			if !ok || c.RelatesTo == nil || c.RelatesTo.Type != event.RelReplace {
				continue
			}
			if c.RelatesTo.EventID != orig || c.Body != "* meet at **11**" || c.NewContent == nil ||
				c.NewContent.Body != "meet at **11**" || !strings.Contains(c.NewContent.FormattedBody, "<strong>11</strong>") {
				t.Fatalf("the edit as bob gets it: %+v new %+v", c, c.NewContent)
			}
			return ""
		}
		return "no edit yet"
	})
	waitForCopy(t, svc, room, byID(orig), func(m Message) string {
		if !m.Edited || m.Body != "meet at **11**" || !strings.Contains(m.HTML, "<strong>11</strong>") {
			return fmt.Sprintf("our copy: %+v", m)
		}
		return ""
	})
}

// A deletion through the outbox, against Dendrite: the message is redacted for bob, and
// duet's own copy says deleted and matches no search.
func TestDeleteThroughTheOutbox(t *testing.T) {
	t.Parallel()
	svc, _, bob, room := acceptedDM(t)
	ctx := hstest.Ctx(t)
	orig, err := svc.SendText(ctx, room, "a regrettable sentence", false, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindRedaction, Room: room, Of: orig}); err != nil {
		t.Fatal(err)
	}
	if sent, err := svc.FlushOutbox(ctx); sent != 1 || err != nil {
		t.Fatalf("flush: %d, %v", sent, err)
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		evt, err := bob.Client.GetEvent(ctx, room, orig)
		if err != nil {
			return err.Error()
		}
		if evt.Unsigned.RedactedBecause == nil || len(evt.Content.Raw) != 0 {
			return fmt.Sprintf("not redacted for bob yet: %s", evt.Content.VeryRaw)
		}
		return ""
	})
	waitForCopy(t, svc, room, byID(orig), func(m Message) string {
		if !m.Redacted || m.Body != "" {
			return fmt.Sprintf("our copy: %+v", m)
		}
		return ""
	})
	if found, _, err := svc.Search(ctx, "regrettable", "", 5); err != nil || len(found) != 0 {
		t.Fatalf("a deleted message is found: %+v, %v", found, err)
	}
}

// Typing, against Dendrite: when bob types, alice's sync says so for the room, and stops
// saying so when he stops; what alice says about herself reaches bob.
func TestTyping(t *testing.T) {
	t.Parallel()
	svc, alice, bob, room := acceptedDM(t)
	ctx := hstest.Ctx(t)
	typingNow := func() ([]string, bool) {
		applied, err := svc.CatchUp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		users, ok := applied.Typing[room]
		var out []string
		for _, u := range users {
			out = append(out, string(u))
		}
		return out, ok
	}
	typingNow()
	if _, err := bob.Client.UserTyping(ctx, room, true, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		if users, ok := typingNow(); !ok || len(users) != 1 || users[0] != string(bob.ID) {
			return fmt.Sprintf("typing: %v (%v)", users, ok)
		}
		return ""
	})
	if _, err := bob.Client.UserTyping(ctx, room, false, 0); err != nil {
		t.Fatal(err)
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		if users, ok := typingNow(); !ok || len(users) != 0 {
			return fmt.Sprintf("still typing: %v (%v)", users, ok)
		}
		return ""
	})
	if err := svc.SetTyping(ctx, room, true, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		resp, err := bob.Client.SyncRequest(ctx, 0, "", "", false, "")
		if err != nil {
			return err.Error()
		}
		r := resp.Rooms.Join[room]
		if r == nil {
			return "no room in bob's sync"
		}
		for _, evt := range r.Ephemeral.Events {
			if evt.Type == event.EphemeralEventTyping && strings.Contains(string(evt.Content.VeryRaw), string(alice.ID)) {
				return ""
			}
		}
		return "bob does not see alice typing"
	})
}

// Read receipts, against Dendrite: when bob reads alice's message, alice's sync says so for
// the room, and it is kept for the next start.
func TestReadReceipts(t *testing.T) {
	t.Parallel()
	svc, _, bob, room := acceptedDM(t)
	ctx := hstest.Ctx(t)
	evt, err := svc.SendText(ctx, room, "read me", false, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	hstest.Eventually(t, 20*time.Second, func() string { // bob's server has the message
		if _, err := bob.Client.GetEvent(ctx, room, evt); err != nil {
			return err.Error()
		}
		return ""
	})
	if err := bob.Client.SetReadMarkers(ctx, room, &mautrix.ReqSetReadMarkers{Read: evt}); err != nil {
		t.Fatal(err)
	}
	hstest.Eventually(t, 20*time.Second, func() string {
		applied, err := svc.CatchUp(ctx)
		if err != nil {
			return err.Error()
		}
		if got := applied.Read[room][bob.ID]; got != evt {
			stored, _ := svc.Receipts(ctx, room)
			if stored[bob.ID] == evt {
				return "" // came with an earlier catch-up
			}
			return fmt.Sprintf("bob's receipt: %q", got)
		}
		return ""
	})
	stored, err := svc.Receipts(ctx, room)
	if err != nil || stored[bob.ID] != evt {
		t.Fatalf("stored receipts: %v, %v", stored, err)
	}
}

func TestPlainText(t *testing.T) {
	for _, c := range []struct{ body, html, want string }{
		{"just text", "", "just text"},
		{"**a** _b_ ~~c~~ `d`", "<strong>a</strong> <em>b</em> <del>c</del> <code>d</code>", "a b c d"},
		{"[link](https://x.example) and https://y.example", `<a href="https://x.example">link</a> and <a href="https://y.example">https://y.example</a>`, "link and https://y.example"},
		{"hi Bob", `hi <a href="https://matrix.to/#/@bob:x.example">Bob</a>`, "hi Bob"},
		{"secret", `<span data-mx-spoiler>the butler did it</span>`, "[spoiler]"},
		{"- one\n- two", "<ul><li>one</li><li>two</li></ul>", "* one\n* two"},
	} {
		if got := PlainText(c.body, c.html); got != c.want {
			t.Errorf("PlainText(%q, %q) = %q, want %q", c.body, c.html, got, c.want)
		}
	}
}

func TestLinks(t *testing.T) {
	for _, c := range []struct {
		body, html string
		want       []string
	}{
		{"no links", "", nil},
		{"see https://a.example/x and http://b.example, again https://a.example/x", "", []string{"https://a.example/x", "http://b.example"}},
		{"[map](https://m.example) and https://t.example", `<a href="https://m.example">map</a> and https://t.example`, []string{"https://m.example", "https://t.example"}},
		{"https://t.example and [map](https://m.example/a?b=1,c)", `https://t.example and <a href="https://m.example/a?b=1,c">map</a>.`, []string{"https://t.example", "https://m.example/a?b=1,c"}},
		{"evil", `<a href="file:///etc/passwd">x</a> <a href="javascript:alert(1)">y</a> <a href="https://matrix.to/#/@bob:x.example">Bob</a>`, nil},
		{"ssh://host and mailto:a@b.example and www.example.org", "", nil},
	} {
		if got := Links(c.body, c.html); !slices.Equal(got, c.want) {
			t.Errorf("Links(%q, %q) = %q, want %q", c.body, c.html, got, c.want)
		}
	}
}
