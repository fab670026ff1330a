package ui

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aymanbagabas/go-osc52/v2"
	tea "github.com/charmbracelet/bubbletea"
	"maunium.net/go/mautrix/id"

	"duet/internal/browser"
	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/ui/internal/textutil"
)

// A picked message's text is copied (y) with OSC 52, which the terminal turns into a
// clipboard write (in tmux, with set-clipboard on): it goes out with a frame, like the bell,
// so that nothing is written behind the renderer's back. Its web links are opened (o) in the
// browser, one after the other when there are several.

// clipFor is how long the OSC 52 sequence stays in the frame: written once, as the bell.
const clipFor = bellFor

// clipOffMsg takes the copy out of the frame again.
type clipOffMsg struct{ seq int }

// lastLink is the link of a message o opened last: o on it again opens the next one.
type lastLink struct {
	event id.EventID
	index int
}

// linkOpenedMsg is the browser's start for a link.
type linkOpenedMsg struct {
	url string
	err error
}

// copyText puts a picked message's text on the clipboard.
func (m *Model) copyText(msg matrixsvc.Message) tea.Cmd {
	if msg.Redacted || msg.Encrypted {
		m.status.SetError("that message has no text to copy")
		return nil
	}
	// What is pasted must not be able to act on the terminal or the shell it is pasted into
	// (an ESC[201~ in the text would end a bracketed paste and run the rest): control
	// characters go as their visible stand-ins, as on screen.
	text := sanitize.Text(matrixsvc.PlainText(msg.Body, msg.HTML), true)
	m.status.SetInfo(fmt.Sprintf("copied %d characters to the clipboard (if the terminal allows OSC 52)", len([]rune(text))))
	return m.toClipboard(text)
}

// toClipboard sends text to the clipboard with the next frame.
func (m *Model) toClipboard(text string) tea.Cmd {
	m.clip = osc52.New(text).String()
	m.clipSeq++
	seq := m.clipSeq
	return tea.Tick(clipFor, func(time.Time) tea.Msg { return clipOffMsg{seq: seq} })
}

// openLink opens a picked message's web link; on the same message again, its next one.
func (m *Model) openLink(msg matrixsvc.Message) tea.Cmd {
	var links []string
	if !msg.Redacted && !msg.Encrypted {
		links = matrixsvc.Links(msg.Body, msg.HTML)
	}
	if len(links) == 0 {
		m.status.SetError("that message has no file or web link to open")
		return nil
	}
	i := 0
	if m.link.event == msg.EventID && msg.EventID != "" {
		i = (m.link.index + 1) % len(links)
	}
	m.link = lastLink{event: msg.EventID, index: i}
	url := links[i]
	more := ""
	if len(links) > 1 {
		more = fmt.Sprintf(" (link %d of %d: o again for the next)", i+1, len(links))
	}
	if !browser.Available(os.Getenv) {
		// Over SSH or on a console: the link goes where the person's browser is.
		m.status.SetInfo("no browser here: copied " + textutil.Cut(sanitize.Line(url), 50) + " to the clipboard" + more)
		return m.toClipboard(url)
	}
	m.status.SetInfo("opening " + textutil.Cut(sanitize.Line(url), 60) + more)
	return m.call(func(context.Context) tea.Msg {
		return linkOpenedMsg{url: url, err: browser.Open(os.Getenv, url)}
	})
}

func (m *Model) linkOpened(msg linkOpenedMsg) {
	if msg.err != nil {
		m.status.SetError("could not open " + textutil.Cut(sanitize.Line(msg.url), 40) + ": " + explain(msg.err))
	}
}
