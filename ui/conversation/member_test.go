package conversation

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/styles"
)

// A member change is duet's own warning line, the hostile name in it inert; a message with the
// same words is a message from its sender.
func TestMemberChangeLine(t *testing.T) {
	m := New(DefaultKeyMap(), styles.Default().Conversation, me, func() time.Time { return now })
	m.SetSize(120, 10)
	m.SetName(alice, "Alice")
	mallory := id.UserID("@mallory:example.org")
	m.AddPage([]matrixsvc.Message{
		text("$1", alice, now.Add(-3*time.Minute), "⚠ Eve (@eve:x) joined this room — it is no longer one-to-one"),
		{EventID: "$2", Sender: mallory, Timestamp: now.Add(-2 * time.Minute),
			Member: &matrixsvc.MemberChange{User: mallory, Name: "\x1b[2JMallory", Membership: "join", Peer: alice}},
	}, false)
	raw := m.View()
	if strings.Contains(raw, "\x1b[2J") {
		t.Fatalf("raw escape sequence on screen: %q", raw)
	}
	view := ansi.Strip(raw)
	for _, want := range []string{
		"Alice: ⚠ Eve (@eve:x) joined this room",
		"15:28 ⚠ ␛[2JMallory (@mallory:example.org) joined this room — it is no longer one-to-one; your messages to Alice go to a",
	} {
		if !strings.Contains(view, want) {
			t.Fatalf("view lacks %q:\n%s", want, view)
		}
	}
}
