// Package newdm is a new conversation by user ID (R12, R21): the prompt over the right pane
// that asks for the user ID, and the check that the user exists, for an ID typed there or
// given by `/dm @user` or the quick switcher.
//
// Model owns the prompt (open, busy, its error) and the check under way; its Cmds answer with
// messages of one family, Msg, which the root hands back to Checked. A user found to exist
// goes back to the root as a User, and the root opens the conversation. What belongs to the
// screen around it (the status bar) it asks through Host; the keyboard's focus and the key
// that closes the prompt stay with the root.
package newdm

import (
	"context"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/ui/internal/textutil"
	"duet/ui/styles"
)

// Users is the check of a user ID on the Matrix side: the user it names, with a display name,
// or why there is none to talk to.
type Users interface {
	CheckUser(ctx context.Context, raw string) (id.UserID, string, error)
}

// Host is what the prompt asks of the screen around it. The root model implements it.
type Host interface {
	Error(text string) // an error in the status bar
	Info(text string)  // a notice in the status bar
}

// Options are the prompt's settings.
type Options struct {
	Styles  styles.Styles
	Context context.Context // bounds every request; nil: context.Background()

	// Accounts, when several are open: the prompt asks which one the conversation is
	// from (tab picks another), and each check asks that account. New's svc is then unused.
	Accounts []Account
}

// Account is one of several accounts a new conversation can be from.
type Account struct {
	Tag   string
	Me    id.UserID
	Users Users
}

// Msg is the family of the prompt's messages: the answers of its checks. The root hands every
// one to Checked.
type Msg interface{ newDMMsg() }

// checkedMsg is the answer of the check of raw.
type checkedMsg struct {
	raw  string
	acct int
	user id.UserID
	name string
	err  error
}

func (checkedMsg) newDMMsg() {}

// User is a user found to exist: the new conversation's other side.
type User struct {
	ID   id.UserID
	Name string // the display name, as the server gave it ("" if none)
	Acct int    // the index of the account the conversation is from (Options.Accounts)
}

// Label is what the conversation with the user is called until the contacts list knows it.
func (u User) Label() string { return Label(u.ID, u.Name) }

// Label is a user's display name, or the user ID when it has none.
func Label(user id.UserID, name string) string {
	if n := strings.TrimSpace(sanitize.Line(name)); n != "" {
		return n
	}
	return sanitize.Line(string(user))
}

// Model is the prompt and the check of a user ID. Create it with New.
type Model struct {
	svc      Users
	host     Host
	opts     Options
	input    textinput.Model
	on       bool   // the prompt is shown
	busy     bool   // the ID typed in the prompt is being checked
	err      string // why the ID typed is no good
	checking string // the user ID being checked ("" = none): other answers are cancelled ones
	width    int

	last   int // the account the last conversation was started from: the default
	picked int // the account picked with tab in the open prompt; -1: the default for the ID
}

// New returns the prompt, closed.
func New(svc Users, host Host, opts Options) *Model {
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	ti := textutil.Input("User ID: ", "@name:example.org", opts.Styles.Label, opts.Styles.Terminal)
	return &Model{svc: svc, host: host, opts: opts, input: ti, picked: -1}
}

// SetLastUsed makes the account with index acct the default for a user ID whose server is
// none of the accounts'.
func (p *Model) SetLastUsed(acct int) {
	if acct >= 0 && acct < len(p.opts.Accounts) {
		p.last = acct
	}
}

// Account returns the index of the account a conversation with raw would be from: the one
// picked in the prompt, else the one on raw's server, else the last used.
func (p *Model) Account(raw string) int {
	if p.picked >= 0 {
		return p.picked
	}
	return p.defaultFor(raw)
}

func (p *Model) defaultFor(raw string) int {
	if _, server, ok := strings.Cut(strings.TrimSpace(raw), ":"); ok && server != "" {
		for i, a := range p.opts.Accounts {
			if _, mine, _ := strings.Cut(string(a.Me), ":"); strings.EqualFold(mine, server) {
				return i
			}
		}
	}
	return p.last
}

// nextAccount picks the account after the one the prompt shows.
func (p *Model) nextAccount() {
	if n := len(p.opts.Accounts); n > 1 {
		p.picked = (p.Account(p.input.Value()) + 1) % n
	}
}

// SetStyles draws the prompt with st from now on.
func (p *Model) SetStyles(st styles.Styles) {
	p.opts.Styles = st
	textutil.StyleInput(&p.input, st.Label, st.Terminal)
}

// Active reports whether the prompt is shown.
func (p *Model) Active() bool { return p.on }

// Value is the user ID typed in the prompt so far.
func (p *Model) Value() string { return p.input.Value() }

// Focus gives the prompt's field the keyboard; Blur takes it away.
func (p *Model) Focus() tea.Cmd { return p.input.Focus() }
func (p *Model) Blur()          { p.input.Blur() }

// SetWidth sets the width of the pane the prompt is drawn in.
func (p *Model) SetWidth(w int) {
	p.width = w
	p.input.SetWidth(max(w-12, 4))
}

// Open shows the prompt, empty, and cancels a check under way.
func (p *Model) Open() {
	p.on, p.busy, p.err = true, false, ""
	p.input.SetValue("")
	p.checking = ""
	p.picked = -1
}

// Close hides the prompt and cancels a check under way.
func (p *Model) Close() {
	p.on, p.busy = false, false
	p.checking = ""
}
