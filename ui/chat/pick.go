package chat

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/kyokomi/emoji/v2"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/ui/conversation"
	"duet/ui/internal/textutil"
)

// Picking a message in the timeline (shift+up): then r replies to it, + reacts, e edits it,
// d deletes it, o and s open or save its file (o opens a text's link), y copies its text; on a
// poll, 1-9 vote and x ends our own (poll.go). The composer keeps its draft throughout.

// quickReactions are offered by number while reacting.
// (None with a variation selector: terminals disagree on how wide those are.)
var quickReactions = []string{"👍", "😂", "🎉", "👀", "🚀", "😢"}

// pendingReaction stands for our reaction's event until the server has it.
const pendingReaction = id.EventID("~pending")

// reacting is the reaction being typed for a picked message.
type reacting struct {
	msg   matrixsvc.Message
	input textinput.Model
}

// Next says where the keyboard goes after a key while picking.
type Next int

const (
	StayPicking Next = iota // the key was handled; the pick goes on
	ToComposer              // picking ended (done, or a reply or an edit was started)
	ShowHelp                // the help screen was asked for
)

// StartPick picks the newest message. It reports whether there was one.
func (c *Model) StartPick() bool {
	if c.item.Pending {
		return false
	}
	if !c.conv.Pick() {
		c.host.Info("no messages to pick yet")
		return false
	}
	return true
}

// EndPick stops picking.
func (c *Model) EndPick() {
	c.react = nil
	c.conv.Unpick()
}

// Reacting reports whether a reaction is being typed.
func (c *Model) Reacting() bool { return c.react != nil }

// ReactInput is where a reaction is typed, for messages that are not keys (a paste); nil when
// none is.
func (c *Model) ReactInput() *textinput.Model {
	if c.react == nil {
		return nil
	}
	return &c.react.input
}

// PickKey handles a key while a message is picked.
func (c *Model) PickKey(k tea.KeyPressMsg) (tea.Cmd, Next) {
	if c.react != nil {
		return c.reactKey(k), StayPicking
	}
	pk, back := c.opts.Keys.Pick, c.opts.Keys.Global.Back
	msg, picked := c.conv.Picked()
	switch {
	case !picked, key.Matches(k, pk.Done), key.Matches(k, back):
		return nil, ToComposer
	case key.Matches(k, c.opts.Keys.Global.Help):
		return nil, ShowHelp
	case key.Matches(k, pk.Up):
		if c.conv.MovePick(-1) {
			return c.LoadOlderIfNeeded(), StayPicking
		}
	case key.Matches(k, pk.Down):
		c.conv.MovePick(1)
	case msg.Poll != nil && (k.String() == "enter" || k.String() == "space"):
		c.host.Info(pollHint(msg.Poll))
	case msg.Poll != nil && key.Matches(k, pk.Vote) && len(k.Text) == 1:
		return c.vote(msg, int(k.Text[0]-'0')), StayPicking
	case key.Matches(k, pk.EndPoll):
		c.askEndPoll(msg)
	case key.Matches(k, pk.Reply), key.Matches(k, pk.React), key.Matches(k, pk.Edit), key.Matches(k, pk.Delete):
		return c.change(k, msg)
	case key.Matches(k, pk.Open) && msg.Media == nil:
		return c.openLink(msg), StayPicking
	case key.Matches(k, pk.Open), key.Matches(k, pk.Save):
		return c.mediaAction(msg, key.Matches(k, pk.Open)), StayPicking
	case key.Matches(k, pk.Copy):
		return c.copyText(msg), StayPicking
	case key.Matches(k, pk.Thread):
		return c.pickThread(msg)
	}
	return nil, StayPicking
}

// change answers, reacts to, edits or deletes the picked message.
func (c *Model) change(k tea.KeyPressMsg, msg matrixsvc.Message) (tea.Cmd, Next) {
	pk := c.opts.Keys.Pick
	switch {
	case msg.Note() && (key.Matches(k, pk.Reply) || key.Matches(k, pk.React)):
		c.host.Error("that line is duet's own warning, not a message: there is nothing to answer")
	case key.Matches(k, pk.Reply):
		if msg.EventID == "" {
			c.host.Error("that message is not sent yet: wait for it to be sent to answer it")
			return nil, StayPicking
		}
		c.replyTo = msg
		// Made once here, not in every View: formatted text is parsed for it.
		c.replyOf = strings.Join(strings.Fields(sanitize.Line(matrixsvc.PlainText(msg.Body, msg.HTML))), " ")
		c.conv.Unpick()
		return nil, ToComposer
	case key.Matches(k, pk.React):
		if msg.EventID == "" || msg.Redacted {
			c.host.Error("only a message that is sent and not deleted can get a reaction")
			return nil, StayPicking
		}
		in := textutil.QueryInput("", "an emoji or :shortcode:", 64, c.opts.Styles.Muted, c.opts.Styles.Terminal)
		in.SetWidth(24)
		c.react = &reacting{msg: msg, input: in}
		return c.react.input.Focus(), StayPicking
	case key.Matches(k, pk.Edit):
		if !c.conv.Editable(msg) {
			c.host.Error("only your own sent text messages can be edited")
			return nil, StayPicking
		}
		c.startEdit(msg)
		c.conv.Unpick()
		return nil, ToComposer
	case key.Matches(k, pk.Delete):
		if msg.Sender != c.opts.Me || msg.EventID == "" || msg.Redacted {
			c.host.Error("only your own sent messages can be deleted")
			return nil, StayPicking
		}
		c.askDelete(msg)
	}
	return nil, StayPicking
}

// reactKey handles a key while a reaction is typed: a number picks a quick one, enter sends
// what was typed (":tada:" becomes 🎉), esc goes back to picking.
func (c *Model) reactKey(k tea.KeyPressMsg) tea.Cmd {
	r := c.react
	switch {
	case key.Matches(k, c.opts.Keys.Global.Back):
		c.react = nil
		return nil
	case k.Code == tea.KeyEnter:
		return c.sendReaction(r.msg, reactionKey(r.input.Value()))
	case len(k.Text) == 1 && r.input.Value() == "" && k.Text[0] >= '1' && int(k.Text[0]-'1') < len(quickReactions):
		return c.sendReaction(r.msg, quickReactions[k.Text[0]-'1'])
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
func (c *Model) sendReaction(msg matrixsvc.Message, key string) tea.Cmd {
	if key == "" {
		c.host.Error("type an emoji, a :shortcode: or a word, or press 1-6")
		return nil
	}
	c.react = nil
	now, mine := withoutOurReaction(msg, key, c.opts.Me)
	if mine == pendingReaction {
		c.host.Error("your reaction is still being sent: take it back once it is")
		return nil
	}
	txn := c.host.NewTxn()
	c.edits[txn] = true
	if mine != "" {
		c.each(func(t *conversation.Model) { t.Changed([]matrixsvc.Message{now}) })
		return c.enqueue(matrixsvc.Outgoing{Kind: matrixsvc.KindRedaction, Room: msg.RoomID, Of: mine, TxnID: txn})
	}
	c.each(func(t *conversation.Model) { t.Changed([]matrixsvc.Message{withOurReaction(now, key, c.opts.Me)}) })
	return c.enqueue(matrixsvc.Outgoing{Kind: matrixsvc.KindReaction, Room: msg.RoomID, Of: msg.EventID, Key: key, TxnID: txn})
}

// withoutOurReaction is msg without our reaction with key, and that reaction's event ("" when
// we had none).
func withoutOurReaction(msg matrixsvc.Message, key string, me id.UserID) (matrixsvc.Message, id.EventID) {
	now := msg
	now.Reactions = nil
	var mine id.EventID
	for _, r := range msg.Reactions {
		if r.Key == key && r.Mine != "" {
			mine = r.Mine
			r.Senders = slices.DeleteFunc(slices.Clone(r.Senders), func(u id.UserID) bool { return u == me })
			r.Mine = ""
			if len(r.Senders) == 0 {
				continue
			}
		}
		now.Reactions = append(now.Reactions, r)
	}
	return now, mine
}

// withOurReaction is msg with our reaction with key added, pending until the server has it.
func withOurReaction(msg matrixsvc.Message, key string, me id.UserID) matrixsvc.Message {
	added := false
	for i := range msg.Reactions {
		if msg.Reactions[i].Key == key {
			msg.Reactions[i].Senders = append(msg.Reactions[i].Senders, me)
			msg.Reactions[i].Mine = pendingReaction
			added = true
		}
	}
	if !added {
		msg.Reactions = append(msg.Reactions, matrixsvc.Reaction{Key: key, Senders: []id.UserID{me}, Mine: pendingReaction})
	}
	return msg
}
