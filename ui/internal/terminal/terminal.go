// Package terminal is what duet tells the terminal itself rather than draws: its title, the
// bell, and a clipboard write (OSC 52). All three go out with a frame, as part of the view (an
// OSC 0 and an OSC 52 before the first line, a BEL after the last), so that they are written
// under the renderer's lock and never behind its back: bubbletea v1's SetWindowTitle writes from
// the event loop while the renderer flushes.
//
// The renderer writes a line only when it changed, so the bell and the clipboard write stay in
// the frame for a moment (Ring and Copy return the Cmd that takes them out again) and are
// written once.
package terminal

import (
	"strings"
	"time"

	"github.com/aymanbagabas/go-osc52/v2"
	tea "github.com/charmbracelet/bubbletea"

	"duet/internal/sanitize"
)

// For is how long the bell and a clipboard write stay in the frame.
const For = 250 * time.Millisecond

// Msg is the family of the terminal's own messages: the root hands them to Update.
type Msg interface{ terminalMsg() }

type (
	bellOffMsg struct{ seq int } // takes the BEL out of the frame again
	clipOffMsg struct{ seq int } // takes the clipboard write out of the frame again
)

func (bellOffMsg) terminalMsg() {}
func (clipOffMsg) terminalMsg() {}

// Model is the terminal's state as duet last set it. The zero value is ready to use.
type Model struct {
	blurred bool   // the terminal is in the background (focus reporting)
	bell    bool   // the bell rings with the next frame
	bellSeq int    // the ring the bell's reset belongs to
	title   string // the terminal's title
	clip    string // an OSC 52 clipboard write, sent with the next frame
	clipSeq int    // the copy the clip's reset belongs to
}

// Update takes in the terminal's own messages and its focus reports.
func (m *Model) Update(msg tea.Msg) {
	switch msg := msg.(type) {
	case bellOffMsg:
		if msg.seq == m.bellSeq {
			m.bell = false
		}
	case clipOffMsg:
		if msg.seq == m.clipSeq {
			m.clip = ""
		}
	case tea.FocusMsg:
		m.blurred = false
	case tea.BlurMsg:
		m.blurred = true
	}
}

// Blurred reports whether the terminal is in the background, as its last focus report said.
func (m *Model) Blurred() bool { return m.blurred }

// Title is the terminal's title.
func (m *Model) Title() string { return m.title }

// SetTitle sets the terminal's title, with the next frame.
func (m *Model) SetTitle(title string) { m.title = title }

// Ring rings the bell with the next frame.
func (m *Model) Ring() tea.Cmd {
	m.bell = true
	m.bellSeq++
	seq := m.bellSeq
	return tea.Tick(For, func(time.Time) tea.Msg { return bellOffMsg{seq: seq} })
}

// Copy puts text on the clipboard with the next frame (OSC 52, which the terminal turns into a
// clipboard write; in tmux, with set-clipboard on).
func (m *Model) Copy(text string) tea.Cmd {
	m.clip = osc52.New(text).String()
	m.clipSeq++
	seq := m.clipSeq
	return tea.Tick(For, func(time.Time) tea.Msg { return clipOffMsg{seq: seq} })
}

// Frame adds the title, a clipboard write and the bell to a frame.
func (m *Model) Frame(frame string) string {
	var b strings.Builder
	if m.title != "" {
		b.WriteString("\x1b]0;" + sanitize.Line(m.title) + "\a")
	}
	b.WriteString(m.clip)
	b.WriteString(frame)
	if m.bell {
		b.WriteByte('\a')
	}
	return b.String()
}
