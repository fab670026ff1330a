// Package terminal is what duet tells the terminal itself rather than draws: the screen's
// modes, its title, the bell and a clipboard write (OSC 52).
//
// Bubble Tea v2 writes all of them from its renderer, never behind its back: the modes and the
// title are fields of the frame (tea.View), written with it when they change; the bell and the
// clipboard write are commands whose bytes the program queues and writes on the renderer's
// goroutine just before the next frame. So nothing here has to ride in the frame's text (v1
// needed that: its SetWindowTitle wrote from the event loop while the renderer flushed), and
// nothing stays in a frame to be taken out again.
package terminal

import (
	tea "charm.land/bubbletea/v2"

	"duet/internal/sanitize"
)

// Model is the terminal's state as duet last set it. The zero value is ready to use.
type Model struct {
	blurred bool   // the terminal is in the background (focus reporting)
	title   string // the terminal's title
}

// Update takes in the terminal's focus reports.
func (m *Model) Update(msg tea.Msg) {
	switch msg.(type) {
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
func (m *Model) Ring() tea.Cmd { return tea.Raw("\a") }

// Copy puts text on the clipboard with the next frame (OSC 52, which the terminal turns into a
// clipboard write; in tmux, with set-clipboard on).
func (m *Model) Copy(text string) tea.Cmd { return tea.SetClipboard(text) }

// View is a frame of content with the terminal's title and the modes duet runs in.
func (m *Model) View(content string) tea.View {
	v := Screen(content)
	v.WindowTitle = sanitize.Line(m.title)
	return v
}

// Screen is a frame of content in the modes every duet screen runs in: the whole screen (the
// alternate one), the mouse's clicks and wheel, and focus reports (a new message notifies while
// the terminal is in the background). Keyboard enhancements are asked for by Bubble Tea itself:
// it always asks for the kitty protocol's disambiguated keys, which tell shift+enter from enter
// and esc from alt where the terminal has them.
func Screen(content string) tea.View {
	v := tea.NewView(content)
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.ReportFocus = true
	return v
}
