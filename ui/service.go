package ui

import (
	"context"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/chat"
	"duet/ui/internal/request"
	"duet/ui/newdm"
	"duet/ui/search"
	"duet/ui/security"
	"duet/ui/switcher"
)

// Service is what the UI needs from the Matrix side, by role. *matrixsvc.Service satisfies it;
// tests pass a fake.
type Service interface {
	Account
	chat.Service     // a conversation's history and sending, and its contact's trust
	security.Service // verification and the recovery key
}

// Account is the account and its contacts list: events, the list, new DMs, invites, blocking,
// search.
type Account interface {
	newdm.Users        // checks the user ID of a new DM
	search.Index       // the local index of messages
	switcher.Directory // the homeserver's user directory
	Me() id.UserID
	Events() <-chan matrixsvc.Event
	RetryNow()
	Overview(ctx context.Context) (matrixsvc.Overview, error)
	// CachedOverview is the list as duet last showed it, for the first frame.
	CachedOverview(ctx context.Context) (matrixsvc.Overview, bool)
	LastOpen(ctx context.Context) string
	SetLastOpen(ctx context.Context, key string) error
	Accept(ctx context.Context, room id.RoomID) error
	Decline(ctx context.Context, room id.RoomID) error
	Block(ctx context.Context, user string) (id.UserID, bool, error)
	Unblock(ctx context.Context, user string) (id.UserID, bool, error)
}

var _ Service = (*matrixsvc.Service)(nil)

// Messages from the Cmds below: the service's events, and the answers about the list.
type (
	eventsMsg struct {
		acct   int // the account whose service reported them
		events []matrixsvc.Event
	}
	overviewMsg struct {
		acct     int
		seq      int
		ov       matrixsvc.Overview
		err      error
		lastOpen string // at start: the conversation open when duet last ran
		cached   bool   // the list as duet last closed with it: the derived one follows
	}
	// refreshListMsg asks for the list derived from the store again.
	refreshListMsg struct{ acct int }
	inviteDoneMsg  struct {
		acct     int
		accepted bool
		name     string
		err      error
		ov       *matrixsvc.Overview // the list after the answer, so it shows at once
	}
)

// listen receives one event and whatever else is already queued, so that a burst arrives as one
// message. It is re-armed after each one. A closed channel ends it.
func listen(acct int, ch <-chan matrixsvc.Event) tea.Cmd {
	return func() tea.Msg {
		evt, ok := <-ch
		if !ok {
			return nil
		}
		events := []matrixsvc.Event{evt}
		for len(events) < 256 {
			select {
			case evt, ok := <-ch:
				if !ok {
					return eventsMsg{acct, events}
				}
				events = append(events, evt)
			default:
				return eventsMsg{acct, events}
			}
		}
		return eventsMsg{acct, events}
	}
}

// call runs fn in a Cmd with a bounded context. The caller copies what fn needs into locals.
func (m *Model) call(fn func(ctx context.Context) tea.Msg) tea.Cmd {
	return request.Cmd(m.ctx, fn)
}

func (m *Model) refreshOverview(a *account) tea.Cmd {
	a.overviewSeq++
	seq, svc, idx := a.overviewSeq, a.svc, a.idx
	return m.call(func(ctx context.Context) tea.Msg {
		ov, err := svc.Overview(ctx)
		return overviewMsg{acct: idx, seq: seq, ov: ov, err: err}
	})
}

// refreshAll reads every account's list again.
func (m *Model) refreshAll() tea.Cmd {
	cmds := make([]tea.Cmd, len(m.accts))
	for i, a := range m.accts {
		cmds[i] = m.refreshOverview(a)
	}
	return tea.Batch(cmds...)
}

// firstOverview is the list at start, with the conversation that was open last time: both
// from the store, so duet shows where you were before any network request.
func (m *Model) firstOverview(a *account) tea.Cmd {
	a.overviewSeq++
	seq, svc, idx := a.overviewSeq, a.svc, a.idx
	// The conversation open last time is kept by the first account (its key names the
	// account of the conversation when several are open).
	first := idx == 0
	lastOpen := func(ctx context.Context) string {
		if !first {
			return ""
		}
		return svc.LastOpen(ctx)
	}
	return m.call(func(ctx context.Context) tea.Msg {
		// The list as it was when duet last closed comes first: one read, where deriving it
		// takes a thousand-DM account tens of milliseconds. The derived list follows once
		// that frame is out (applyOverview), not beside it on the same cores.
		if ov, ok := svc.CachedOverview(ctx); ok {
			return overviewMsg{acct: idx, seq: seq, ov: ov, lastOpen: lastOpen(ctx), cached: true}
		}
		ov, err := svc.Overview(ctx)
		return overviewMsg{acct: idx, seq: seq, ov: ov, err: err, lastOpen: lastOpen(ctx)}
	})
}

// rememberOpen stores which conversation is open, for the next start.
func (m *Model) rememberOpen(key string) tea.Cmd {
	svc := m.accts[0].svc
	return m.call(func(ctx context.Context) tea.Msg {
		_ = svc.SetLastOpen(ctx, key)
		return nil
	})
}

func (m *Model) answerInvite(a *account, accept bool, name string, rooms []id.RoomID) tea.Cmd {
	svc, idx := a.svc, a.idx
	rooms = append([]id.RoomID(nil), rooms...)
	return m.call(func(ctx context.Context) tea.Msg {
		for _, room := range rooms {
			var err error
			if accept {
				err = svc.Accept(ctx, room)
			} else {
				err = svc.Decline(ctx, room)
			}
			if err != nil {
				return inviteDoneMsg{acct: idx, accepted: accept, name: name, err: err}
			}
		}
		done := inviteDoneMsg{acct: idx, accepted: accept, name: name}
		if ov, err := svc.Overview(ctx); err == nil {
			done.ov = &ov
		}
		return done
	})
}
