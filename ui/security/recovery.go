package security

import (
	"context"
	"errors"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"duet/matrixsvc"
	"duet/ui/internal/textutil"
)

// The recovery key: entering it verifies this device and restores the key backup; an account
// without one is offered to set one up.

// Answers of the recovery key requests.
type (
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

func (recoveryCheckedMsg) securityMsg() {}
func (recoveredMsg) securityMsg()       {}
func (recoverySetUpMsg) securityMsg()   {}

// StartRecovery opens the recovery key dialog: enter the key, or set one up. Nothing happens
// while the dialog is open.
func (s *Model) StartRecovery() tea.Cmd {
	if s.dialog.Active() {
		return nil
	}
	s.dialog.StartRecovery()
	svc := s.svc
	return s.call(func(ctx context.Context) tea.Msg {
		has, err := svc.HasRecovery(ctx)
		return recoveryCheckedMsg{has: has, err: err}
	})
}

func (s *Model) recoveryChecked(msg recoveryCheckedMsg) tea.Cmd {
	if s.dialog.Stage() != Checking {
		return nil
	}
	if msg.err != nil {
		s.dialog.Close()
		s.host.Error("recovery key: " + textutil.Explain(msg.err))
		return nil
	}
	return s.dialog.RecoveryChecked(msg.has)
}

// tryKey verifies this device with the recovery key (or passphrase) typed.
func (s *Model) tryKey(keyOrPassphrase string) tea.Cmd {
	svc := s.svc
	return s.call(func(ctx context.Context) tea.Msg {
		res, err := svc.VerifyWithRecoveryKey(ctx, keyOrPassphrase)
		return recoveredMsg{res: res, err: err}
	})
}

func (s *Model) recovered(msg recoveredMsg) tea.Cmd {
	inDialog := s.dialog.Stage() == Verifying
	switch {
	case errors.Is(msg.err, matrixsvc.ErrNoRecovery) && inDialog:
		s.dialog.OfferSetup("")
		return nil
	case msg.err != nil && inDialog:
		return s.dialog.KeyFailed(textutil.Explain(msg.err))
	case msg.err != nil:
		s.host.Error("recovery key: " + textutil.Explain(msg.err))
		return nil
	}
	if inDialog {
		s.dialog.Close()
	}
	s.host.Info(recoveryNotice(msg.res))
	return s.host.RefreshTrust()
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

// setUp sets up a recovery key, confirmed with the account password.
func (s *Model) setUp(password string) tea.Cmd {
	svc := s.svc
	return s.call(func(ctx context.Context) tea.Msg {
		k, err := svc.SetUpRecovery(ctx, password, "")
		return recoverySetUpMsg{key: k, err: err}
	})
}

func (s *Model) recoverySetUp(msg recoverySetUpMsg) tea.Cmd {
	if msg.key == "" {
		err := msg.err
		if err == nil {
			err = errors.New("no recovery key came back")
		}
		if s.dialog.Stage() == SettingUp {
			return s.dialog.SetupFailed(textutil.Explain(err))
		}
		s.host.Error("recovery key: " + textutil.Explain(err))
		return nil
	}
	warn := ""
	if msg.err != nil {
		warn = textutil.Explain(msg.err)
	}
	s.dialog.ShowKey(msg.key, warn) // shown once, whatever else was open: it cannot be asked for again
	return s.host.RefreshTrust()
}
