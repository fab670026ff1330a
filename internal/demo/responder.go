package demo

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/cryptohelper"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// responder makes one person answer the demo user: it syncs as that person and, for each text
// message the demo user sends in a room the person is in, shows typing for a moment and then
// answers with a line that quotes it. It also accepts the demo user's invites, so a new room
// with the person is answered too. Everything from before it started is ignored.
type responder struct {
	p     *person
	you   id.UserID
	delay time.Duration
	log   zerolog.Logger

	jobs    chan *event.Event // messages to answer and invites to accept, in order
	ready   chan struct{}     // closed after the first sync
	since   int64             // ms; messages older than this are history, not conversation
	answers int               // answers sent, picks the template; worker goroutine only
}

// jobQueue bounds the messages waiting for an answer; more are dropped (and logged).
const jobQueue = 64

func newResponder(p *person, you id.UserID, delay time.Duration, log zerolog.Logger) *responder {
	return &responder{
		p: p, you: you, delay: delay, log: log,
		jobs:  make(chan *event.Event, jobQueue),
		ready: make(chan struct{}),
	}
}

// start runs the sync loop and the worker on ctx, counted in wg, and waits (bounded by
// startCtx and timeout) until the first sync is through, so that any message sent after
// start returns is answered.
func (r *responder) start(startCtx, ctx context.Context, wg *sync.WaitGroup, timeout time.Duration, cryptoDB string) error {
	r.since = time.Now().UnixMilli()
	syncer := mautrix.NewDefaultSyncer()
	r.p.cli.Syncer = syncer
	// The responder's device encrypts like any other person's, so a DM the demo user starts
	// with it is end-to-end encrypted, and its answers are too. The crypto helper's handlers
	// come first: they must see every response, the first one included.
	helper, err := cryptohelper.NewCryptoHelper(r.p.cli, []byte("duet demo: a throwaway device"), cryptoDB)
	if err != nil {
		return fmt.Errorf("responder %s: encryption: %w", r.p.id, err)
	}
	if err := helper.Init(startCtx); err != nil {
		return fmt.Errorf("responder %s: encryption: %w", r.p.id, err)
	}
	r.p.cli.Crypto = helper
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-ctx.Done()
		_ = helper.Close()
	}()
	var readyOnce sync.Once
	syncer.OnSync(func(_ context.Context, _ *mautrix.RespSync, since string) bool {
		if since == "" {
			readyOnce.Do(func() { close(r.ready) })
		}
		return true
	})
	// The first sync's timeline is history: the handlers skip events from before the start.
	syncer.OnEventType(event.EventMessage, r.onMessage)
	syncer.OnEventType(event.StateMember, r.onMember)

	syncDone := make(chan error, 1)
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer r.recoverPanic("sync loop")
		err := r.p.cli.SyncWithContext(ctx)
		if ctx.Err() == nil {
			r.log.Error().Err(err).Msg("sync loop ended")
		}
		syncDone <- err
	}()
	go func() {
		defer wg.Done()
		defer r.recoverPanic("worker")
		r.work(ctx)
	}()

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-r.ready:
		return nil
	case err := <-syncDone:
		return fmt.Errorf("responder %s: sync failed: %w", r.p.id, err)
	case <-startCtx.Done():
		return fmt.Errorf("responder %s: waiting for the first sync: %w", r.p.id, startCtx.Err())
	case <-timer.C:
		return fmt.Errorf("responder %s: no first sync within %s", r.p.id, timeout)
	}
}

func (r *responder) recoverPanic(what string) {
	if v := recover(); v != nil {
		r.log.Error().Interface("panic", v).Str("in", what).Msg("responder panicked")
	}
}

// onMessage queues the demo user's new text messages. It runs in the sync loop, so it must not
// block.
func (r *responder) onMessage(_ context.Context, evt *event.Event) {
	if evt.Sender != r.you || evt.Timestamp < r.since {
		return
	}
	msg := evt.Content.AsMessage()
	if msg.MsgType != event.MsgText || msg.NewContent != nil || msg.RelatesTo.GetReplaceID() != "" {
		return // not text, or an edit
	}
	r.enqueue(evt)
}

// onMember queues the demo user's invites to the responder.
func (r *responder) onMember(_ context.Context, evt *event.Event) {
	if evt.Sender != r.you || evt.GetStateKey() != r.p.id.String() || evt.Timestamp < r.since {
		return
	}
	if evt.Content.AsMember().Membership == event.MembershipInvite {
		r.enqueue(evt)
	}
}

func (r *responder) enqueue(evt *event.Event) {
	select {
	case r.jobs <- evt:
	default:
		r.log.Warn().Stringer("event_id", evt.ID).Msg("too many messages waiting, not answering this one")
	}
}

// work answers queued messages one at a time until ctx ends.
func (r *responder) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case evt := <-r.jobs:
			var err error
			if evt.Type == event.StateMember {
				_, err = r.p.cli.JoinRoomByID(ctx, evt.RoomID)
			} else {
				err = r.answer(ctx, evt)
			}
			if err != nil && ctx.Err() == nil {
				r.log.Warn().Err(err).Stringer("room_id", evt.RoomID).Stringer("event_id", evt.ID).Msg("responder step failed")
			}
		}
	}
}

// answer reads the message (a read receipt), shows typing for r.delay, then sends the reply.
func (r *responder) answer(ctx context.Context, evt *event.Event) error {
	// Receipts and typing are decoration: their errors are not worth more than a debug line.
	if err := r.p.cli.SetReadMarkers(ctx, evt.RoomID, &mautrix.ReqSetReadMarkers{Read: evt.ID}); err != nil {
		r.log.Debug().Err(err).Msg("read receipt failed")
	}
	if _, err := r.p.cli.UserTyping(ctx, evt.RoomID, true, r.delay+5*time.Second); err != nil {
		r.log.Debug().Err(err).Msg("typing notification failed")
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(r.delay):
	}
	n := r.answers
	r.answers++
	if n%2 == 0 { // every other message gets a reaction too
		react := &event.ReactionEventContent{RelatesTo: event.RelatesTo{Type: event.RelAnnotation, EventID: evt.ID, Key: reactions[(n/2)%len(reactions)]}}
		if err := r.react(ctx, evt.RoomID, react); err != nil {
			r.log.Debug().Err(err).Msg("reaction failed")
		}
	}
	// The answer is a reply to the message: duet shows what it answers above it.
	_, err := r.p.cli.SendMessageEvent(ctx, evt.RoomID, event.EventMessage,
		&event.MessageEventContent{MsgType: event.MsgText, Body: reply(n, evt.Content.AsMessage().Body),
			RelatesTo: &event.RelatesTo{InReplyTo: &event.InReplyTo{EventID: evt.ID}}})
	if _, terr := r.p.cli.UserTyping(ctx, evt.RoomID, false, 0); terr != nil {
		r.log.Debug().Err(terr).Msg("typing notification failed")
	}
	if err != nil {
		return fmt.Errorf("answering: %w", err)
	}
	return nil
}

// reactions are what the responder reacts with, in turn.
var reactions = []string{"👍", "😄", "🙌"}

// replyTemplates are Alice's answers, used in turn; %s is the quoted message.
var replyTemplates = []string{
	`You said "%s" — nice!`,
	`"%s"? Ha, tell me more!`,
	`Oh, "%s" — I was just thinking the same thing.`,
	`Got it: "%s". Sounds good to me 🙂`,
	`"%s" — you always know what to say.`,
}

// reply is answer number n (from 0) to body.
func reply(n int, body string) string {
	return fmt.Sprintf(replyTemplates[n%len(replyTemplates)], quote(body))
}

// maxQuote is the most runes of a message a reply quotes.
const maxQuote = 80

// quote is body on one line, cut to maxQuote runes with an ellipsis.
func quote(body string) string {
	q := strings.Join(strings.Fields(body), " ")
	if r := []rune(q); len(r) > maxQuote {
		q = strings.TrimRight(string(r[:maxQuote-1]), " ") + "…"
	}
	return q
}

// react sends a reaction, encrypted in an encrypted room as Element sends it (mautrix's client
// leaves reactions in the clear, which duet marks "not encrypted" there).
func (r *responder) react(ctx context.Context, room id.RoomID, content *event.ReactionEventContent) error {
	typ, body := event.EventReaction, any(content)
	if cli := r.p.cli; cli.Crypto != nil && cli.StateStore != nil {
		if enc, err := cli.StateStore.IsEncrypted(ctx, room); err == nil && enc {
			sealed, err := cli.Crypto.Encrypt(ctx, room, event.EventReaction, content)
			if err != nil {
				return err
			}
			typ, body = event.EventEncrypted, sealed
		}
	}
	_, err := r.p.cli.SendMessageEvent(ctx, room, typ, body)
	return err
}
