// Package ui is duet's terminal interface: contacts on the left, the open conversation on the
// right, a status bar below. The root model routes messages, lays out and handles the global
// keys; the components under ui/ do the rest.
package ui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"

	"duet/matrixsvc"
	"duet/ui/chat"
	"duet/ui/composer"
	"duet/ui/contacts"
	"duet/ui/conversation"
	"duet/ui/internal/terminal"
	"duet/ui/internal/textutil"
	"duet/ui/keys"
	"duet/ui/newdm"
	"duet/ui/search"
	"duet/ui/security"
	"duet/ui/statusbar"
	"duet/ui/styles"
	"duet/ui/switcher"
)

// Options configure the UI. Zero fields get defaults.
type Options struct {
	Keymap  *keys.KeyMap     // nil: keys.DefaultKeyMap()
	Styles  *styles.Styles   // nil: styles.Default()
	Now     func() time.Time // nil: time.Now (tests pass a fixed clock)
	Context context.Context  // bounds the requests the UI makes; nil: context.Background()

	InlineImages bool     // draw images in the timeline (block characters)
	KittyImages  bool     // the terminal speaks the kitty graphics protocol: draw images with it
	ProgressBar  bool     // the terminal has its own progress indicator (OSC 9;4): long work shows there too
	NoTyping     bool     // never tell others that we type
	Bell         bool     // ring the terminal's bell for a message not on screen
	Desktop      Notifier // desktop notifications for a message not on screen; nil: none
	Downloads    string   // where saved files go
	OpenDir      string   // where files to open are fetched (private)

	Getenv func(string) string // reads $VISUAL and $EDITOR for the composer's editor; nil: os.Getenv

	// StartNotice is said in the status bar at start: an account that could not be opened
	// while the others were.
	StartNotice string

	// FirstFrame is called once, off the UI goroutine, after the first frame that shows the
	// contacts list (or says it could not be read) has been drawn: what that frame does not
	// need (the sync loop, which loads the crypto machine) starts then, and does not compete
	// with it. nil: nothing waits for it.
	FirstFrame func()
}

// Notifier shows desktop notifications (internal/notify.Desktop).
type Notifier interface {
	Notify(ctx context.Context, summary, body string) error
}

func (o Options) withDefaults() Options {
	if o.Keymap == nil {
		km := keys.DefaultKeyMap()
		o.Keymap = &km
	}
	if o.Styles == nil {
		st := styles.Default()
		o.Styles = &st
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Context == nil {
		o.Context = context.Background()
	}
	return o
}

type focus int

const (
	focusContacts focus = iota
	focusComposer
	focusPrompt
	focusPick // a message of the open conversation is picked (its keys go to chat.Model.PickKey)
)

// Model is the root model: layout, focus, the global keys, and routing. Each conversation
// opened is a chat.Model, which does the rest of what happens in it.
type Model struct {
	accts  []*account // the open accounts, at least one
	ctx    context.Context
	keys   keys.KeyMap
	styles styles.Styles
	now    func() time.Time
	opts   Options // what the UI was started with: images, notifications, folders

	contacts contacts.Model
	composer composer.Model
	status   statusbar.Model
	help     help.Model
	newDM    *newdm.Model    // the new-DM prompt and the check of a user ID
	security *security.Model // the security flow of the account whose dialog shows (over the right pane)
	secAcct  int             // the index of that account
	search   *search.Model   // message search, over the right pane
	finder   *switcher.Model // the quick switcher, over the right pane

	focus    focus
	showHelp bool
	chats    map[string]*chat.Model // by contacts.Item.Key()
	open     string                 // the chat shown

	txnBase   string
	txnSeq    int
	lastRetry time.Time // the last key-press retry while offline
	confirm   tea.Cmd   // asked in the status bar: run on y, dropped on any other key
	confirmNo string    // what the status bar says when the answer is no

	firstFrameTold bool   // opts.FirstFrame is on its way
	wantOpen       string // the conversation open when duet last ran, until its row is listed

	term     terminal.Model // what the terminal is told: title, modes, bell, clipboard
	imageSeq uint32         // the last kitty graphics image id given out

	width, height int
}

// New returns the root model for a logged-in service.
func New(svc Service, opts Options) *Model {
	return NewAccounts([]Profile{{Svc: svc}}, opts)
}

// NewAccounts returns the root model for several logged-in accounts in one window: one list
// of every account's DMs (at least one profile).
func NewAccounts(profiles []Profile, opts Options) *Model {
	opts = opts.withDefaults()
	km, st := *opts.Keymap, *opts.Styles
	accts := newAccounts(profiles, st.Terminal.Plain())
	if len(accts) < 2 {
		km.Contacts.Account.SetEnabled(false) // one account: nothing to narrow to, nothing to show in help
	}
	first := accts[0]
	m := &Model{
		accts: accts, ctx: opts.Context, keys: km, styles: st, now: opts.Now, opts: opts,
		contacts: contacts.New(km.Contacts, st.Contacts, opts.Now),
		composer: composer.New(km.Composer, st),
		status:   statusbar.New(st.Status),
		help:     help.New(),
		chats:    map[string]*chat.Model{},
		txnBase:  newTxnBase(),
	}
	m.search = search.New(first.svc, search.Options{Keys: km.Search, Styles: st.Search, Me: first.me, Now: m.now, Context: m.ctx,
		Accounts: searchAccounts(accts)})
	var dir switcher.Directory = first.svc
	if m.multi() {
		dir = directory(accts)
	}
	m.finder = switcher.New(dir, switcher.Options{Keys: km.Switcher, Styles: st.Switcher, Me: first.me, Context: m.ctx})
	for _, a := range accts {
		a.security = security.New(a.svc, accountHost{host{m}, a}, security.Options{Keys: km.Security, Styles: st, Me: a.me,
			Context: m.ctx, RecoveryKey: km.Global.Recovery.Help().Key, Account: a.tag})
	}
	m.security = first.security
	m.newDM = newdm.New(first.svc, host{m}, newdm.Options{Styles: st, Context: m.ctx, Accounts: newDMAccounts(accts)})
	m.setUpAccounts()
	m.styleHelp()
	if !m.multi() {
		m.status.SetAccount(string(first.me))
	}
	if opts.StartNotice != "" {
		m.status.SetError(opts.StartNotice)
	}
	m.status.SetClock(opts.Now)
	m.contacts.Focus()
	m.width, m.height = 80, 24
	m.layout()
	return m
}

// styleHelp styles the key help with the root's styles.
func (m *Model) styleHelp() {
	st := m.styles
	m.help.Styles.ShortKey = st.Status.HintKey
	m.help.Styles.ShortDesc = st.Status.Hint
	m.help.Styles.ShortSeparator = st.Status.Hint
	m.help.Styles.FullKey = st.Label
	m.help.Styles.FullDesc = st.Muted
	m.help.Styles.FullSeparator = st.Muted
	if st.Terminal.Plain() {
		m.help.Styles.Ellipsis = st.Muted // else Bubbles' own grey
	}
}

// backgroundTold restyles the whole screen when the terminal's answer about its background
// (asked by Run, after the first frame is drawn with a dark one) says it is light, or dark
// again: the default theme drawn for the terminal as it is.
func (m *Model) backgroundTold(msg tea.BackgroundColorMsg) {
	term := m.styles.Terminal
	term.Light = !msg.IsDark()
	if term == m.styles.Terminal {
		return
	}
	st := styles.For(styles.DefaultTheme(), term)
	m.styles, m.opts.Styles = st, &st
	m.contacts.SetStyles(st.Contacts)
	m.composer.SetStyles(st)
	m.status.SetStyles(st.Status)
	m.styleHelp()
	m.search.SetStyles(st.Search)
	m.finder.SetStyles(st.Switcher)
	for _, a := range m.accts {
		a.security.SetStyles(st)
	}
	m.newDM.SetStyles(st)
	for _, c := range m.chats {
		c.SetStyles(st)
	}
}

func newTxnBase() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "duet" + hex.EncodeToString(b)
}

// chatOptions are what every conversation of account a shares.
func (m *Model) chatOptions(a *account) chat.Options {
	o := m.opts
	return chat.Options{Keys: m.keys, Styles: m.styles, Me: a.me, Now: m.now, Context: m.ctx,
		Images: o.InlineImages, Kitty: o.KittyImages, NoTyping: o.NoTyping, Downloads: o.Downloads, OpenDir: o.OpenDir}
}

// newTxn is a transaction ID for one local message, reused when it is retried.
func (m *Model) newTxn() string {
	m.txnSeq++
	return fmt.Sprintf("%s.%d", m.txnBase, m.txnSeq)
}

// Init starts listening to the services and loads the contacts.
func (m *Model) Init() tea.Cmd {
	var cmds []tea.Cmd
	for _, a := range m.accts {
		cmds = append(cmds, listen(a.idx, a.svc.Events()), m.firstOverview(a))
	}
	return tea.Batch(cmds...)
}

// Update routes a message to the part that owns its family, then does what follows every
// message (afterMessage).
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
	case tea.BackgroundColorMsg:
		m.backgroundTold(msg)
	case tea.KeyPressMsg:
		cmd = m.handleKey(msg)
	case tea.PasteMsg:
		cmd = m.handlePaste(msg)
	case tea.MouseMsg:
		cmd = m.handleMouse(msg)
	case eventsMsg:
		a := m.acct(msg.acct)
		cmd = tea.Batch(m.handleEvents(a, msg.events), listen(a.idx, a.svc.Events()))
	case acctMsg:
		cmd = m.accountMsg(msg)
	case chat.Msg:
		if c := m.chats[msg.ChatKey()]; c != nil {
			cmd = c.Update(msg)
		}
	case conversation.RetryMsg:
		if c := m.openChat(); c != nil {
			cmd = c.Retry(msg.Txn)
		}
	case chat.TypingSentMsg:
		// Typing is a courtesy: a failure to say it is not worth a word in the status bar.
	case overviewMsg, refreshListMsg, inviteDoneMsg, blockDoneMsg, chat.MarkedReadMsg,
		contacts.OpenMsg, contacts.NewDMMsg, contacts.AcceptMsg, contacts.DeclineMsg, contacts.BlockMsg, contacts.UnblockMsg:
		cmd = m.updateList(msg)
	case security.Msg:
		cmd = m.sec(m.security.Update(msg))
	case newdm.Msg:
		cmd = m.userChecked(msg)
	case search.Msg, switcher.Msg:
		cmd = m.updateFind(msg)
	case tea.KeyboardEnhancementsMsg:
		m.keysTold(msg.SupportsKeyDisambiguation())
	case tea.FocusMsg, tea.BlurMsg:
		m.term.Update(msg)
	case countdownMsg:
		if m.status.Offline() {
			cmd = countdown() // redraws the countdown; stops once back online
		}
	case editorDoneMsg:
		m.editorDone(msg)
	case notified:
	default:
		cmd = m.forwardToFocused(msg)
	}
	return m, tea.Batch(cmd, m.afterMessage())
}

// afterMessage is what follows every message: the next verification request, older history
// when the top is in view, read marks, pictures in view, the status bar's hint.
func (m *Model) afterMessage() tea.Cmd {
	cmds := []tea.Cmd{m.afterDialog()}
	if c := m.openChat(); c != nil {
		cmds = append(cmds, c.LoadOlderIfNeeded())
		if !m.showHelp && !m.security.Active() {
			cmds = append(cmds, c.MarkRead())
		}
		cmds = append(cmds, c.FetchPictures())
	}
	m.status.SetHint(m.hint())
	return tea.Batch(cmds...)
}

// afterDialog shows the next verification request once the dialog is free (of any account),
// and gives the keyboard back to what had it.
func (m *Model) afterDialog() tea.Cmd {
	m.security.ShowNext()
	for _, a := range m.accts {
		if m.security.Active() {
			break
		}
		a.security.ShowNext()
		if a.security.Active() {
			m.security, m.secAcct = a.security, a.idx
		}
	}
	switch {
	case m.security.Active() && m.composer.Focused():
		m.composer.Blur() // what was typed stays
	case !m.security.Active() && m.focus == focusComposer && !m.composer.Focused():
		return m.composer.Focus()
	}
	return nil
}

// updateList handles the contacts list's messages: the list read again, its intents, and
// what an answer to an invite or a block brought.
func (m *Model) updateList(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case overviewMsg:
		return m.applyOverview(msg)
	case refreshListMsg:
		return m.refreshOverview(m.acct(msg.acct))
	case inviteDoneMsg:
		return m.inviteDone(msg)
	case blockDoneMsg:
		return m.blockDone(msg)
	case chat.MarkedReadMsg:
		if msg.Err == nil {
			return m.refreshAll()
		}
	default:
		return m.handleIntent(msg)
	}
	return nil
}

// updateComposer hands a message to the composer; when its text changed, the open
// conversation hears of it (it tells the room that we type).
func (m *Model) updateComposer(msg tea.Msg) tea.Cmd {
	before := m.composer.Value()
	var cmd tea.Cmd
	cmd = m.composer.Update(msg)
	if c := m.openChat(); m.composer.Value() != before && c != nil {
		cmd = tea.Batch(cmd, c.DraftChanged())
	}
	return cmd
}

// forwardToFocused hands other messages (cursor, paste) to the focused input.
func (m *Model) forwardToFocused(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch {
	case m.security.Active():
		return m.sec(m.security.Update(msg))
	case m.search.Active():
		return m.search.Update(msg)
	case m.finder.Active():
		return m.finder.Update(msg)
	}
	switch m.focus {
	case focusComposer:
		cmd = m.updateComposer(msg)
	case focusPrompt:
		cmd = m.newDM.Update(msg)
	case focusPick:
		if c := m.openChat(); c != nil {
			if in := c.ReactInput(); in != nil {
				*in, cmd = in.Update(msg)
			}
		}
	default:
		cmd = m.contacts.Update(msg)
	}
	return cmd
}

// handleIntent carries out what the contacts list asks for.
func (m *Model) handleIntent(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case contacts.OpenMsg:
		return m.openItem(msg.Item, true)
	case contacts.NewDMMsg:
		return m.startPrompt()
	case contacts.AcceptMsg:
		return m.answer(msg.Item, true)
	case contacts.DeclineMsg:
		return m.answer(msg.Item, false)
	case contacts.BlockMsg:
		return m.askBlock(msg.Item)
	case contacts.UnblockMsg:
		return m.unblock(msg.Item)
	}
	return nil
}

// focusComposer moves the keyboard to the composer when a conversation that can take messages
// is open.
func (m *Model) focusComposer() tea.Cmd {
	c := m.openChat()
	if c == nil || c.Item().Pending {
		return nil
	}
	return m.setFocus(focusComposer)
}

func (m *Model) setFocus(f focus) tea.Cmd {
	if f != focusPick {
		if c := m.openChat(); c != nil {
			c.EndPick()
		}
	}
	m.focus = f
	m.contacts.Blur()
	m.composer.Blur()
	m.newDM.Blur()
	switch f {
	case focusComposer:
		return m.composer.Focus()
	case focusPrompt:
		return m.newDM.Focus()
	case focusPick: // the keys go to the chat's PickKey
	default:
		m.contacts.Focus()
	}
	return nil
}

func (m *Model) handleMouse(msg tea.MouseMsg) tea.Cmd {
	l := m.computeLayout()
	ev := msg.Mouse()
	onLeft := ev.X < l.leftW
	c := m.openChat()
	_, wheel := msg.(tea.MouseWheelMsg)
	_, click := msg.(tea.MouseClickMsg)
	switch {
	case wheel && ev.Button == tea.MouseWheelUp && onLeft:
		m.contacts.Scroll(-1)
	case wheel && ev.Button == tea.MouseWheelDown && onLeft:
		m.contacts.Scroll(1)
	case wheel && ev.Button == tea.MouseWheelUp && c != nil:
		c.Scroll(-3)
	case wheel && ev.Button == tea.MouseWheelDown && c != nil:
		c.Scroll(3)
	case click && ev.Button == tea.MouseLeft:
		if onLeft && ev.Y < l.mainH {
			cmd := m.setFocus(focusContacts)
			m.contacts.Click(ev.Y)
			return cmd
		}
		if !onLeft && ev.Y >= l.composerTop && ev.Y < l.mainH {
			return m.focusComposer()
		}
	}
	return nil
}

// handleEvents takes in what account a's service reports: the connection, what a sync
// brought, the outbox's progress, verifications.
func (m *Model) handleEvents(a *account, events []matrixsvc.Event) tea.Cmd {
	var cmds []tea.Cmd
	refresh := false
	for _, evt := range events {
		switch evt := evt.(type) {
		case matrixsvc.SyncStateChanged:
			wasOffline := m.status.Offline()
			m.status.SetSyncOf(a.idx, evt)
			if evt.State == matrixsvc.SyncOffline && !wasOffline {
				cmds = append(cmds, countdown())
			}
		case matrixsvc.SyncApplied:
			cmds = append(cmds, m.notifyOf(a, evt.Messages))
			for key, c := range m.chats {
				if c.Item().Acct == a.idx {
					cmds = append(cmds, c.Synced(evt, key == m.open))
				}
			}
			refresh = refresh || evt.DMListChanged || len(evt.Messages) > 0 || len(evt.Redecrypted) > 0 || len(evt.Changed) > 0
		case matrixsvc.LoggedOut:
			msg := matrixsvc.ErrLoggedOut.Error()
			if a.profile != "" {
				// The other accounts go on; this one's login is its profile's.
				msg = fmt.Sprintf("logged out: run `duet login --profile %s` (the other accounts go on)", a.profile)
			}
			m.status.SetError(a.label(msg))
		case matrixsvc.OutgoingChanged:
			if c := m.chatOfTxn(evt.TxnID); c != nil {
				cmds = append(cmds, c.OutgoingChanged(evt))
			}
		case matrixsvc.Progress:
			m.status.SetProgress(evt)
		case matrixsvc.SyncFailed:
			m.status.SetError(a.label("sync stopped: " + matrixsvc.Explain(evt.Err)))
		case matrixsvc.Verification:
			cmds = append(cmds, forAcct(a.idx, a.security.Verification(evt)))
		}
	}
	if refresh {
		cmds = append(cmds, m.refreshOverview(a))
	}
	return tea.Batch(cmds...)
}

// chatOfTxn finds the chat a message in the outbox belongs to.
func (m *Model) chatOfTxn(txn string) *chat.Model {
	for _, c := range m.chats {
		if c.Owns(txn) {
			return c
		}
	}
	return nil
}

func (m *Model) applyOverview(msg overviewMsg) tea.Cmd {
	a := m.acct(msg.acct)
	if msg.seq < a.overviewApplied {
		return nil
	}
	a.overviewApplied = msg.seq
	// What follows the first frame (the sync loops, the kept lists derived again) waits for
	// every account's list: started after the first one's, it would compete with the others'
	// on the same cores.
	var drawn tea.Cmd
	if m.allListed() {
		drawn = m.firstFrame()
	}
	if msg.err != nil {
		m.status.SetError(a.label(textutil.Explain(msg.err)))
		return drawn
	}
	m.contacts.SetAccountOverview(a.idx, msg.ov, a.me)
	m.term.SetTitle(m.unreadTitle())
	if bad := !msg.ov.DirectWellFormed; bad != a.directBad {
		a.directBad = bad // said once when it turns bad, not at every refresh
		if bad {
			m.status.SetError(a.label("your DM list (m.direct) is malformed: duet shows what it can read and will not change it"))
		}
	}
	var cmds []tea.Cmd
	if msg.cached {
		// Drawn from what the last run kept: the list derived from the store replaces it
		// once this frame is out (a later seq, so an event's refresh meanwhile wins too).
		a.kept = true
	}
	cmds = append(cmds, m.deriveKept())
	for key, c := range m.chats {
		if it, ok := m.contacts.Find(key); ok {
			cmds = append(cmds, c.SetItem(it))
		}
	}
	if msg.lastOpen != "" {
		m.wantOpen = msg.lastOpen
	}
	return tea.Batch(append(cmds, m.reopenLast(), drawn)...)
}

// deriveKept asks, once every account's list is in, for the lists derived from the stores of
// the accounts shown with the list the last run kept.
func (m *Model) deriveKept() tea.Cmd {
	if !m.allListed() {
		return nil
	}
	var cmds []tea.Cmd
	for _, a := range m.accts {
		if a.kept {
			a.kept = false
			idx := a.idx
			cmds = append(cmds, tea.Tick(firstFrameDrawn, func(time.Time) tea.Msg { return refreshListMsg{acct: idx} }))
		}
	}
	return tea.Batch(cmds...)
}

// reopenLast opens the conversation open when duet last ran, once its account's list is in
// (given up once every account's is and it is not there).
func (m *Model) reopenLast() tea.Cmd {
	if m.wantOpen == "" || m.open != "" {
		return nil
	}
	it, ok := m.contacts.Find(m.wantOpen)
	if !ok {
		if m.allListed() {
			m.wantOpen = ""
		}
		return nil
	}
	m.wantOpen = ""
	if it.Pending {
		return nil
	}
	return m.openItem(it, false)
}

// allListed reports whether every account's list has been shown once.
func (m *Model) allListed() bool {
	for _, a := range m.accts {
		if a.overviewApplied == 0 {
			return false
		}
	}
	return true
}

// firstFrameDrawn is how long after the first list is in the model its frame is surely on
// the terminal: Bubble Tea writes a frame at its next tick, 60 a second.
const firstFrameDrawn = 2 * time.Second / 60

// firstFrame tells opts.FirstFrame, once, when the frame with the first list has been drawn.
func (m *Model) firstFrame() tea.Cmd {
	if m.firstFrameTold || m.opts.FirstFrame == nil {
		return nil
	}
	m.firstFrameTold = true
	told := m.opts.FirstFrame
	return tea.Tick(firstFrameDrawn, func(time.Time) tea.Msg {
		told()
		return nil
	})
}

// countdownMsg ticks the offline countdown once a second.
type countdownMsg struct{}

func countdown() tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return countdownMsg{} })
}
