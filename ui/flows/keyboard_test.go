package flows

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"duet/internal/testkit/hstest"
	"duet/internal/testkit/termtest"
	"duet/ui"
)

// terminal runs the UI as a terminal would: keys arrive as the bytes a terminal sends, through
// Bubble Tea's input decoding (the kitty keyboard protocol's CSI u included), not as key
// messages made by the test.
type terminal struct {
	t   *testing.T
	in  *io.PipeWriter
	rec *termtest.Frames
	out bytes.Buffer // the text of every frame drawn so far
}

func startTerminal(t *testing.T, p *hstest.Person) *terminal {
	t.Helper()
	svc, ctx := runService(t, p, "")
	m, rec := termtest.Record(ui.New(svc, ui.Options{Context: ctx}))
	r, w := io.Pipe()
	prog := tea.NewProgram(m, tea.WithInput(r), tea.WithOutput(&hstest.LogBuffer{}), tea.WithoutSignals(),
		tea.WithWindowSize(100, 30), tea.WithContext(ctx))
	done := make(chan struct{})
	go func() { defer close(done); _, _ = prog.Run() }()
	t.Cleanup(func() {
		prog.Quit()
		_ = w.Close()
		<-done
	})
	return &terminal{t: t, in: w, rec: rec}
}

// press writes what the terminal sends for keys.
func (tm *terminal) press(bytes string) {
	tm.t.Helper()
	if _, err := tm.in.Write([]byte(bytes)); err != nil {
		tm.t.Fatal(err)
	}
}

func (tm *terminal) waitFor(what string, want ...string) {
	tm.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		tm.out.Write(tm.rec.Take())
		if containsAll(tm.out.Bytes(), want) {
			return
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("waiting for %s: not drawn: %q. Drawn:\n%s", what, want, tm.out.Bytes())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// last is the frame drawn last.
func (tm *terminal) last() string {
	tm.out.Write(tm.rec.Take())
	frames := strings.Split(strings.TrimRight(tm.out.String(), "\n"), "\n")
	// A frame is 30 lines; the last 30 lines are the last frame.
	return strings.Join(frames[max(len(frames)-30, 0):], "\n")
}

const (
	kittyShiftEnter = "\x1b[13;2u" // CSI u: enter (13) with shift (modifier 2)
	enter           = "\r"
	esc             = "\x1b"
	up              = "\x1b[A"
)

// In a terminal with the kitty keyboard protocol, shift+enter adds a line: the message arrives
// at the other person as two lines, sent by enter.
func TestShiftEnterThroughTheKeyboardProtocol(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Builder")
	room := acceptedDM(t, bob, alice, "two lines, please", nil)
	tm := startTerminal(t, alice)
	tm.waitFor("bob in the list", "Bob Builder", "live")
	tm.press(enter) // open the conversation: the composer has the keyboard
	tm.waitFor("the conversation", "two lines, please")
	tm.press("first line" + kittyShiftEnter + "second line")
	tm.waitFor("two lines in the composer", "first line", "second line")
	tm.press(enter)
	tm.waitFor("sent", "sent")
	hstest.Eventually(t, 20*time.Second, func() string {
		if bodies := bob.Bodies(t, room); !slices.Contains(bodies, "first line\nsecond line") {
			return "bob has " + strings.Join(bodies, " | ")
		}
		return ""
	})
}

// esc, then ↑ a moment later, are two keys (leave the composer, move up the list), not alt+↑:
// the decoder waits no longer than a terminal takes to send one sequence.
func TestEscThenUpIsNotAltUp(t *testing.T) {
	t.Parallel()
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob Builder")
	carol := hstest.NewPerson(t, hs, "carol", "Carol Danvers")
	acceptedDM(t, bob, alice, "from bob", nil)
	acceptedDM(t, carol, alice, "from carol", nil)
	tm := startTerminal(t, alice)
	tm.waitFor("both in the list", "Bob Builder", "Carol Danvers", "live")
	// Carol spoke last: she is first. Down to Bob, open him.
	tm.press("j")
	tm.press(enter)
	tm.waitFor("bob's conversation", "from bob", "Write a message")
	tm.press(esc)
	time.Sleep(300 * time.Millisecond) // a person's pause, far longer than a sequence takes
	tm.press(up)
	tm.waitFor("the list has the keyboard", "enter open")
	hstest.Eventually(t, 10*time.Second, func() string {
		frame := tm.last()
		for _, line := range strings.Split(frame, "\n") {
			if strings.Contains(line, "›") && strings.Contains(line, "Carol") {
				return ""
			}
		}
		return "carol is not selected:\n" + frame
	})
}
