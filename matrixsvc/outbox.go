package matrixsvc

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/store"
)

// OutgoingState is where a message in the outbox is.
type OutgoingState int

const (
	OutgoingQueued  OutgoingState = iota // written down, waiting (also after a failed attempt that will be retried)
	OutgoingSending                      // the request is under way
	OutgoingSent                         // the server has it; EventID is set
	OutgoingFailed                       // given up on (the server refused it); Retry sends it again
)

// Kind is what an entry of the outbox is. It says which of Outgoing's fields the entry has and
// how it is sent. The outbox stores it by its String.
type Kind uint8

const (
	KindText      Kind = iota + 1 // a message: Body, to Room or to the DM with Target
	KindEmote                     // a message said as an action (/me), as KindText
	KindEdit                      // new text (Body, Emote) for our message Of in Room (m.replace)
	KindReply                     // a message that answers ReplyTo, as KindText (Emote too)
	KindReaction                  // Key on the message Of in Room (m.annotation)
	KindRedaction                 // the deletion of our event Of in Room (a message, or a reaction taken back)
	KindFile                      // the file at the path File, to Room or the DM with Target
	KindVote                      // Answers to the poll Of in Room (m.poll.response); none takes the vote back
	KindEndPoll                   // the end of our poll Of in Room (m.poll.end)
	KindNewPoll                   // a new poll (Poll: its question and answers), to Room or the DM with Target
)

var kindNames = [...]string{
	KindText: "text", KindEmote: "emote", KindEdit: "edit", KindReply: "reply",
	KindReaction: "reaction", KindRedaction: "redaction", KindFile: "file",
	KindVote: "vote", KindEndPoll: "poll_end", KindNewPoll: "poll",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// kindNamed is the kind whose String is name, 0 for none.
func kindNamed(name string) Kind {
	for k, n := range kindNames {
		if n != "" && n == name {
			return Kind(k)
		}
	}
	return 0
}

// Outgoing is an entry of the outbox: what Enqueue writes, and what Outbox lists. Kind says what
// it is and which of the other fields it has.
type Outgoing struct {
	Kind    Kind
	TxnID   string     // the transaction ID that makes sending it idempotent; Enqueue makes one for ""
	Room    id.RoomID  // "" until the DM room for Target is known
	Target  id.UserID  // the contact whose DM it goes to (text, emote, reply, file)
	Body    string     // the text (text, emote, edit, reply); a file's name, set by Enqueue
	Emote   bool       // said as an action: always for KindEmote; an edit or a reply may be
	Of      id.EventID // the message an edit, a reaction or a deletion is about
	ReplyTo id.EventID // the message a reply answers
	Key     string     // a reaction's key
	File    string     // the path of a file to send; Enqueue makes it absolute
	// Thread is the root of the thread a message, reply, file or poll goes into ("" for the
	// main timeline).
	Thread  id.EventID
	Answers []string  // a vote's answers, by their IDs
	Poll    *Poll     // a new poll's question, answers (IDs made by Enqueue when empty), kind and max selections
	Created time.Time // when it was written (Outbox; Enqueue sets it)
	Failed  string    // why it was given up on (Outbox; Enqueue ignores it)
}

// check says what is wrong with o for its kind, before anything is written.
func (o *Outgoing) check() error {
	if kindNamed(o.Kind.String()) == 0 {
		return fmt.Errorf("an outgoing message needs a kind, not %s", o.Kind)
	}
	if field := o.stray(); field != "" {
		return fmt.Errorf("an outgoing %s takes no %s", o.Kind, field)
	}
	switch o.Kind {
	case KindText, KindEmote, KindFile:
	case KindEdit:
		if o.Room == "" || o.Of == "" {
			return errors.New("an edit needs the room and the message it changes")
		}
	case KindReply:
		if o.ReplyTo == "" {
			return errors.New("a reply needs the message it answers")
		}
	case KindReaction:
		if o.Room == "" || o.Of == "" {
			return errors.New("a reaction needs the room and the message")
		}
		return checkReaction(o.Key)
	case KindRedaction:
		if o.Room == "" || o.Of == "" {
			return errors.New("a deletion needs the room and the message")
		}
		return nil
	case KindVote, KindEndPoll:
		if o.Room == "" || o.Of == "" {
			return fmt.Errorf("a %s needs the room and the poll", o.Kind)
		}
		return nil
	case KindNewPoll:
		return checkPoll(o.Poll)
	}
	if o.Kind != KindFile && strings.TrimSpace(o.Body) == "" {
		return errors.New("nothing to send: the message is empty")
	}
	return nil
}

// stray names a field o has that its kind does not take ("" when there is none): the sender
// would not look at it, so it is a mistake.
func (o *Outgoing) stray() string {
	k := o.Kind
	switch {
	case o.Target != "" && k != KindText && k != KindEmote && k != KindReply && k != KindFile && k != KindNewPoll:
		return "contact: it goes to the room of the message it is about"
	case o.Of != "" && k != KindEdit && k != KindReaction && k != KindRedaction && k != KindVote && k != KindEndPoll:
		return "message to change"
	case o.Thread != "" && k != KindText && k != KindEmote && k != KindReply && k != KindFile && k != KindNewPoll:
		return "thread: only messages, files and polls go into a thread"
	case len(o.Answers) > 0 && k != KindVote:
		return "answers"
	case o.Poll != nil && k != KindNewPoll:
		return "poll"
	case o.ReplyTo != "" && k != KindReply:
		return "message to answer"
	case o.Key != "" && k != KindReaction:
		return "reaction key"
	case o.File != "" && k != KindFile:
		return "file"
	case o.Body != "" && (k == KindReaction || k == KindRedaction || k == KindFile || k == KindVote || k == KindEndPoll || k == KindNewPoll):
		return "text"
	case o.Emote && k != KindEmote && k != KindEdit && k != KindReply:
		return "emote flag (a message said as an action is a KindEmote)"
	}
	return ""
}

// OutgoingChanged reports a message's progress through the outbox.
type OutgoingChanged struct {
	TxnID   string
	Room    id.RoomID
	State   OutgoingState
	EventID id.EventID
	Err     error         // why the last attempt failed (Queued: it will be retried; Failed: it will not)
	RetryIn time.Duration // Queued after a failure: when the next attempt is
}

func (OutgoingChanged) isEvent() {}

// Enqueue writes o to the outbox and wakes the sender. It is safe from then on: it is sent
// (exactly once, thanks to its transaction ID) by this process or, after a crash, by the next
// one, in order with what was written before it. A message, a reply or a file may have only
// Target: the sender then opens the DM first (R21). Taking a reaction back is deleting the
// reaction's event (KindRedaction). A file is checked now and read when it is sent; it must
// still be there then.
func (s *Service) Enqueue(ctx context.Context, o Outgoing) error {
	if err := o.check(); err != nil {
		return err
	}
	if o.Kind == KindFile {
		abs, err := filepath.Abs(o.File)
		if err != nil {
			return fmt.Errorf("the file %s: %w", o.File, err)
		}
		f, err := openToSend(abs)
		if err != nil {
			return err
		}
		f.Close()
		o.File, o.Body = abs, filepath.Base(abs)
	}
	if o.Room == "" && o.Target == "" {
		return errors.New("a message needs a room or a contact")
	}
	extra, err := o.extra()
	if err != nil {
		return err
	}
	if o.Kind == KindEmote {
		o.Emote = true
	}
	if o.TxnID == "" {
		o.TxnID = s.cli.TxnID()
	}
	err = s.store.AddOutgoing(ctx, &store.Outgoing{
		TxnID: o.TxnID, Kind: o.Kind.String(), Room: o.Room, Target: o.Target, Body: o.Body, Emote: o.Emote,
		Created: time.Now().UnixMilli(), Of: o.Of, ReplyTo: o.ReplyTo, Key: o.Key, File: o.File,
		Thread: o.Thread, Extra: extra,
	})
	if err != nil {
		return fmt.Errorf("save the message: %w", err)
	}
	s.wakeOutbox()
	return nil
}

// Outbox lists the messages not yet sent, oldest first.
func (s *Service) Outbox(ctx context.Context) ([]Outgoing, error) {
	stored, err := s.store.Outbox(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Outgoing, len(stored))
	for i, o := range stored {
		out[i] = Outgoing{Kind: kindNamed(o.Kind), TxnID: o.TxnID, Room: o.Room, Target: o.Target, Body: o.Body, Emote: o.Emote,
			Of: o.Of, ReplyTo: o.ReplyTo, Key: o.Key, File: o.File, Created: time.UnixMilli(o.Created), Failed: o.Failed,
			Thread: o.Thread}
		out[i].setExtra(o.Extra)
	}
	return out, nil
}

// RetryOutgoing puts a failed message back in the queue, with its transaction ID.
func (s *Service) RetryOutgoing(ctx context.Context, txnID string) error {
	if err := s.store.SetOutgoingFailed(ctx, txnID, ""); err != nil {
		return err
	}
	s.wakeOutbox()
	return nil
}

// RetryNow cuts short the wait before the next attempt to sync and to send.
func (s *Service) RetryNow() {
	s.wakeOutbox()
	select {
	case s.syncWake <- struct{}{}:
	default:
	}
}

func (s *Service) wakeOutbox() {
	select {
	case s.outboxWake <- struct{}{}:
	default:
	}
}

// FlushOutbox sends what is in the outbox, in order, once. It stops at the first message that
// cannot be sent now (the server is unreachable or busy) and returns why; messages the server
// refuses are marked failed and skipped. sent counts the messages delivered.
func (s *Service) FlushOutbox(ctx context.Context) (sent int, err error) {
	s.outboxMu.Lock()
	defer s.outboxMu.Unlock()
	pending, err := s.store.Outbox(ctx)
	if err != nil {
		return 0, err
	}
	for _, o := range pending {
		if o.Failed != "" {
			continue
		}
		if err := s.sendOutgoing(ctx, o); err != nil {
			if retry, _ := retryable(err); retry || IsLoggedOut(s.wrap(err)) {
				return sent, err
			}
			continue
		}
		sent++
	}
	return sent, nil
}

// sendOutgoing sends one outbox entry: to the room its conversation is in now, not again when
// an earlier attempt arrived, then out of the outbox.
func (s *Service) sendOutgoing(ctx context.Context, o *store.Outgoing) error {
	kind := kindNamed(o.Kind)
	if kind == 0 {
		// Written by a newer duet, maybe: what it is cannot be sent as something else.
		return s.outgoingFailed(ctx, o, fmt.Errorf("duet cannot send an outbox entry of the kind %q: a newer duet wrote it", o.Kind))
	}
	if stop, err := s.settleRoom(ctx, o); stop {
		return err
	}
	// An earlier attempt that broke off may have arrived: sending again could post it twice.
	evt, err := s.arrived(ctx, o)
	if err != nil {
		s.publishOutgoing(ctx, OutgoingChanged{TxnID: o.TxnID, Room: o.Room, State: OutgoingQueued, Err: err})
		return err
	}
	if evt != "" {
		s.log.Info().Str("txn_id", o.TxnID).Stringer("event_id", evt).Msg("an attempt that broke off had arrived; not sending again")
	} else {
		if evt, err = s.attempt(ctx, o, kind); err != nil {
			s.deliv.failed(o.TxnID, err)
			return s.outgoingFailed(ctx, o, err)
		}
		s.deliv.sent(o.TxnID)
	}
	if err := s.store.RemoveOutgoing(ctx, o.TxnID); err != nil {
		return err
	}
	o.SentAs = evt
	s.publishOutgoing(ctx, OutgoingChanged{TxnID: o.TxnID, Room: o.Room, State: OutgoingSent, EventID: evt})
	return nil
}

// settleRoom decides the room an entry goes to: where a contact's conversation goes on now
// (R5-R9, R23), in case it moved since the message was typed, or a DM found or made for it
// (R11). stop says the caller returns err now (the entry could not be placed).
func (s *Service) settleRoom(ctx context.Context, o *store.Outgoing) (stop bool, err error) {
	// A thread stays in its room: its root is there, whatever room the conversation goes on in.
	if o.Room != "" && o.Target != "" && o.Thread == "" {
		room, err := s.redirect(ctx, o.Room, o.Target)
		if err != nil {
			return true, err
		}
		if room != o.Room {
			s.log.Info().Str("txn_id", o.TxnID).Stringer("room_id", o.Room).Stringer("now", room).Msg("the conversation moved: the message goes where it is now")
			o.Room = room
			if err := s.store.SetOutgoingRoom(ctx, o.TxnID, room); err != nil {
				return true, err
			}
		}
	}
	if o.Room != "" {
		return false, nil
	}
	room, _, err := s.OpenDM(ctx, o.Target)
	if room == "" {
		return true, s.outgoingFailed(ctx, o, err)
	}
	if err != nil {
		// The room works; only m.direct was not updated (R11). Said, not fatal.
		s.log.Warn().Err(err).Stringer("room_id", room).Msg("new DM not recorded in m.direct")
	}
	o.Room = room
	if err := s.store.SetOutgoingRoom(ctx, o.TxnID, room); err != nil {
		return true, err
	}
	return false, nil
}

// attempt sends an entry once, within its time (longer for a file to upload).
func (s *Service) attempt(ctx context.Context, o *store.Outgoing, kind Kind) (id.EventID, error) {
	s.publishOutgoing(ctx, OutgoingChanged{TxnID: o.TxnID, Room: o.Room, State: OutgoingSending})
	// Where the room's stored timeline ends before the attempt: if the attempt breaks off, a
	// copy of the message stored after this point may be it (arrived, contentEcho).
	if byText(o) {
		if top, err := s.store.TopPos(ctx, o.Room); err == nil {
			s.deliv.attempting(o.TxnID, top)
		}
	}
	timeout := sendTimeout
	if kind == KindFile && o.Media == "" {
		timeout += uploadTime(o.File) // a large file takes long to upload
	}
	ctx, cancel := context.WithTimeout(withPeer(ctx, o.Target), timeout)
	defer cancel()
	return s.dispatch(ctx, o, kind)
}

// dispatch sends an entry as the event its kind is.
func (s *Service) dispatch(ctx context.Context, o *store.Outgoing, kind Kind) (id.EventID, error) {
	switch kind {
	case KindText, KindEmote:
		if o.Thread != "" {
			return s.sendContent(ctx, o.Room, s.inThread(ctx, o.Room, messageContent(o.Body, kind == KindEmote), o.Thread, ""), o.TxnID)
		}
		return s.SendText(ctx, o.Room, o.Body, kind == KindEmote, o.TxnID)
	case KindEdit:
		return s.sendContent(ctx, o.Room, editContent(o.Body, o.Emote, o.Of), o.TxnID)
	case KindReply:
		if o.Thread != "" {
			return s.sendContent(ctx, o.Room, s.inThread(ctx, o.Room, messageContent(o.Body, o.Emote), o.Thread, o.ReplyTo), o.TxnID)
		}
		return s.SendReply(ctx, o.Room, o.Body, o.Emote, o.ReplyTo, o.TxnID)
	case KindVote, KindEndPoll, KindNewPoll:
		return s.sendPollEvent(ctx, o, kind)
	case KindReaction:
		return s.sendEvent(ctx, o.Room, event.EventReaction, reactionContent(o.Of, o.Key), o.TxnID)
	case KindRedaction:
		resp, err := s.cli.RedactEvent(ctx, o.Room, o.Of, mautrix.ReqRedact{TxnID: o.TxnID})
		if err != nil {
			return "", fmt.Errorf("delete %s: %w", o.Of, s.wrap(err))
		}
		return resp.EventID, nil
	case KindFile:
		return s.sendFile(ctx, o)
	}
	return "", fmt.Errorf("duet cannot send an outbox entry of the kind %q", o.Kind)
}

// Unqueue takes an entry out of the outbox unsent (a command that was not asked to keep it).
func (s *Service) Unqueue(ctx context.Context, txnID string) error {
	s.outboxMu.Lock()
	defer s.outboxMu.Unlock()
	return s.store.RemoveOutgoing(ctx, txnID)
}

// Deliver sends the outbox, in order, up to the entry txnID, and reports where that one went
// and the event it became. It stops at an earlier entry that cannot be sent now (the server is
// unreachable or busy), with why; an entry the server refuses is an error.
func (s *Service) Deliver(ctx context.Context, txnID string) (id.RoomID, id.EventID, error) {
	s.outboxMu.Lock()
	defer s.outboxMu.Unlock()
	pending, err := s.store.Outbox(ctx)
	if err != nil {
		return "", "", err
	}
	for _, o := range pending {
		if o.Failed != "" {
			if o.TxnID == txnID {
				return o.Room, "", fmt.Errorf("not sent: %s", o.Failed)
			}
			continue
		}
		err := s.sendOutgoing(ctx, o)
		if o.TxnID == txnID {
			return o.Room, o.SentAs, err
		}
		if retry, _ := retryable(err); retry || IsLoggedOut(s.wrap(err)) {
			return "", "", fmt.Errorf("an earlier message in the outbox cannot be sent now: %w", err)
		}
	}
	return "", "", fmt.Errorf("%s is not in the outbox (sent already?)", txnID)
}

// redirect is where a message for target queued to room goes now: the replacement of an
// upgraded room once we are in it (R23), or "" when target left room or someone else is (or is
// said by the server to be) a member there, so that another DM is chosen or opened (R6, R9).
// Only what the store knows for sure moves a message: a room whose members are not known yet
// stays where it is.
func (s *Service) redirect(ctx context.Context, room id.RoomID, target id.UserID) (id.RoomID, error) {
	for range 8 { // a chain of upgrades, bounded against a loop of tombstones
		r, err := s.store.Room(ctx, room)
		if err != nil {
			return room, err
		}
		if r == nil || r.Tombstone == "" || r.Tombstone == room {
			break
		}
		next, err := s.store.Room(ctx, r.Tombstone)
		if err != nil {
			return room, err
		}
		if next == nil || next.Membership != string(event.MembershipJoin) {
			break
		}
		room = r.Tombstone
	}
	m, err := s.store.State.TryGetMember(ctx, room, target)
	if err != nil {
		return room, err
	}
	if m != nil && (m.Membership == event.MembershipLeave || m.Membership == event.MembershipBan) {
		return "", nil
	}
	// R6: a third member (or one the server claims) makes it no 1:1 any more.
	if others, err := s.strangers(ctx, room, target, true); err != nil {
		return room, err
	} else if len(others) > 0 {
		return "", nil
	}
	return room, nil
}

// outgoingFailed records a failed attempt: a refusal marks the message failed, anything else
// leaves it queued for the next attempt.
func (s *Service) outgoingFailed(ctx context.Context, o *store.Outgoing, err error) error {
	if retry, after := retryable(err); retry || IsLoggedOut(s.wrap(err)) {
		s.log.Warn().Err(err).Str("txn_id", o.TxnID).Bool("maybe_arrived", maybeArrived(err)).Msg("send failed; kept queued")
		// Kept queued: it goes when the server is back, or after the next login.
		s.publishOutgoing(ctx, OutgoingChanged{TxnID: o.TxnID, Room: o.Room, State: OutgoingQueued, Err: err, RetryIn: after})
		return err
	}
	s.log.Warn().Err(err).Str("txn_id", o.TxnID).Msg("send refused; marked failed")
	s.deliv.sent(o.TxnID) // nothing in doubt about a refusal: its delivery state goes
	if serr := s.store.SetOutgoingFailed(ctx, o.TxnID, Explain(err)); serr != nil {
		return serr
	}
	s.publishOutgoing(ctx, OutgoingChanged{TxnID: o.TxnID, Room: o.Room, State: OutgoingFailed, Err: err})
	return err
}

// sendTimeout bounds one attempt to send a message (encrypting included), so that a server that
// stops answering does not hold the queue for the HTTP client's 90 seconds.
const sendTimeout = 45 * time.Second

// runOutbox sends queued messages whenever there are any, retrying with exponential backoff and
// jitter (or the server's retry_after) while it cannot.
func (s *Service) runOutbox(ctx context.Context) {
	backoff := time.Second
	for {
		var wait <-chan time.Time
		_, err := s.FlushOutbox(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			delay := backoff
			if _, after := retryable(err); after > 0 {
				delay = after
			}
			delay += time.Duration(rand.Int64N(int64(delay/4) + 1))
			wait = time.After(delay)
			backoff = min(backoff*2, time.Minute)
		} else {
			backoff = time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-s.outboxWake:
		case <-wait:
		}
	}
}

// Temporary reports whether err is a failure that may pass by itself (no connection, a server
// error, rate limiting) rather than a refusal.
func Temporary(err error) bool {
	retry, _ := retryable(err)
	return retry
}

// NewTxnID returns a fresh transaction ID for a message.
func (s *Service) NewTxnID() string { return s.cli.TxnID() }

// retryable tells a temporary failure (no connection, a server error, rate limiting) from a
// refusal, and how long the server asked us to wait.
func retryable(err error) (bool, time.Duration) {
	if err == nil {
		return false, 0
	}
	if errors.Is(err, errDeliveryUnknown) {
		return true, settle
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true, 0
	}
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) {
		if errors.Is(err, mautrix.MLimitExceeded) {
			var after time.Duration
			if httpErr.RespError != nil {
				if ms, ok := httpErr.RespError.ExtraData["retry_after_ms"].(float64); ok {
					after = time.Duration(ms) * time.Millisecond
				}
			}
			return true, after
		}
		if httpErr.Response == nil {
			return true, 0
		}
		return httpErr.Response.StatusCode >= 500, 0
	}
	var urlErr *url.Error
	var opErr *net.OpError
	return errors.As(err, &urlErr) || errors.As(err, &opErr), 0
}
