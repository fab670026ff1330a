// Package search is the message search dialog: a query typed into a box, the matching messages
// listed under it, found in the local index (the service's Index role). Its messages are one
// family, Msg: the root hands them to Update, except OpenMsg, which asks the root to open a
// result.
package search

import (
	"context"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/ui/internal/textutil"
	"duet/ui/styles"
)

// Debounce is how long typing must pause before the query is searched for.
const Debounce = 250 * time.Millisecond

// maxQuery is the longest query, in characters: a few words, and a paste of a whole message
// is cut.
const maxQuery = 256

// Scope is where the dialog searches when it opens: one person's messages, or everywhere when
// User is empty. Name is the person as the UI names them.
type Scope struct {
	User id.UserID
	Name string
}

// Result is one message found.
type Result struct {
	RoomID    id.RoomID
	EventID   id.EventID
	Person    id.UserID // the contact the conversation is with; "" for a group
	Name      string    // the contact's display name or the group's name
	Sender    id.UserID
	Mine      bool
	Timestamp time.Time
	Acct      int    // the index of its account among Options.Accounts
	Account   string // its account's tag; "" when one account is open
	// Snippet is the text around the match, as SQLite's FTS snippet() gives it: the matched
	// words between "\x01" and "\x02", "…" where text was cut.
	Snippet string
}

// Msg is the family of the dialog's messages: what its Cmds answer (TickMsg, QueryMsg, the
// index's answer), and what it hands back to the root (OpenMsg, ClosedMsg). The root acts on
// OpenMsg and hands every other one to Update.
type Msg interface{ searchMsg() }

func (QueryMsg) searchMsg()  {}
func (OpenMsg) searchMsg()   {}
func (ClosedMsg) searchMsg() {}
func (TickMsg) searchMsg()   {}

// Messages of the dialog.
type (
	// QueryMsg asks the index for Query in User's messages, or everywhere when User is "".
	// Update runs it; the answer is shown when Seq is still the newest query.
	QueryMsg struct {
		Seq   int
		Query string
		User  id.UserID
	}
	// OpenMsg asks to open the conversation of Result at its message. The dialog has closed.
	OpenMsg struct{ Result Result }
	// ClosedMsg says the dialog was closed without opening anything.
	ClosedMsg struct{}
)

// TickMsg ends a pause in typing. One from an earlier burst of typing does nothing.
type TickMsg struct{ seq int }

// row is a result as it is drawn: its text sanitized, the snippet split at the matches.
type row struct {
	res     Result
	name    string
	sender  string // "you", the sender in a group, or ""
	snippet []segment
}

// segment is a run of a snippet's text, matched or not.
type segment struct {
	text  string
	match bool
}

// Options are the dialog's settings.
type Options struct {
	Keys    KeyMap
	Styles  styles.Search
	Me      id.UserID        // the user: their messages are "you"
	Now     func() time.Time // the clock the results' times are shown against; nil: time.Now
	Context context.Context  // bounds every search; nil: context.Background()

	// Accounts, when several are open: each is searched, and the results, newest first
	// across them, name their account. New's svc and Me are then unused.
	Accounts []Account
}

// Account is one of several accounts searched.
type Account struct {
	Index Index
	Tag   string
	Me    id.UserID
}

// Model is the dialog. Create it with New.
type Model struct {
	svc      Index
	accounts []Account
	ctx      context.Context
	me       id.UserID
	keys     KeyMap
	styles   styles.Search
	now      func() time.Time

	active     bool
	scope      Scope
	who        string // the scope's person as shown, sanitized
	everywhere bool   // searching all conversations although Open named a person

	input textinput.Model
	typed int // counts edits of the query: a tick for an older one is stale

	asked      int // Seq of the newest QueryMsg
	askedQuery string
	askedUser  id.UserID
	waiting    bool // the answer to asked has not come yet
	openNext   bool // enter was pressed while waiting: open the first result of the answer

	shown      bool // rows are the answer for shownQuery in shownUser
	shownQuery string
	shownUser  id.UserID
	rows       []row
	more       bool   // there may be more results than rows
	err        string // why the last search failed, sanitized

	selected int
	offset   int // the first result drawn

	width, height int
}

// New returns a closed dialog that searches svc.
func New(svc Index, opts Options) *Model {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	ti := textutil.QueryInput("› ", "words to find", maxQuery, opts.Styles.Prompt, opts.Styles.Terminal)
	m := &Model{svc: svc, accounts: opts.Accounts, ctx: opts.Context, me: opts.Me, keys: opts.Keys, styles: opts.Styles, now: opts.Now, input: ti}
	m.SetSize(70, 18)
	return m
}

// SetStyles draws the search with st from now on.
func (m *Model) SetStyles(st styles.Search) {
	m.styles = st
	textutil.StyleInput(&m.input, st.Prompt, st.Terminal)
}

// SetSize sets the size of the box View draws.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = max(w, 0), max(h, 0)
	// The box's inner width, less the prompt and the cursor.
	m.input.SetWidth(max(m.width-4-lipgloss.Width(m.input.Prompt)-1, 1))
	m.clamp()
}

// Active reports whether the dialog is open.
func (m *Model) Active() bool { return m.active }

// Open shows the dialog with an empty query, searching scope.
func (m *Model) Open(scope Scope) tea.Cmd {
	m.Close()
	m.active = true
	m.scope = scope
	m.who = sanitize.Line(scope.Name)
	if m.who == "" {
		m.who = sanitize.Line(string(scope.User))
	}
	return m.input.Focus()
}

// Close hides the dialog and forgets the query and its results. An answer still on its way is
// ignored.
func (m *Model) Close() {
	m.active = false
	m.scope, m.who, m.everywhere = Scope{}, "", false
	m.input.SetValue("")
	m.input.Blur()
	m.typed++
	m.waiting, m.openNext = false, false
	m.clearResults()
	m.err = ""
}

func (m *Model) clearResults() {
	m.shown, m.shownQuery, m.shownUser = false, "", ""
	m.rows, m.more = nil, false
	m.selected, m.offset = 0, 0
}

// setResults shows the answer to the QueryMsg with Seq seq; more says there may be more than
// these. An answer to an older query than the newest is ignored.
//
// When enter was pressed while the search was under way, the first result is opened now: the
// returned command says so (OpenMsg), and the dialog closes.
func (m *Model) setResults(seq int, results []Result, more bool) tea.Cmd {
	if !m.answers(seq) {
		return nil
	}
	if m.openNext && len(results) > 0 && m.askedQuery == m.query() && m.askedUser == m.user() {
		res := results[0]
		m.Close()
		return emit(OpenMsg{Result: res})
	}
	m.openNext = false
	m.waiting = false
	m.err = ""
	m.rows = make([]row, len(results))
	for i, r := range results {
		m.rows[i] = newRow(r)
	}
	m.more = more && len(results) > 0
	m.shown, m.shownQuery, m.shownUser = true, m.askedQuery, m.askedUser
	m.selected, m.offset = 0, 0
	m.clamp()
	return nil
}

// setError shows why the search with Seq seq failed. The query stays, to be fixed. An answer to
// an older query than the newest is ignored.
func (m *Model) setError(seq int, err string) {
	if !m.answers(seq) {
		return
	}
	m.waiting = false
	m.clearResults()
	m.err = sanitize.Line(err)
	if m.err == "" {
		m.err = "search failed"
	}
}

func (m *Model) answers(seq int) bool { return m.active && m.waiting && seq == m.asked }

func newRow(r Result) row {
	out := row{res: r, name: sanitize.Line(r.Name), snippet: parseSnippet(r.Snippet)}
	if r.Account != "" {
		out.name += " · " + sanitize.Line(r.Account)
	}
	switch {
	case r.Mine:
		out.sender = "you"
	case r.Person == "" && r.Sender != "":
		out.sender = sanitize.Line(r.Sender.Localpart())
	}
	if out.name == "" {
		out.name = sanitize.Line(string(r.Person))
	}
	return out
}

// newlines shows a snippet's line breaks on its one line.
var newlines = strings.NewReplacer("\r\n", " ⏎ ", "\n", " ⏎ ", "\r", " ⏎ ")

// parseSnippet splits a snippet at its match markers, which are dropped, and sanitizes the
// text between them. A marker out of place (a start inside a match, an end outside one) only
// ends the run before it.
func parseSnippet(s string) []segment {
	var out []segment
	match := false
	add := func(text string) {
		if text = sanitize.Line(newlines.Replace(text)); text != "" {
			out = append(out, segment{text: text, match: match})
		}
	}
	for {
		i := strings.IndexAny(s, "\x01\x02")
		if i < 0 {
			add(s)
			return out
		}
		add(s[:i])
		match = s[i] == '\x01'
		s = s[i+1:]
	}
}

// query is the query as it is searched for.
func (m *Model) query() string { return strings.TrimSpace(m.input.Value()) }

// user is whose messages are searched: "" for all conversations.
func (m *Model) user() id.UserID {
	if m.everywhere {
		return ""
	}
	return m.scope.User
}

// current reports whether the rows shown answer the query as it is now.
func (m *Model) current() bool {
	return m.shown && m.shownQuery == m.query() && m.shownUser == m.user()
}

// canOpen reports whether enter opens a result.
func (m *Model) canOpen() bool { return m.current() && len(m.rows) > 0 }

// ask sends the query now, unless it is already out or answered.
func (m *Model) ask() tea.Cmd {
	q, u := m.query(), m.user()
	if q == "" || m.current() || (m.waiting && m.askedQuery == q && m.askedUser == u) {
		return nil
	}
	m.asked++
	m.askedQuery, m.askedUser, m.waiting = q, u, true
	m.err = ""
	return emit(QueryMsg{Seq: m.asked, Query: q, User: u})
}

// Update handles the dialog's messages (Msg) and, while it is open, keys. A query is run
// and its answer taken even after the dialog has closed; an answer it no longer waits for is
// dropped.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case QueryMsg:
		return m.run(msg)
	case answerMsg:
		return m.answered(msg)
	}
	if !m.active {
		return nil
	}
	switch msg := msg.(type) {
	case TickMsg:
		if msg.seq != m.typed {
			return nil
		}
		return m.ask()
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.PasteMsg:
		return m.edit(msg)
	}
	return nil
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	keys := m.keys
	switch {
	case key.Matches(k, keys.Close):
		m.Close()
		return emit(ClosedMsg{})
	case key.Matches(k, keys.Open):
		if m.canOpen() {
			res := m.rows[m.selected].res
			m.Close()
			return emit(OpenMsg{Result: res})
		}
		// Enter that starts the search shows its results; enter while the search for what is
		// typed is already under way (started by a pause in typing, or tab) opens the first
		// result when it comes, as it would have opened the first result shown.
		cmd := m.ask()
		m.openNext = cmd == nil && m.waiting && m.askedQuery == m.query() && m.askedUser == m.user()
		return cmd
	case key.Matches(k, keys.Scope):
		if m.scope.User == "" {
			return nil
		}
		m.everywhere = !m.everywhere
		return m.ask()
	case key.Matches(k, keys.Up):
		m.move(-1)
	case key.Matches(k, keys.Down):
		m.move(1)
	case key.Matches(k, keys.PageUp):
		m.move(-m.visible())
	case key.Matches(k, keys.PageDown):
		m.move(m.visible())
	default:
		return m.edit(k)
	}
	return nil
}

// edit hands a key or a paste to the query's input; a change of the query starts the pause
// before it is searched for.
func (m *Model) edit(k tea.Msg) tea.Cmd {
	before := m.input.Value()
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(k)
	if v := m.input.Value(); sanitize.Line(v) != v {
		// Pasted text may hold what the input does not filter out (bidi controls).
		m.input.SetValue(sanitize.Line(v))
	}
	if m.input.Value() == before {
		return cmd
	}
	m.typed++
	if m.query() == "" {
		// Nothing to search for: what was shown and what is on its way no longer apply.
		m.waiting = false
		m.clearResults()
		m.err = ""
		return cmd
	}
	seq := m.typed
	return tea.Batch(cmd, tea.Tick(Debounce, func(time.Time) tea.Msg { return TickMsg{seq: seq} }))
}

func (m *Model) move(by int) {
	m.selected += by
	m.clamp()
}

// visible is how many results the list shows at once.
func (m *Model) visible() int { return max(m.listHeight()/2, 1) }

// listHeight is the lines under the query and the status line, inside the border.
func (m *Model) listHeight() int { return max(m.height-4, 0) }

// clamp keeps the selection on a result and in view.
func (m *Model) clamp() {
	n := len(m.rows)
	m.selected = max(min(m.selected, n-1), 0)
	v := m.visible()
	if m.selected < m.offset {
		m.offset = m.selected
	}
	if m.selected >= m.offset+v {
		m.offset = m.selected - v + 1
	}
	m.offset = max(min(m.offset, n-v), 0)
}

func emit(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }
