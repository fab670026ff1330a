package ui

import (
	"cmp"
	"context"
	"slices"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/ui/contacts"
	"duet/ui/newdm"
	"duet/ui/search"
	"duet/ui/security"
	"duet/ui/statusbar"
)

// Several accounts in one window (issue 23): each account keeps its own service (sync loop,
// store, crypto, outbox); the UI merges their lists into one and does everything a row, a
// conversation or a dialog asks with the account it belongs to.

// Profile is one account the UI shows: its service, and how its rows are marked when several
// are open.
type Profile struct {
	Name  string // the profile's name: it keys the account's rows
	Tag   string // the label on its rows; "": Name
	Color string // the label's colour (#rrggbb or an ANSI number); "": one of a palette, in order
	Svc   Service
}

// palette colours the tags of accounts that set none, in order.
var palette = []string{"#5fafd7", "#d7875f", "#87af5f", "#af87d7", "#d7af5f", "#5fd7af"}

// account is one open account: its service and what the root keeps of it.
type account struct {
	idx      int
	profile  string // its rows' keys carry it; "" when one account is open
	tag      string // its label; "" when one account is open
	style    lipgloss.Style
	svc      Service
	me       id.UserID
	security *security.Model // its verifications and recovery key

	overviewSeq     int
	overviewApplied int
	directBad       bool // its m.direct could not be read (R1): said once in the status bar
	kept            bool // its list shown is the one the last run kept: derived again once every account's is in
}

// label is the account as the status bar names it: its tag, when several are open.
func (a *account) label(text string) string {
	if a.tag == "" {
		return text
	}
	return a.tag + ": " + text
}

// newAccounts makes the accounts of profiles (at least one).
func newAccounts(profiles []Profile, plain bool) []*account {
	multi := len(profiles) > 1
	accts := make([]*account, len(profiles))
	for i, p := range profiles {
		a := &account{idx: i, svc: p.Svc, me: p.Svc.Me()}
		if multi {
			a.profile = p.Name
			a.tag = sanitize.Line(cmp.Or(p.Tag, p.Name))
			color := cmp.Or(p.Color, palette[i%len(palette)])
			a.style = lipgloss.NewStyle()
			if !plain { // a terminal without colour tells the accounts by their tags alone
				a.style = a.style.Bold(true).Foreground(lipgloss.Color(color))
			}
		}
		accts[i] = a
	}
	return accts
}

// multi reports whether several accounts are open.
func (m *Model) multi() bool { return len(m.accts) > 1 }

// setUpAccounts tells the components that list, search or check across accounts about them.
func (m *Model) setUpAccounts() {
	if !m.multi() {
		return
	}
	var list []contacts.Account
	var bar []statusbar.Account
	for _, a := range m.accts {
		list = append(list, contacts.Account{Profile: a.profile, Tag: a.tag, Style: a.style})
		bar = append(bar, statusbar.Account{Tag: a.tag, Style: a.style})
	}
	m.contacts.SetAccounts(list)
	m.status.SetAccounts(bar)
}

// searchAccounts and newDMAccounts are the accounts as message search and the new-DM prompt
// take them (nil when one account is open).
func searchAccounts(accts []*account) []search.Account {
	if len(accts) < 2 {
		return nil
	}
	out := make([]search.Account, len(accts))
	for i, a := range accts {
		out[i] = search.Account{Index: a.svc, Tag: a.tag, Me: a.me}
	}
	return out
}

func newDMAccounts(accts []*account) []newdm.Account {
	if len(accts) < 2 {
		return nil
	}
	out := make([]newdm.Account, len(accts))
	for i, a := range accts {
		out[i] = newdm.Account{Tag: a.tag, Me: a.me, Users: a.svc}
	}
	return out
}

// cur is the account of what the user looks at: the selected row while the list has the
// keyboard, else the open conversation; the first account when there is neither.
func (m *Model) cur() *account {
	if m.focus == focusContacts {
		if it, ok := m.contacts.Selected(); ok {
			return m.acct(it.Acct)
		}
	}
	if c := m.openChat(); c != nil {
		return m.acct(c.Item().Acct)
	}
	return m.accts[0]
}

// acct is the account with index i (the first when i is out of range).
func (m *Model) acct(i int) *account {
	if i < 0 || i >= len(m.accts) {
		return m.accts[0]
	}
	return m.accts[i]
}

// userKey and roomKey are the keys of the rows of a person and of a room in account a.
func (a *account) userKey(user id.UserID) string { return contacts.UserKey(a.profile, user) }
func (a *account) roomKey(room id.RoomID) string { return contacts.RoomKey(a.profile, room) }

// directory is the quick switcher's user directory across the accounts: each is asked, and a
// person found by several is listed once.
type directory []*account

func (d directory) SearchUsers(ctx context.Context, term string, limit int) ([]matrixsvc.DirectoryUser, error) {
	var out []matrixsvc.DirectoryUser
	var firstErr error
	failed := 0
	for _, a := range d {
		users, err := a.svc.SearchUsers(ctx, term, limit)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			failed++
			continue
		}
		for _, u := range users {
			if !slices.ContainsFunc(out, func(o matrixsvc.DirectoryUser) bool { return o.UserID == u.UserID }) {
				out = append(out, u)
			}
		}
	}
	if failed == len(d) {
		return nil, firstErr
	}
	return out[:min(len(out), limit)], nil
}

// acctMsg is a message of a component that belongs to one account (its security flow): the
// root hands it to that account's component.
type acctMsg struct {
	acct int
	msg  tea.Msg
}

// forAcct marks what cmd answers as account i's.
func forAcct(i int, cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() tea.Msg {
		switch msg := cmd().(type) {
		case nil:
			return nil
		case tea.BatchMsg:
			out := make(tea.BatchMsg, len(msg))
			for j, c := range msg {
				out[j] = forAcct(i, c)
			}
			return out
		default:
			return acctMsg{acct: i, msg: msg}
		}
	}
}

// useSecurity makes account a's security flow the one whose dialog shows, and returns it.
func (m *Model) useSecurity(a *account) *security.Model {
	if !m.security.Active() {
		m.security, m.secAcct = a.security, a.idx
	}
	return m.security
}

// sec marks cmd, from the security flow that shows, as its account's.
func (m *Model) sec(cmd tea.Cmd) tea.Cmd { return forAcct(m.secAcct, cmd) }

// accountMsg routes a message of one account's component to it.
func (m *Model) accountMsg(msg acctMsg) tea.Cmd {
	a := m.acct(msg.acct)
	if smsg, ok := msg.msg.(security.Msg); ok {
		return forAcct(a.idx, a.security.Update(smsg))
	}
	_, cmd := m.Update(msg.msg) // not the flow's: routed as any other
	return cmd
}
