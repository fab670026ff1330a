package conversation

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/styles"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
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
	}, "")
	return m
}

func TestViewTimeline(t *testing.T) {
	m := timeline(50, 20)
	m.AddEcho("t1", "on my way", false, Sending)
	m.AddEcho("t2", "did this arrive?", false, Sending)
	m.SetState("t2", Failed, "cannot reach the homeserver")
	m.AddEcho("t3", "sent fine", false, Sending)
	m.Confirm("t3", "$7")
	golden.RequireEqual(t, m.View())
}

func TestViewNewBelowAndLoading(t *testing.T) {
	m := timeline(50, 10)
	m.AddPage(nil, "tok") // more history exists
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
	m.AddPage(msgs, "more")
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
	m.AddPage([]matrixsvc.Message{text("$1", alice, now.Add(-40*time.Minute), "the only message")}, "tok")
	if !strings.Contains(m.View(), "the only message") {
		t.Fatalf("first page not shown:\n%s", m.View())
	}
	m.SetLoading()
	m.AddPage(nil, "")
	if v := m.View(); !strings.Contains(v, "the only message") || !strings.Contains(v, "start of the conversation") {
		t.Fatalf("after an empty older page:\n%s", v)
	}
}
