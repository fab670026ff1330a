// Package login is what duet shows when there is no saved session. Form is the sign-in form:
// homeserver, user and a masked password, or single sign-on in the browser (OAuth 2.0 or
// m.login.sso). Screen is the tea.Model around it: it runs the login the form asks for, shows
// the instructions of a login in the browser, and hands over to the main model once logged in.
package login

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
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

// Form is the form's fields, what it says under them, and the paste field of a login in the
// browser. Create it with NewForm.
type Form struct {
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

// NewForm returns an empty form with the user field focused.
func NewForm(km KeyMap, st styles.Styles) *Form {
	mk := func(prompt, placeholder string) textinput.Model {
		return textutil.Input(prompt, placeholder, st.Label, st.Terminal)
	}
	hs := mk("Homeserver ", "found from the user ID when empty")
	user := mk("User       ", "@name:example.org")
	pw := mk("Password   ", "")
	pw.EchoMode = textinput.EchoPassword
	pw.EchoCharacter = '•'
	f := &Form{keys: km, styles: st, fields: []textinput.Model{user, hs, pw}, focus: fieldUser,
		paste: mk("Address    ", "http://127.0.0.1/…")}
	f.fields[fieldUser].Focus()
	return f
}

// SetSize sets the form's size.
func (f *Form) SetSize(w, h int) {
	f.width, f.height = w, h
	for i := range f.fields {
		f.fields[i].SetWidth(max(w-14, 4))
	}
	f.paste.SetWidth(max(w-14, 4))
}

// SetBusy shows that a login is under way.
func (f *Form) SetBusy(b bool) { f.busy = b }

// SetError shows why a login failed: the form is no longer busy, and a login in the browser's
// notice and paste field go.
func (f *Form) SetError(s string) {
	f.err, f.busy, f.notice, f.pasting = sanitize.Line(s), false, "", false
	f.paste.Blur()
}

// SetNotice shows what to do in the browser (lines; an address is wrapped, never cut); with
// paste, a field takes the address the browser ends on.
func (f *Form) SetNotice(s string, paste bool) tea.Cmd {
	f.notice = sanitize.Text(s, true)
	if paste && !f.pasting {
		f.pasting = true
		f.paste.SetValue("")
		return f.paste.Focus()
	}
	return nil
}

// Update handles the form's keys.
func (f *Form) Update(msg tea.Msg) tea.Cmd {
	if p, ok := msg.(tea.PasteMsg); ok {
		var cmd tea.Cmd
		switch {
		case f.busy && f.pasting && f.paste.Focused():
			f.paste, cmd = f.paste.Update(p)
		case !f.busy:
			f.fields[f.focus], cmd = f.fields[f.focus].Update(p)
		}
		return cmd
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(k, f.keys.Quit):
		return tea.Quit
	case f.busy && f.pasting && f.paste.Focused():
		return f.pasteKey(k)
	case f.busy:
		return nil
	case key.Matches(k, f.keys.SSO):
		s := SSOMsg{Homeserver: strings.TrimSpace(f.fields[fieldHomeserver].Value()), User: strings.TrimSpace(f.fields[fieldUser].Value())}
		if s.Homeserver == "" && !(strings.HasPrefix(s.User, "@") && strings.Contains(s.User, ":")) {
			f.err = "for single sign-on, enter the homeserver (or your full user ID, @name:server)"
			return f.setFocus(fieldHomeserver)
		}
		f.busy, f.err, f.notice, f.pasting = true, "", "", false
		return func() tea.Msg { return s }
	case key.Matches(k, f.keys.Next):
		return f.setFocus(f.focus + 1)
	case key.Matches(k, f.keys.Prev):
		return f.setFocus(f.focus - 1)
	case key.Matches(k, f.keys.Submit):
		return f.submit()
	}
	var cmd tea.Cmd
	f.fields[f.focus], cmd = f.fields[f.focus].Update(msg)
	return cmd
}

// pasteKey types in the paste field; enter hands the address to the login waiting for it.
func (f *Form) pasteKey(k tea.KeyPressMsg) tea.Cmd {
	if k.Code != tea.KeyEnter {
		var cmd tea.Cmd
		f.paste, cmd = f.paste.Update(k)
		return cmd
	}
	text := strings.TrimSpace(f.paste.Value())
	if text == "" {
		return nil
	}
	f.paste.Blur() // taken: the login checks it
	return func() tea.Msg { return PastedMsg{Text: text} }
}

// submit moves on to the next field the login needs, or asks to log in.
func (f *Form) submit() tea.Cmd {
	if f.focus == fieldUser {
		// A full user ID names its server: the homeserver can be found from it.
		user := strings.TrimSpace(f.fields[fieldUser].Value())
		if strings.HasPrefix(user, "@") && strings.Contains(user, ":") {
			return f.setFocus(fieldPassword)
		}
		return f.setFocus(fieldHomeserver)
	}
	if f.focus != fieldPassword || f.fields[fieldPassword].Value() == "" {
		return f.setFocus(f.focus + 1)
	}
	if strings.TrimSpace(f.fields[fieldUser].Value()) == "" {
		f.err = "enter your user ID, for example @name:example.org"
		return f.setFocus(fieldUser)
	}
	s := SubmitMsg{
		Homeserver: strings.TrimSpace(f.fields[fieldHomeserver].Value()),
		User:       strings.TrimSpace(f.fields[fieldUser].Value()),
		Password:   f.fields[fieldPassword].Value(),
	}
	f.busy, f.err = true, ""
	return func() tea.Msg { return s }
}

func (f *Form) setFocus(i int) tea.Cmd {
	f.fields[f.focus].Blur()
	f.focus = (i + len(f.fields)) % len(f.fields)
	return f.fields[f.focus].Focus()
}

// View draws the form.
func (f *Form) View() string {
	lines := []string{
		f.styles.Title.Render("duet: log in to Matrix"),
		"",
	}
	for _, field := range f.fields {
		lines = append(lines, field.View())
	}
	lines = append(lines, "")
	switch {
	case f.busy && f.notice != "":
		for _, l := range strings.Split(f.notice, "\n") {
			for _, w := range strings.Split(ansi.Wrap(l, max(f.width, 1), ""), "\n") { // words whole, an address broken where it must
				lines = append(lines, w)
			}
		}
		switch {
		case f.pasting && f.paste.Focused():
			lines = append(lines, "", f.paste.View(), "", f.styles.Muted.Render("paste the address and press enter · esc: quit"))
		case f.pasting:
			lines = append(lines, "", f.styles.Muted.Render("checking the address… esc: quit"))
		default:
			lines = append(lines, f.styles.Muted.Render("waiting for the browser… esc: quit"))
		}
	case f.busy:
		lines = append(lines, f.styles.Muted.Render("logging in…"))
	case f.err != "":
		lines = append(lines, f.styles.Error.Render(f.err))
	default:
		lines = append(lines, f.styles.Muted.Render("enter: log in · ctrl+o: single sign-on in the browser · tab: next field · esc: quit"))
	}
	return strings.Join(textutil.Lines(lines, f.width, f.height), "\n")
}
