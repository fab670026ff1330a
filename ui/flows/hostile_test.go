package flows

import (
	"bytes"
	"testing"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/event"

	"duet/internal/testkit/hstest"
)

// A peer's formatted message carries an OSC 52 clipboard write in the places the HTML parser
// hands on without the text converter (data-mx-maths, a link's href, an image's alt) and as
// character references: duet draws the conversation, the list's preview and the reply line
// with all of it inert (␛]52;…), and not one clipboard write reaches the terminal.
func TestHostileFormattedMessageIsDrawnInert(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	room := acceptedDM(t, bob, alice, "hello there", nil)

	s := start(t, alice)
	s.waitFor("bob in the list", "live", "hello there")
	s.key(tea.KeyEnter)
	s.waitFor("the conversation", "Bob: hello there")

	const osc52 = "\x1b]52;c;aGk=\x07"
	if _, err := bob.Client.SendMessageEvent(hstest.Ctx(t), room, event.EventMessage, map[string]any{
		"msgtype": "m.text", "body": "maths " + osc52 + " end",
		"format": "org.matrix.custom.html",
		"formatted_body": `<p>maths <span data-mx-maths="` + osc52 + `m">x</span> then ` +
			`<a href="https://e.org/&#27;]52;c;aGk=&#7;">a link</a> ` +
			`<img src="mxc://e.org/x" alt="&#27;]52;c;aGk=&#7;m"> end</p>`,
	}); err != nil {
		t.Fatal(err)
	}
	s.waitFor("the message, drawn inert", "maths", "␛]52;c;aGk=␇m", "(https://e.org/␛]52;c;aGk=␇)", "end")
	s.forget()
	// Picked and answered: the reply line above the composer quotes it too.
	s.tm.Send(tea.KeyPressMsg{Code: tea.KeyUp, Mod: tea.ModShift})
	s.typeText("r")
	s.waitFor("the reply line", "␛]52;c;aGk=␇")
	if bytes.Contains(s.raw.Bytes(), []byte("\x1b]52;")) {
		t.Fatalf("a clipboard write (OSC 52) reached the terminal:\n%q", s.raw.String())
	}
}
