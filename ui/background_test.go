package ui

import (
	"image/color"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"duet/ui/styles"
)

// The first frame is drawn for a dark background without asking the terminal; its answer,
// when it comes, restyles everything on screen, an open conversation included, and a dark
// answer changes nothing.
func TestBackgroundAnswerRestyles(t *testing.T) {
	was := styles.Current()
	styles.SetTerminal(styles.Terminal{Profile: colorprofile.ANSI256})
	t.Cleanup(func() { styles.SetTerminal(was) })
	const darkText, lightText = "38;5;252", "38;5;235" // the theme's Text colour
	h := newHarness(t, fixture(), 80, 24)
	openAlice(h)
	dark := h.view()
	requireContains(t, dark, darkText)
	requireLacks(t, dark, lightText)

	h.send(tea.BackgroundColorMsg{Color: color.Black})
	if h.view() != dark {
		t.Fatal("a dark answer changed the screen")
	}
	h.send(tea.BackgroundColorMsg{Color: color.White})
	light := h.view()
	requireContains(t, light, lightText)
	requireLacks(t, light, darkText)
	if !h.m.styles.Terminal.Light || h.m.chats[h.m.open] == nil {
		t.Fatal("not restyled for a light terminal, or the conversation closed")
	}
	requireContains(t, ansi.Strip(light), "Alice")

	h.send(tea.BackgroundColorMsg{Color: color.Black})
	if h.view() != dark {
		t.Fatal("back to dark: the screen is not as it was")
	}
}
