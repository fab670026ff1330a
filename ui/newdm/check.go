package newdm

import (
	"context"
	"strings"

	tea "charm.land/bubbletea/v2"

	"duet/ui/internal/request"
	"duet/ui/internal/textutil"
)

// HandleKey handles a key while the prompt has the keyboard: enter checks the user ID typed,
// anything else edits it.
func (p *Model) HandleKey(k tea.KeyPressMsg) tea.Cmd {
	if k.Code == tea.KeyTab && len(p.opts.Accounts) > 1 {
		p.nextAccount()
		p.err = ""
		return nil
	}
	if k.Code == tea.KeyEnter {
		if p.busy {
			return nil
		}
		raw := strings.TrimSpace(p.input.Value())
		p.busy, p.err = true, ""
		p.checking = raw
		return p.check(raw)
	}
	cmd := p.Update(k)
	p.err = ""
	return cmd
}

// Update hands other messages (cursor, paste) to the prompt's field.
func (p *Model) Update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return cmd
}

// Check checks a user ID given without the prompt (`/dm @user`, the quick switcher), saying so
// in the status bar. It cancels a check under way.
func (p *Model) Check(raw string) tea.Cmd {
	p.checking = raw
	p.picked = -1 // not the prompt's: the default for the ID
	p.host.Info("checking " + raw + "…")
	return p.check(raw)
}

// Checked takes the answer of a check. It returns the user when the user exists and the check
// is still wanted (neither cancelled nor replaced by another); the prompt then closes. Why the
// ID is no good goes to the status bar, and to the prompt while it is open.
func (p *Model) Checked(msg Msg) (User, bool) {
	c, ok := msg.(checkedMsg)
	if !ok || c.raw != p.checking {
		return User{}, false // cancelled
	}
	p.checking = ""
	if c.err != nil {
		why := textutil.Explain(c.err)
		if p.on {
			p.busy, p.err = false, why
		}
		p.host.Error(why)
		return User{}, false
	}
	p.on, p.busy = false, false
	p.SetLastUsed(c.acct)
	return User{ID: c.user, Name: c.name, Acct: c.acct}, true
}

func (p *Model) check(raw string) tea.Cmd {
	svc, acct := p.svc, 0
	if len(p.opts.Accounts) > 0 {
		acct = p.Account(raw)
		svc = p.opts.Accounts[acct].Users
	}
	return request.Cmd(p.opts.Context, func(ctx context.Context) tea.Msg {
		user, name, err := svc.CheckUser(ctx, raw)
		return checkedMsg{raw: raw, acct: acct, user: user, name: name, err: err}
	})
}
