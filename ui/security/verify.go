package security

import (
	"context"
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/internal/textutil"
)

// Emoji verification: the one we ask for, the requests of others, and their progress.

// Answers of the verification requests.
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
)

func (verifyStartedMsg) securityMsg() {}
func (verifyActedMsg) securityMsg()   {}

// Verify asks user to verify, or with own our other devices to verify this one (user is then
// ourselves). Nothing happens while the dialog is open.
func (s *Model) Verify(user id.UserID, own bool) tea.Cmd {
	if s.dialog.Active() {
		return nil
	}
	s.dialog.Ask(user, s.whoIs(user), own)
	svc := s.svc
	return s.call(func(ctx context.Context) tea.Msg {
		if own {
			if pt, err := svc.PeerTrust(ctx, user); err == nil && pt.Devices == 0 {
				return verifyStartedMsg{user: user, noDevices: true}
			}
		}
		txn, err := svc.StartVerification(ctx, user)
		return verifyStartedMsg{user: user, txn: txn, err: err}
	})
}

func (s *Model) verifyStarted(msg verifyStartedMsg) tea.Cmd {
	d := &s.dialog
	waiting := d.Verification() && d.User() == msg.user && (d.Txn() == "" || d.Txn() == msg.txn)
	if msg.err != nil || msg.noDevices {
		if waiting && d.Txn() == "" {
			d.Close()
		}
		if msg.noDevices {
			s.host.Error(fmt.Sprintf("no other device to verify with: use your recovery key (%s)", s.opts.RecoveryKey))
		} else {
			s.host.Error("could not start the verification: " + textutil.Explain(msg.err))
		}
		return nil
	}
	if waiting {
		d.SetTxn(msg.txn)
		return nil
	}
	// Cancelled before the request had gone out: cancel it now.
	return s.verifyAct("cancel", msg.txn, false)
}

// verifyAct accepts, confirms or cancels a verification.
func (s *Model) verifyAct(what, txn string, mismatch bool) tea.Cmd {
	svc := s.svc
	return s.call(func(ctx context.Context) tea.Msg {
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

func (s *Model) verifyActed(msg verifyActedMsg) {
	if msg.err == nil {
		return
	}
	if s.dialog.Verification() && s.dialog.Txn() == msg.txn {
		s.dialog.Close()
	}
	s.host.Error(fmt.Sprintf("could not %s the verification: %s", msg.what, textutil.Explain(msg.err)))
}

// dialogAsked carries out what the dialog asks for.
func (s *Model) dialogAsked(msg Msg) tea.Cmd {
	switch msg := msg.(type) {
	case AcceptMsg:
		return s.verifyAct("accept", msg.Txn, false)
	case ConfirmMsg:
		return s.verifyAct("confirm", msg.Txn, false)
	case CancelMsg:
		return s.cancelled(msg)
	case RecoveryKeyMsg:
		return s.tryKey(msg.Key)
	case SetUpMsg:
		return s.setUp(msg.Password)
	}
	return nil
}

// cancelled says that the dialog's verification was cancelled or declined, and tells the other
// side.
func (s *Model) cancelled(msg CancelMsg) tea.Cmd {
	switch {
	case msg.Mismatch:
		s.host.Error("the emoji did not match: verification cancelled (that device may not be who it claims)")
	case msg.From == Incoming:
		s.host.Info("declined the verification request")
	default:
		s.host.Info("verification cancelled")
	}
	if msg.Txn == "" {
		return nil // verifyStarted cancels it once the request is out
	}
	return s.verifyAct("cancel", msg.Txn, msg.Mismatch)
}

// Verification follows a verification the service reports: the one in the dialog, or a
// request from someone, which waits for the dialog to be free (ShowNext).
func (s *Model) Verification(v matrixsvc.Verification) tea.Cmd {
	d := &s.dialog
	mine := d.Verification() && (d.Txn() == v.Txn ||
		(d.Txn() == "" && d.Stage() == Asking && v.Ours && v.User == d.User() && v.Stage != matrixsvc.VerifyRequested))
	if mine {
		return s.progress(v)
	}
	s.pending = slices.DeleteFunc(s.pending, func(p matrixsvc.Verification) bool { return p.Txn == v.Txn })
	switch v.Stage {
	case matrixsvc.VerifyRequested:
		if !v.Ours {
			s.pending = append(s.pending, v) // shown once the dialog is free (at once if it is)
		}
	case matrixsvc.VerifyDone:
		return s.host.RefreshTrust()
	}
	return nil
}

// progress takes in a step of the verification in the dialog.
func (s *Model) progress(v matrixsvc.Verification) tea.Cmd {
	d := &s.dialog
	d.SetTxn(v.Txn)
	switch v.Stage {
	case matrixsvc.VerifyDone:
		notice := "✓ verified " + d.Who()
		if v.User == s.opts.Me {
			notice = "✓ verified: this device and your other one trust each other"
		}
		d.Close()
		s.host.Info(notice)
		return s.host.RefreshTrust()
	case matrixsvc.VerifyCancelled:
		d.Close()
		s.host.Error("verification cancelled: " + cancelReason(v.Reason))
		return nil
	}
	d.Progress(v)
	return nil
}

func cancelReason(r string) string {
	if r = strings.TrimSpace(r); r == "" {
		return "cancelled"
	}
	return r
}
