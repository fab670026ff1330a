package security

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/ui/internal/textutil"
	"duet/ui/styles"
)

// Stage is what the dialog shows.
type Stage int

const (
	Closed Stage = iota

	// Verification.
	Asking    // we asked; waiting for the other side to accept
	Incoming  // they ask: accept or decline
	Waiting   // accepted; waiting for the emoji
	Compare   // the emoji: do they match the other screen?
	Confirmed // we said they match; waiting for the other side

	// Recovery key.
	Checking      // asking whether the account has a recovery key
	EnterKey      // type the recovery key or passphrase
	Verifying     // the key is being checked and keys restored
	OfferSetup    // no recovery key yet: set one up?
	EnterPassword // the account password, to set one up
	SettingUp     // creating it
	ShowKey       // the new recovery key, shown once
)

// Messages the dialog sends (through the root, to Model.Update). Each asks for one request to
// the service.
type (
	// AcceptMsg accepts the verification request Txn.
	AcceptMsg struct{ Txn string }
	// ConfirmMsg says the emoji of Txn match.
	ConfirmMsg struct{ Txn string }
	// CancelMsg cancels (or declines) verification Txn; Txn is "" when the request we started
	// has no transaction yet. Mismatch says the emoji differed.
	CancelMsg struct {
		Txn      string
		User     id.UserID
		Mismatch bool
		From     Stage // the stage it was cancelled at: Incoming means declined
	}
	// RecoveryKeyMsg asks to verify this device with a recovery key or passphrase.
	RecoveryKeyMsg struct{ Key string }
	// SetUpMsg asks to set up a recovery key, confirming with the account password.
	SetUpMsg struct{ Password string }
)

// Dialog is the box over the right pane: what it shows and the keys it takes.
type Dialog struct {
	keys    KeyMap
	styles  styles.Styles
	stage   Stage
	account string // the account the dialog belongs to, in its title; "" when one is open

	// Verification.
	txn    string
	user   id.UserID
	who    string // the other side as the dialog names it, sanitized
	device id.DeviceID
	own    bool // with our own other devices
	emoji  []matrixsvc.SASEmoji

	// Recovery.
	input    textinput.Model
	revealed bool
	newKey   string // the recovery key just set up; forgotten when the box closes
	warn     string // shown with the new key (backing up failed, retried later)

	err string // the last error, shown in the dialog

	width, height int
}

// NewDialog returns a closed dialog.
func NewDialog(km KeyMap, st styles.Styles) Dialog {
	ti := textutil.Input("", "", st.Label, st.Terminal)
	ti.EchoCharacter = '•'
	return Dialog{keys: km, styles: st, input: ti, width: 60, height: 20}
}

// SetStyles draws the dialog with st from now on.
func (d *Dialog) SetStyles(st styles.Styles) {
	d.styles = st
	textutil.StyleInput(&d.input, st.Label, st.Terminal)
}

// SetSize sets the largest box the dialog may draw.
func (m *Dialog) SetSize(w, h int) {
	m.width, m.height = max(w, 1), max(h, 1)
	// The box's inner width, less the prompt and the cursor.
	m.input.SetWidth(max(min(m.width, boxWidth)-4-lipgloss.Width(m.input.Prompt)-1, 4))
}

// Stage is what the dialog shows; Active whether it is open.
func (m *Dialog) Stage() Stage { return m.stage }
func (m *Dialog) Active() bool { return m.stage != Closed }

// Verification reports whether the dialog is about a verification.
func (m *Dialog) Verification() bool { return m.stage >= Asking && m.stage <= Confirmed }

// Txn is the verification's transaction ("" while the one we asked for is starting).
func (m *Dialog) Txn() string { return m.txn }

// User is the other side of the verification.
func (m *Dialog) User() id.UserID { return m.user }

// Who names the other side of the verification.
func (m *Dialog) Who() string { return m.who }

// TakesText reports whether keys are typed into a field: text typed fast is text then.
func (m *Dialog) TakesText() bool { return m.stage == EnterKey || m.stage == EnterPassword }

// Close closes the dialog and forgets what was typed.
func (m *Dialog) Close() {
	m.stage = Closed
	m.txn, m.user, m.who, m.device, m.own, m.emoji = "", "", "", "", false, nil
	m.newKey, m.warn, m.err = "", "", ""
	m.resetInput("")
}

func (m *Dialog) resetInput(prompt string) {
	m.input.SetValue("")
	m.input.Prompt = prompt
	m.input.Placeholder = ""
	m.input.EchoMode = textinput.EchoPassword
	m.revealed = false
	m.input.Blur()
	m.SetSize(m.width, m.height)
}

// Ask shows that we asked user (named who) to verify, or our own other devices when own.
func (m *Dialog) Ask(user id.UserID, who string, own bool) {
	m.Close()
	m.stage, m.user, m.who, m.own = Asking, user, sanitize.Line(who), own
}

// SetTxn gives the verification we asked for its transaction, once the request went out.
func (m *Dialog) SetTxn(txn string) { m.txn = txn }

// Incoming shows someone's request to verify.
func (m *Dialog) Incoming(v matrixsvc.Verification, who string, own bool) {
	m.Close()
	m.stage, m.txn, m.user, m.device, m.who, m.own = Incoming, v.Txn, v.User, v.Device, sanitize.Line(who), own
}

// Progress takes in a step of the verification shown. It never goes back a stage.
func (m *Dialog) Progress(v matrixsvc.Verification) {
	if v.Device != "" {
		m.device = v.Device
	}
	switch v.Stage {
	case matrixsvc.VerifyReady:
		if m.stage == Asking {
			m.stage = Waiting
		}
	case matrixsvc.VerifyEmoji:
		if m.stage == Asking || m.stage == Waiting || m.stage == Incoming {
			m.stage, m.emoji = Compare, append([]matrixsvc.SASEmoji(nil), v.Emoji...)
		}
	}
}

// StartRecovery shows that we are asking whether the account has a recovery key.
func (m *Dialog) StartRecovery() {
	m.Close()
	m.stage = Checking
}

// RecoveryChecked asks for the recovery key, or offers to set one up when there is none.
func (m *Dialog) RecoveryChecked(has bool) tea.Cmd {
	if !has {
		m.stage, m.err = OfferSetup, ""
		return nil
	}
	return m.askKey("")
}

func (m *Dialog) askKey(err string) tea.Cmd {
	m.stage, m.err = EnterKey, err
	if m.input.Prompt != "Key: " {
		m.resetInput("Key: ")
	}
	m.input.Placeholder = "recovery key or passphrase"
	return m.input.Focus()
}

// KeyFailed asks for the recovery key again, saying why it did not work. What was typed is
// kept, to fix a typo.
func (m *Dialog) KeyFailed(err string) tea.Cmd { return m.askKey(err) }

// OfferSetup offers to set up a recovery key (the account turned out to have none).
func (m *Dialog) OfferSetup(err string) {
	m.resetInput("")
	m.stage, m.err = OfferSetup, err
}

// SetupFailed asks for the password again, saying why setting up failed.
func (m *Dialog) SetupFailed(err string) tea.Cmd {
	cmd := m.askPassword()
	m.err = err
	return cmd
}

func (m *Dialog) askPassword() tea.Cmd {
	m.resetInput("Password: ")
	m.stage, m.err = EnterPassword, ""
	return m.input.Focus()
}

// ShowKey shows a new recovery key once; warn is a problem worth knowing about.
func (m *Dialog) ShowKey(recoveryKey, warn string) {
	m.Close()
	m.stage, m.newKey, m.warn = ShowKey, recoveryKey, sanitize.Line(warn)
}

// Update handles the keys, and a paste into the recovery key or the password, while the dialog
// is open.
func (m *Dialog) Update(msg tea.Msg) tea.Cmd {
	if p, ok := msg.(tea.PasteMsg); ok && (m.stage == EnterKey || m.stage == EnterPassword) {
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(p)
		m.err = ""
		return cmd
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok || m.stage == Closed {
		return nil
	}
	keys := m.keys
	switch m.stage {
	case Asking, Waiting, Compare, Confirmed, Incoming:
		cmd := m.verificationKey(k)
		return cmd
	case Checking, Verifying:
		if key.Matches(k, keys.Cancel) {
			m.Close() // the answer, when it comes, goes to the status bar
		}
	case OfferSetup:
		switch {
		case key.Matches(k, keys.Cancel):
			m.Close()
		case key.Matches(k, keys.Submit):
			return m.askPassword()
		}
	case EnterKey, EnterPassword:
		cmd := m.entryKey(k)
		return cmd
	case SettingUp:
		// Nothing: the recovery key is on its way and must not be missed.
	case ShowKey:
		if key.Matches(k, keys.Submit) {
			m.Close()
		}
	}
	return nil
}

// verificationKey handles a key during an emoji verification: cancel, accept a request, and
// whether the emoji match.
func (m *Dialog) verificationKey(k tea.KeyPressMsg) tea.Cmd {
	keys := m.keys
	txn, user, from := m.txn, m.user, m.stage
	switch {
	case key.Matches(k, keys.Cancel):
		m.Close()
		return emit(CancelMsg{Txn: txn, User: user, From: from})
	case m.stage == Incoming && key.Matches(k, keys.Accept):
		m.stage = Waiting
		return emit(AcceptMsg{Txn: txn})
	case m.stage == Compare && key.Matches(k, keys.Match):
		m.stage = Confirmed
		return emit(ConfirmMsg{Txn: txn})
	case m.stage == Compare && key.Matches(k, keys.Mismatch):
		m.Close()
		return emit(CancelMsg{Txn: txn, User: user, Mismatch: true, From: from})
	}
	return nil
}

// entryKey handles a key while the recovery key or the password is typed: cancel, submit,
// show or hide the key, or the key goes to the input.
func (m *Dialog) entryKey(k tea.KeyPressMsg) tea.Cmd {
	keys := m.keys
	switch {
	case key.Matches(k, keys.Cancel):
		m.Close()
	case key.Matches(k, keys.Submit):
		text := m.input.Value()
		if len(text) == 0 {
			return nil
		}
		m.err = ""
		m.input.Blur()
		if m.stage == EnterPassword {
			m.input.SetValue("") // not kept once handed over
			m.stage = SettingUp
			return emit(SetUpMsg{Password: text})
		}
		m.stage = Verifying
		return emit(RecoveryKeyMsg{Key: text})
	case m.stage == EnterKey && key.Matches(k, keys.Reveal):
		m.revealed = !m.revealed
		m.input.EchoMode = textinput.EchoPassword
		if m.revealed {
			m.input.EchoMode = textinput.EchoNormal
		}
	default:
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(k)
		m.err = ""
		return cmd
	}
	return nil
}

func emit(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }
