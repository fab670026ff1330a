package conversation

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/internal/testkit/termtest"
	"duet/matrixsvc"
	"duet/ui/styles"
)

// FuzzRender: whatever the server sends in any field of a message (body, formatted body, sender
// and their name, event IDs, the message a reply answers and its quote, why it cannot be
// decrypted, a warning about the sending device, a file's name, kind and type, reaction keys
// and who reacted) or a send error says, the timeline shows it inert and within the pane, at
// any width and in every colour profile.
func FuzzRender(f *testing.F) {
	seeds := termtest.Hostile()
	for i, s := range seeds {
		other := seeds[(i+1)%len(seeds)]
		f.Add(s, other, s, other, "@"+other+":example.org", s, "m.text", uint8(i*13), uint8(i), now.UnixMilli(), uint8(i))
	}
	f.Add("hello", "Alice", "waiting for the key", "from an unknown device", string(alice), "", "m.text", uint8(40), uint8(20), now.UnixMilli(), uint8(0))
	f.Add(strings.Repeat("x", 300), strings.Repeat("N", 100), "", "", "", "boom", "m.notice", uint8(0), uint8(5), int64(0), uint8(3))
	f.Add("a b", "", "", "", string(me), "", "", uint8(1), uint8(1), int64(-62135596800000), uint8(2))
	// ansi.Wrap keeps leading spaces uncounted, or drops them before a word too long.
	f.Add(" "+strings.Repeat("w", 40), "", "", "", string(alice), "", "m.text", uint8(40), uint8(9), now.UnixMilli(), uint8(0))
	f.Add("    "+strings.Repeat("w", 90)+"  x  "+strings.Repeat(" ", 60), "", "", "", string(alice), "", "m.text", uint8(50), uint8(9), now.UnixMilli(), uint8(0))
	f.Cleanup(func() { termtest.Plain() }) // what the package's tests expect
	f.Fuzz(func(t *testing.T, body, name, reason, trust, sender, sendErr, msgType string, w, h uint8, ts int64, profile uint8) {
		ascii := termtest.SetProfile(profile)
		width, height := 10+int(w)%191, 1+int(h)%40
		m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
		m.SetSize(width, height)
		from := id.UserID(sender)
		m.SetName(from, name)
		at := time.UnixMilli(ts).UTC()
		m.AddPage([]matrixsvc.Message{
			{EventID: "$text", Sender: from, Timestamp: at, MsgType: "m.text", Body: body},
			{EventID: "$emote", Sender: from, Timestamp: at, MsgType: "m.emote", Body: body},
			{EventID: "$notice", Sender: from, Timestamp: at, MsgType: "m.notice", Body: body, E2E: true, Trust: trust},
			{EventID: "$enc", Sender: from, Timestamp: at, Encrypted: true, DecryptError: reason, Trust: trust},
			{EventID: "$other", Sender: from, Timestamp: at.Add(30 * time.Hour), MsgType: msgType, Body: body, Trust: trust},
			// Every field at once: a formatted reply (to a message not loaded, and to one that is)
			// with reactions, a file with a caption, an event ID and a kind the server made up.
			{EventID: id.EventID(name), Sender: from, Timestamp: at, MsgType: msgType, Body: body, HTML: body + termtest.HostileHTML()[int(w)%len(termtest.HostileHTML())],
				E2E: true, Trust: trust, Edited: true, ReplyTo: id.EventID(reason), Reply: &matrixsvc.Quote{Sender: id.UserID(name), Body: reason},
				Reactions: []matrixsvc.Reaction{{Key: name, Senders: []id.UserID{from, id.UserID(reason), me}, Mine: id.EventID(trust)}, {Key: reason, Senders: []id.UserID{id.UserID(sendErr)}}}},
			{EventID: "$reply", Sender: id.UserID(reason), Timestamp: at, MsgType: "m.text", Body: body, HTML: body, ReplyTo: id.EventID(name)},
			{EventID: id.EventID(sendErr), Sender: from, Timestamp: at, MsgType: "m.image", Body: reason,
				Media: &matrixsvc.Media{Kind: msgType, Name: name, MimeType: trust, Size: ts, Width: int(w), Height: int(h)}},
			{EventID: "$file", Sender: from, Timestamp: at, MsgType: "m.file", Body: body, Media: &matrixsvc.Media{Kind: "m.file", Name: body, MimeType: reason}},
		}, true)
		m.SetName(id.UserID(reason), body)
		m.SetName(id.UserID(sendErr), trust)
		m.AddEcho("sending", body, false, Sending)
		m.AddEcho("failed", body, true, Sending)
		m.SetState("failed", Failed, sendErr)
		m.AddEcho("queued", body, false, Queued)
		m.SetState("queued", Queued, sendErr)

		// Wrapping keeps every character but spaces, and every line within its width.
		for _, para := range strings.Split(sanitize.Text(body, true), "\n") {
			first := max(width-int(h)%30, 1)
			lines := wrapHanging(para, first, width)
			for i, l := range lines {
				limit := width
				if i == 0 {
					limit = first
				}
				if ansi.StringWidth(l) > limit {
					t.Fatalf("wrapHanging(%q, %d, %d) line %d is wider: %q", para, first, width, i, l)
				}
			}
			if got, want := strings.Join(strings.Fields(strings.Join(lines, " ")), ""), strings.Join(strings.Fields(para), ""); got != want {
				t.Fatalf("wrapHanging(%q, %d, %d) = %q: lost text", para, first, width, lines)
			}
		}

		checkView(t, m.View(), width, height, ascii)
		for i := range m.entries {
			for _, l := range m.lines(i) {
				checkLine(t, l, width, ascii)
			}
		}
		// Scrolled up: the "new below" hint and the window's lower edge.
		m.ScrollUp(height / 2)
		m.Append([]matrixsvc.Message{{EventID: "$late", Sender: from, Timestamp: at, MsgType: "m.text", Body: body}})
		m.SetLoading()
		checkView(t, m.View(), width, height, ascii)
	})
}

// TestRenderHugeBody: a 100 KB body of hostile text is drawn inert and within the pane.
func TestRenderHugeBody(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 100<<10; i++ {
		s := termtest.Hostile()
		b.WriteString(s[i%len(s)])
		b.WriteString(" ")
	}
	for _, w := range []int{10, 57, 200} {
		m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
		m.SetSize(w, 30)
		m.AddPage([]matrixsvc.Message{text("$big", alice, now, b.String())}, false)
		checkView(t, m.View(), w, 30, true)
		for _, l := range m.lines(0) {
			checkLine(t, l, w, true)
		}
	}
}

// checkView checks a whole view: exactly h lines, each inert and no wider than w.
func checkView(t *testing.T, view string, w, h int, ascii bool) {
	t.Helper()
	if err := termtest.View(view, w, h, ascii); err != nil {
		t.Fatal(err)
	}
}

// checkLine fails when a line holds anything a terminal would act on rather than draw, other
// than the renderer's own styling (none at all in the ASCII profile), or is wider than w.
func checkLine(t *testing.T, line string, w int, ascii bool) {
	t.Helper()
	if err := termtest.Inert(line, w, ascii); err != nil {
		t.Fatalf("%v in %q", err, line)
	}
}
