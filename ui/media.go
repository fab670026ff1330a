package ui

import (
	"math/rand/v2"

	"duet/ui/internal/kittyimg"
	"duet/ui/internal/terminal"
)

// KittyGraphics reports whether the terminal draws pictures with the kitty graphics protocol's
// Unicode placeholders (kitty, Ghostty; not inside tmux or screen). DUET_IMAGES=kitty or
// =blocks decides instead.
func KittyGraphics(getenv func(string) string) bool { return kittyimg.Supported(getenv) }

// nextImageID is a fresh id for a picture sent with the kitty graphics protocol: from a random
// start, so that two duets in one terminal do not replace each other's pictures. Every
// conversation takes its ids from here.
func (m *Model) nextImageID() uint32 {
	if m.imageSeq == 0 {
		m.imageSeq = 1 + rand.Uint32N(kittyimg.MaxID/2)
	}
	m.imageSeq++
	if m.imageSeq > kittyimg.MaxID {
		m.imageSeq = 1
	}
	return m.imageSeq
}

// TerminalProgress reports whether the terminal shows long work in its own progress indicator
// (OSC 9;4); see terminal.ProgressSupported.
func TerminalProgress(getenv func(string) string) bool { return terminal.ProgressSupported(getenv) }
