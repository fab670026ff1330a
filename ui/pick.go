package ui

import (
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/kyokomi/emoji/v2"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/ui/contacts"
	"duet/ui/conversation"
	"duet/ui/internal/textutil"
)

// Picking a message in the timeline (shift+up): then r replies to it, + reacts, e edits it,
// d deletes it, o and s open or save its file (o opens a text's link), y copies its text. The
// composer keeps its draft throughout.

// quickReactions are offered by number while reacting.
// (None with a variation selector: terminals disagree on how wide those are.)
var quickReactions = []string{"👍", "😂", "🎉", "👀", "🚀", "😢"}

// pendingReaction stands for our reaction's event until the server has it.
const pendingReaction = id.EventID("~pending")

// reacting is the reaction being typed for a picked message.
type reacting struct {
	chat  string
	msg   matrixsvc.Message
	input textinput.Model
}

// startPick picks the newest message of the open conversation.
func (m *Model) startPick() tea.Cmd {
	c := m.openChat()
	if c == nil || c.item.Pending {
		return nil
	}
	if !c.conv.Pick() {
		m.status.SetInfo("no messages to pick yet")
		return nil
	}
	return m.setFocus(focusPick)
}

// endPick stops picking; the keyboard goes back to the composer.
func (m *Model) endPick() tea.Cmd {
	m.react = nil
	if c := m.openChat(); c != nil {
		c.conv.Unpick()
	}
	return m.focusComposer()
}

// pickKey handles a key while a message is picked.
func (m *Model) pickKey(k tea.KeyMsg) tea.Cmd {
	c := m.openChat()
	if c == nil {
		return m.endPick()
	}
	if m.react != nil {
		return m.reactKey(c, k)
	}
	pk := m.keys.Pick
	msg, picked := c.conv.Picked()
	if !picked {
		return m.endPick()
	}
	switch {
	case key.Matches(k, pk.Done), key.Matches(k, m.keys.Global.Back):
		return m.endPick()
	case key.Matches(k, m.keys.Global.Help):
		m.showHelp = true
	case key.Matches(k, pk.Up):
		if c.conv.MovePick(-1) {
			return m.loadOlderIfNeeded()
		}
	case key.Matches(k, pk.Down):
		c.conv.MovePick(1)
	case msg.Note() && (key.Matches(k, pk.Reply) || key.Matches(k, pk.React)):
		m.status.SetError("that line is duet's own warning, not a message: there is nothing to answer")
		return nil
	case key.Matches(k, pk.Reply):
		if msg.EventID == "" {
			m.status.SetError("that message is not sent yet: wait for it to be sent to answer it")
			return nil
		}
		c.replyTo = msg
		// Made once here, not in every View: formatted text is parsed for it.
		c.replyOf = strings.Join(strings.Fields(sanitize.Line(matrixsvc.PlainText(msg.Body, msg.HTML))), " ")
		c.conv.Unpick()
		return m.focusComposer()
	case key.Matches(k, pk.React):
		if msg.EventID == "" || msg.Redacted {
			m.status.SetError("only a message that is sent and not deleted can get a reaction")
			return nil
		}
		in := textutil.QueryInput("", "an emoji or :shortcode:", 64, m.styles.Muted)
		in.Width = 24
		m.react = &reacting{chat: c.key, msg: msg, input: in}
		return m.react.input.Focus()
	case key.Matches(k, pk.Edit):
		if !c.conv.Editable(msg) {
			m.status.SetError("only your own sent text messages can be edited")
			return nil
		}
		m.startEdit(c, msg)
		c.conv.Unpick()
		return m.focusComposer()
	case key.Matches(k, pk.Delete):
		if msg.Sender != m.me || msg.EventID == "" || msg.Redacted {
			m.status.SetError("only your own sent messages can be deleted")
			return nil
		}
		m.status.Ask("Delete your message? y: delete · other key: keep it")
		m.confirm, m.confirmNo = m.deleteMessage(c, msg), "kept"
	case key.Matches(k, pk.Open) && msg.Media == nil:
		return m.openLink(msg)
	case key.Matches(k, pk.Open), key.Matches(k, pk.Save):
		return m.mediaAction(c, msg, key.Matches(k, pk.Open))
	case key.Matches(k, pk.Copy):
		return m.copyText(msg)
	}
	return nil
}

// reactKey handles a key while a reaction is typed: a number picks a quick one, enter sends
// what was typed (":tada:" becomes 🎉), esc goes back to picking.
func (m *Model) reactKey(c *chat, k tea.KeyMsg) tea.Cmd {
	r := m.react
	switch {
	case key.Matches(k, m.keys.Global.Back):
		m.react = nil
		return nil
	case k.Type == tea.KeyEnter:
		return m.sendReaction(c, r.msg, reactionKey(r.input.Value()))
	case k.Type == tea.KeyRunes && len(k.Runes) == 1 && r.input.Value() == "" && k.Runes[0] >= '1' && int(k.Runes[0]-'1') < len(quickReactions):
		return m.sendReaction(c, r.msg, quickReactions[k.Runes[0]-'1'])
	}
	var cmd tea.Cmd
	r.input, cmd = r.input.Update(k)
	return cmd
}

// reactionKey is what was typed as a reaction, shortcodes turned into their emoji.
func reactionKey(typed string) string {
	typed = strings.TrimSpace(typed)
	if strings.HasPrefix(typed, ":") && strings.HasSuffix(typed, ":") && len(typed) > 2 {
		if e, ok := emoji.CodeMap()[strings.ToLower(typed)]; ok {
			return e
		}
	}
	return typed
}

// sendReaction adds our reaction with key to msg, or takes it back when we already reacted
// so. It shows at once; the outbox sends it.
func (m *Model) sendReaction(c *chat, msg matrixsvc.Message, key string) tea.Cmd {
	if key == "" {
		m.status.SetError("type an emoji, a :shortcode: or a word, or press 1-6")
		return nil
	}
	m.react = nil
	now := msg
	now.Reactions = nil
	var mine id.EventID
	for _, r := range msg.Reactions {
		if r.Key == key && r.Mine != "" {
			mine = r.Mine
			r.Senders = slices.DeleteFunc(slices.Clone(r.Senders), func(u id.UserID) bool { return u == m.me })
			r.Mine = ""
			if len(r.Senders) == 0 {
				continue
			}
		}
		now.Reactions = append(now.Reactions, r)
	}
	if mine == pendingReaction {
		m.status.SetError("your reaction is still being sent: take it back once it is")
		return nil
	}
	txn := m.newTxn()
	m.edits[txn] = c.key
	if mine != "" {
		c.conv.Changed([]matrixsvc.Message{now})
		return m.enqueueRedact(msg.RoomID, mine, txn)
	}
	added := false
	for i := range now.Reactions {
		if now.Reactions[i].Key == key {
			now.Reactions[i].Senders = append(now.Reactions[i].Senders, m.me)
			now.Reactions[i].Mine = pendingReaction
			added = true
		}
	}
	if !added {
		now.Reactions = append(now.Reactions, matrixsvc.Reaction{Key: key, Senders: []id.UserID{m.me}, Mine: pendingReaction})
	}
	c.conv.Changed([]matrixsvc.Message{now})
	return m.enqueueReact(msg.RoomID, msg.EventID, key, txn)
}

// startEdit puts our message msg in the composer to edit it; what the composer held comes
// back when the edit is sent or cancelled.
func (m *Model) startEdit(c *chat, msg matrixsvc.Message) {
	if c.editing.EventID == "" {
		c.draft = m.composer.Value()
	}
	c.replyTo = matrixsvc.Message{}
	c.editing = msg
	m.composer.SetValue(msg.Body)
}

// sendReply sends text as a reply to the chat's picked message: shown at once with what it
// answers, sent by the outbox.
func (m *Model) sendReply(c *chat, text string, emote bool) tea.Cmd {
	orig := c.replyTo
	c.replyTo = matrixsvc.Message{}
	var target id.UserID
	if c.item.Kind == contacts.KindContact {
		target = c.item.UserID
	}
	room := orig.RoomID
	if room == "" {
		room = c.room
	}
	txn := m.newTxn()
	c.conv.AddReplyEcho(txn, text, emote, orig.EventID, conversation.Queued)
	return m.enqueueReply(room, target, text, emote, orig.EventID, txn)
}
