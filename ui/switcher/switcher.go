// Package switcher is the quick switcher (ctrl+k): a box with a query over the user's contacts,
// group DMs and pending invites, matched fuzzily, with the people the server's user directory
// finds below them and, when the query is a Matrix user ID nobody in the list has, a row to
// start a DM with it. The root opens it with the entries (EntriesOf the contacts list's rows);
// the switcher asks the directory itself (the service's Directory role). Its messages are one
// family, Msg: the root hands them to Update, except ChosenMsg, which asks the root to open an
// entry.
package switcher

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/sahilm/fuzzy"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/ui/internal/textutil"
	"duet/ui/styles"
)

// Kind tells what an entry stands for.
type Kind int

const (
	KindContact   Kind = iota // a person we have a conversation with
	KindGroup                 // a group DM
	KindInvite                // a pending invite
	KindDirectory             // a person the server's user directory found
	KindNewDM                 // "start a DM with @x": the query is a user ID nobody in the list has
)

// Entry is one thing the switcher can open.
type Entry struct {
	Kind         Kind
	Key          string    // opaque: what the root opens the entry by; "" for KindNewDM
	Name         string    // display name or group name, as the server has it (sanitized here)
	UserID       id.UserID // the person; "" for groups
	Detail       string    // shown dim on the right: "3 members", "invite"
	LastActivity int64     // ms; the most recent first when the query is empty, and among equal matches
}

// Msg is the family of the switcher's messages: what its Cmds answer (TickMsg, DirectoryMsg,
// the directory's answer), and what it hands back to the root (ChosenMsg, ClosedMsg). The root
// acts on ChosenMsg and hands every other one to Update.
type Msg interface{ switcherMsg() }

func (ChosenMsg) switcherMsg()    {}
func (ClosedMsg) switcherMsg()    {}
func (DirectoryMsg) switcherMsg() {}
func (TickMsg) switcherMsg()      {}

// Messages of the switcher.
type (
	// ChosenMsg asks to open Entry; the switcher has closed. Entry is as the root gave it
	// (names unsanitized), or a KindNewDM entry whose UserID is the person to start a DM with.
	ChosenMsg struct{ Entry Entry }
	// ClosedMsg says the switcher was closed without a choice.
	ClosedMsg struct{}
	// DirectoryMsg asks the server's user directory for Query. Update runs it; the answer is
	// listed while Query is still the query.
	DirectoryMsg struct {
		Query string
		Seq   int
	}
	// TickMsg is the switcher's debounce timer.
	TickMsg struct{ Seq int }
)

const (
	// directoryDelay is how long typing must pause before the directory is searched.
	directoryDelay = 300 * time.Millisecond
	// minDirectoryQuery is the shortest query (in characters) the directory is searched for.
	minDirectoryQuery = 3
	// maxField caps a name or user ID, in cells: nothing longer is ever read in a row, and
	// matching a 100 KB name on every key is wasted work.
	maxField = 256
)

// item is an entry as the switcher draws and matches it.
type item struct {
	Entry         // as given, handed back on Enter
	name   string // sanitized, one line, capped
	uid    string // sanitized user ID; "" when there is none or it is the name
	detail string // sanitized, one line
	hay    string // what the query is matched against: name, then a space and uid
	fold   string // name lowercased, for ordering
	rank   int    // place in the list most recent first (then by name, then key): breaks ties
}

// choice is a selectable row: an item and the bytes of its hay the query matched.
type choice struct {
	it      *item
	score   int
	matched []int
}

// Options are the switcher's settings.
type Options struct {
	Keys    KeyMap
	Styles  styles.Switcher
	Me      id.UserID       // the user, who is never offered a DM with themselves
	Context context.Context // bounds every directory search; nil: context.Background()
}

// Model is the switcher. Create it with New.
type Model struct {
	svc    Directory
	ctx    context.Context
	keys   KeyMap
	styles styles.Switcher
	me     id.UserID

	active bool
	input  textinput.Model
	query  string // the input, trimmed

	items []*item            // the entries, most recent first
	known map[id.UserID]bool // the user IDs among them

	shown []choice // the new-DM row, the local matches, then the directory's
	split int      // shown[split:] came from the directory

	dirQuery   string // the query dirItems answer
	dirItems   []item
	pending    string // the query a DirectoryMsg is out for
	failQuery  string // the query the directory failed for, and why
	failReason string

	seq      int // bumped on every change of query; a tick with another is stale
	selected int // index into shown
	offset   int // first list row drawn

	width, height int
}

// New returns a closed switcher that asks svc's user directory.
func New(svc Directory, opts Options) *Model {
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	ti := textutil.QueryInput("> ", "name or @user:server", id.UserIDMaxLength, opts.Styles.Prompt, opts.Styles.Terminal)
	m := &Model{svc: svc, ctx: opts.Context, keys: opts.Keys, styles: opts.Styles, me: opts.Me, input: ti}
	m.SetSize(60, 16)
	return m
}

// SetStyles draws the switcher with st from now on.
func (m *Model) SetStyles(st styles.Switcher) {
	m.styles = st
	textutil.StyleInput(&m.input, st.Prompt, st.Terminal)
}

// SetSize sets the size of the box; View fills exactly that.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = max(w, 0), max(h, 0)
	m.input.SetWidth(max(m.width-4-lipgloss.Width(m.input.Prompt)-1, 1))
	m.clamp()
}

// Active reports whether the switcher is open (and takes the keyboard).
func (m *Model) Active() bool { return m.active }

// Query is the query as typed, trimmed.
func (m *Model) Query() string { return m.query }

// Selected is the entry Enter would choose.
func (m *Model) Selected() (Entry, bool) {
	if m.selected < 0 || m.selected >= len(m.shown) {
		return Entry{}, false
	}
	return m.shown[m.selected].it.Entry, true
}

// Open shows the switcher over entries with an empty query: every entry, most recent first.
func (m *Model) Open(entries []Entry) tea.Cmd {
	m.reset()
	m.active = true
	m.setItems(entries)
	m.refilter("")
	return m.input.Focus()
}

// Close hides the switcher and forgets the query and the directory's answers.
func (m *Model) Close() {
	m.reset()
	m.items, m.known, m.shown, m.split = nil, nil, nil, 0
}

func (m *Model) reset() {
	m.active = false
	m.input.SetValue("")
	m.input.Blur()
	m.query = ""
	m.seq++ // ticks from before are stale
	m.dirQuery, m.dirItems, m.pending, m.failQuery, m.failReason = "", nil, "", "", ""
	m.selected, m.offset = 0, 0
}

// SetEntries replaces the entries while the switcher is open (a sync changed them), keeping the
// query and, when it is still listed, the selected entry.
func (m *Model) SetEntries(entries []Entry) {
	if !m.active {
		return
	}
	was, had := m.Selected()
	m.setItems(entries)
	m.refilter("")
	if had {
		for i, c := range m.shown {
			if c.it.Kind == was.Kind && c.it.Key == was.Key && c.it.UserID == was.UserID {
				m.selected = i
				break
			}
		}
	}
	m.clamp()
}

func (m *Model) setItems(entries []Entry) {
	m.items = make([]*item, len(entries))
	m.known = make(map[id.UserID]bool, len(entries))
	for i, e := range entries {
		it := newItem(e)
		m.items[i] = &it
		if e.UserID != "" {
			m.known[e.UserID] = true
		}
	}
	slices.SortStableFunc(m.items, func(a, b *item) int {
		return cmp.Or(cmp.Compare(b.LastActivity, a.LastActivity), strings.Compare(a.fold, b.fold), strings.Compare(a.Key, b.Key))
	})
	for i, it := range m.items {
		it.rank = i
	}
}

func newItem(e Entry) item {
	name := capField(strings.TrimSpace(sanitize.Line(e.Name)))
	uid := capField(sanitize.Line(string(e.UserID)))
	if name == "" {
		name = uid
	}
	if name == "" {
		name = "unnamed"
	}
	it := item{Entry: e, name: name, detail: capField(strings.TrimSpace(sanitize.Line(e.Detail))), hay: name, fold: strings.ToLower(name)}
	if uid != "" && uid != name {
		it.uid = uid
		it.hay = name + " " + uid
	}
	return it
}

func capField(s string) string {
	if len(s) <= maxField {
		return s
	}
	return ansi.Truncate(s, maxField, "…")
}

// setDirectory takes the directory's answer for query. It is listed only while query is still
// the query; people among the local matches are left out. Each entry is shown as KindDirectory.
func (m *Model) setDirectory(query string, users []Entry) {
	if query == m.pending {
		m.pending = ""
	}
	if !m.active || query != m.query {
		return
	}
	m.dirQuery = query
	m.dirItems = make([]item, len(users))
	for i, u := range users {
		u.Kind = KindDirectory
		m.dirItems[i] = newItem(u)
	}
	if m.failQuery == query {
		m.failQuery, m.failReason = "", ""
	}
	local := m.shown[:m.split:m.split] // appending makes a fresh array: copies of m share this one
	m.shown = append(local, m.directoryChoices(local)...)
	m.clamp()
}

// directoryFailed says the directory search for query failed, and why (one dim line).
func (m *Model) directoryFailed(query, reason string) {
	if query == m.pending {
		m.pending = ""
	}
	if !m.active || query != m.query {
		return
	}
	m.failQuery, m.failReason = query, strings.TrimSpace(sanitize.Line(reason))
}

// Update handles the switcher's messages (Msg) and, while it is open, keys. A directory search
// is run and its answer taken even after the switcher has closed; an answer for another query
// than the one typed is dropped.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case DirectoryMsg:
		return m.run(msg)
	case answerMsg:
		m.answered(msg)
		return nil
	}
	if !m.active {
		return nil
	}
	switch msg := msg.(type) {
	case TickMsg:
		q := m.query
		if msg.Seq != m.seq || utf8.RuneCountInString(q) < minDirectoryQuery || m.pending == q || m.dirQuery == q {
			return nil
		}
		m.pending = q
		return emit(DirectoryMsg{Query: q, Seq: msg.Seq})
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.PasteMsg:
		return m.edit(msg)
	}
	return nil
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	page := max(m.listHeight()-1, 1)
	switch {
	case key.Matches(k, m.keys.Close):
		m.Close()
		return emit(ClosedMsg{})
	case key.Matches(k, m.keys.Choose):
		e, ok := m.Selected()
		if !ok {
			return nil
		}
		m.Close()
		return emit(ChosenMsg{Entry: e})
	case key.Matches(k, m.keys.Up):
		m.move(-1)
	case key.Matches(k, m.keys.Down):
		m.move(1)
	case key.Matches(k, m.keys.PageUp):
		m.move(-page)
	case key.Matches(k, m.keys.PageDown):
		m.move(page)
	default:
		return m.edit(k)
	}
	return nil
}

// edit hands a key or a paste to the query's input.
func (m *Model) edit(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if v := m.input.Value(); sanitize.Line(v) != v {
		m.input.SetValue(sanitize.Line(v)) // a paste with escape sequences or bidi controls
	}
	if q := strings.TrimSpace(m.input.Value()); q != m.query {
		cmd = tea.Batch(cmd, m.setQuery(q))
	}
	return cmd
}

// setQuery filters for q and starts the directory's debounce timer when q is long enough.
func (m *Model) setQuery(q string) tea.Cmd {
	prev := m.query
	m.query = q
	m.seq++
	m.failQuery, m.failReason = "", "" // asked again when the query comes back
	m.refilter(prev)
	if utf8.RuneCountInString(q) < minDirectoryQuery || m.dirQuery == q {
		return nil
	}
	seq := m.seq
	return tea.Tick(directoryDelay, func(time.Time) tea.Msg { return TickMsg{Seq: seq} })
}

// refilter lists what matches the query, selecting the first row. prev is the query listed
// until now: when the query only grew, what it matches is among what prev matched.
func (m *Model) refilter(prev string) {
	pool := m.items
	if prev != "" && strings.HasPrefix(m.query, prev) {
		local := m.shown[m.leading():m.split]
		pool = make([]*item, len(local))
		for i, c := range local {
			pool[i] = c.it
		}
	}
	var shown []choice
	if uid, ok := m.newDMTarget(); ok {
		it := &item{Entry: Entry{Kind: KindNewDM, Name: string(uid), UserID: uid}, name: string(uid), hay: string(uid)}
		shown = append(shown, choice{it: it})
	}
	shown = append(shown, match(pool, m.query)...)
	m.split = len(shown)
	m.shown = append(shown, m.directoryChoices(shown)...)
	m.selected, m.offset = 0, 0
	m.clamp()
}

// newDMTarget is the user ID the query names, when it is well formed, not the user's own and
// not anyone's in the list.
func (m *Model) newDMTarget() (id.UserID, bool) {
	if !strings.HasPrefix(m.query, "@") {
		return "", false
	}
	uid, err := matrixsvc.ValidateUserID(m.me, m.query)
	if err != nil || m.known[uid] {
		return "", false
	}
	return uid, true
}

// directoryChoices is the directory's answer for the query, in the server's order, without
// the user and without people already listed above it (local).
func (m *Model) directoryChoices(local []choice) []choice {
	if m.dirQuery != m.query || m.query == "" {
		return nil
	}
	seen := map[id.UserID]bool{m.me: true, "": true}
	for _, c := range local {
		seen[c.it.UserID] = true
	}
	var out []choice
	for i := range m.dirItems {
		it := &m.dirItems[i]
		if seen[it.UserID] {
			continue
		}
		seen[it.UserID] = true
		c := choice{it: it}
		if ms := fuzzy.Find(m.query, []string{it.hay}); len(ms) == 1 {
			c.matched = ms[0].MatchedIndexes // for highlighting only: the server matched as it likes
		}
		out = append(out, c)
	}
	return out
}

// hays is the items as a fuzzy.Source.
type hays []*item

func (h hays) String(i int) string { return h[i].hay }
func (h hays) Len() int            { return len(h) }

// match is the items q matches, best first. The fuzzy score counts every character the query
// does not match against an entry; the user ID's are given back, so that the length of a
// server's name does not bury a good match. Equal scores go to the most recent, then by name.
func match(items []*item, q string) []choice {
	if q == "" {
		out := make([]choice, len(items))
		for i, it := range items {
			out[i] = choice{it: it}
		}
		return out
	}
	ms := fuzzy.FindFromNoSort(q, hays(items))
	out := make([]choice, len(ms))
	for i, mt := range ms {
		it := items[mt.Index]
		out[i] = choice{it: it, score: mt.Score + len(it.hay) - len(it.name), matched: mt.MatchedIndexes}
	}
	slices.SortFunc(out, func(a, b choice) int {
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.it.rank, b.it.rank))
	})
	return out
}

func (m *Model) move(n int) {
	if len(m.shown) == 0 {
		return
	}
	m.selected = min(max(m.selected+n, 0), len(m.shown)-1)
	m.clamp()
}

func emit(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }
