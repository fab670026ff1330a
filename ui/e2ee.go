package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/ui/contacts"
	"duet/ui/security"
)

// End-to-end encryption in the root: the dialog (emoji verification, recovery key), the trust
// shown in the conversation header, and messages that became readable.

// Messages from the Cmds below.
type (
	verifyStartedMsg struct {
		user      id.UserID
		txn       string
		noDevices bool // verifying ourselves, but this account has no other device
		err       error
	}
	verifyActedMsg struct {
		txn  string
		what string // "accept", "confirm", "cancel"
		err  error
	}
	recoveryCheckedMsg struct {
		has bool
		err error
	}
	recoveredMsg struct {
		res matrixsvc.RecoveryResult
		err error
	}
	recoverySetUpMsg struct {
		key string
		err error
	}
)

// whoIs names a user for the dialog: the name from the contacts list and the user ID, which
// is what cannot be faked.
func (m *Model) whoIs(user id.UserID) string {
	label := sanitize.Line(string(user))
	var names []string
	if c := m.chats["u:"+string(user)]; c != nil {
		names = append(names, c.Item().Name)
	}
	if it, ok := m.contacts.Find("u:" + string(user)); ok {
		names = append(names, it.Name)
	}
	for _, name := range names {
		if n := strings.TrimSpace(sanitize.Line(name)); n != "" && n != label {
			return n + " (" + label + ")"
		}
	}
	return label
}

// verifyOpen verifies the person of the open conversation.
func (m *Model) verifyOpen() tea.Cmd {
	c := m.openChat()
	switch {
	case c == nil:
		m.status.SetError("open the conversation with the person to verify first")
		return nil
	case c.Item().Kind != contacts.KindContact:
		m.status.SetError("verification is with one person: open their DM")
		return nil
	}
	return m.startVerification(c.Item().UserID, false)
}

// startVerification asks user (ourselves, for our other devices, when own) to verify.
func (m *Model) startVerification(user id.UserID, own bool) tea.Cmd {
	if m.dialog.Active() {
		return nil
	}
	m.dialog.Ask(user, m.whoIs(user), own)
	svc := m.svc
	return m.call(func(ctx context.Context) tea.Msg {
		if own {
			if pt, err := svc.PeerTrust(ctx, user); err == nil && pt.Devices == 0 {
				return verifyStartedMsg{user: user, noDevices: true}
			}
		}
		txn, err := svc.StartVerification(ctx, user)
		return verifyStartedMsg{user: user, txn: txn, err: err}
	})
}

func (m *Model) verifyStarted(msg verifyStartedMsg) tea.Cmd {
	d := &m.dialog
	waiting := d.Verification() && d.User() == msg.user && (d.Txn() == "" || d.Txn() == msg.txn)
	if msg.err != nil || msg.noDevices {
		if waiting && d.Txn() == "" {
			d.Close()
		}
		if msg.noDevices {
			m.status.SetError(fmt.Sprintf("no other device to verify with: use your recovery key (%s)", m.keys.Global.Recovery.Help().Key))
		} else {
			m.status.SetError("could not start the verification: " + explain(msg.err))
		}
		return nil
	}
	if waiting {
		d.SetTxn(msg.txn)
		return nil
	}
	// Cancelled before the request had gone out: cancel it now.
	return m.verifyAct("cancel", msg.txn, false)
}

// verifyAct accepts, confirms or cancels a verification.
func (m *Model) verifyAct(what, txn string, mismatch bool) tea.Cmd {
	svc := m.svc
	return m.call(func(ctx context.Context) tea.Msg {
		var err error
		switch what {
		case "accept":
			err = svc.AcceptVerification(ctx, txn)
		case "confirm":
			err = svc.ConfirmVerification(ctx, txn)
		default:
			err = svc.CancelVerification(ctx, txn, mismatch)
		}
		return verifyActedMsg{txn: txn, what: what, err: err}
	})
}

func (m *Model) verifyActed(msg verifyActedMsg) {
	if msg.err == nil {
		return
	}
	if m.dialog.Verification() && m.dialog.Txn() == msg.txn {
		m.dialog.Close()
	}
	m.status.SetError(fmt.Sprintf("could not %s the verification: %s", msg.what, explain(msg.err)))
}

// updateSecurity handles the messages of verification and the recovery key: what the dialog
// asks for and the answers to the requests made for it.
func (m *Model) updateSecurity(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case verifyStartedMsg:
		return m.verifyStarted(msg)
	case verifyActedMsg:
		m.verifyActed(msg)
	case recoveryCheckedMsg:
		return m.recoveryChecked(msg)
	case recoveredMsg:
		return m.recovered(msg)
	case recoverySetUpMsg:
		return m.recoverySetUp(msg)
	default:
		return m.dialogAsked(msg)
	}
	return nil
}

// dialogAsked carries out what the dialog asks for.
func (m *Model) dialogAsked(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case security.AcceptMsg:
		return m.verifyAct("accept", msg.Txn, false)
	case security.ConfirmMsg:
		return m.verifyAct("confirm", msg.Txn, false)
	case security.CancelMsg:
		switch {
		case msg.Mismatch:
			m.status.SetError("the emoji did not match: verification cancelled (that device may not be who it claims)")
		case msg.From == security.Incoming:
			m.status.SetInfo("declined the verification request")
		default:
			m.status.SetInfo("verification cancelled")
		}
		if msg.Txn == "" {
			return nil // verifyStarted cancels it once the request is out
		}
		return m.verifyAct("cancel", msg.Txn, msg.Mismatch)
	case security.RecoveryKeyMsg:
		svc, k := m.svc, msg.Key
		return m.call(func(ctx context.Context) tea.Msg {
			res, err := svc.VerifyWithRecoveryKey(ctx, k)
			return recoveredMsg{res: res, err: err}
		})
	case security.SetUpMsg:
		svc, password := m.svc, msg.Password
		return m.call(func(ctx context.Context) tea.Msg {
			k, err := svc.SetUpRecovery(ctx, password, "")
			return recoverySetUpMsg{key: k, err: err}
		})
	}
	return nil
}

// verification follows a verification: the one in the dialog, or a request from someone.
func (m *Model) verification(v matrixsvc.Verification) tea.Cmd {
	d := &m.dialog
	mine := d.Verification() && (d.Txn() == v.Txn ||
		(d.Txn() == "" && d.Stage() == security.Asking && v.Ours && v.User == d.User() && v.Stage != matrixsvc.VerifyRequested))
	if mine {
		d.SetTxn(v.Txn)
		switch v.Stage {
		case matrixsvc.VerifyDone:
			notice := "✓ verified " + d.Who()
			if v.User == m.me {
				notice = "✓ verified: this device and your other one trust each other"
			}
			d.Close()
			m.status.SetInfo(notice)
			return m.refreshTrust()
		case matrixsvc.VerifyCancelled:
			d.Close()
			m.status.SetError("verification cancelled: " + cancelReason(v.Reason))
			return nil
		}
		d.Progress(v)
		return nil
	}
	m.pending = slices.DeleteFunc(m.pending, func(p matrixsvc.Verification) bool { return p.Txn == v.Txn })
	switch v.Stage {
	case matrixsvc.VerifyRequested:
		if !v.Ours {
			m.pending = append(m.pending, v) // shown once the dialog is free (at once if it is)
		}
	case matrixsvc.VerifyDone:
		return m.refreshTrust()
	}
	return nil
}

func cancelReason(r string) string {
	if r = strings.TrimSpace(r); r == "" {
		return "cancelled"
	}
	return r
}

// afterDialog shows the next verification request once the dialog is free, and gives the
// keyboard back to what had it.
func (m *Model) afterDialog() tea.Cmd {
	if !m.dialog.Active() && len(m.pending) > 0 {
		v := m.pending[0]
		m.pending = m.pending[1:]
		m.dialog.Incoming(v, m.whoIs(v.User), v.User == m.me)
	}
	switch {
	case m.dialog.Active() && m.composer.Focused():
		m.composer.Blur() // what was typed stays
	case !m.dialog.Active() && m.focus == focusComposer && !m.composer.Focused():
		return m.composer.Focus()
	}
	return nil
}

// refreshTrust fetches the open conversation's trust again (after a verification).
func (m *Model) refreshTrust() tea.Cmd {
	if c := m.openChat(); c != nil {
		return c.FetchTrust()
	}
	return nil
}

// startRecovery opens the recovery key dialog: enter the key, or set one up.
func (m *Model) startRecovery() tea.Cmd {
	if m.dialog.Active() {
		return nil
	}
	m.dialog.StartRecovery()
	svc := m.svc
	return m.call(func(ctx context.Context) tea.Msg {
		has, err := svc.HasRecovery(ctx)
		return recoveryCheckedMsg{has: has, err: err}
	})
}

func (m *Model) recoveryChecked(msg recoveryCheckedMsg) tea.Cmd {
	if m.dialog.Stage() != security.Checking {
		return nil
	}
	if msg.err != nil {
		m.dialog.Close()
		m.status.SetError("recovery key: " + explain(msg.err))
		return nil
	}
	return m.dialog.RecoveryChecked(msg.has)
}

func (m *Model) recovered(msg recoveredMsg) tea.Cmd {
	inDialog := m.dialog.Stage() == security.Verifying
	switch {
	case errors.Is(msg.err, matrixsvc.ErrNoRecovery) && inDialog:
		m.dialog.OfferSetup("")
		return nil
	case msg.err != nil && inDialog:
		return m.dialog.KeyFailed(explain(msg.err))
	case msg.err != nil:
		m.status.SetError("recovery key: " + explain(msg.err))
		return nil
	}
	if inDialog {
		m.dialog.Close()
	}
	m.status.SetInfo(recoveryNotice(msg.res))
	return m.refreshTrust()
}

func recoveryNotice(r matrixsvc.RecoveryResult) string {
	if !r.BackupFound {
		return "✓ verified this device (the account has no key backup to restore)"
	}
	return fmt.Sprintf("✓ verified this device; restored %d key%s, decrypted %d message%s",
		r.Restored, plural(r.Restored), r.Decrypted, plural(r.Decrypted))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (m *Model) recoverySetUp(msg recoverySetUpMsg) tea.Cmd {
	if msg.key == "" {
		err := msg.err
		if err == nil {
			err = errors.New("no recovery key came back")
		}
		if m.dialog.Stage() == security.SettingUp {
			return m.dialog.SetupFailed(explain(err))
		}
		m.status.SetError("recovery key: " + explain(err))
		return nil
	}
	warn := ""
	if msg.err != nil {
		warn = explain(msg.err)
	}
	m.dialog.ShowKey(msg.key, warn) // shown once, whatever else was open: it cannot be asked for again
	return m.refreshTrust()
}
