package kittyimg

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"
)

// picture is a model whose view is a transmitted picture under a line of text, as a chat
// pane would show it.
type picture struct{ lines []string }

func (m picture) Init() tea.Cmd { return nil }

func (m picture) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && k.String() == "q" {
		return m, tea.Quit
	}
	return m, nil
}

func (m picture) View() string { return strings.Join(m.lines, "\n") }

// TestThroughBubbleTeaRenderer runs Bubble Tea's standard renderer on a terminal narrower
// than the picture: it truncates the picture's lines, and what it writes must still carry
// the transmit sequences whole, the placeholder cells whole, and no wider than the terminal.
func TestThroughBubbleTeaRenderer(t *testing.T) {
	const id, cols, rows, width = 99, 16, 3, 10
	tx := Transmit(id, noise(160, 60), cols, rows)
	ph := Placeholders(id, cols, rows)
	lines := append([]string{"hello"}, ph...)
	lines[1] = tx + lines[1]

	tm := teatest.NewTestModel(t, picture{lines}, teatest.WithInitialTermSize(width, 10))
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	out := readAll(t, tm)

	if n := strings.Count(out, tx); n < 1 {
		t.Fatal("the renderer's output does not carry the transmit sequences whole")
	}
	// Every picture row reached the terminal cut to the width, its cells whole.
	for r := range rows {
		want := strings.TrimSuffix(ph[r], "\x1b[39m")
		want = ansi.Truncate(want, width, "")
		if !strings.Contains(out, want) {
			t.Errorf("row %d: the first %d cells did not reach the terminal whole", r, width)
		}
		if strings.Contains(out, strings.TrimSuffix(ph[r], "\x1b[39m")) {
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
