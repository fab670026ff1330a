package ui

import (
	"github.com/charmbracelet/bubbles/cursor"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/ui/contacts"
	"duet/ui/styles"
)

// newDMPrompt asks for the user ID of a new conversation (R12, R21).
type newDMPrompt struct {
	input textinput.Model
	on    bool
	busy  bool
	err   string
}

func newPrompt(st styles.Styles) newDMPrompt {
	ti := textinput.New()
	ti.Prompt = "User ID: "
	ti.PromptStyle = st.Label
	ti.Placeholder = "@name:example.org"
	ti.Cursor.SetMode(cursor.CursorStatic) // no blink ticks: the screen changes only when something happens
	return newDMPrompt{input: ti}
}

func (p *newDMPrompt) focus() tea.Cmd { return p.input.Focus() }
func (p *newDMPrompt) blur()          { p.input.Blur() }

func (p newDMPrompt) update(msg tea.Msg) (newDMPrompt, tea.Cmd) {
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return p, cmd
}

func (m *Model) startPrompt() tea.Cmd {
	m.prompt.on, m.prompt.busy, m.prompt.err = true, false, ""
	m.prompt.input.SetValue("")
	m.checking = ""
	return m.setFocus(focusPrompt)
}

func (m *Model) closePrompt() tea.Cmd {
	m.prompt.on, m.prompt.busy = false, false
	m.checking = ""
	return m.setFocus(focusContacts)
}

func (m *Model) promptKey(k tea.KeyMsg) tea.Cmd {
	switch {
	case key.Matches(k, m.keys.Global.Back):
		return m.closePrompt()
	case k.Type == tea.KeyEnter:
		if m.prompt.busy {
			return nil
		}
		raw := strings.TrimSpace(m.prompt.input.Value())
		m.prompt.busy, m.prompt.err = true, ""
		m.checking = raw
		return m.checkUser(raw)
	}
	var cmd tea.Cmd
	m.prompt, cmd = m.prompt.update(k)
	m.prompt.err = ""
	return cmd
}

// dmTo starts a conversation with a user ID typed in `/dm @user`.
func (m *Model) dmTo(raw string) tea.Cmd {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return m.startPrompt()
	}
	m.checking = raw
	m.status.SetInfo("checking " + raw + "…")
	return m.checkUser(raw)
}

// userChecked opens the conversation with a validated user at once; the room is resolved or
// created in the background and messages typed meanwhile are queued (R11, R12, R21).
func (m *Model) userChecked(msg userCheckedMsg) tea.Cmd {
	if msg.raw != m.checking {
		return nil // cancelled
	}
	m.checking = ""
	if msg.err != nil {
		why := explain(msg.err)
		if m.prompt.on {
			m.prompt.busy, m.prompt.err = false, why
		}
		m.status.SetError(why)
		return nil
	}
	m.prompt.on, m.prompt.busy = false, false
	it, ok := m.contacts.Find("u:" + string(msg.user))
	if !ok {
		it = contacts.Item{Kind: contacts.KindContact, Section: contacts.SectionContacts, UserID: msg.user, Name: userLabel(msg.user, msg.name)}
	}
	m.status.SetInfo("conversation with " + userLabel(msg.user, msg.name))
	cmd := m.openItem(it, true)
	if c := m.openChat(); c != nil {
		return tea.Batch(cmd, c.OpenDM())
	}
	return cmd
}

func userLabel(user id.UserID, name string) string {
	if n := strings.TrimSpace(sanitize.Line(name)); n != "" {
		return n
	}
	return sanitize.Line(string(user))
}
