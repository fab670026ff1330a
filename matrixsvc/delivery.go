package matrixsvc

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// A request that failed after it may have reached the server (the connection broke, the server
// was killed, a timeout, a 5xx) may still have been carried out. The homeserver remembers
// transaction IDs only for a while, and not across its own restart (Dendrite keeps them in
// memory), so sending again with the same ID could post the message twice; creating a room
// again would leave a second DM. delivery keeps what is needed to find out first:
//
//   - the transaction IDs of our own events seen in /sync (unsigned.transaction_id, which the
//     server adds for the device that sent them), the last few hundred;
//   - for each message whose last attempt was in doubt, how many syncs had started then: once
//     a sync that started later has completed without its echo, it had not arrived (a server
//     puts an event in sync before it answers the send), and it is sent again when no echo
//     came in the few seconds after (settle);
//   - for each contact whose room creation was in doubt, the rooms we were in before it: a
//     room we are in now that was not there then, made by us with only the contact invited, is
//     the one that was created, and is used instead of creating another.
type delivery struct {
	mu      sync.Mutex
	started uint64                // syncs started
	done    uint64                // the start number of the latest sync completed
	echoes  map[string]id.EventID // transaction ID -> our event seen in sync
	order   []string              // echoes' keys, oldest first, to forget the oldest
	unsure  map[string]*doubt     // transaction ID -> what is known of its failed send
	created map[id.UserID]map[id.RoomID]bool
}

// doubt is a send that failed after it may have reached the server.
type doubt struct {
	at      uint64    // syncs started when it failed
	cleared time.Time // when a sync that started later first came back without its echo
}

const maxEchoes = 512

// settle is how long a send stays held after a sync showed it had not arrived. A server that
// stalled (rather than died) may still carry out the stalled request once it runs again; sent
// again at the same moment, the two could both go through. Given a few seconds, the first has
// either shown up in sync, or the server's transaction cache answers the second with it.
const settle = 3 * time.Second

// errDeliveryUnknown holds a message back until a sync shows whether its last attempt arrived.
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

// syncStarting numbers a sync request about to be made.
func (d *delivery) syncStarting() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.started++
	return d.started
}

// noteSync records the echoes of the response to sync number n. It reports whether a message
// is waiting for this news.
func (d *delivery) noteSync(n uint64, me id.UserID, resp *mautrix.RespSync) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.echoes == nil {
		d.echoes = make(map[string]id.EventID)
	}
	for _, room := range resp.Rooms.Join {
		for _, evt := range room.Timeline.Events {
			if evt.Sender != me || evt.Unsigned.TransactionID == "" {
				continue
			}
			if _, ok := d.echoes[evt.Unsigned.TransactionID]; !ok {
				d.order = append(d.order, evt.Unsigned.TransactionID)
			}
			d.echoes[evt.Unsigned.TransactionID] = evt.ID
		}
	}
	for len(d.order) > maxEchoes {
		delete(d.echoes, d.order[0])
		d.order = d.order[1:]
	}
	d.done = max(d.done, n)
	return len(d.unsure) > 0
}

// failed records a failed attempt to send txnID; a doubtful one must be checked before the next.
func (d *delivery) failed(txnID string, err error) {
	if !maybeArrived(err) {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.unsure == nil {
		d.unsure = make(map[string]*doubt)
	}
	if _, ok := d.unsure[txnID]; !ok {
		d.unsure[txnID] = &doubt{at: d.started}
	}
}

// check says what to do before sending txnID: arrived is the event when an earlier attempt
// turned out to have arrived; errDeliveryUnknown means wait for the next sync; nil means send.
func (d *delivery) check(txnID string) (arrived id.EventID, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if evt, ok := d.echoes[txnID]; ok {
		delete(d.unsure, txnID)
		return evt, nil
	}
	u, ok := d.unsure[txnID]
	if !ok {
		return "", nil
	}
	if d.done <= u.at {
		return "", errDeliveryUnknown
	}
	// A sync that started after the failure came back without the echo: it had not arrived
	// then. After settle without an echo, it is sent again.
	if u.cleared.IsZero() {
		u.cleared = time.Now()
	}
	if time.Since(u.cleared) < settle {
		return "", errDeliveryUnknown
	}
	delete(d.unsure, txnID)
	return "", nil
}

// sent forgets txnID once its send succeeded.
func (d *delivery) sent(txnID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.unsure, txnID)
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
