package ui

import (
	"time"

	"github.com/aymanbagabas/go-osc52/v2"
	tea "github.com/charmbracelet/bubbletea"
)

// A picked message's text is copied (y) with OSC 52, which the terminal turns into a
// clipboard write (in tmux, with set-clipboard on): it goes out with a frame, like the bell,
// so that nothing is written behind the renderer's back.

// clipFor is how long the OSC 52 sequence stays in the frame: written once, as the bell.
const clipFor = bellFor

// clipOffMsg takes the copy out of the frame again.
type clipOffMsg struct{ seq int }

// toClipboard sends text to the clipboard with the next frame.
func (m *Model) toClipboard(text string) tea.Cmd {
	m.term.clip = osc52.New(text).String()
	m.term.clipSeq++
	seq := m.term.clipSeq
	return tea.Tick(clipFor, func(time.Time) tea.Msg { return clipOffMsg{seq: seq} })
}
