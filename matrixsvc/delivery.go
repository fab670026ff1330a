package matrixsvc

import (
	"context"
	"errors"
	"net"
	"slices"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/store"
)

// A request that failed after it may have reached the server (the connection broke, the server
// was killed, a timeout, a 5xx) may still have been carried out. The homeserver remembers
// transaction IDs only for a while, and not across its own restart (Dendrite keeps them in
// memory), so sending again with the same ID could post the message twice; creating a room
// again would leave a second DM. delivery keeps what is needed to find out first:
//
//   - the transaction IDs of our own events seen in /sync (unsigned.transaction_id, which the
//     server adds for the device that sent them), the last few hundred;
//   - the messages whose last attempt is in doubt. Before one is sent again, a look at the
//     room's new events (peekEcho, a /sync from the stored position that moves nothing) tells
//     whether it arrived; if not, it is sent again after another look settle later;
//   - for each contact whose room creation was in doubt, the rooms we were in before it: a
//     room we are in now that was not there then, made by us with only the contact invited, is
//     the one that was created, and is used instead of creating another.
type delivery struct {
	mu      sync.Mutex
	echoes  map[string]id.EventID // transaction ID -> our event seen in sync (the first copy)
	gone    map[string]bool       // transaction IDs whose event in echoes came deleted
	order   []string              // echoes' keys, oldest first, to forget the oldest
	unsure  map[string]time.Time  // transaction ID -> when a look first found it missing (zero: not looked yet)
	before  map[string]float64    // transaction ID -> where its room's stored timeline ended before the first attempt
	synced  time.Time             // when the sync loop last stored a response
	created map[id.UserID]map[id.RoomID]bool
}

const maxEchoes = 512

// settle is how long a send stays held after a look found it missing. A server that stalled
// (rather than died) may still carry out the stalled request once it runs again; sent again at
// that moment, the two could both go through. A server that restarted may show what it stored
// just before dying only once it has worked through its queues: Dendrite under load took more
// than 3 s, then more than 10 s, and the message went out twice (TestServerFaults; Dendrite
// also forgets transaction IDs when it restarts). Given 30 s and a sync stored since, the first
// has shown up in most runs, or the server's transaction cache answers the second with it; when
// neither, both copies carry the transaction ID and the second is deleted when it shows up
// (dropDuplicates). A message that never reached the server waits that long before it is sent
// again; the UI says it is checking whether it arrived.
const settle = 30 * time.Second

// errDeliveryUnknown holds a message back until it is known whether its last attempt arrived.
var errDeliveryUnknown = errors.New("the connection broke while sending; checking whether the message arrived")

// maybeArrived reports whether a failed request may have been carried out by the server:
// anything but a connection that was never made, a refusal, or rate limiting.
func maybeArrived(err error) bool {
	if err == nil || errors.Is(err, errDeliveryUnknown) {
		return false
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return false
	}
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.Response != nil {
		return httpErr.Response.StatusCode >= 500
	}
	retry, _ := retryable(err)
	return retry && !errors.Is(err, mautrix.MLimitExceeded)
}

// noteSync records the echoes of our own events in a sync response (without its second
// copies: dropDuplicates ran first).
func (d *delivery) noteSync(me id.UserID, resp *mautrix.RespSync) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.synced = time.Now()
	if d.echoes == nil {
		d.echoes, d.gone = make(map[string]id.EventID), make(map[string]bool)
	}
	ownSends(me, resp, func(_ id.RoomID, evt *event.Event, txn string, deleted bool) {
		if _, ok := d.echoes[txn]; !ok {
			d.order = append(d.order, txn)
		} else if !d.gone[txn] || deleted {
			return // the first copy stays the echo; a live one beats a deleted one
		}
		d.echoes[txn], d.gone[txn] = evt.ID, deleted
	})
	for len(d.order) > maxEchoes {
		delete(d.echoes, d.order[0])
		delete(d.gone, d.order[0])
		d.order = d.order[1:]
	}
}

// dropDuplicates takes second copies of our own events out of a sync response before it is
// stored, and returns those still to delete at the server. A second copy has the transaction
// ID of an event of ours seen before: a send that went through while its answer was lost, and
// then again, to a server that had forgotten the transaction (Dendrite does across restarts;
// it still marks both copies with it). The first copy seen stays: it is the one the outbox
// and the UI took for the message. A deleted copy (one deleted here before) goes too, so that
// it shows nowhere; a live copy beats a deleted one.
func (d *delivery) dropDuplicates(me id.UserID, resp *mautrix.RespSync) (deleteAt map[id.EventID]id.RoomID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	type first struct {
		evt     id.EventID
		room    id.RoomID // set when it is in this response
		deleted bool
	}
	seen := map[string]first{}
	drop := map[id.EventID]bool{}
	ownSends(me, resp, func(roomID id.RoomID, evt *event.Event, txn string, deleted bool) {
		f, ok := seen[txn]
		if !ok {
			if e, known := d.echoes[txn]; known {
				f, ok = first{evt: e, deleted: d.gone[txn]}, true
			}
		}
		switch {
		case !ok:
			seen[txn] = first{evt: evt.ID, room: roomID, deleted: deleted}
		case f.evt == evt.ID:
		case deleted:
			drop[evt.ID] = true
		case f.deleted:
			if f.room != "" {
				drop[f.evt] = true
			}
			seen[txn] = first{evt: evt.ID, room: roomID}
		default:
			drop[evt.ID] = true
			if deleteAt == nil {
				deleteAt = map[id.EventID]id.RoomID{}
			}
			deleteAt[evt.ID] = roomID
		}
	})
	if len(drop) == 0 {
		return nil
	}
	for _, room := range resp.Rooms.Join {
		room.Timeline.Events = slices.DeleteFunc(room.Timeline.Events, func(evt *event.Event) bool { return drop[evt.ID] })
	}
	return deleteAt
}

// ownSends calls fn for each event of ours in a sync response's timelines that carries a
// transaction ID (shown to the device that sent it), in order within each room.
func ownSends(me id.UserID, resp *mautrix.RespSync, fn func(room id.RoomID, evt *event.Event, txn string, deleted bool)) {
	for roomID, room := range resp.Rooms.Join {
		for _, evt := range room.Timeline.Events {
			if txn := evt.Unsigned.TransactionID; evt.Sender == me && txn != "" {
				fn(roomID, evt, txn, evt.Unsigned.RedactedBecause != nil)
			}
		}
	}
}

// hasSynced reports whether this process has stored a sync: later ones bring live messages.
func (d *delivery) hasSynced() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return !d.synced.IsZero()
}

// failed records a failed attempt to send txnID; a doubtful one is checked before the next.
func (d *delivery) failed(txnID string, err error) {
	if !maybeArrived(err) {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.unsure == nil {
		d.unsure = make(map[string]time.Time)
	}
	if _, ok := d.unsure[txnID]; !ok {
		d.unsure[txnID] = time.Time{}
	}
}

// echo returns our event for txnID if sync has shown it.
func (d *delivery) echo(txnID string) id.EventID {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.echoes[txnID]
}

// doubtful reports whether txnID's last attempt may have arrived.
func (d *delivery) doubtful(txnID string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.unsure[txnID]
	return ok
}

// missing records that a look did not find txnID, and reports whether it has now been missing
// for settle, with a sync stored since the first look: then it is sent again. (The store must
// have caught up with the server for contentEcho to see what arrived.)
func (d *delivery) missing(txnID string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	first, ok := d.unsure[txnID]
	if !ok {
		return true
	}
	if first.IsZero() {
		d.unsure[txnID] = time.Now()
		return false
	}
	return time.Since(first) >= settle && d.synced.After(first)
}

// sent forgets txnID's doubt once it is known.
func (d *delivery) sent(txnID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.unsure, txnID)
	delete(d.before, txnID)
}

// attempting records where the room's stored timeline ended before the first attempt to send
// txnID (later attempts keep the first: the one that broke off may be any of them).
func (d *delivery) attempting(txnID string, top float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.before == nil {
		d.before = make(map[string]float64)
	}
	if _, ok := d.before[txnID]; !ok {
		d.before[txnID] = top
	}
}

// claimed reports whether evt is the echo of a transaction sync has shown.
func (d *delivery) claimed(evt id.EventID) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range d.echoes {
		if e == evt {
			return true
		}
	}
	return false
}

func (d *delivery) startedAt(txnID string) (float64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	top, ok := d.before[txnID]
	return top, ok
}

// arrived decides what to do with a message whose last attempt may have reached the server:
// its event when it did, errDeliveryUnknown to wait, or ("", nil) to send it again.
func (s *Service) arrived(ctx context.Context, o *store.Outgoing) (id.EventID, error) {
	room, txnID := o.Room, o.TxnID
	if evt := s.deliv.echo(txnID); evt != "" {
		s.deliv.sent(txnID)
		return evt, nil
	}
	if !s.deliv.doubtful(txnID) {
		return "", nil
	}
	evt, err := s.peekEcho(ctx, room, txnID)
	if err != nil {
		return "", err
	}
	if evt == "" {
		evt, err = s.contentEcho(ctx, o)
		if err != nil {
			return "", err
		}
	}
	if evt != "" {
		s.deliv.sent(txnID)
		return evt, nil
	}
	if !s.deliv.missing(txnID) {
		// The server answers (the look went through): the sync loop, maybe waiting out a
		// backoff, is woken to store what it has, so the next look can find it.
		select {
		case s.syncWake <- struct{}{}:
		default:
		}
		return "", errDeliveryUnknown
	}
	s.deliv.sent(txnID)
	return "", nil
}

// peekEcho looks through our own new events in room, from the stored sync position on, for
// the one sent with txnID. It moves nothing: the sync loop still gets every event.
func (s *Service) peekEcho(ctx context.Context, room id.RoomID, txnID string) (id.EventID, error) {
	since, err := s.store.Get(ctx, keyNextBatch)
	if err != nil || since == "" {
		return "", err
	}
	resp, err := s.peekSync(ctx, since, []id.RoomID{room}, &mautrix.FilterPart{Limit: 100, Senders: []id.UserID{s.me}})
	if err != nil {
		return "", err
	}
	joined := resp.Rooms.Join[room]
	if joined == nil {
		return "", nil // nothing new in the room
	}
	for _, evt := range joined.Timeline.Events {
		if evt.Sender == s.me && evt.Unsigned.TransactionID == txnID {
			return evt.ID, nil
		}
	}
	return "", nil
}

// contentEcho looks for a message that is o by its content: ours, stored in o's room after
// where the timeline ended before o's first attempt, with o's text, and not the echo of
// another transaction. A homeserver that restarted may show what it stored just before dying
// without its transaction ID (Dendrite keeps those in memory), so peekEcho cannot find it;
// sending again would post it twice (TestServerFaults). Only plain messages and replies are
// matched this way: their text is what the store keeps.
func (s *Service) contentEcho(ctx context.Context, o *store.Outgoing) (id.EventID, error) {
	if !byText(o) {
		return "", nil
	}
	top, ok := s.deliv.startedAt(o.TxnID)
	if !ok {
		return "", nil
	}
	msgtype := event.MsgText
	if o.Emote {
		msgtype = event.MsgEmote
	}
	found, err := s.store.OwnAfter(ctx, o.Room, s.me, top, string(msgtype), o.Body)
	if err != nil {
		return "", err
	}
	for _, evt := range found {
		if !s.deliv.claimed(evt) {
			s.log.Info().Str("txn_id", o.TxnID).Stringer("event_id", evt).Msg("found by its text: the attempt that broke off had arrived")
			return evt, nil
		}
	}
	return "", nil
}

// byText reports whether o can be found by its text (contentEcho): a message or a reply.
func byText(o *store.Outgoing) bool {
	switch kindNamed(o.Kind) {
	case KindText, KindEmote, KindReply:
		return true
	}
	return false
}

// creationFailed records the rooms we were in before a creation for x that may have happened.
func (d *delivery) creationFailed(x id.UserID, before []id.RoomID, err error) {
	if before == nil || !maybeArrived(err) {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.created == nil {
		d.created = make(map[id.UserID]map[id.RoomID]bool)
	}
	if _, ok := d.created[x]; ok {
		return // the first doubt's list is the one from before any of the attempts
	}
	set := make(map[id.RoomID]bool, len(before))
	for _, r := range before {
		set[r] = true
	}
	d.created[x] = set
}

// creationInDoubt returns the rooms we were in before a doubtful creation for x, if there was one.
func (d *delivery) creationInDoubt(x id.UserID) (map[id.RoomID]bool, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	before, ok := d.created[x]
	return before, ok
}

func (d *delivery) creationSettled(x id.UserID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.created, x)
}

// findCreated looks for the room a doubtful creation for x made: one we are in now and were not
// before, created by us, in which x is invited or joined and nobody else is.
func (s *Service) findCreated(ctx context.Context, x id.UserID, before map[id.RoomID]bool) (id.RoomID, bool, error) {
	now, err := s.cli.JoinedRooms(ctx)
	if err != nil {
		return "", false, err
	}
	for _, room := range now.JoinedRooms {
		if before[room] {
			continue
		}
		state, err := s.cli.State(ctx, room)
		if err != nil {
			return "", false, err
		}
		create := state[event.StateCreate][""]
		if create == nil || create.Sender != s.me {
			continue
		}
		others, hasX := 0, false
		for key, m := range state[event.StateMember] {
			c := m.Content.AsMember()
			if c.Membership != event.MembershipJoin && c.Membership != event.MembershipInvite {
				continue
			}
			switch id.UserID(key) {
			case s.me:
			case x:
				hasX = true
			default:
				others++
			}
		}
		if hasX && others == 0 {
			return room, true, nil
		}
	}
	return "", false, nil
}
