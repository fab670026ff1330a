package kittyimg

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// picture is a model whose view is a transmitted picture under a line of text, as a chat
// pane would show it, full screen as duet runs.
type picture struct{ lines []string }

func (m picture) Init() tea.Cmd { return nil }

func (m picture) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok && k.String() == "q" {
		return m, tea.Quit
	}
	return m, nil
}

func (m picture) View() tea.View {
	v := tea.NewView(strings.Join(m.lines, "\n"))
	v.AltScreen = true
	return v
}

// TestThroughBubbleTeaRenderer runs Bubble Tea's renderer on a terminal narrower than the
// picture: it cuts the picture's lines, and what it writes must carry the transmit sequences
// whole, before the picture's cells, the placeholder cells whole, and no wider than the
// terminal. The renderer keeps the sequences with the cell they come before and writes them
// whenever it paints that cell: after a resize, which clears the screen (and a terminal may
// drop its pictures with it), the picture goes again, after the clear.
func TestThroughBubbleTeaRenderer(t *testing.T) {
	const id, cols, rows, width = 99, 16, 3, 10
	tx := Transmit(id, noise(160, 60), cols, rows)
	ph := Placeholders(id, cols, rows)
	lines := append([]string{"hello"}, ph...)
	lines[1] = tx + lines[1]

	tm := teatest.NewTestModel(t, picture{lines}, teatest.WithInitialTermSize(width, 10),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.TrueColor))) // the cells' colour names the picture
	var all string // everything written (WaitFor takes what it reads from the output)
	waitFor := func(cond func(string) bool) {
		t.Helper()
		before := all
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { all = before + string(b); return cond(all) },
			teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	}
	waitFor(func(s string) bool { return strings.ContainsRune(s, placeholder) })
	tm.Send(tea.WindowSizeMsg{Width: width, Height: 9})
	waitFor(func(s string) bool { return strings.Count(s, tx) >= 2 })
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	all += readAll(t, tm)

	if i, j := strings.Index(all, tx), strings.IndexRune(all, placeholder); i < 0 || j < i {
		t.Fatal("the renderer's output does not carry the transmit sequences whole, before the picture's cells")
	}
	clear := strings.LastIndex(all, ansi.EraseEntireScreen)
	if clear < 0 {
		t.Fatal("no clear")
	}
	if after := all[clear:]; !strings.Contains(after, tx) || strings.IndexRune(after, placeholder) < strings.Index(after, tx) {
		t.Fatal("after the clear of a resize the picture does not go again before its cells")
	}
	// Every picture row reached the terminal cut to the width, its cells whole.
	for r := range rows {
		want := strings.TrimSuffix(ph[r], "\x1b[39m")
		want = ansi.Strip(ansi.Truncate(want, width, ""))
		text := ansi.Strip(all)
		if !strings.Contains(text, want) {
			t.Errorf("row %d: the first %d cells did not reach the terminal whole", r, width)
		}
		if strings.Contains(text, ansi.Strip(ansi.Truncate(ph[r], width+1, ""))) {
			t.Errorf("row %d reached the terminal uncut, wider than it", r)
		}
	}
}

func readAll(t *testing.T, tm *teatest.TestModel) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := b.ReadFrom(tm.FinalOutput(t)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
