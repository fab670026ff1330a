package switcher

import (
	"fmt"
	"strings"

	"duet/ui/contacts"
)

// EntriesOf is the contacts list's rows as the switcher lists them: contacts, group DMs and
// invites, each opened by its row's key.
func EntriesOf(rows []contacts.Item) []Entry {
	entries := make([]Entry, 0, len(rows))
	for _, it := range rows {
		e := Entry{Key: it.Key(), Name: it.Name, UserID: it.UserID, LastActivity: it.TS}
		switch {
		case it.Kind == contacts.KindGroup:
			e.Kind, e.Detail = KindGroup, fmt.Sprintf("%d members", it.Members)
		case it.Kind == contacts.KindRoomInvite:
			e.Kind, e.Detail = KindInvite, "room invite"
		case it.Request:
			e.Kind, e.Detail = KindInvite, "request"
		case it.Pending:
			e.Kind, e.Detail = KindInvite, "invite"
		default:
			e.Kind = KindContact
		}
		if it.Blocked {
			e.Detail = "blocked"
		}
		if it.Tag != "" { // several accounts: the row says whose it is
			e.Detail = strings.TrimPrefix(e.Detail+" · "+it.Tag, " · ")
		}
		entries = append(entries, e)
	}
	return entries
}
