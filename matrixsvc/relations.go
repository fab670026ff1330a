package matrixsvc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/store"
)

// Replies and reactions.

// relations fills in what the replies among msgs answer (Reply) and the reactions to each of
// them, from the store. msgs are of one room.
func (s *Service) relations(ctx context.Context, room id.RoomID, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	ids := make([]id.EventID, 0, len(msgs))
	var answered []id.EventID
	for _, m := range msgs {
		if m.EventID != "" {
			ids = append(ids, m.EventID)
		}
		if m.ReplyTo != "" {
			answered = append(answered, m.ReplyTo)
		}
		if m.Thread != "" {
			answered = append(answered, m.Thread)
		}
	}
	if err := s.threadsAndPolls(ctx, room, msgs, ids); err != nil {
		return err
	}
	reactions, err := s.store.Reactions(ctx, room, ids)
	if err != nil {
		return err
	}
	quotes := map[id.EventID]*Quote{}
	if len(answered) > 0 {
		evts, err := s.store.EventsByID(ctx, room, answered)
		if err != nil {
			return err
		}
		for _, e := range evts {
			quotes[e.ID] = &Quote{Sender: e.Sender, Body: PlainText(e.Body, e.HTML), Redacted: e.Redacted, NotEncrypted: e.NotEncrypted}
		}
	}
	for i := range msgs {
		m := &msgs[i]
		if m.ReplyTo != "" {
			m.Reply = quotes[m.ReplyTo]
		}
		if m.Thread != "" {
			m.ThreadRoot = quotes[m.Thread]
		}
		m.Reactions = s.groupReactions(reactions[m.EventID])
	}
	return nil
}

// groupReactions groups reactions by key, in the order each key first came; one person counts
// once per key. Reactions that came in plain text in an encrypted room are a group of their own
// (marked), so that a made-up one never passes for an encrypted one.
func (s *Service) groupReactions(rs []store.Reaction) []Reaction {
	if len(rs) == 0 {
		return nil
	}
	var out []Reaction
	type group struct {
		key   string
		plain bool
	}
	at := map[group]int{}
	for _, r := range rs {
		i, ok := at[group{r.Key, r.NotEncrypted}]
		if !ok {
			i = len(out)
			at[group{r.Key, r.NotEncrypted}] = i
			out = append(out, Reaction{Key: r.Key, NotEncrypted: r.NotEncrypted})
		}
		g := &out[i]
		dup := false
		for _, u := range g.Senders {
			if u == r.Sender {
				dup = true
			}
		}
		if !dup {
			g.Senders = append(g.Senders, r.Sender)
		}
		if r.Sender == s.me && g.Mine == "" {
			g.Mine = r.EventID
		}
	}
	return out
}

// reactionOf reads a reaction (m.reaction, m.annotation) as the change it makes to the message
// it reacts to; nil when the event is not a well-formed one.
func reactionOf(evt *event.Event) *store.Change {
	f := gjson.GetManyBytes(evt.Content.VeryRaw, `m\.relates_to.rel_type`, `m\.relates_to.event_id`, `m\.relates_to.key`)
	if f[0].Str != string(event.RelAnnotation) || f[1].Str == "" || f[2].Type != gjson.String || f[2].Str == "" {
		return nil
	}
	return &store.Change{ID: evt.ID, Target: id.EventID(f[1].Str), Sender: evt.Sender, TS: evt.Timestamp, Reaction: f[2].Str}
}

// ErrBadReaction is a reaction that cannot be sent: empty or too long.
var ErrBadReaction = errors.New("bad reaction")

// maxReaction bounds a reaction's key, in characters: a reaction is an emoji or a word.
const maxReaction = 32

// checkReaction says why key cannot be a reaction, or nil.
func checkReaction(key string) error {
	switch {
	case strings.TrimSpace(key) == "":
		return fmt.Errorf("%w: it is empty", ErrBadReaction)
	case utf8.RuneCountInString(key) > maxReaction:
		return fmt.Errorf("%w: at most %d characters", ErrBadReaction, maxReaction)
	case strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%w: it has control characters", ErrBadReaction)
	}
	return nil
}

// reactionContent is an m.reaction's content: key on the message evt.
func reactionContent(evt id.EventID, key string) *event.ReactionEventContent {
	return &event.ReactionEventContent{RelatesTo: event.RelatesTo{Type: event.RelAnnotation, EventID: evt, Key: key}}
}

// replyContent makes content answer the message evt of sender (m.in_reply_to), mentioning
// sender so that their client highlights it. No fallback: Matrix 1.13 dropped reply fallbacks.
func replyContent(content *event.MessageEventContent, evt id.EventID, sender id.UserID) *event.MessageEventContent {
	content.RelatesTo = &event.RelatesTo{InReplyTo: &event.InReplyTo{EventID: evt}}
	if sender != "" {
		if content.Mentions == nil {
			content.Mentions = &event.Mentions{}
		}
		content.Mentions.Add(sender)
	}
	return content
}
