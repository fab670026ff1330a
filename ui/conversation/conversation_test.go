package conversation

import (
	"fmt"
	"image"
	"os"
	"strings"
	"testing"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/exp/golden"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/termtest"
	"duet/matrixsvc"
	"duet/ui/styles"
)

func TestMain(m *testing.M) {
	termtest.Plain()
	os.Exit(m.Run())
}

var now = time.Date(2026, 3, 2, 15, 30, 0, 0, time.UTC)

const (
	me    = id.UserID("@me:example.org")
	alice = id.UserID("@alice:example.org")
)

func text(evt string, sender id.UserID, ts time.Time, body string) matrixsvc.Message {
	return matrixsvc.Message{EventID: id.EventID(evt), Sender: sender, Timestamp: ts, MsgType: "m.text", Body: body}
}

func timeline(w, h int) Model {
	m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
	m.SetSize(w, h)
	m.SetName(alice, "Alice")
	yesterday := now.Add(-20 * time.Hour)
	m.AddPage([]matrixsvc.Message{
		text("$1", alice, yesterday, "Hi! Are we still on for tomorrow?"),
		text("$2", me, yesterday.Add(time.Minute), "Yes, 10 o'clock at the station."),
		text("$3", alice, now.Add(-20*time.Minute), "This is a rather long message that will certainly not fit on one line, so it wraps onto the next lines."),
		text("$4", alice, now.Add(-10*time.Minute), "Two lines:\nthe second one"),
		{EventID: "$5", Sender: alice, Timestamp: now.Add(-9 * time.Minute), MsgType: "m.emote", Body: "waves"},
		{EventID: "$6", Sender: alice, Timestamp: now.Add(-8 * time.Minute), Encrypted: true},
	}, false)
	return m
}

func TestViewTimeline(t *testing.T) {
	m := timeline(50, 20)
	m.AddEcho("t1", "on my way", false, Sending)
	m.AddEcho("t2", "did this arrive?", false, Sending)
	m.SetState("t2", Failed, "cannot reach the homeserver")
	m.AddEcho("t3", "sent fine", false, Sending)
	m.Confirm("t3", "$7", "")
	golden.RequireEqual(t, m.View())
}

func TestViewNewBelowAndLoading(t *testing.T) {
	m := timeline(50, 10)
	m.AddPage(nil, true) // more history exists
	m.ScrollUp(6)
	m.Append([]matrixsvc.Message{text("$8", alice, now, "are you there?")})
	m.SetLoading()
	view := m.View()
	for _, want := range []string{"↑ loading older messages…", "↓ 1 new message below"} {
		if !strings.Contains(view, want) {
			t.Fatalf("view lacks %q:\n%s", want, view)
		}
	}
	golden.RequireEqual(t, view)
}

func TestViewNarrow(t *testing.T) {
	m := timeline(20, 12)
	golden.RequireEqual(t, m.View())
	for _, l := range strings.Split(m.View(), "\n") {
		if lipgloss.Width(l) > 20 {
			t.Fatalf("line wider than 20: %q", l)
		}
	}
}

func TestScrollingBounds(t *testing.T) {
	m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
	m.SetSize(40, 5)
	var msgs []matrixsvc.Message
	for i := range 30 {
		msgs = append(msgs, text(fmt.Sprintf("$%d", i), alice, now.Add(time.Duration(i)*time.Second), fmt.Sprintf("m%02d", i)))
	}
	m.AddPage(msgs, true)
	if m.NeedsOlder() {
		t.Fatal("at the bottom with 30 messages: no need for older ones")
	}
	m.ScrollUp(1000)
	if !m.NeedsOlder() {
		t.Fatal("scrolled to the top: older messages are needed")
	}
	if !strings.Contains(m.View(), "m00") {
		t.Fatalf("top not shown:\n%s", m.View())
	}
	m.ScrollDown(1000)
	if !m.AtBottom() || !strings.Contains(m.View(), "m29") {
		t.Fatalf("bottom not shown:\n%s", m.View())
	}
}

func TestCacheReusedAndWidthKeyed(t *testing.T) {
	m := timeline(50, 20)
	_ = m.View()
	first := m.entries[2].lines
	_ = m.View()
	if &m.entries[2].lines[0] != &first[0] {
		t.Fatal("lines were rendered again at the same width")
	}
	m.SetSize(30, 20)
	_ = m.View()
	if m.entries[2].width != 30 || len(m.entries[2].lines) <= len(first) {
		t.Fatalf("not re-rendered for the new width: %d lines at %d", len(m.entries[2].lines), m.entries[2].width)
	}
}

func TestWrapHanging(t *testing.T) {
	for _, tc := range []struct {
		in          string
		first, rest int
		want        string
	}{
		{"short", 10, 10, "short"},
		{"hello world again", 5, 11, "hello|world again"},
		{"abcdefghij", 4, 4, "abcd|efgh|ij"},
		{"", 5, 5, ""},
	} {
		if got := strings.Join(wrapHanging(tc.in, tc.first, tc.rest), "|"); got != tc.want {
			t.Errorf("wrapHanging(%q, %d, %d) = %q, want %q", tc.in, tc.first, tc.rest, got, tc.want)
		}
	}
}

// A first page with one message, then an empty older page: the message stays in view.
func TestEmptyOlderPageKeepsMessages(t *testing.T) {
	m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
	m.SetSize(60, 12)
	m.SetName(alice, "Alice")
	m.AddPage([]matrixsvc.Message{text("$1", alice, now.Add(-40*time.Minute), "the only message")}, true)
	if !strings.Contains(m.View(), "the only message") {
		t.Fatalf("first page not shown:\n%s", m.View())
	}
	m.SetLoading()
	m.AddPage(nil, false)
	if v := m.View(); !strings.Contains(v, "the only message") || !strings.Contains(v, "start of the conversation") {
		t.Fatalf("after an empty older page:\n%s", v)
	}
}

// A message this device cannot read shows as a dim placeholder saying why; one from a device
// worth a warning carries a short mark.
func TestViewUndecryptableAndTrust(t *testing.T) {
	for _, w := range []int{60, 30} {
		m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
		m.SetSize(w, 12)
		m.SetName(alice, "Alice")
		m.AddPage([]matrixsvc.Message{
			{EventID: "$1", Sender: alice, Timestamp: now.Add(-5 * time.Minute), Encrypted: true, DecryptError: "waiting for the key"},
			{EventID: "$2", Sender: alice, Timestamp: now.Add(-4 * time.Minute), Encrypted: true, DecryptError: "key withheld: not verified\x1b[2J"},
			{EventID: "$3", Sender: alice, Timestamp: now.Add(-3 * time.Minute), MsgType: "m.text", Body: "hello from a new phone", E2E: true, Trust: "from an unknown device"},
			{EventID: "$4", Sender: alice, Timestamp: now.Add(-2 * time.Minute), MsgType: "m.text", Body: "all good", E2E: true},
		}, false)
		view := m.View()
		for _, want := range []string{"Alice: 🔒 unable to", "⚠ from an unknown device"} {
			if !strings.Contains(view, want) {
				t.Fatalf("width %d: view lacks %q:\n%s", w, want, view)
			}
		}
		if strings.Contains(view, "\x1b") {
			t.Fatalf("a decryption error reached the terminal raw: %q", view)
		}
		for _, l := range strings.Split(view, "\n") {
			if lipgloss.Width(l) > w {
				t.Fatalf("width %d: line %q is wider", w, l)
			}
		}
		if w == 60 {
			for _, want := range []string{"Alice: 🔒 unable to decrypt (waiting for the key)", "hello from a new phone ⚠ from an unknown device"} {
				if !strings.Contains(view, want) {
					t.Fatalf("view lacks %q:\n%s", want, view)
				}
			}
			if strings.Count(view, "⚠") != 1 {
				t.Fatalf("only the message from the unknown device is marked:\n%s", view)
			}
			golden.RequireEqual(t, view)
		}
	}
}

// Keys came: the placeholders turn into the messages where they are, and the window stays.
func TestRedecryptedInPlace(t *testing.T) {
	m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
	m.SetSize(60, 8)
	m.SetName(alice, "Alice")
	var page, plain []matrixsvc.Message
	for i := range 30 {
		evt := id.EventID(fmt.Sprintf("$%d", i))
		ts := now.Add(time.Duration(i-30) * time.Minute)
		msg := text(string(evt), alice, ts, fmt.Sprintf("secret %02d", i))
		plain = append(plain, msg)
		if i%2 == 0 {
			msg = matrixsvc.Message{EventID: evt, Sender: alice, Timestamp: ts, Encrypted: true, DecryptError: "waiting for the key"}
		}
		page = append(page, msg)
	}
	m.AddPage(page, false)
	if got := len(m.Undecrypted()); got != 15 {
		t.Fatalf("%d undecrypted, want 15", got)
	}
	m.ScrollUp(10)
	before := m.View()
	if !strings.Contains(before, "unable to decrypt") || strings.Contains(before, "secret 18") {
		t.Fatalf("before:\n%s", before)
	}
	// A message shown as text is not replaced by what the store says of it.
	changed := plain[1]
	changed.Body = "rewritten"
	if n := m.Redecrypted(append(plain, changed)); n != 15 {
		t.Fatalf("%d replaced, want 15", n)
	}
	after := m.View()
	if strings.Contains(after, "unable to decrypt") || strings.Contains(after, "rewritten") {
		t.Fatalf("after:\n%s", after)
	}
	if m.AtBottom() || !strings.Contains(after, "secret 18") || strings.Contains(after, "secret 29") {
		t.Fatalf("the window moved:\n%s", after)
	}
	if len(m.Undecrypted()) != 0 {
		t.Fatalf("still undecrypted: %v", m.Undecrypted())
	}
	// Still waiting, for another reason: the placeholder says the new one.
	m2 := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
	m2.SetSize(60, 8)
	m2.SetName(alice, "Alice")
	m2.AddPage(page[:1], false)
	m2.Redecrypted([]matrixsvc.Message{{EventID: "$0", Sender: alice, Timestamp: page[0].Timestamp, Encrypted: true, DecryptError: "key withheld: blocked"}})
	if !strings.Contains(m2.View(), "Alice: 🔒 unable to decrypt (key withheld: blocked)") {
		t.Fatalf("new reason not shown:\n%s", m2.View())
	}
}

// An edit shows the new text with a mark, in place; a deletion leaves a line saying so, and
// nothing of the text.
func TestEditsAndDeletionsShowInPlace(t *testing.T) {
	m := timeline(60, 20)
	edited := text("$2", me, now.Add(-19*time.Hour), "Yes, 11 o'clock at the station.")
	edited.Edited = true
	if n := m.Changed([]matrixsvc.Message{edited, {EventID: "$1", Sender: alice, Redacted: true}, {EventID: "$unknown", Body: "x"}}); n != 2 {
		t.Fatalf("changed %d, want 2", n)
	}
	v := m.View()
	for _, want := range []string{"you: Yes, 11 o'clock at the station. (edited)", "Alice: message deleted"} {
		if !strings.Contains(v, want) {
			t.Fatalf("view lacks %q:\n%s", want, v)
		}
	}
	for _, gone := range []string{"10 o'clock", "Are we still on"} {
		if strings.Contains(v, gone) {
			t.Fatalf("view still shows %q:\n%s", gone, v)
		}
	}
}

// What other clients send, of each kind, drawn (golden): a reply to a loaded message and one
// to a message only the store knows, a reply to a deleted one, reactions (ours stand out; many
// people make a count), an image with its picture, a file, a notice, an emote, a deletion, an
// edit; the line above the first unread message; the picked message with its bar.
func TestViewRichMessages(t *testing.T) {
	m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
	m.SetSize(60, 34)
	m.SetName(alice, "Alice")
	m.ShowImages(true)
	at := func(min int) time.Time { return now.Add(time.Duration(min-60) * time.Minute) }
	q := text("$q", me, at(1), "lunch at **noon**?")
	q.HTML = "lunch at <strong>noon</strong>?" // quoted as its text, not its Markdown
	q.Reactions = []matrixsvc.Reaction{{Key: "👍", Senders: []id.UserID{alice, me}, Mine: "$r1"}, {Key: "🎉", Senders: []id.UserID{alice}}}
	a := text("$a", alice, at(2), "yes!\n\nsee you there")
	a.ReplyTo = "$q"
	old := text("$b", alice, at(3), "about that old thing")
	old.ReplyTo, old.Reply = "$gone", &matrixsvc.Quote{Sender: me, Body: "an old question from last year"}
	del := text("$c", alice, at(4), "")
	del.Redacted = true
	toDel := text("$d", alice, at(5), "answering the deleted one")
	toDel.ReplyTo = "$c"
	many := text("$e", alice, at(6), "vote!")
	many.Reactions = []matrixsvc.Reaction{{Key: "🙋", Senders: []id.UserID{alice, "@b:x", "@c:x", "@d:x"}}}
	img := matrixsvc.Message{EventID: "$f", Sender: alice, Timestamp: at(7), MsgType: "m.image", Body: "sunset.png",
		Media: &matrixsvc.Media{Kind: "m.image", Name: "sunset.png", MimeType: "image/png", Size: 48213, Width: 640, Height: 480, URL: "mxc://x/y"}}
	file := matrixsvc.Message{EventID: "$g", Sender: alice, Timestamp: at(8), MsgType: "m.file", Body: "here is the plan",
		Media: &matrixsvc.Media{Kind: "m.file", Name: "plan.pdf", MimeType: "application/pdf", Size: 2 << 20, URL: "mxc://x/z"}}
	notice := matrixsvc.Message{EventID: "$h", Sender: alice, Timestamp: at(9), MsgType: "m.notice", Body: "automatic reply: away"}
	emote := matrixsvc.Message{EventID: "$i", Sender: alice, Timestamp: at(10), MsgType: "m.emote", Body: "waves \x1b[2J"}
	edited := text("$j", alice, at(11), "fixed typo")
	edited.Edited = true
	m.MarkUnread(3)
	m.AddPage([]matrixsvc.Message{q, a, old, del, toDel, many, img, file, notice, emote, edited}, false)
	pic := image.NewRGBA(image.Rect(0, 0, 8, 4))
	m.SetImage("$f", pic, nil)
	m.Pick()
	m.MovePick(-3) // the file: its caption line gets the bar
	view := m.View()
	for _, want := range []string{"↳ you: lunch at noon?", "↳ you: an old question from last year", "↳ Alice: message deleted",
		"👍 Alice, you", "🎉 Alice", "🙋 4", "🖼 sunset.png (image/png, 47.1 KB, 640×480)", "📎 plan.pdf (application/pdf, 2.0 MB)",
		"here is the plan", "new messages", "* Alice waves ␛[2J", "fixed typo (edited)", "▌"} {
		if !strings.Contains(view, want) {
			t.Errorf("view lacks %q", want)
		}
	}
	golden.RequireEqual(t, view)
}

// In a terminal with the kitty graphics protocol a picture is Unicode placeholders in the
// image's colour, sent by its first row; scrolled so that the first row is above the window,
// the first row in view sends it instead, so that it is never missing.
func TestKittyPicture(t *testing.T) {
	m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
	m.SetSize(60, 10)
	m.SetName(alice, "Alice")
	m.ShowImages(true)
	img := matrixsvc.Message{EventID: "$f", Sender: alice, Timestamp: now.Add(-time.Minute), MsgType: "m.image", Body: "sunset.png",
		Media: &matrixsvc.Media{Kind: "m.image", Name: "sunset.png", MimeType: "image/png", Size: 48213, URL: "mxc://x/y"}}
	m.AddPage([]matrixsvc.Message{img, text("$g", alice, now, "nice, right?")}, false)
	pic := image.NewRGBA(image.Rect(0, 0, 40, 40))
	const transmit = "\x1b_Ga=T,q=2,f=100,U=1,i=7,c=8,r=4;AAAA\x1b\\"
	m.SetImage("$f", pic, &Kitty{ID: 7, Transmit: transmit, Cols: 8, Rows: 4})
	view := m.View()
	if strings.Count(view, transmit) != 1 || strings.Count(view, "\U0010EEEE") != 32 || !strings.Contains(view, "\x1b[38;2;0;0;7m") {
		t.Fatalf("the picture:\n%q", view)
	}
	for _, l := range strings.Split(view, "\n") {
		if w := lipgloss.Width(l); w > 60 {
			t.Fatalf("a line %d wide: %q", w, l)
		}
	}
	// A shorter window: only the picture's last rows are in view, under its first.
	m.SetSize(60, 4)
	view = m.View()
	if strings.Contains(view, "sunset.png (") || strings.Count(view, "\U0010EEEE") != 24 {
		t.Fatalf("want the picture's last three rows at the top:\n%s", view)
	}
	if strings.Count(view, transmit) != 1 || !strings.HasPrefix(strings.TrimLeft(view, " "), transmit) {
		t.Fatalf("the first row in view does not send the picture:\n%q", view)
	}
}

// In a small window a picture takes at most half of it; made taller, the window gets the
// picture at its full size again.
func TestPictureFitsASmallWindow(t *testing.T) {
	termtest.SetProfile(3)
	t.Cleanup(func() { termtest.Plain() })
	m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
	m.SetSize(60, 12)
	m.ShowImages(true)
	img := matrixsvc.Message{EventID: "$f", Sender: alice, Timestamp: now.Add(-time.Minute), MsgType: "m.image", Body: "tall.png",
		Media: &matrixsvc.Media{Kind: "m.image", Name: "tall.png", MimeType: "image/png", Size: 1000, URL: "mxc://x/y"}}
	m.AddPage([]matrixsvc.Message{img}, false)
	m.SetImage("$f", image.NewRGBA(image.Rect(0, 0, 40, 200)), nil)
	rows := func() int {
		n := 0
		for _, l := range strings.Split(m.View(), "\n") {
			if strings.Contains(l, "▀") {
				n++
			}
		}
		return n
	}
	if got := rows(); got != 6 {
		t.Fatalf("in 12 rows the picture takes %d, want 6:\n%s", got, m.View())
	}
	m.SetSize(60, 40)
	if got := rows(); got != PictureRows {
		t.Fatalf("in 40 rows the picture takes %d, want %d", got, PictureRows)
	}
}

// Issue 19: a plain message in an encrypted DM is marked, and a refused change of the room's
// encryption is a line of its own naming who, which no message can imitate.
func TestViewPlainInEncryptedAndEncryptionChange(t *testing.T) {
	for _, w := range []int{70, 30} {
		m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
		m.SetSize(w, 16)
		m.SetName(alice, "Alice\x1b[31m")
		m.AddPage([]matrixsvc.Message{
			{EventID: "$1", Sender: alice, Timestamp: now.Add(-5 * time.Minute), MsgType: "m.text", Body: "encrypted hello", E2E: true,
				Reactions: []matrixsvc.Reaction{{Key: "👍", Senders: []id.UserID{me}, Mine: "$r"}, {Key: "👍", Senders: []id.UserID{alice}, NotEncrypted: true}}},
			{EventID: "$2", Sender: alice, Timestamp: now.Add(-4 * time.Minute), MsgType: "m.text", Body: "plain hello", NotEncrypted: true},
			{EventID: "$3", Sender: alice, Timestamp: now.Add(-3 * time.Minute), EncryptionChange: &matrixsvc.EncryptionChange{}},
			{EventID: "$4", Sender: alice, Timestamp: now.Add(-2 * time.Minute), EncryptionChange: &matrixsvc.EncryptionChange{Algorithm: "m.plain\x1b[2J"}},
			{EventID: "$5", Sender: me, Timestamp: now.Add(-1 * time.Minute), MsgType: "m.text", Body: "mine, encrypted", E2E: true, ReplyTo: "$2"},
		}, false)
		view := m.View()
		if strings.Contains(view, "\x1b") {
			t.Fatalf("width %d: a name or algorithm reached the terminal raw: %q", w, view)
		}
		for _, l := range strings.Split(view, "\n") {
			if lipgloss.Width(l) > w {
				t.Fatalf("width %d: line %q is wider", w, l)
			}
		}
		if strings.Contains(view, "unable to decrypt") {
			t.Fatalf("width %d: a change line is drawn as a message:\n%s", w, view)
		}
		if w != 70 {
			continue
		}
		for _, want := range []string{
			"plain hello ⚠ not encrypted",
			"⚠ Alice␛[31m (@alice:example.org) tried to turn encryption off",
			`"m.plain␛[2J"; duet keeps encrypting as before`,
			"↳ Alice␛[31m: ⚠ not encrypted: plain hello",
			"👍 you  ⚠ 👍 Alice␛[31m (not encrypted)",
		} {
			if !strings.Contains(view, want) {
				t.Fatalf("view lacks %q:\n%s", want, view)
			}
		}
		if strings.Count(view, "not encrypted") != 3 {
			t.Fatalf("only the plain message, its quote and the plain reaction are marked:\n%s", view)
		}
		golden.RequireEqual(t, view)
	}
}

// A message decrypted with a key of unproven authenticity (key backup, a forwarded key) says so,
// as Element does; the other messages do not.
func TestViewUnauthenticatedMark(t *testing.T) {
	for _, w := range []int{60, 24} {
		m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
		m.SetSize(w, 12)
		m.SetName(alice, "Alice")
		m.AddPage([]matrixsvc.Message{
			{EventID: "$1", Sender: alice, Timestamp: now.Add(-3 * time.Minute), MsgType: "m.text", Body: "from backup", E2E: true, Unauthenticated: true},
			{EventID: "$2", Sender: alice, Timestamp: now.Add(-2 * time.Minute), MsgType: "m.text", Body: "sent to this device", E2E: true},
		}, false)
		view := m.View()
		if got := strings.Count(view, "⚠"); got != 1 {
			t.Fatalf("width %d: one message is marked, %d marks:\n%s", w, got, view)
		}
		if !strings.Contains(view, "⚠ authenticity") {
			t.Fatalf("width %d: the mark does not say what it is about:\n%s", w, view)
		}
		for _, l := range strings.Split(view, "\n") {
			if lipgloss.Width(l) > w {
				t.Fatalf("width %d: line %q is wider", w, l)
			}
		}
		if w == 60 && !strings.Contains(view, "from backup ⚠ authenticity not guaranteed") {
			t.Fatalf("the mark is on its message:\n%s", view)
		}
	}
}
