// Package contacts is the contacts pane: one row per person (R18), sorted by last activity
// (R19), pending direct invites on top, group DMs in their own section (R20), and a `/` filter.
package contacts

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

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

// Kind tells what a row stands for.
type Kind int

const (
	KindContact    Kind = iota // a person (R18)
	KindGroup                  // a group DM (R20)
	KindRoomInvite             // an invite to a room that is not direct
)

// Section is a heading of the list.
type Section int

const (
	SectionInvites Section = iota
	SectionContacts
	SectionGroups
	SectionRequests // direct invites from strangers (R24), last: out of the way
)

var sectionTitles = [...]string{"Invites", "Contacts", "Group DMs", "Requests"}

// Item is one row.
type Item struct {
	Kind        Kind
	Section     Section
	UserID      id.UserID   // contacts: the person
	RoomID      id.RoomID   // contacts: the chosen room ("" = created on first send); groups, invites: the room
	InviteRooms []id.RoomID // pending direct invites from this person (R4)
	Name        string      // sanitized, never empty
	Preview     string      // sanitized, one line
	TS          int64       // ms; 0 = no activity
	Unread      int
	Pending     bool   // an invite: accept or decline instead of a composer
	Members     int    // groups
	Request     bool   // a direct invite from someone we share no room with (R24)
	Note        string // sanitized, one line about the room (an upgrade not followed)
	Blocked     bool   // on our ignore list (R25)

	// The account the row belongs to, when several are open: everything done with the row
	// (a message, an answer to an invite, a block) is done by that account.
	Acct    int    // its index among the accounts set by SetAccounts
	Profile string // its profile's name; "" when one account is open
	Tag     string // its label on the row; "" when one account is open
}

// Key identifies the row across refreshes: the person or the room, within its account.
func (it Item) Key() string {
	if it.Kind == KindContact {
		return UserKey(it.Profile, it.UserID)
	}
	return RoomKey(it.Profile, it.RoomID)
}

// UserKey is the key of the row of a person in the account of profile ("" when one account
// is open); RoomKey that of a room's row.
func UserKey(profile string, user id.UserID) string { return withProfile(profile, "u:"+string(user)) }
func RoomKey(profile string, room id.RoomID) string { return withProfile(profile, "r:"+string(room)) }

func withProfile(profile, key string) string {
	if profile == "" {
		return key
	}
	return profile + "/" + key
}

// Account is one of the accounts whose rows the list shows, when there are several.
type Account struct {
	Profile string         // the profile's name: the rows' keys carry it
	Tag     string         // the rows' label
	Style   lipgloss.Style // the label's colour
}

// OpenMsg asks the root to open an item's conversation.
type OpenMsg struct{ Item Item }

// NewDMMsg asks the root for the new-DM prompt.
type NewDMMsg struct{}

// AcceptMsg and DeclineMsg answer a pending invite; BlockMsg and UnblockMsg ask to block or
// unblock a person (the root confirms a block first).
type (
	AcceptMsg  struct{ Item Item }
	DeclineMsg struct{ Item Item }
	BlockMsg   struct{ Item Item }
	UnblockMsg struct{ Item Item }
)

// Model is the contacts pane.
type Model struct {
	keys   KeyMap
	styles styles.Contacts
	now    func() time.Time

	all      []Item   // every row, in display order
	parts    [][]Item // the rows of each account, as its last overview gave them
	accounts []Account
	only     int    // narrowed to the account with this index + 1; 0: every account
	shown    []Item // all, narrowed by the filter
	selected string // Key of the selected item
	// chosen: the selection was made (a key, a click, the conversation opened at start), so a
	// new list keeps it on its person; until then the first row is selected, whatever the
	// order (a new device's list re-sorts when its first sync lands).
	chosen bool
	offset int // first visible line of the list

	filter    textinput.Model
	filtering bool // the filter input has the keyboard
	focused   bool
	width     int
	height    int
}

// New returns an empty pane.
func New(km KeyMap, st styles.Contacts, now func() time.Time) Model {
	ti := textutil.Input("/", "name or @user:server", st.Filter, st.Terminal)
	return Model{keys: km, styles: st, now: now, filter: ti}
}

// SetStyles draws the pane with st from now on.
func (m *Model) SetStyles(st styles.Contacts) {
	m.styles = st
	textutil.StyleInput(&m.filter, st.Filter, st.Terminal)
}

// SetSize sets the pane's size.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.filter.SetWidth(max(w-3, 1))
	m.clampOffset()
}

// Focus and Blur give or take the keyboard.
func (m *Model) Focus() { m.focused = true }
func (m *Model) Blur()  { m.focused = false; m.filtering = false; m.filter.Blur() }

// Focused reports whether the pane has the keyboard.
func (m *Model) Focused() bool { return m.focused }

// Filtering reports whether keys go to the filter input (so `q` types a q).
func (m *Model) Filtering() bool { return m.filtering }

// KeyMap returns the pane's keys, for help.
func (m *Model) KeyMap() KeyMap { return m.keys }

// Items returns the rows shown, in order.
func (m *Model) Items() []Item { return m.shown }

// All returns every row, filtered out or not.
func (m *Model) All() []Item { return m.all }

// Selected returns the selected row.
func (m *Model) Selected() (Item, bool) {
	i := m.selectedIndex()
	if i < 0 {
		return Item{}, false
	}
	return m.shown[i], true
}

// Find returns the row for a key among all rows (the filter aside).
func (m *Model) Find(key string) (Item, bool) {
	for _, it := range m.all {
		if it.Key() == key {
			return it, true
		}
	}
	return Item{}, false
}

// Select selects the row with the key, when shown.
func (m *Model) Select(key string) {
	m.selected, m.chosen = key, true
	m.keepSelection()
}

// SetAccounts says which accounts the list shows when there are several (their rows are
// marked with their tags); none or one: one account, rows unmarked.
func (m *Model) SetAccounts(accts []Account) {
	if len(accts) < 2 {
		accts = nil
	}
	m.accounts = accts
	m.parts = make([][]Item, max(len(accts), 1))
}

// SetOverview replaces the rows with a fresh overview of the one account, keeping the selection
// on the same person once one was chosen.
func (m *Model) SetOverview(ov matrixsvc.Overview, me id.UserID) { m.SetAccountOverview(0, ov, me) }

// SetAccountOverview replaces the rows of the account with index acct with a fresh overview,
// keeping the selection on the same person once one was chosen. The rows of every account are
// one list, each section ordered by activity.
func (m *Model) SetAccountOverview(acct int, ov matrixsvc.Overview, me id.UserID) {
	if len(m.parts) == 0 {
		m.parts = make([][]Item, 1)
	}
	if acct < 0 || acct >= len(m.parts) {
		return
	}
	m.parts[acct] = itemsOf(ov, me)
	var profile, tag string
	if m.accounts != nil {
		profile, tag = m.accounts[acct].Profile, m.accounts[acct].Tag
	}
	for i := range m.parts[acct] {
		it := &m.parts[acct][i]
		it.Acct, it.Profile, it.Tag = acct, profile, tag
	}
	m.all = mergeParts(m.parts)
	if !m.chosen {
		m.selected = "" // the first row, until a selection is made
	}
	m.applyFilter()
}

// before orders rows: by section, then newest first.
func before(a, b *Item) bool {
	if a.Section != b.Section {
		return a.Section < b.Section
	}
	return a.TS > b.TS
}

// mergeParts merges the accounts' rows, each part already in order, into one list in order;
// on a tie the earlier account's row comes first. One pass: a list of thousands of rows is
// merged again each time an account's list arrives, before the first frame too.
func mergeParts(parts [][]Item) []Item {
	if len(parts) == 1 {
		return parts[0]
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]Item, 0, n)
	next := make([]int, len(parts))
	for len(out) < n {
		best := -1
		for i, p := range parts {
			if next[i] < len(p) && (best < 0 || before(&p[next[i]], &parts[best][next[best]])) {
				best = i
			}
		}
		out = append(out, parts[best][next[best]])
		next[best]++
	}
	return out
}

// itemsOf is an overview's rows, each section ordered by activity.
func itemsOf(ov matrixsvc.Overview, me id.UserID) []Item {
	var invites, people, groups []Item
	for _, c := range ov.Contacts {
		it := Item{
			Kind: KindContact, UserID: c.UserID, RoomID: c.Room, InviteRooms: c.InviteRooms,
			Name: nameOr(c.DisplayName, string(c.UserID)), Preview: preview(c.Preview, me),
			TS: c.LastActivity, Unread: c.Unread, Pending: c.Pending, Blocked: c.Blocked,
			Note: sanitize.Line(c.Note),
		}
		if it.Pending {
			it.Section = SectionInvites
			invites = append(invites, it)
		} else {
			it.Section = SectionContacts
			people = append(people, it)
		}
	}
	var requests []Item
	for _, c := range ov.Requests {
		// The user ID in full, never a display name: a stranger's name can claim to be anyone.
		requests = append(requests, Item{
			Kind: KindContact, Section: SectionRequests, UserID: c.UserID, InviteRooms: c.InviteRooms,
			Name: sanitize.Line(string(c.UserID)), Preview: preview(c.Preview, me),
			TS: c.LastActivity, Pending: true, Request: true,
		})
	}
	for _, inv := range ov.Invites {
		invites = append(invites, Item{
			Kind: KindRoomInvite, Section: SectionInvites, RoomID: inv.RoomID, UserID: inv.Inviter,
			Name: nameOr(inv.Name, string(inv.RoomID)), Preview: "invited by " + sanitize.Line(string(inv.Inviter)),
			TS: inv.Timestamp, Pending: true,
		})
	}
	for _, g := range ov.Groups {
		name := g.Name
		if name == "" {
			users := make([]string, len(g.Users))
			for i, u := range g.Users {
				users[i] = string(u)
			}
			name = strings.Join(users, ", ")
		}
		groups = append(groups, Item{
			Kind: KindGroup, Section: SectionGroups, RoomID: g.RoomID, Name: nameOr(name, string(g.RoomID)),
			Preview: preview(g.Preview, me), TS: g.LastActivity, Unread: g.Unread, Members: g.MemberCount,
		})
	}
	for _, list := range [][]Item{invites, people, groups, requests} {
		slices.SortStableFunc(list, func(a, b Item) int { return cmp.Compare(b.TS, a.TS) })
	}
	return slices.Concat(invites, people, groups, requests)
}

func nameOr(name, fallback string) string {
	if n := strings.TrimSpace(sanitize.Line(name)); n != "" {
		return n
	}
	return sanitize.Line(fallback)
}

func preview(p matrixsvc.Preview, me id.UserID) string {
	body := sanitize.Line(p.Body)
	if body != "" && p.Sender == me {
		return "you: " + body
	}
	return body
}

// Update handles keys when focused.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if p, ok := msg.(tea.PasteMsg); ok && m.focused && m.filtering {
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(p) // a paste while filtering is typed into the filter
		m.applyFilter()
		return cmd
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok || !m.focused {
		return nil
	}
	if m.filtering {
		switch {
		case key.Matches(k, m.keys.Clear):
			m.filter.SetValue("")
			m.filtering = false
			m.filter.Blur()
			m.applyFilter()
			return nil
		case k.Code == tea.KeyEnter:
			m.filtering = false
			m.filter.Blur()
			return nil
		case k.Code == tea.KeyUp, k.Code == tea.KeyDown:
			m.move(map[bool]int{true: -1, false: 1}[k.Code == tea.KeyUp])
			return nil
		}
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		m.applyFilter()
		return cmd
	}
	switch {
	case key.Matches(k, m.keys.Up):
		m.move(-1)
	case key.Matches(k, m.keys.Down):
		m.move(1)
	case key.Matches(k, m.keys.Filter):
		m.filtering = true
		return m.filter.Focus()
	case key.Matches(k, m.keys.Clear) && m.filter.Value() != "":
		m.filter.SetValue("")
		m.applyFilter()
	case key.Matches(k, m.keys.Account) && m.accounts != nil:
		m.narrow(k.String())
	default:
		if intent := m.Intent(k); intent != nil {
			return func() tea.Msg { return intent }
		}
	}
	return nil
}

// Intent is what a key asks of the root (OpenMsg, NewDMMsg, AcceptMsg, DeclineMsg, BlockMsg,
// UnblockMsg), or nil. The root acts on it within the same Update, before the next key is read:
// a key typed right after Enter or n (a paste, a fast typist) must reach the composer or the
// prompt, not the list, where a "q" would quit.
func (m *Model) Intent(k tea.KeyPressMsg) tea.Msg {
	if !m.focused || m.filtering {
		return nil
	}
	it, hasItem := m.Selected()
	switch {
	case key.Matches(k, m.keys.New):
		return NewDMMsg{}
	case key.Matches(k, m.keys.Open) && hasItem:
		return OpenMsg{Item: it}
	case key.Matches(k, m.keys.Accept) && hasItem && it.Pending:
		return AcceptMsg{Item: it}
	case key.Matches(k, m.keys.Decline) && hasItem && it.Pending:
		return DeclineMsg{Item: it}
	case key.Matches(k, m.keys.Block) && hasItem && it.Kind == KindContact && !it.Blocked:
		return BlockMsg{Item: it}
	case key.Matches(k, m.keys.Unblock) && hasItem && it.Blocked:
		return UnblockMsg{Item: it}
	}
	return nil
}

// Scroll moves the selection by n rows (the mouse wheel).
func (m *Model) Scroll(n int) { m.move(n) }

// Click selects the row at line y of the pane and returns it.
func (m *Model) Click(y int) (Item, bool) {
	rows := m.rows()
	i := y - m.headerLines() + m.offset
	if i < 0 || i >= len(rows) || rows[i].item < 0 {
		return Item{}, false
	}
	it := m.shown[rows[i].item]
	m.Select(it.Key())
	return it, true
}

func (m *Model) move(n int) {
	if len(m.shown) == 0 {
		return
	}
	i := max(m.selectedIndex(), 0) + n
	i = min(max(i, 0), len(m.shown)-1)
	m.selected, m.chosen = m.shown[i].Key(), true
	m.keepSelection()
}

func (m *Model) selectedIndex() int {
	for i, it := range m.shown {
		if it.Key() == m.selected {
			return i
		}
	}
	return -1
}

// narrow shows one account's rows (its number, from 1) or every account's (0, or the number of
// the account already shown alone).
func (m *Model) narrow(digit string) {
	n, err := strconv.Atoi(digit)
	if err != nil || n > len(m.accounts) {
		return
	}
	if n == m.only {
		n = 0
	}
	m.only = n
	m.applyFilter()
}

func (m *Model) applyFilter() {
	q := strings.ToLower(strings.TrimSpace(m.filter.Value()))
	if q == "" && m.only == 0 {
		m.shown = m.all // every row: all is never changed in place, only replaced
		m.keepSelection()
		return
	}
	m.shown = m.shown[:0:0]
	for _, it := range m.all {
		if m.only > 0 && it.Acct != m.only-1 {
			continue
		}
		if q == "" || strings.Contains(strings.ToLower(it.Name), q) ||
			strings.Contains(strings.ToLower(string(it.UserID)), q) ||
			(it.Kind != KindContact && strings.Contains(strings.ToLower(string(it.RoomID)), q)) {
			m.shown = append(m.shown, it)
		}
	}
	m.keepSelection()
}

// keepSelection keeps a shown row selected and in view.
func (m *Model) keepSelection() {
	if m.selectedIndex() < 0 {
		m.selected = ""
		if len(m.shown) > 0 {
			m.selected = m.shown[0].Key()
		}
	}
	m.clampOffset()
}
