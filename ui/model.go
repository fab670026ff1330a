// Package ui is duet's terminal interface: contacts on the left, the open conversation on the
// right, a status bar below. The root model routes messages, lays out and handles the global
// keys; the components under ui/ do the rest.
package ui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/composer"
	"duet/ui/contacts"
	"duet/ui/conversation"
	"duet/ui/keys"
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
	NoTyping     bool     // never tell others that we type
	Bell         bool     // ring the terminal's bell for a message not on screen
	Desktop      Notifier // desktop notifications for a message not on screen; nil: none
	Downloads    string   // where saved files go
	OpenDir      string   // where files to open are fetched (private)
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
	focusPick // a message of the open conversation is picked (pick.go)
)

// Model is the root model.
type Model struct {
	svc    Service
	ctx    context.Context
	keys   keys.KeyMap
	styles styles.Styles
	now    func() time.Time
	me     id.UserID

	contacts contacts.Model
	composer composer.Model
	status   statusbar.Model
	help     help.Model
	prompt   newDMPrompt
	dialog   security.Model           // verification and recovery key, over the right pane
	pending  []matrixsvc.Verification // requests waiting for the dialog to be free
	search   search.Model             // message search, over the right pane
	finder   switcher.Model           // the quick switcher, over the right pane

	focus    focus
	showHelp bool
	chats    map[string]*chat  // by contacts.Item.Key()
	edits    map[string]string // outgoing edits: transaction ID -> chat key
	react    *reacting         // a reaction being typed for the picked message
	open     string            // the chat shown
	txnBase  string

	lastRetry time.Time // the last key-press retry while offline
	txnSeq    *int

	checking  string  // the user ID being checked for a new DM ("" = none)
	confirm   tea.Cmd // asked in the status bar: run on y, dropped on any other key
	confirmNo string  // what the status bar says when the answer is no

	overviewSeq     int
	overviewApplied int
	trustSeq        int

	opts Options // what the UI was started with: images, notifications, folders

	termBlurred bool   // the terminal is in the background (focus reporting)
	bell        bool   // the bell rings with the next frame
	bellSeq     int    // the ring the bell's reset belongs to
	title       string // the terminal's title, set with the frame
	clip        string // an OSC 52 clipboard write, sent with the next frame
	clipSeq     int    // the copy the clip's reset belongs to
	link        lastLink
	imageSeq    *uint32 // the last kitty graphics image id given out

	width, height int
}

// New returns the root model for a logged-in service.
func New(svc Service, opts Options) Model {
	opts = opts.withDefaults()
	km, st := *opts.Keymap, *opts.Styles
	m := Model{
		svc: svc, ctx: opts.Context, keys: km, styles: st, now: opts.Now, me: svc.Me(),
		contacts: contacts.New(km.Contacts, st.Contacts, opts.Now),
		composer: composer.New(km.Composer, st),
		status:   statusbar.New(st.Status),
		help:     help.New(),
		prompt:   newPrompt(st),
		dialog:   security.New(km.Security, st),
		search:   search.New(km.Search, st.Search, opts.Now),
		finder:   switcher.New(km.Switcher, st.Switcher, svc.Me()),
		chats:    map[string]*chat{},
		edits:    map[string]string{},
		txnBase:  newTxnBase(),
		txnSeq:   new(int),
		opts:     opts,
		imageSeq: new(uint32),
	}
	m.help.Styles.ShortKey = st.Status.Hint.Bold(true)
	m.help.Styles.ShortDesc = st.Status.Hint
	m.help.Styles.ShortSeparator = st.Status.Hint
	m.help.Styles.FullKey = st.Label
	m.help.Styles.FullDesc = st.Muted
	m.help.Styles.FullSeparator = st.Muted
	m.status.SetAccount(string(m.me))
	m.status.SetClock(opts.Now)
	m.contacts.Focus()
	m.width, m.height = 80, 24
	m.layout()
	return m
}

func newTxnBase() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "duet" + hex.EncodeToString(b)
}

// newTxn is a transaction ID for one local message, reused when it is retried.
func (m Model) newTxn() string {
	*m.txnSeq++
	return fmt.Sprintf("%s.%d", m.txnBase, *m.txnSeq)
}

// Init starts listening to the service and loads the contacts.
func (m Model) Init() tea.Cmd {
	return tea.Batch(listen(m.svc.Events()), m.firstOverview())
}

// Update routes a message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
	case tea.KeyMsg:
		cmds = append(cmds, m.handleKey(msg))
	case tea.MouseMsg:
		cmds = append(cmds, m.handleMouse(msg))
	case eventsMsg:
		cmds = append(cmds, m.handleEvents(msg.events), listen(m.svc.Events()))
	case overviewMsg:
		cmds = append(cmds, m.applyOverview(msg))
	case contacts.OpenMsg, contacts.NewDMMsg, contacts.AcceptMsg, contacts.DeclineMsg, contacts.BlockMsg, contacts.UnblockMsg:
		cmds = append(cmds, m.handleIntent(msg))
	case inviteDoneMsg:
		cmds = append(cmds, m.inviteDone(msg))
	case blockDoneMsg:
		cmds = append(cmds, m.blockDone(msg))
	case conversation.RetryMsg:
		cmds = append(cmds, m.retry(msg.Txn))
	case userCheckedMsg:
		cmds = append(cmds, m.userChecked(msg))
	case dmOpenedMsg:
		cmds = append(cmds, m.dmOpened(msg))
	case receiptsMsg:
		m.receiptsLoaded(msg)
	case typingSentMsg:
		// Typing is a courtesy: a failure to say it is not worth a word in the status bar.
	case deleteMsg:
		cmds = append(cmds, m.deleteConfirmed(msg))
	case enqueuedMsg:
		m.enqueued(msg)
	case outboxMsg:
		m.showOutbox(msg)
	case historyMsg:
		cmds = append(cmds, m.historyLoaded(msg))
	case chainMsg:
		cmds = append(cmds, m.chainLoaded(msg))
	case countdownMsg:
		if m.status.Offline() {
			cmds = append(cmds, countdown()) // redraws the countdown; stops once back online
		}
	case markedReadMsg:
		if msg.err == nil {
			cmds = append(cmds, m.refreshOverview())
		}
	case memberNamesMsg:
		if c := m.chats[msg.chat]; c != nil {
			for u, name := range msg.names {
				if u != m.me {
					c.conv.SetName(u, name)
				}
			}
		}
	case encryptedMsg:
		for _, c := range m.chats {
			if c.room == msg.room {
				c.encrypted, c.encKnown = msg.on, true
				cmds = append(cmds, m.fetchTrust(c))
			}
		}
	case trustMsg:
		m.trustLoaded(msg)
	case security.AcceptMsg, security.ConfirmMsg, security.CancelMsg, security.RecoveryKeyMsg, security.SetUpMsg:
		cmds = append(cmds, m.dialogAsked(msg))
	case verifyStartedMsg:
		cmds = append(cmds, m.verifyStarted(msg))
	case verifyActedMsg:
		m.verifyActed(msg)
	case recoveryCheckedMsg:
		cmds = append(cmds, m.recoveryChecked(msg))
	case recoveredMsg:
		cmds = append(cmds, m.recovered(msg))
	case recoverySetUpMsg:
		cmds = append(cmds, m.recoverySetUp(msg))
	case redecryptedMsg:
		m.redecryptedLoaded(msg)
	case search.TickMsg:
		var cmd tea.Cmd
		m.search, cmd = m.search.Update(msg)
		cmds = append(cmds, cmd)
	case search.QueryMsg:
		cmds = append(cmds, m.runSearch(msg))
	case searchDoneMsg:
		cmds = append(cmds, m.searchDone(msg))
	case search.OpenMsg:
		cmds = append(cmds, m.openResult(msg.Result))
	case search.ClosedMsg, switcher.ClosedMsg:
	case switcher.TickMsg:
		var cmd tea.Cmd
		m.finder, cmd = m.finder.Update(msg)
		cmds = append(cmds, cmd)
	case switcher.DirectoryMsg:
		cmds = append(cmds, m.searchDirectory(msg))
	case directoryDoneMsg:
		m.directoryDone(msg)
	case switcher.ChosenMsg:
		cmds = append(cmds, m.chosen(msg.Entry))
	case imageMsg:
		m.pictureCame(msg)
	case bellOffMsg:
		if msg.seq == m.bellSeq {
			m.bell = false
		}
	case clipOffMsg:
		if msg.seq == m.clipSeq {
			m.clip = ""
		}
	case linkOpenedMsg:
		m.linkOpened(msg)
	case notified:
	case tea.FocusMsg:
		m.termBlurred = false
	case tea.BlurMsg:
		m.termBlurred = true
	case mediaDoneMsg:
		m.mediaDone(msg)
	default:
		cmds = append(cmds, m.forwardToFocused(msg))
	}
	cmds = append(cmds, m.afterDialog(), m.loadOlderIfNeeded(), m.markOpenRead(), m.fetchPictures())
	m.status.SetHint(m.hint())
	return m, tea.Batch(cmds...)
}

// updateComposer hands a message to the composer; when its text changed (not in an edit), the
// room hears that we are typing.
func (m *Model) updateComposer(msg tea.Msg) tea.Cmd {
	before := m.composer.Value()
	var cmd tea.Cmd
	m.composer, cmd = m.composer.Update(msg)
	if c := m.openChat(); m.composer.Value() != before && c != nil && c.editing.EventID == "" {
		cmd = tea.Batch(cmd, m.composerChanged(c))
	}
	return cmd
}

// forwardToFocused hands other messages (cursor, paste) to the focused input.
func (m *Model) forwardToFocused(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch {
	case m.dialog.Active():
		m.dialog, cmd = m.dialog.Update(msg)
		return cmd
	case m.search.Active():
		m.search, cmd = m.search.Update(msg)
		return cmd
	case m.finder.Active():
		m.finder, cmd = m.finder.Update(msg)
		return cmd
	}
	switch m.focus {
	case focusComposer:
		cmd = m.updateComposer(msg)
	case focusPrompt:
		m.prompt, cmd = m.prompt.update(msg)
	case focusPick:
		if m.react != nil {
			m.react.input, cmd = m.react.input.Update(msg)
		}
	default:
		m.contacts, cmd = m.contacts.Update(msg)
	}
	return cmd
}

func (m *Model) handleKey(k tea.KeyMsg) tea.Cmd {
	g := m.keys.Global
	m.status.ClearInfo() // "joined …", "retrying…": read by now; errors stay until replaced or dismissed
	if key.Matches(k, g.Back) {
		m.status.ClearError()
	}
	if m.status.Offline() && m.now().Sub(m.lastRetry) > 3*time.Second {
		// Offline: a key press retries at once (at most every 3 s: typing must not hammer a
		// server that is struggling). RetryNow does no I/O.
		m.lastRetry = m.now()
		m.svc.RetryNow()
		m.status.RetryingNow()
	}
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && !k.Paste && m.dialog.Active() && !m.dialog.TakesText() {
		// Typed fast while a dialog popped up: meant for the composer, not answers to it.
		return nil
	}
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && !k.Paste && (m.focus != focusContacts || m.contacts.Filtering() || m.dialog.TakesText() || m.search.Active() || m.finder.Active()) {
		// Several runes in one message are text typed faster than the terminal is read (or a
		// paste without bracketed paste). Its String() can spell a key ("down", "enter",
		// "tab"), which every key binding down to the text input would take for that key: a
		// word vanished from the message. One rune at a time, they are only text.
		cmds := make([]tea.Cmd, 0, len(k.Runes))
		for _, r := range k.Runes {
			cmds = append(cmds, m.forwardToFocused(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: k.Alt}))
		}
		return tea.Batch(cmds...)
	}
	if key.Matches(k, g.Quit) {
		return tea.Quit
	}
	if m.confirm != nil {
		return m.answerConfirm(k)
	}
	if m.showHelp {
		m.showHelp = false
		return nil
	}
	if m.dialog.Active() {
		// The dialog has the keyboard; the composer keeps what was typed.
		was := m.dialog.Stage()
		var cmd tea.Cmd
		m.dialog, cmd = m.dialog.Update(k)
		if was == security.Verifying && !m.dialog.Active() {
			m.status.SetInfo("still checking the recovery key…")
		}
		return cmd
	}
	if m.search.Active() {
		var cmd tea.Cmd
		m.search, cmd = m.search.Update(k)
		return cmd
	}
	if m.finder.Active() {
		if key.Matches(k, g.Switcher) { // the same key closes it
			m.finder.Close()
			return nil
		}
		if key.Matches(k, m.keys.Switcher.Choose) {
			// Chosen here and now, not by a message: the keys typed right after enter must
			// find the conversation (and its composer) already open.
			e, ok := m.finder.Selected()
			if !ok {
				return nil
			}
			m.finder.Close()
			return m.chosen(e)
		}
		var cmd tea.Cmd
		m.finder, cmd = m.finder.Update(k)
		return cmd
	}
	switch {
	case key.Matches(k, g.Search):
		return m.openSearch()
	case key.Matches(k, g.Switcher):
		return m.openSwitcher()
	}
	if m.focus == focusPick {
		return m.pickKey(k)
	}
	if key.Matches(k, m.keys.Conversation.Pick) && m.focus != focusPrompt {
		return m.startPick()
	}
	if c := m.openChat(); c != nil && matchesAny(k, m.keys.Conversation) && m.focus != focusPrompt {
		var cmd tea.Cmd
		c.conv, cmd = c.conv.Update(k)
		return cmd
	}
	switch m.focus {
	case focusPrompt:
		return m.promptKey(k)
	case focusComposer:
		c := m.openChat()
		switch {
		case c != nil && c.editing.EventID != "" && key.Matches(k, g.Back):
			m.cancelEdit(c) // esc leaves the edit, not the composer
			return nil
		case c != nil && c.replyTo.EventID != "" && key.Matches(k, g.Back):
			c.replyTo = matrixsvc.Message{} // esc drops the reply, not the text
			return nil
		case c != nil && c.editing.EventID != "" && key.Matches(k, m.keys.Composer.Send) && strings.TrimSpace(m.composer.Value()) == "":
			return m.sendEdit(c, "") // the composer sends nothing empty: an emptied edit is a deletion
		case key.Matches(k, g.Back), key.Matches(k, g.Switch):
			m.setFocus(focusContacts)
			return nil
		case key.Matches(k, m.keys.Composer.EditLast) && m.composer.Value() == "" && m.editLast():
			return nil
		case key.Matches(k, m.keys.Composer.Send):
			// Sent here and now: a key right after enter (a pick, esc) must not change how.
			if text, ok := m.composer.Take(); ok {
				return m.submit(text)
			}
			return nil
		}
		return m.updateComposer(k)
	}
	if !m.contacts.Filtering() {
		switch {
		case key.Matches(k, m.keys.Contacts.Quit):
			return tea.Quit
		case key.Matches(k, g.Help):
			m.showHelp = true
			return nil
		case key.Matches(k, g.Switch):
			return m.focusComposer()
		case key.Matches(k, g.Verify):
			return m.verifyOpen()
		case key.Matches(k, g.VerifyOwn):
			return m.startVerification(m.me, true)
		case key.Matches(k, g.Recovery):
			return m.startRecovery()
		}
	}
	if intent := m.contacts.Intent(k); intent != nil {
		return m.handleIntent(intent)
	}
	var cmd tea.Cmd
	m.contacts, cmd = m.contacts.Update(k)
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

func matchesAny(k tea.KeyMsg, km conversation.KeyMap) bool {
	return key.Matches(k, km.PageUp, km.PageDown, km.Bottom, km.Retry)
}

// focusComposer moves the keyboard to the composer when a conversation that can take messages
// is open.
func (m *Model) focusComposer() tea.Cmd {
	c := m.openChat()
	if c == nil || c.item.Pending {
		return nil
	}
	return m.setFocus(focusComposer)
}

func (m *Model) setFocus(f focus) tea.Cmd {
	if f != focusPick {
		m.react = nil
		if c := m.openChat(); c != nil {
			c.conv.Unpick()
		}
	}
	m.focus = f
	m.contacts.Blur()
	m.composer.Blur()
	m.prompt.blur()
	switch f {
	case focusComposer:
		return m.composer.Focus()
	case focusPrompt:
		return m.prompt.focus()
	case focusPick: // the keys go to pickKey
	default:
		m.contacts.Focus()
	}
	return nil
}

func (m *Model) handleMouse(ev tea.MouseMsg) tea.Cmd {
	l := m.computeLayout()
	onLeft := ev.X < l.leftW
	switch {
	case ev.Button == tea.MouseButtonWheelUp && onLeft:
		m.contacts.Scroll(-1)
	case ev.Button == tea.MouseButtonWheelDown && onLeft:
		m.contacts.Scroll(1)
	case ev.Button == tea.MouseButtonWheelUp:
		if c := m.openChat(); c != nil {
			c.conv.ScrollUp(3)
		}
	case ev.Button == tea.MouseButtonWheelDown:
		if c := m.openChat(); c != nil {
			c.conv.ScrollDown(3)
		}
	case ev.Button == tea.MouseButtonLeft && ev.Action == tea.MouseActionPress:
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

func (m *Model) handleEvents(events []matrixsvc.Event) tea.Cmd {
	var cmds []tea.Cmd
	refresh := false
	for _, evt := range events {
		switch evt := evt.(type) {
		case matrixsvc.SyncStateChanged:
			wasOffline := m.status.Offline()
			m.status.SetSync(evt)
			if evt.State == matrixsvc.SyncOffline && !wasOffline {
				cmds = append(cmds, countdown())
			}
		case matrixsvc.SyncApplied:
			cmds = append(cmds, m.notifyOf(evt.Messages))
			m.appendLive(evt.Messages)
			m.changedLive(evt.Changed)
			m.typingLive(evt.Typing)
			m.readLive(evt.Read)
			cmds = append(cmds, m.redecrypted(evt.Redecrypted))
			refresh = refresh || evt.DMListChanged || len(evt.Messages) > 0 || len(evt.Redecrypted) > 0 || len(evt.Changed) > 0
		case matrixsvc.LoggedOut:
			m.status.SetError(matrixsvc.ErrLoggedOut.Error())
		case matrixsvc.OutgoingChanged:
			cmds = append(cmds, m.outgoingChanged(evt))
		case matrixsvc.SyncFailed:
			m.status.SetError("sync stopped: " + matrixsvc.Explain(evt.Err))
		case matrixsvc.Verification:
			cmds = append(cmds, m.verification(evt))
		}
	}
	if refresh {
		cmds = append(cmds, m.refreshOverview())
	}
	return tea.Batch(cmds...)
}

func (m *Model) applyOverview(msg overviewMsg) tea.Cmd {
	if msg.seq < m.overviewApplied {
		return nil
	}
	m.overviewApplied = msg.seq
	if msg.err != nil {
		m.status.SetError(explain(msg.err))
		return nil
	}
	m.contacts.SetOverview(msg.ov, m.me)
	m.title = m.unreadTitle()
	var cmds []tea.Cmd
	for key, c := range m.chats {
		if it, ok := m.contacts.Find(key); ok {
			cmds = append(cmds, m.updateChat(c, it))
		}
	}
	if msg.lastOpen != "" && m.open == "" {
		if it, ok := m.contacts.Find(msg.lastOpen); ok && !it.Pending {
			cmds = append(cmds, m.openItem(it, false))
		}
	}
	return tea.Batch(cmds...)
}

// countdownMsg ticks the offline countdown once a second.
type countdownMsg struct{}

func countdown() tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return countdownMsg{} })
}

// explain is one line for the status bar.
func explain(err error) string {
	if matrixsvc.IsLoggedOut(err) {
		return matrixsvc.ErrLoggedOut.Error()
	}
	return matrixsvc.Explain(err)
}
