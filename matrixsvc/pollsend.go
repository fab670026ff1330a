package matrixsvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/store"
)

// Sending into threads and polls: a thread reply, a vote, the end of our poll, a new poll. Each
// goes through the outbox and is sealed like any message (encrypted in an encrypted room).

// outboxExtra is what an outbox entry keeps besides its columns (store.Outgoing.Extra).
type outboxExtra struct {
	Answers []string `json:"answers,omitempty"`
	Poll    *Poll    `json:"poll,omitempty"`
}

func (o *Outgoing) extra() (string, error) {
	if len(o.Answers) == 0 && o.Poll == nil {
		return "", nil
	}
	raw, err := json.Marshal(outboxExtra{Answers: o.Answers, Poll: o.Poll})
	if err != nil {
		return "", fmt.Errorf("save the %s: %w", o.Kind, err)
	}
	return string(raw), nil
}

func (o *Outgoing) setExtra(raw string) {
	var x outboxExtra
	if raw != "" && json.Unmarshal([]byte(raw), &x) == nil {
		o.Answers, o.Poll = x.Answers, x.Poll
	}
}

// ErrBadPoll is a poll that cannot be sent: no question, too few or too many answers.
var ErrBadPoll = errors.New("bad poll")

// checkPoll says why p cannot be sent as a new poll, or nil; it gives answers without IDs
// theirs ("1", "2", ...).
func checkPoll(p *Poll) error {
	switch {
	case p == nil || strings.TrimSpace(p.Question) == "":
		return fmt.Errorf("%w: it needs a question", ErrBadPoll)
	case len(p.Answers) < 2 || len(p.Answers) > maxPollAnswers:
		return fmt.Errorf("%w: it needs 2 to %d answers", ErrBadPoll, maxPollAnswers)
	case len(p.Question) > maxPollText:
		return fmt.Errorf("%w: the question is longer than %d bytes", ErrBadPoll, maxPollText)
	}
	seen := map[string]bool{}
	for i := range p.Answers {
		a := &p.Answers[i]
		if a.ID == "" {
			a.ID = strconv.Itoa(i + 1)
		}
		if strings.TrimSpace(a.Text) == "" || len(a.Text) > maxPollText {
			return fmt.Errorf("%w: answer %d is empty or longer than %d bytes", ErrBadPoll, i+1, maxPollText)
		}
		if seen[a.ID] {
			return fmt.Errorf("%w: two answers have the ID %q", ErrBadPoll, a.ID)
		}
		seen[a.ID] = true
	}
	p.MaxSelections = min(max(p.MaxSelections, 1), len(p.Answers))
	return nil
}

// inThread puts content into the thread on root: an answer to replyTo when it is one, else
// (as the spec asks) a reply to the thread's latest event marked is_falling_back, for clients
// that show no threads.
func (s *Service) inThread(ctx context.Context, room id.RoomID, content *event.MessageEventContent, root, replyTo id.EventID) *event.MessageEventContent {
	rel := &event.RelatesTo{Type: event.RelThread, EventID: root}
	if replyTo != "" {
		rel.InReplyTo, rel.IsFallingBack = &event.InReplyTo{EventID: replyTo}, false
	} else {
		latest := root
		if evts, err := s.store.Thread(ctx, room, root, 1); err == nil && len(evts) > 0 {
			latest = evts[len(evts)-1].ID
		}
		rel.InReplyTo, rel.IsFallingBack = &event.InReplyTo{EventID: latest}, true
	}
	content.RelatesTo = rel
	return content
}

// storedPoll is the poll of our store's event evt in room, with its sender; nil when it is not
// stored (a vote then goes in Element's unstable form, which every client reads).
func (s *Service) storedPoll(ctx context.Context, room id.RoomID, evt id.EventID) (*Poll, id.UserID) {
	m, err := s.pollEvent(ctx, room, evt)
	if err != nil {
		return nil, ""
	}
	return m.Poll, m.Sender
}

// sendPollEvent sends a vote, the end of our poll or a new poll, in the namespace of the poll:
// the stable m.poll.* for a poll sent so, else Element's org.matrix.msc3381.*.
func (s *Service) sendPollEvent(ctx context.Context, o *store.Outgoing, kind Kind) (id.EventID, error) {
	ref := map[string]any{"rel_type": string(event.RelReference), "event_id": o.Of}
	switch kind {
	case KindVote:
		poll, _ := s.storedPoll(ctx, o.Room, o.Of)
		answers := outboxExtraOf(o).Answers
		if poll != nil {
			answers = slices.DeleteFunc(answers, func(a string) bool {
				return !slices.ContainsFunc(poll.Answers, func(p PollAnswer) bool { return p.ID == a })
			})
		}
		if poll != nil && !poll.Unstable {
			return s.sendEvent(ctx, o.Room, event.Type{Type: typePollResponse, Class: event.MessageEventType},
				map[string]any{"m.selections": answers, "m.relates_to": ref}, o.TxnID)
		}
		return s.sendEvent(ctx, o.Room, event.EventUnstablePollResponse,
			map[string]any{"org.matrix.msc3381.poll.response": map[string]any{"answers": answers}, "m.relates_to": ref}, o.TxnID)
	case KindEndPoll:
		poll, sender := s.storedPoll(ctx, o.Room, o.Of)
		if poll == nil || sender != s.me {
			return "", fmt.Errorf("%s is not a poll of yours that duet has: only its creator ends a poll", o.Of)
		}
		text := "Ended poll: " + poll.Question
		if !poll.Unstable {
			return s.sendEvent(ctx, o.Room, event.Type{Type: typePollEnd, Class: event.MessageEventType},
				map[string]any{"m.text": []map[string]string{{"body": text}}, "m.relates_to": ref}, o.TxnID)
		}
		return s.sendEvent(ctx, o.Room, event.EventUnstablePollEnd,
			map[string]any{"org.matrix.msc3381.poll.end": map[string]any{}, "org.matrix.msc1767.text": text, "m.relates_to": ref}, o.TxnID)
	}
	return s.sendEvent(ctx, o.Room, event.EventUnstablePollStart, s.newPollContent(ctx, o), o.TxnID)
}

// newPollContent is a new poll as Element sends it (org.matrix.msc3381.poll.start, with the
// question and numbered answers as the text fallback).
func (s *Service) newPollContent(ctx context.Context, o *store.Outgoing) map[string]any {
	p := outboxExtraOf(o).Poll
	if p == nil {
		p = &Poll{}
	}
	kind := "org.matrix.msc3381.poll.undisclosed"
	if p.Disclosed {
		kind = "org.matrix.msc3381.poll.disclosed"
	}
	answers := make([]map[string]string, len(p.Answers))
	fallback := []string{p.Question}
	for i, a := range p.Answers {
		answers[i] = map[string]string{"id": a.ID, "org.matrix.msc1767.text": a.Text}
		fallback = append(fallback, fmt.Sprintf("%d. %s", i+1, a.Text))
	}
	content := map[string]any{
		"org.matrix.msc3381.poll.start": map[string]any{
			"kind": kind, "max_selections": p.MaxSelections,
			"question": map[string]string{"org.matrix.msc1767.text": p.Question},
			"answers":  answers,
		},
		"org.matrix.msc1767.text": strings.Join(fallback, "\n"),
	}
	if o.Thread != "" {
		latest := o.Thread
		if evts, err := s.store.Thread(ctx, o.Room, o.Thread, 1); err == nil && len(evts) > 0 {
			latest = evts[len(evts)-1].ID
		}
		content["m.relates_to"] = map[string]any{"rel_type": string(event.RelThread), "event_id": o.Thread,
			"is_falling_back": true, "m.in_reply_to": map[string]any{"event_id": latest}}
	}
	return content
}

// outboxExtraOf reads what an outbox entry keeps besides its columns.
func outboxExtraOf(o *store.Outgoing) outboxExtra {
	var x outboxExtra
	if o.Extra != "" {
		_ = json.Unmarshal([]byte(o.Extra), &x) // written by Enqueue
	}
	if x.Answers == nil {
		x.Answers = []string{}
	}
	return x
}
