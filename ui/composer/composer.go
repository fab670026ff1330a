// Package composer is the message input: Enter sends, Alt+Enter (and Shift+Enter where the
// terminal tells it from Enter) starts a new line.
package composer

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"duet/ui/styles"
)

// KeyMap is the composer's keys.
type KeyMap struct {
	Send     key.Binding
	Newline  key.Binding
	EditLast key.Binding // in an empty composer: edit our last message
	Editor   key.Binding // write the draft in $VISUAL/$EDITOR (before the text area's ctrl+e, line end)
}

// DefaultKeyMap is the default composer keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Send:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "send")),
		Newline:  key.NewBinding(key.WithKeys("alt+enter", "shift+enter", "ctrl+j"), key.WithHelp("alt+enter", "new line")),
		EditLast: key.NewBinding(key.WithKeys("up"), key.WithHelp("↑", "edit your last message (empty composer)")),
		Editor:   key.NewBinding(key.WithKeys("ctrl+e"), key.WithHelp("ctrl+e", "write in your editor ($EDITOR)")),
	}
}

// ShortHelp is the status bar's hint line.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Send, k.Newline} }

// FullHelp is the help screen.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Send, k.Newline, k.EditLast, k.Editor}}
}

// Model is the composer.
type Model struct {
	keys KeyMap
	ta   textarea.Model
}

// New returns an empty, blurred composer.
func New(km KeyMap, st styles.Styles) Model {
	ta := textarea.New()
	ta.ShowLineNumbers = false
	ta.CharLimit = 0
	ta.SetPromptFunc(2, func(p textarea.PromptInfo) string {
		if p.LineNumber == 0 {
			return "› "
		}
		return "  "
	})
	ta.Placeholder = "Write a message…"
	ta.KeyMap.InsertNewline = km.Newline
	m := Model{keys: km, ta: ta}
	m.SetStyles(st)
	m.ta.Blur()
	return m
}

// SetStyles styles the composer (again, when the terminal's background turns out light or
// dark): unstyled but for the prompt and the placeholder; the cursor does not blink (no blink
// ticks) and, where no styling shows, is not drawn (see textutil.Input).
func (m *Model) SetStyles(st styles.Styles) {
	var s textarea.Styles
	s.Focused.Placeholder, s.Blurred.Placeholder = st.Muted, st.Muted
	s.Focused.Prompt, s.Blurred.Prompt = st.Prompt, st.Muted
	if !st.Terminal.Plain() {
		// The grey of Bubbles' blurred text area, as it has always been.
		s.Blurred.Text = lipgloss.NewStyle().Foreground(lipgloss.LightDark(!st.Terminal.Light)(lipgloss.Color("245"), lipgloss.Color("7")))
	}
	m.ta.SetStyles(s)
	m.ta.SetVirtualCursor(!st.Terminal.Plain())
}

// SetSize sets the composer's size.
func (m *Model) SetSize(w, h int) {
	m.ta.SetWidth(max(w, 3))
	m.ta.SetHeight(max(h, 1))
}

// Focus gives the composer the keyboard.
func (m *Model) Focus() tea.Cmd { return m.ta.Focus() }

// Blur takes the keyboard away.
func (m *Model) Blur() { m.ta.Blur() }

// Focused reports whether the composer has the keyboard.
func (m *Model) Focused() bool { return m.ta.Focused() }

// Value is the text typed so far.
func (m *Model) Value() string { return m.ta.Value() }

// SetValue replaces the text.
func (m *Model) SetValue(s string) { m.ta.SetValue(s) }

// SetPlaceholder sets the text shown while empty.
func (m *Model) SetPlaceholder(s string) { m.ta.Placeholder = s }

// KeyMap returns the composer's keys, for help.
func (m *Model) KeyMap() KeyMap { return m.keys }

// Take empties the composer and returns what was typed, when there is anything to send. The
// root calls it on the Send key, so that the text is sent with what holds at that key (the
// reply or edit under way): a message coming back later would meet the keys typed after it.
func (m *Model) Take() (string, bool) {
	text := m.ta.Value()
	if strings.TrimSpace(text) == "" {
		return "", false
	}
	m.ta.Reset()
	return text, true
}

// Update handles keys while focused.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok && key.Matches(k, m.keys.Send, m.keys.Editor) {
		// The root sends, with Take, and opens the editor; the keys are no text, and ctrl+e
		// is not the text area's line end while it opens the editor.
		return nil
	}
	var cmd tea.Cmd
	m.ta, cmd = m.ta.Update(msg)
	return cmd
}

// View draws the composer.
func (m *Model) View() string { return m.ta.View() }
