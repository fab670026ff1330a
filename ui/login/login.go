// Package login is the sign-in form shown when there is no saved session: homeserver, user and
// a masked password, or single sign-on in the browser (OAuth 2.0 or m.login.sso).
package login

import (
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"duet/internal/sanitize"
	"duet/ui/internal/textutil"
	"duet/ui/styles"
)

// KeyMap is the form's keys.
type KeyMap struct {
	Next   key.Binding
	Prev   key.Binding
	Submit key.Binding
	SSO    key.Binding // log in in the browser instead of with the password
	Quit   key.Binding
}

// DefaultKeyMap is the default form keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Next:   key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab", "next field")),
		Prev:   key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab", "previous field")),
		Submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "log in")),
		SSO:    key.NewBinding(key.WithKeys("ctrl+o"), key.WithHelp("ctrl+o", "log in in the browser (single sign-on)")),
		Quit:   key.NewBinding(key.WithKeys("ctrl+c", "esc"), key.WithHelp("esc", "quit")),
	}
}

// SubmitMsg carries the form's values when the user asks to log in.
type SubmitMsg struct{ Homeserver, User, Password string }

// SSOMsg asks to log in in the browser at the form's homeserver (or the user ID's server).
type SSOMsg struct{ Homeserver, User string }

// PastedMsg is the address the browser ended on, pasted while a login in the browser asks
// for it.
type PastedMsg struct{ Text string }

// The user ID comes first: it is the one field always needed, and the homeserver is found
// from it when left empty.
const (
	fieldUser = iota
	fieldHomeserver
	fieldPassword
)

// Model is the form.
type Model struct {
	keys   KeyMap
	styles styles.Styles
	fields []textinput.Model
	focus  int
	busy   bool
	err    string
	notice string // what to do in the browser, while a single sign-on waits
	// The address the browser ended on, asked for when no browser opens here (SSH).
	pasting bool
	paste   textinput.Model
	width   int
	height  int
}

// New returns an empty form with the user field focused.
func New(km KeyMap, st styles.Styles) Model {
	mk := func(prompt, placeholder string) textinput.Model {
		ti := textinput.New()
		ti.Prompt = prompt
		ti.Placeholder = placeholder
		ti.PromptStyle = st.Label
		ti.Cursor.SetMode(cursor.CursorStatic) // no blink ticks: the screen changes only when something happens
		return ti
	}
	hs := mk("Homeserver ", "found from the user ID when empty")
	user := mk("User       ", "@name:example.org")
	pw := mk("Password   ", "")
	pw.EchoMode = textinput.EchoPassword
	pw.EchoCharacter = '•'
	m := Model{keys: km, styles: st, fields: []textinput.Model{user, hs, pw}, focus: fieldUser,
		paste: mk("Address    ", "http://127.0.0.1/…")}
	m.fields[fieldUser].Focus()
	return m
}

// SetSize sets the form's size.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	for i := range m.fields {
		m.fields[i].Width = max(w-14, 4)
	}
	m.paste.Width = max(w-14, 4)
}

// SetBusy shows that a login is under way.
func (m *Model) SetBusy(b bool) { m.busy = b }

// SetError shows why a login failed: the form is no longer busy, and a login in the browser's
// notice and paste field go.
func (m *Model) SetError(s string) {
	m.err, m.busy, m.notice, m.pasting = sanitize.Line(s), false, "", false
	m.paste.Blur()
}

// SetNotice shows what to do in the browser (lines; an address is wrapped, never cut); with
// paste, a field takes the address the browser ends on.
func (m *Model) SetNotice(s string, paste bool) tea.Cmd {
	m.notice = sanitize.Text(s, true)
	if paste && !m.pasting {
		m.pasting = true
		m.paste.SetValue("")
		return m.paste.Focus()
	}
	return nil
}

// Update handles the form's keys.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return m, nil
	}
	var cmd tea.Cmd
	switch {
	case key.Matches(k, m.keys.Quit):
		return m, tea.Quit
	case m.busy && m.pasting && m.paste.Focused():
		cmd = m.pasteKey(k)
	case m.busy:
		return m, nil
	case key.Matches(k, m.keys.SSO):
		cmd = m.startSSO()
	case key.Matches(k, m.keys.Next):
		cmd = m.setFocus(m.focus + 1)
	case key.Matches(k, m.keys.Prev):
		cmd = m.setFocus(m.focus - 1)
	case key.Matches(k, m.keys.Submit):
		cmd = m.submit()
	default:
		m.fields[m.focus], cmd = m.fields[m.focus].Update(msg)
	}
	return m, cmd
}

// pasteKey handles a key while the address single sign-on ended at is pasted: enter hands it
// over, any other key edits it.
func (m *Model) pasteKey(k tea.KeyMsg) tea.Cmd {
	if k.Type != tea.KeyEnter {
		var cmd tea.Cmd
		m.paste, cmd = m.paste.Update(k)
		return cmd
	}
	text := strings.TrimSpace(m.paste.Value())
	if text == "" {
		return nil
	}
	m.paste.Blur() // taken: the login checks it
	return func() tea.Msg { return PastedMsg{Text: text} }
}

// startSSO asks for single sign-on at the homeserver given, or the one the user ID names.
func (m *Model) startSSO() tea.Cmd {
	s := SSOMsg{Homeserver: strings.TrimSpace(m.fields[fieldHomeserver].Value()), User: strings.TrimSpace(m.fields[fieldUser].Value())}
	if s.Homeserver == "" && !(strings.HasPrefix(s.User, "@") && strings.Contains(s.User, ":")) {
		m.err = "for single sign-on, enter the homeserver (or your full user ID, @name:server)"
		return m.setFocus(fieldHomeserver)
	}
	m.busy, m.err, m.notice, m.pasting = true, "", "", false
	return func() tea.Msg { return s }
}

// submit moves on to the next field that is needed, and logs in from the password field
// once the user ID and password are there.
func (m *Model) submit() tea.Cmd {
	if m.focus == fieldUser {
		// A full user ID names its server: the homeserver can be found from it.
		user := strings.TrimSpace(m.fields[fieldUser].Value())
		if strings.HasPrefix(user, "@") && strings.Contains(user, ":") {
			return m.setFocus(fieldPassword)
		}
		return m.setFocus(fieldHomeserver)
	}
	if m.focus != fieldPassword || m.fields[fieldPassword].Value() == "" {
		return m.setFocus(m.focus + 1)
	}
	if strings.TrimSpace(m.fields[fieldUser].Value()) == "" {
		m.err = "enter your user ID, for example @name:example.org"
		return m.setFocus(fieldUser)
	}
	s := SubmitMsg{
		Homeserver: strings.TrimSpace(m.fields[fieldHomeserver].Value()),
		User:       strings.TrimSpace(m.fields[fieldUser].Value()),
		Password:   m.fields[fieldPassword].Value(),
	}
	m.busy, m.err = true, ""
	return func() tea.Msg { return s }
}

func (m *Model) setFocus(i int) tea.Cmd {
	m.fields[m.focus].Blur()
	m.focus = (i + len(m.fields)) % len(m.fields)
	return m.fields[m.focus].Focus()
}

// View draws the form.
func (m Model) View() string {
	lines := []string{
		m.styles.Title.Render("duet: log in to Matrix"),
		"",
	}
	for _, f := range m.fields {
		lines = append(lines, f.View())
	}
	lines = append(lines, "")
	switch {
	case m.busy && m.notice != "":
		for _, l := range strings.Split(m.notice, "\n") {
			for _, w := range strings.Split(ansi.Wrap(l, max(m.width, 1), ""), "\n") { // words whole, an address broken where it must
				lines = append(lines, w)
			}
		}
		switch {
		case m.pasting && m.paste.Focused():
			lines = append(lines, "", m.paste.View(), "", m.styles.Muted.Render("paste the address and press enter · esc: quit"))
		case m.pasting:
			lines = append(lines, "", m.styles.Muted.Render("checking the address… esc: quit"))
		default:
			lines = append(lines, m.styles.Muted.Render("waiting for the browser… esc: quit"))
		}
	case m.busy:
		lines = append(lines, m.styles.Muted.Render("logging in…"))
	case m.err != "":
		lines = append(lines, m.styles.Error.Render(m.err))
	default:
		lines = append(lines, m.styles.Muted.Render("enter: log in · ctrl+o: single sign-on in the browser · tab: next field · esc: quit"))
	}
	return strings.Join(textutil.Lines(lines, m.width, m.height), "\n")
}
