// Package security is end-to-end encryption's part of the screen: emoji verification with a
// person or with our own other devices, and entering or setting up the recovery key.
//
// Model is the flow. It owns the Dialog over the right pane (what it shows, the keys it takes),
// the verification requests waiting for it, the calls to the service's crypto role and the
// matrixsvc.Verification events. Its Cmds and the dialog answer with messages of one family,
// Msg, which the root model hands back to Update. What belongs to the screen around it (the
// status bar, the names in the contacts list, the open conversation's trust) it asks through
// Host.
package security

import (
	"context"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/ui/internal/request"
	"duet/ui/styles"
)

// Crypto is end-to-end encryption on the Matrix side: emoji verification (progress comes as
// matrixsvc.Verification events) and the recovery key.
type Crypto interface {
	StartVerification(ctx context.Context, user id.UserID) (string, error)
	AcceptVerification(ctx context.Context, txn string) error
	ConfirmVerification(ctx context.Context, txn string) error
	CancelVerification(ctx context.Context, txn string, mismatch bool) error
	HasRecovery(ctx context.Context) (bool, error)
	VerifyWithRecoveryKey(ctx context.Context, keyOrPassphrase string) (matrixsvc.RecoveryResult, error)
	SetUpRecovery(ctx context.Context, password, passphrase string) (string, error)
}

// Service is everything the flow asks the Matrix side: Crypto, and a user's devices (verifying
// ourselves needs another device of ours).
type Service interface {
	Crypto
	PeerTrust(ctx context.Context, user id.UserID) (matrixsvc.PeerTrust, error)
}

// Host is what the flow asks of the screen around it. The root model implements it.
type Host interface {
	Error(text string)             // an error in the status bar
	Info(text string)              // a notice in the status bar
	Names(user id.UserID) []string // what the contacts list calls user, best first
	RefreshTrust() tea.Cmd         // fetches the open conversation's trust again
}

// Options are the flow's settings.
type Options struct {
	Keys    KeyMap
	Styles  styles.Styles
	Me      id.UserID
	Context context.Context // bounds every request

	// Account names the account the flow belongs to in the dialog's title ("" when one
	// account is open): a recovery key or a verification is that account's alone.
	Account string

	// RecoveryKey is the key that opens the recovery key dialog ("r"), named in the hint
	// when this account has no other device to verify with.
	RecoveryKey string
}

// Msg is the family of the flow's messages: what the dialog asks for (AcceptMsg, CancelMsg…)
// and the answers of the flow's requests. The root hands every one to Update.
type Msg interface{ securityMsg() }

func (AcceptMsg) securityMsg()      {}
func (ConfirmMsg) securityMsg()     {}
func (CancelMsg) securityMsg()      {}
func (RecoveryKeyMsg) securityMsg() {}
func (SetUpMsg) securityMsg()       {}

// Model is the verification and recovery key flow, with its dialog. Create it with New.
type Model struct {
	svc     Service
	host    Host
	opts    Options
	dialog  Dialog
	pending []matrixsvc.Verification // requests from others waiting for the dialog to be free
}

// New returns the flow with its dialog closed.
func New(svc Service, host Host, opts Options) *Model {
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	d := NewDialog(opts.Keys, opts.Styles)
	d.account = opts.Account
	return &Model{svc: svc, host: host, opts: opts, dialog: d}
}

// SetStyles draws the flow with st from now on.
func (s *Model) SetStyles(st styles.Styles) {
	s.opts.Styles = st
	s.dialog.SetStyles(st)
}

// Stage is what the dialog shows; Active whether it is open.
func (s *Model) Stage() Stage { return s.dialog.Stage() }
func (s *Model) Active() bool { return s.dialog.Active() }

// TakesText reports whether keys are typed into a field of the dialog.
func (s *Model) TakesText() bool { return s.dialog.TakesText() }

// SetSize sets the largest box the dialog may draw.
func (s *Model) SetSize(w, h int) { s.dialog.SetSize(w, h) }

// View draws the dialog's box.
func (s *Model) View() string { return s.dialog.View() }

// ShortHelp is the status bar's hint while the dialog is open.
func (s *Model) ShortHelp() []key.Binding { return s.dialog.ShortHelp() }

// Update handles the flow's messages (Msg). Anything else goes to the dialog while it is open:
// keys the root hands on one at a time.
func (s *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case verifyStartedMsg:
		return s.verifyStarted(msg)
	case verifyActedMsg:
		s.verifyActed(msg)
	case recoveryCheckedMsg:
		return s.recoveryChecked(msg)
	case recoveredMsg:
		return s.recovered(msg)
	case recoverySetUpMsg:
		return s.recoverySetUp(msg)
	case Msg:
		return s.dialogAsked(msg)
	default:
		var cmd tea.Cmd
		cmd = s.dialog.Update(msg)
		return cmd
	}
	return nil
}

// HandleKey handles a key while the dialog is open: it has the keyboard.
func (s *Model) HandleKey(k tea.KeyPressMsg) tea.Cmd {
	was := s.dialog.Stage()
	var cmd tea.Cmd
	cmd = s.dialog.Update(k)
	if was == Verifying && !s.dialog.Active() {
		s.host.Info("still checking the recovery key…")
	}
	return cmd
}

// ShowNext shows the next verification request waiting once the dialog is free. The root calls
// it after every message, so a request cancelled in the same burst of events never shows.
func (s *Model) ShowNext() {
	if s.dialog.Active() || len(s.pending) == 0 {
		return
	}
	v := s.pending[0]
	s.pending = s.pending[1:]
	s.dialog.Incoming(v, s.whoIs(v.User), v.User == s.opts.Me)
}

// whoIs names a user for the dialog: the name from the contacts list and the user ID, which
// is what cannot be faked.
func (s *Model) whoIs(user id.UserID) string {
	label := sanitize.Line(string(user))
	for _, name := range s.host.Names(user) {
		if n := strings.TrimSpace(sanitize.Line(name)); n != "" && n != label {
			return n + " (" + label + ")"
		}
	}
	return label
}

// call runs fn in a Cmd with a bounded context. The caller copies what fn needs into locals.
func (s *Model) call(fn func(ctx context.Context) tea.Msg) tea.Cmd {
	return request.Cmd(s.opts.Context, fn)
}
