package matrixsvc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"time"

	"github.com/tidwall/gjson"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/store"
)

const (
	keyNextBatch  = "next_batch"
	keyFilterID   = "filter_id"
	keyFilterBody = "filter_body"
	// The unstable name of m.member_hints that Element uses.
	functionalMembersType = "io.element.functional_members"
	memberHintsType       = "m.member_hints"

	// syncMargin is how much longer than its long-poll a sync request may take before it is
	// given up on as unanswered.
	syncMargin = 20 * time.Second
)

var evtTypeMemberHints = event.Type{Type: memberHintsType, Class: event.StateEventType}
var evtTypeFunctionalMembers = event.Type{Type: functionalMembersType, Class: event.StateEventType}

// syncFilter keeps /sync small with thousands of DMs: lazy-loaded members, a short timeline per
// room (a preview; history comes from /messages), no presence.
func (s *Service) syncFilter() *mautrix.Filter {
	return &mautrix.Filter{
		Presence: &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
		Room: &mautrix.RoomFilter{
			State:    &mautrix.FilterPart{LazyLoadMembers: true},
			Timeline: &mautrix.FilterPart{LazyLoadMembers: true, Limit: s.cfg.TimelineLimit},
			// Who is typing, and how far the others have read.
			Ephemeral: &mautrix.FilterPart{Types: []event.Type{event.EphemeralEventTyping, event.EphemeralEventReceipt}},
		},
	}
}

func (s *Service) filterID(ctx context.Context) (string, error) {
	want, _ := json.Marshal(s.syncFilter())
	fid, err := s.store.Get(ctx, keyFilterID)
	if err != nil {
		return "", err
	}
	// A changed filter (a new duet version) is uploaded again.
	if body, err := s.store.Get(ctx, keyFilterBody); err == nil && fid != "" && body == string(want) {
		return fid, nil
	}
	resp, err := s.cli.CreateFilter(ctx, s.syncFilter())
	if err != nil {
		return "", s.wrap(err)
	}
	if err := s.store.Set(ctx, keyFilterID, resp.FilterID); err != nil {
		return "", err
	}
	if err := s.store.Set(ctx, keyFilterBody, string(want)); err != nil {
		return "", err
	}
	return resp.FilterID, nil
}

// CatchUp makes one /sync request from the stored position without waiting for new events, and
// applies it. Every command starts with it.
func (s *Service) CatchUp(ctx context.Context) (SyncApplied, error) {
	return s.syncOnce(ctx, 0)
}

// syncOnce makes one /sync request, waiting up to timeout for news, and applies the response:
// its to-device events, then its rooms in one transaction with the new position, then what
// follows once that is saved.
func (s *Service) syncOnce(ctx context.Context, timeout time.Duration) (SyncApplied, error) {
	ctx = s.log.WithContext(ctx) // mautrix's crypto and verification log through the context
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	defer s.endFirstSync()
	since, resp, accountData, err := s.fetchSync(ctx, timeout)
	if err != nil {
		return SyncApplied{}, err
	}
	s.firstSync.Phase(UnitRooms, int64(len(resp.Rooms.Join)))
	// To-device events first: room keys in this response decrypt its messages.
	added := s.processCrypto(ctx, resp, since)
	duplicates := s.deliv.dropDuplicates(s.me, resp)
	applied, joined, err := s.saveSync(ctx, resp, accountData, since, added)
	if err != nil {
		return SyncApplied{}, fmt.Errorf("save sync: %w", err)
	}
	s.followSync(ctx, resp, since, applied, joined, duplicates)
	return applied, nil
}

// endFirstSync reports the initial sync over, if this was it.
func (s *Service) endFirstSync() {
	s.firstSync.End()
	s.firstSync = nil
}

// fetchSync makes the /sync request from the stored position (since, "" for the initial sync)
// with the stored filter, once encryption is ready for its response.
func (s *Service) fetchSync(ctx context.Context, timeout time.Duration) (since string, resp *mautrix.RespSync, accountData map[string]json.RawMessage, err error) {
	fid, err := s.filterID(ctx)
	if err != nil {
		return "", nil, nil, err
	}
	since, err = s.store.Get(ctx, keyNextBatch)
	if err != nil {
		return "", nil, nil, err
	}
	if err := s.cryptoForSync(ctx); err != nil {
		return "", nil, nil, err
	}
	reqCtx := ctx
	if since != "" {
		// A server that stops answering (a network that drops packets) shows as offline after
		// the long-poll plus a margin, not after the HTTP client's 90 seconds. The initial sync
		// of a large account may legitimately take longer.
		var cancel context.CancelFunc
		reqCtx, cancel = context.WithTimeout(ctx, timeout+syncMargin)
		defer cancel()
	}
	resp, accountData, err = s.syncRequest(reqCtx, mautrix.ReqSync{
		Timeout:  int(timeout / time.Millisecond),
		Since:    since,
		FilterID: fid,
	})
	if err != nil {
		return "", nil, nil, s.wrap(err)
	}
	return since, resp, accountData, nil
}

// saveSync applies a response in one transaction: its rooms, the lines about new devices
// (added), the messages that keys arriving with it decrypt now, and the next position.
func (s *Service) saveSync(ctx context.Context, resp *mautrix.RespSync, accountData map[string]json.RawMessage, since string,
	added []newDevice) (applied SyncApplied, joined map[id.RoomID]id.UserID, err error) {
	s.bootMu.Lock() // what Bootstrap writes goes before the sync, never after it
	defer s.bootMu.Unlock()
	err = s.store.Txn(ctx, func(ctx context.Context) error {
		var err error
		applied, joined, err = s.applySync(ctx, resp, accountData, since == "", since != "" && s.deliv.hasSynced())
		if err != nil {
			return err
		}
		if len(added) > 0 {
			notes, err := s.noteNewDevices(ctx, added)
			if err != nil {
				return err
			}
			applied.Messages = append(applied.Messages, notes...)
		}
		if e := s.crypt.Load(); e != nil {
			if arrived := e.takeArrived(); len(arrived) > 0 {
				if applied.Redecrypted, err = s.redecrypt(ctx, arrived); err != nil {
					return err
				}
			}
		}
		if err := s.store.Set(ctx, keyNextBatch, resp.NextBatch); err != nil {
			return err
		}
		if s.faultBeforeCommit != nil {
			return s.faultBeforeCommit()
		}
		return nil
	})
	return applied, joined, err
}

// followSync does what follows a saved response: delivery bookkeeping, deleting second copies
// of our messages, unread recounts, direct invites joined elsewhere and room upgrades.
func (s *Service) followSync(ctx context.Context, resp *mautrix.RespSync, since string, applied SyncApplied,
	joined map[id.RoomID]id.UserID, duplicates map[id.EventID]id.RoomID) {
	s.deliv.noteSync(s.me, resp)
	s.deleteDuplicates(ctx, duplicates)
	if since != "" { // the initial sync's counts are fresh
		rooms := make([]id.RoomID, 0, len(applied.Messages))
		for _, m := range applied.Messages {
			rooms = append(rooms, m.RoomID)
		}
		s.recount.noteMessages(rooms)
	}
	s.recordJoinedDirect(ctx, joined)
	if since == "" || mentionsUpgrade(resp) {
		s.followUpgrades(ctx) // R23; at start too, for upgrades seen before a restart
	}
	if since == "" {
		// The initial sync is by far the largest response; hand its memory back to the system
		// now instead of minutes later, so a long-running duet stays small.
		debug.FreeOSMemory()
	}
}

// deleteDuplicates deletes second copies of our messages at the server, through the outbox
// (so a failure is tried again, after a restart too). They were never stored or shown here.
func (s *Service) deleteDuplicates(ctx context.Context, dups map[id.EventID]id.RoomID) {
	for evt, room := range dups {
		s.log.Warn().Str("room", string(room)).Str("event", string(evt)).Msg("a message of ours arrived twice (sent again after its answer was lost); deleting the second copy")
		if err := s.Enqueue(ctx, Outgoing{Kind: KindRedaction, Room: room, Of: evt}); err != nil {
			s.log.Err(err).Str("event", string(evt)).Msg("could not queue the deletion of a second copy")
		}
	}
}

// recordJoinedDirect is R16 for direct invites joined elsewhere (another client, or before a
// crash): a room we joined from a direct invite that m.direct does not list yet is added under
// its inviter. A failure is logged; the next such join tries again.
func (s *Service) recordJoinedDirect(ctx context.Context, joined map[id.RoomID]id.UserID) {
	if len(joined) == 0 {
		return
	}
	d, ok, err := s.direct(ctx)
	if err != nil || !ok {
		return
	}
	listed := d.Rooms()
	for room, inviter := range joined {
		if _, ok := listed[room]; ok || inviter == s.me {
			continue
		}
		if err := s.assignDirect(ctx, room, inviter); err != nil {
			s.log.Warn().Err(err).Stringer("room_id", room).Msg("could not record a joined direct invite in m.direct")
		}
	}
}

// Run is the sync loop: long-polls /sync until ctx ends, publishing one SyncApplied per
// response and SyncStateChanged on every change of health. It retries with backoff when the
// server is unreachable and stops with LoggedOut when the token is rejected.
func (s *Service) Run(ctx context.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error().Any("panic", r).Bytes("stack", debug.Stack()).Msg("sync loop panicked")
			s.publish(ctx, SyncFailed{Err: fmt.Errorf("sync stopped after an internal error: %v", r)})
		}
	}()
	outboxDone := s.worker(ctx, "outbox", "sending stopped", s.runOutbox)
	defer func() { <-outboxDone }()
	keysDone := s.worker(ctx, "key worker", "", s.runKeys)
	defer func() { <-keysDone }()
	recountDone := s.worker(ctx, "unread recount", "", s.runRecount)
	defer func() { <-recountDone }()
	state := SyncConnecting
	s.publish(ctx, SyncStateChanged{State: state})
	if synced, err := s.synced(ctx); err == nil && !synced {
		// A new device: the contacts list from a few small requests while the initial sync
		// runs (it takes the server seconds to minutes on a large account).
		go func() {
			if err := s.Bootstrap(ctx, true); err != nil && ctx.Err() == nil {
				s.log.Warn().Err(err).Msg("no contacts list before the initial sync; it comes with the sync")
			}
		}()
	}
	backoff := time.Second
	timeout := time.Duration(0) // the first request returns at once, so the UI fills quickly
	for ctx.Err() == nil {
		applied, err := s.syncOnce(ctx, timeout)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if IsLoggedOut(err) {
				s.publish(ctx, LoggedOut{Err: err})
				return
			}
			state = SyncOffline
			var ok bool
			if backoff, ok = s.waitToRetry(ctx, err, backoff); !ok {
				return
			}
			timeout = 0 // back online: catch up at once rather than long-poll first
			continue
		}
		backoff = time.Second
		timeout = 30 * time.Second
		if state != SyncLive {
			state = SyncLive
			s.publish(ctx, SyncStateChanged{State: state})
			s.wakeOutbox() // the server is back: what waited goes out now
		}
		if applied.news() {
			s.publish(ctx, applied)
		}
	}
}

// worker runs fn in a goroutine of its own and returns a channel closed when it has ended. A
// panic in fn is logged as the named worker's; when failure is not "" (what stops, said to the
// user), it is published as SyncFailed too.
func (s *Service) worker(ctx context.Context, name, failure string, fn func(context.Context)) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				s.log.Error().Any("panic", r).Bytes("stack", debug.Stack()).Msg(name + " panicked")
				if failure != "" {
					s.publish(ctx, SyncFailed{Err: fmt.Errorf("%s after an internal error: %v", failure, r)})
				}
			}
		}()
		fn(ctx)
	}()
	return done
}

// waitToRetry publishes that sync is offline after err and waits before the next try: backoff
// at least, longer when the server asks for it, with some jitter; less when woken. It returns
// the backoff after the next failure, and false when ctx ended meanwhile.
func (s *Service) waitToRetry(ctx context.Context, err error, backoff time.Duration) (time.Duration, bool) {
	if _, after := retryable(err); after > 0 {
		backoff = max(backoff, after)
	} else if errors.Is(err, mautrix.MLimitExceeded) {
		backoff = max(backoff, 10*time.Second)
	}
	backoff += time.Duration(rand.Int64N(int64(backoff/4) + 1)) // jitter: clients do not retry in step
	s.log.Warn().Err(err).Dur("retry_in", backoff).Msg("sync failed")
	s.publish(ctx, SyncStateChanged{State: SyncOffline, Err: explained(err), RetryIn: backoff})
	select {
	case <-ctx.Done():
		return backoff, false
	case <-time.After(backoff):
	case <-s.syncWake:
	}
	return min(backoff*2, 30*time.Second), true
}

// applySync stores one /sync response: account data, each room's summary, state (through
// mautrix's state store), timeline (messages, edits, reactions) and read receipts, and the
// invites; who is typing goes into the result only. It runs inside the caller's transaction.
// live says the response brings new messages as they come, not history caught up at start: the
// push rules are asked about those (Message.Notify).
func (s *Service) applySync(ctx context.Context, resp *mautrix.RespSync, accountData map[string]json.RawMessage, initial, live bool) (out SyncApplied, joinedDirect map[id.RoomID]id.UserID, err error) {
	joinedDirect = make(map[id.RoomID]id.UserID)
	for _, evtType := range []string{event.AccountDataDirectChats.Type, event.AccountDataIgnoredUserList.Type, event.AccountDataPushRules.Type} {
		if content, ok := accountData[evtType]; ok {
			if err := s.store.SetAccountData(ctx, evtType, content); err != nil {
				return out, nil, err
			}
			out.DMListChanged = true
		}
	}
	if content, ok := accountData[event.AccountDataPushRules.Type]; ok {
		s.setPushRules(content) // before the rooms: a room muted in this response is quiet already
	}
	for roomID, room := range resp.Rooms.Join {
		s.firstSync.Add(1)
		msgs, updated, changed, inviter, err := s.applyRoom(ctx, roomID, event.MembershipJoin, room.Summary, room.State.Events, room.Timeline, room.UnreadNotifications, live)
		if err != nil {
			return out, nil, err
		}
		if inviter != "" {
			joinedDirect[roomID] = inviter
		}
		out.Messages = append(out.Messages, msgs...)
		out.Changed = append(out.Changed, updated...)
		if read, err := s.receiptsIn(ctx, roomID, room.Ephemeral.Events); err != nil {
			return out, nil, err
		} else if len(read) > 0 {
			if out.Read == nil {
				out.Read = map[id.RoomID]map[id.UserID]id.EventID{}
			}
			out.Read[roomID] = read
		}
		if users, ok := s.typingIn(room.Ephemeral.Events); ok {
			if out.Typing == nil {
				out.Typing = map[id.RoomID][]id.UserID{}
			}
			out.Typing[roomID] = users
		}
		out.DMListChanged = out.DMListChanged || changed
	}
	for roomID, room := range resp.Rooms.Leave {
		_, _, changed, _, err := s.applyRoom(ctx, roomID, event.MembershipLeave, room.Summary, room.State.Events, room.Timeline, nil, false)
		if err != nil {
			return out, nil, err
		}
		out.DMListChanged = out.DMListChanged || changed
	}
	for roomID, room := range resp.Rooms.Invite {
		if err := s.applyInvite(ctx, roomID, room.State.Events); err != nil {
			return out, nil, err
		}
		out.DMListChanged = true
	}
	if initial {
		out.DMListChanged = true
	}
	return out, joinedDirect, nil
}

func (s *Service) loadRoom(ctx context.Context, roomID id.RoomID) (*store.Room, error) {
	r, err := s.store.Room(ctx, roomID)
	if errors.Is(err, store.ErrNotFound) {
		return &store.Room{ID: roomID}, nil
	}
	return r, err
}

// applyRoom records one room of a /sync response: its summary, state and timeline chunk, and
// the messages, lines and changes these make. It returns the chunk's messages and lines, the
// messages changed (edited, deleted, reacted to), whether the room changed as the contacts list
// sees it, and who invited us when this chunk has us join a direct chat.
func (s *Service) applyRoom(ctx context.Context, roomID id.RoomID, membership event.Membership, summary mautrix.LazyLoadSummary,
	state []*event.Event, chunk mautrix.SyncTimeline, unread *mautrix.UnreadNotificationCounts, live bool) (msgs, updated []Message, changed bool, directInviter id.UserID, err error) {
	r, err := s.loadRoom(ctx, roomID)
	if err != nil {
		return nil, nil, false, "", err
	}
	before := *r
	r.Membership = string(membership)
	// Left rooms are only known by their last events; invites are cleared once joined.
	r.Inviter, r.DirectInvite = "", false
	applySummary(r, summary, unread, len(chunk.Events))
	msgs = s.stateNotes(ctx, roomID, r, &before, state)
	var changes []store.Change
	msgs, changes, directInviter = s.applyTimeline(ctx, roomID, r, chunk.Events, live, msgs)
	msgs = s.settleChunk(ctx, roomID, r, msgs, changes)
	if updated, err = s.storeChunk(ctx, roomID, r, chunk, msgs, changes); err != nil {
		return nil, nil, false, "", err
	}
	if directInviter == "" && before.Membership == string(event.MembershipInvite) && before.DirectInvite &&
		r.Membership == string(event.MembershipJoin) {
		directInviter = before.Inviter
	}
	if err := s.store.PutRoom(ctx, r); err != nil {
		return nil, nil, false, "", err
	}
	return msgs, updated, !sameRoom(&before, r), directInviter, nil
}

// applySummary takes the member counts and heroes a sync's room summary brings, and the unread
// counts (of a timeline of newEvents events) when it brings them.
func applySummary(r *store.Room, summary mautrix.LazyLoadSummary, unread *mautrix.UnreadNotificationCounts, newEvents int) {
	if summary.JoinedMemberCount != nil {
		r.JoinedCount = *summary.JoinedMemberCount
	}
	if summary.InvitedMemberCount != nil {
		r.InvitedCount = *summary.InvitedMemberCount
	}
	if summary.Heroes != nil {
		r.Heroes = summary.Heroes
	}
	if unread != nil {
		setCount(r, unread, newEvents)
	}
}

// stateNotes applies the state section of a room's sync and returns the lines it makes. A
// refused change of the encryption settings is a line of the timeline where it came: in the
// state section, that is before the chunk. So is a third member handed out as state (after a
// gap, or by a server hiding it) of a room we knew (before) as a 1:1. Not at the first sight
// of a room: its state is everything since it was made, not a change.
func (s *Service) stateNotes(ctx context.Context, roomID id.RoomID, r, before *store.Room, state []*event.Event) []Message {
	var notes []Message
	wasOneToOne := before.JoinedCount+before.InvitedCount > 0 && before.JoinedCount+before.InvitedCount <= 2
	for _, evt := range state {
		if wasOneToOne {
			evt.RoomID = roomID
			if mc, ok := s.memberChangeIn(ctx, evt, true); ok {
				notes = append(notes, mc)
			}
		}
		if note := s.applyState(ctx, r, evt); note != nil {
			notes = append(notes, *note)
		}
	}
	return notes
}

// applyTimeline goes through a room's timeline chunk: state events are applied (with the lines
// they make), messages appended to msgs, and edits, deletions and reactions returned as
// changes. directInviter is who invited us to the direct chat this chunk has us join, if so.
func (s *Service) applyTimeline(ctx context.Context, roomID id.RoomID, r *store.Room, timeline []*event.Event, live bool,
	msgs []Message) (_ []Message, changes []store.Change, directInviter id.UserID) {
	for _, evt := range timeline {
		evt.RoomID = roomID
		if evt.StateKey == nil {
			s.dispatchTimeline(ctx, evt)
		}
		if evt.StateKey != nil {
			if mc, ok := s.memberChangeIn(ctx, evt, true); ok { // before the state store has it
				msgs = append(msgs, mc)
			}
			if note := s.applyState(ctx, r, evt); note != nil {
				msgs = append(msgs, *note)
			}
			if inviter := joinedFromDirectInvite(s.me, evt); inviter != "" {
				directInviter = inviter
			}
		}
		if countsAsActivity(evt) && evt.Timestamp > r.LastTS {
			r.LastTS = evt.Timestamp
		}
		msg, src, ok := s.messageFrom(ctx, evt)
		if ok {
			if live && msg.Sender != s.me && !msg.Redacted {
				s.pushActions(ctx, r, src, &msg)
			}
			msgs = append(msgs, msg)
		}
		if msg.change != nil { // a poll end is a line and a change to its poll
			changes = append(changes, *msg.change)
		}
	}
	return msgs, changes, directInviter
}

// settleChunk readies a chunk's messages to be stored and shown: plain text marked where it
// should be encrypted, no line about a service member, and the newest message as the room's
// preview.
func (s *Service) settleChunk(ctx context.Context, roomID id.RoomID, r *store.Room, msgs []Message, changes []store.Change) []Message {
	// Plain text where everything should come encrypted (a hostile server can make it up) is
	// marked; encryption turned on in this chunk marks what came before it too, as it marks what
	// is stored already (store.StateStore): which came first is the server's word.
	if s.roomEncrypted(ctx, roomID) {
		markPlain(msgs, changes)
	}
	// A member the room names a service member (R6) does not make it a group: not said.
	msgs = slices.DeleteFunc(msgs, func(m Message) bool { return serviceMemberLine(m, r.ServiceMembers) })
	// The newest message is the preview (made once: formatted text is parsed for it).
	for _, last := range slices.Backward(msgs) {
		if !last.Note() {
			r.Preview, r.PreviewSender = previewOf(last), last.Sender
			break
		}
	}
	return msgs
}

// storeChunk stores a chunk's messages and applies its changes, returning the messages they
// changed; the preview follows an edit or deletion, and replies and reactions are filled in.
func (s *Service) storeChunk(ctx context.Context, roomID id.RoomID, r *store.Room, chunk mautrix.SyncTimeline, msgs []Message, changes []store.Change) (updated []Message, err error) {
	if err := s.store.AppendEvents(ctx, roomID, toStored(msgs), chunk.Limited, chunk.PrevBatch); err != nil {
		return nil, err
	}
	if updated, err = s.applyChanges(ctx, roomID, changes, msgs); err != nil {
		return nil, err
	}
	if len(changes) > 0 {
		// An edit or a deletion may have been of the message the contacts list shows.
		if err := s.previewNow(ctx, r); err != nil {
			return nil, err
		}
	}
	// The chunk's messages as they are now: what replies answer, reactions that came with them,
	// the roots of their threads, the count of a poll (none yet is a count too).
	if len(changes) > 0 || slices.ContainsFunc(msgs, func(m Message) bool { return m.ReplyTo != "" || m.Thread != "" || m.Poll != nil }) {
		if err := s.relations(ctx, roomID, msgs); err != nil {
			return nil, err
		}
	}
	return s.threadRootsOf(ctx, roomID, msgs, updated)
}

// threadRootsOf adds to updated the earlier roots of the threads msgs went into, as they are
// now: their reply counts changed. A root of the same chunk was counted by relations already.
func (s *Service) threadRootsOf(ctx context.Context, room id.RoomID, msgs, updated []Message) ([]Message, error) {
	var roots []id.EventID
	for _, m := range msgs {
		if m.Thread == "" || slices.Contains(roots, m.Thread) ||
			slices.ContainsFunc(msgs, func(x Message) bool { return x.EventID == m.Thread }) ||
			slices.ContainsFunc(updated, func(x Message) bool { return x.EventID == m.Thread }) {
			continue
		}
		roots = append(roots, m.Thread)
	}
	if len(roots) == 0 {
		return updated, nil
	}
	evts, err := s.store.EventsByID(ctx, room, roots)
	if err != nil || len(evts) == 0 {
		return updated, err
	}
	now := make([]Message, 0, len(evts))
	for _, e := range evts {
		now = append(now, fromStored(e))
	}
	if err := s.relations(ctx, room, now); err != nil {
		return nil, err
	}
	return append(updated, now...), nil
}

// previewOf is what the contacts list shows of a room's newest message: its text, or nothing
// when it is deleted or cannot be read.
func previewOf(msg Message) string {
	if msg.Encrypted || msg.Redacted {
		return ""
	}
	if msg.Kind != KindMessage {
		return msg.KindText()
	}
	return PlainText(msg.Body, msg.HTML)
}

// previewNow sets a room's preview from its newest stored message as that is now.
func (s *Service) previewNow(ctx context.Context, r *store.Room) error {
	evts, _, err := s.store.EventsBelow(ctx, r.ID, math.Inf(1), 1)
	if err != nil || len(evts) == 0 {
		return err
	}
	m := fromStored(evts[0])
	r.Preview, r.PreviewSender = previewOf(m), m.Sender
	return nil
}

// applyChanges records the edits, redactions and reactions of a sync chunk and returns the
// earlier messages they changed, as they are now. A message of the same chunk that was
// changed is brought up to date in msgs instead (its reactions by the caller, relations).
func (s *Service) applyChanges(ctx context.Context, room id.RoomID, changes []store.Change, msgs []Message) ([]Message, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	ids, err := s.store.RecordChanges(ctx, room, changes)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	now, err := s.store.EventsByID(ctx, room, ids)
	if err != nil {
		return nil, err
	}
	var out []Message
	for _, e := range now {
		m := fromStored(e)
		if i := slices.IndexFunc(msgs, func(x Message) bool { return x.EventID == m.EventID }); i >= 0 {
			msgs[i].Body, msgs[i].HTML, msgs[i].MsgType, msgs[i].Edited, msgs[i].Redacted = m.Body, m.HTML, m.MsgType, m.Edited, m.Redacted
			if m.Redacted {
				msgs[i].Media = nil
			}
			continue
		}
		out = append(out, m)
	}
	return out, s.relations(ctx, room, out) // reactions may be what changed
}

// typingIn reads who is typing from a room's ephemeral events (m.typing replaces the whole
// list each time), leaving us out. ok is false when the events say nothing about it.
func (s *Service) typingIn(evts []*event.Event) (users []id.UserID, ok bool) {
	for _, evt := range evts {
		if evt.Type != event.EphemeralEventTyping {
			continue
		}
		ok = true
		users = users[:0]
		for _, u := range gjson.GetBytes(evt.Content.VeryRaw, "user_ids").Array() {
			if u.Type == gjson.String && id.UserID(u.Str) != s.me {
				users = append(users, id.UserID(u.Str))
			}
		}
	}
	return users, ok
}

// receiptsIn records the public read receipts (m.read) of the others in a room's ephemeral
// events, keeping each person's newest, and returns those that moved.
func (s *Service) receiptsIn(ctx context.Context, room id.RoomID, evts []*event.Event) (map[id.UserID]id.EventID, error) {
	var moved map[id.UserID]id.EventID
	for _, evt := range evts {
		if evt.Type != event.EphemeralEventReceipt {
			continue
		}
		var err error
		gjson.ParseBytes(evt.Content.VeryRaw).ForEach(func(eventID, kinds gjson.Result) bool {
			kinds.Get(`m\.read`).ForEach(func(user, receipt gjson.Result) bool {
				u := id.UserID(user.String())
				if u == s.me || u == "" || eventID.String() == "" {
					return true
				}
				changed, serr := s.store.SetReceipt(ctx, room, u, id.EventID(eventID.String()), receipt.Get("ts").Int())
				if serr != nil {
					err = serr
					return false
				}
				if changed {
					if moved == nil {
						moved = map[id.UserID]id.EventID{}
					}
					moved[u] = id.EventID(eventID.String())
				}
				return true
			})
			return err == nil
		})
		if err != nil {
			return nil, err
		}
	}
	return moved, nil
}

// Receipts returns how far each other member of room has read, as far as duet has heard.
func (s *Service) Receipts(ctx context.Context, room id.RoomID) (map[id.UserID]id.EventID, error) {
	return s.store.Receipts(ctx, room)
}

// SetTyping tells the room whether we are typing; typing lapses by itself after timeout.
func (s *Service) SetTyping(ctx context.Context, room id.RoomID, typing bool, timeout time.Duration) error {
	if _, err := s.cli.UserTyping(ctx, room, typing, timeout); err != nil {
		return explainf(s.wrap(err), "say typing")
	}
	return nil
}

// joinedFromDirectInvite returns the inviter when evt is our join replacing a direct invite
// (R16, from unsigned.prev_content and prev_sender).
func joinedFromDirectInvite(me id.UserID, evt *event.Event) id.UserID {
	if evt.Type != event.StateMember || evt.GetStateKey() != me.String() || evt.Unsigned.PrevContent == nil {
		return ""
	}
	c, ok := evt.Content.Parsed.(*event.MemberEventContent)
	if !ok || c.Membership != event.MembershipJoin {
		return ""
	}
	_ = evt.Unsigned.PrevContent.ParseRaw(event.StateMember)
	prev, ok := evt.Unsigned.PrevContent.Parsed.(*event.MemberEventContent)
	if !ok || prev.Membership != event.MembershipInvite || !prev.IsDirect {
		return ""
	}
	return evt.Unsigned.PrevSender
}

// applyState records a state event in mautrix's state store and in the room summary. It
// returns the timeline line for a change of the room's encryption settings that was refused.
func (s *Service) applyState(ctx context.Context, r *store.Room, evt *event.Event) *Message {
	evt.RoomID = r.ID
	if evt.Content.Parsed == nil {
		_ = evt.Content.ParseRaw(evt.Type)
	}
	note := s.encryptionChange(ctx, evt)
	if c, ok := evt.Content.Parsed.(*event.MemberEventContent); ok && evt.Type == event.StateMember &&
		c.Membership == event.MembershipInvite && c.Displayname == "" && evt.GetStateKey() != s.me.String() {
		// An invite names no one on some servers (Dendrite's does not carry the invitee's
		// profile): keep the name we had, from the profile looked up when we made the DM,
		// rather than show the user ID until they join.
		if old, err := s.store.State.GetMember(ctx, r.ID, id.UserID(evt.GetStateKey())); err == nil && old != nil && old.Displayname != "" {
			c.Displayname = old.Displayname
		}
	}
	mautrix.UpdateStateStore(ctx, s.store.State, evt)
	if e := s.crypt.Load(); e != nil {
		evt.Type.Class = event.StateEventType
		if e.disp.wants(evt.Type) {
			e.op.Lock()
			e.disp.dispatch(ctx, evt) // membership and history visibility: who gets room keys
			e.op.Unlock()
		}
	}
	switch evt.Type.Type {
	case event.StateRoomName.Type:
		if c, ok := evt.Content.Parsed.(*event.RoomNameEventContent); ok {
			r.Name = c.Name
		}
	case event.StateTombstone.Type:
		if c, ok := evt.Content.Parsed.(*event.TombstoneEventContent); ok {
			r.Tombstone = c.ReplacementRoom
		}
	case event.StateCreate.Type:
		if c, ok := evt.Content.Parsed.(*event.CreateEventContent); ok && c.Predecessor != nil {
			r.Predecessor = c.Predecessor.RoomID
		}
		if r.LastTS == 0 {
			r.LastTS = evt.Timestamp
		}
	case memberHintsType, functionalMembersType:
		var hints struct {
			ServiceMembers []id.UserID `json:"service_members"`
		}
		if json.Unmarshal(evt.Content.VeryRaw, &hints) == nil {
			r.ServiceMembers = hints.ServiceMembers
		}
	case event.StateMember.Type:
		if evt.GetStateKey() == s.me.String() {
			if c, ok := evt.Content.Parsed.(*event.MemberEventContent); ok {
				r.Membership = string(c.Membership)
			}
		}
	}
	return note
}

// countsAsActivity: messages and membership changes move a conversation up the list, as in
// other clients; reactions, edits, deletions, votes, live-location points (every few seconds
// while shared), other state and profile changes (a member event whose membership did not
// change) do not, so the time shown beside a contact is that of the last thing said or of a
// join or leave.
func countsAsActivity(evt *event.Event) bool {
	switch t := evt.Type.Type; {
	case evt.Type == event.StateMember:
	case evt.StateKey != nil, evt.Type == event.EventReaction, evt.Type == event.EventRedaction:
		return false
	case t == typePollResponse, t == event.EventUnstablePollResponse.Type, t == typeBeacon, t == typeBeaconMSC3672:
		return false // a vote counts in its poll, a point moves its live location: no line of their own
	default:
		// Encrypted events keep m.relates_to in the clear, so this holds for them too. (Most
		// messages have none: they are not parsed for it.)
		if !bytes.Contains(evt.Content.VeryRaw, []byte(`"m.relates_to"`)) {
			return true
		}
		switch event.RelationType(gjson.GetBytes(evt.Content.VeryRaw, `m\.relates_to.rel_type`).Str) {
		case event.RelAnnotation, event.RelReplace:
			return false
		}
		return true
	}
	c, ok := evt.Content.Parsed.(*event.MemberEventContent)
	if !ok {
		return false
	}
	if evt.Unsigned.PrevContent != nil {
		_ = evt.Unsigned.PrevContent.ParseRaw(event.StateMember)
		if prev, ok := evt.Unsigned.PrevContent.Parsed.(*event.MemberEventContent); ok && prev.Membership == c.Membership {
			return false
		}
	}
	return true
}

// noteMalformed logs a message event that is not shown because its msgtype or body is missing
// or not text: a stranger's hostile or a buggy client's event is skipped, never fatal.
func (s *Service) noteMalformed(evt *event.Event) {
	if evt.Type != event.EventMessage || evt.Unsigned.RedactedBecause != nil {
		return
	}
	f := gjson.GetManyBytes(evt.Content.VeryRaw, "msgtype", "body")
	if f[0].Type == gjson.String && f[1].Type == gjson.String {
		return
	}
	s.log.Warn().Stringer("event_id", evt.ID).Stringer("room_id", evt.RoomID).Stringer("sender", evt.Sender).
		Msg("skipped a message whose msgtype or body is missing or not text")
}

// toMessage reads a timeline event as a message; ok says it is one to show. An edit, a reaction
// or a deletion is none: it comes back as msg.change, for the message it changes.
func toMessage(evt *event.Event) (Message, bool) {
	msg := Message{
		RoomID:    evt.RoomID,
		EventID:   evt.ID,
		Sender:    evt.Sender,
		Timestamp: time.UnixMilli(evt.Timestamp),
	}
	switch evt.Type {
	case event.EventEncrypted:
		msg.Encrypted = true
		return msg, true
	case event.EventMessage:
		if evt.Unsigned.RedactedBecause != nil {
			msg.Redacted = true // deleted before we saw it: shown as deleted
			return msg, true
		}
		if c, ok := evt.Content.Parsed.(*event.MessageEventContent); ok {
			return messageFromParsed(evt, c, msg)
		}
		return messageFromJSON(evt, msg)
	case event.EventReaction:
		if evt.Unsigned.RedactedBecause == nil {
			msg.change = reactionOf(evt)
		}
	case event.EventRedaction:
		msg.change = redactionOf(evt)
	default:
		return otherMessage(evt, msg)
	}
	return msg, false
}

// messageFromParsed fills msg from a message event's parsed content c (as decryption leaves
// it); ok as toMessage's.
func messageFromParsed(evt *event.Event, c *event.MessageEventContent, msg Message) (_ Message, ok bool) {
	msg.MsgType, msg.Body = string(c.MsgType), c.Body
	msg.Media = mediaOf(c)
	if c.Format == event.FormatHTML {
		msg.HTML = c.FormattedBody
	}
	if c.NewContent != nil {
		if rel := c.RelatesTo; rel != nil && rel.Type == event.RelReplace && rel.EventID != "" {
			html := ""
			if c.NewContent.Format == event.FormatHTML {
				html = c.NewContent.FormattedBody
			}
			msg.change = &store.Change{ID: evt.ID, Target: rel.EventID, Sender: evt.Sender, TS: evt.Timestamp,
				MsgType: string(c.NewContent.MsgType), Body: c.NewContent.Body, HTML: html}
		}
		return msg, false // an edit changes its message; it is not one itself
	}
	msg.Thread = c.RelatesTo.GetThreadParent()
	if c.RelatesTo != nil && c.RelatesTo.InReplyTo != nil {
		// In a thread, a reply that is only the thread's fallback for older clients answers
		// nothing: it is the thread that it follows.
		msg.ReplyTo = c.RelatesTo.GetNonFallbackReplyTo()
		msg.Body, msg.HTML = withoutReplyFallback(msg.Body, msg.HTML)
	}
	if c.MsgType == event.MsgLocation {
		msg.Location = locationOf(evt.Content.VeryRaw, c.Body)
		if msg.Location != nil {
			msg.Kind = KindLocation
		}
	}
	// A verification request is a step of a protocol, shown by the verification
	// dialog; its body is a fallback for clients without verification.
	return msg, c.MsgType != event.MsgVerificationRequest
}

// messageFromJSON fills msg from a message event's raw content; ok as toMessage's. It reads
// the fields we show straight from the JSON: decoding the whole content by reflection cost a
// third of the allocations of applying a sync.
func messageFromJSON(evt *event.Event, msg Message) (_ Message, ok bool) {
	f := gjson.GetManyBytes(evt.Content.VeryRaw, "msgtype", "body", `m\.new_content`, "format", "formatted_body", `m\.relates_to.m\.in_reply_to`)
	if f[0].Type != gjson.String || f[1].Type != gjson.String {
		return msg, false // not a valid message
	}
	msg.MsgType, msg.Body = f[0].Str, f[1].Str
	if f[3].Str == string(event.FormatHTML) && f[4].Type == gjson.String {
		msg.HTML = f[4].Str
	}
	if f[2].Exists() {
		msg.change = editOf(evt)
		return msg, false
	}
	if isMediaType(f[0].Str) {
		msg.Media = mediaFromJSON(f[0].Str, f[1].Str, evt.Content.VeryRaw)
	}
	msg.Thread = threadOf(evt.Content.VeryRaw)
	if f[5].IsObject() {
		// A thread's fallback reply (is_falling_back) answers nothing: see messageFromParsed.
		if msg.Thread == "" || !gjson.GetBytes(evt.Content.VeryRaw, `m\.relates_to.is_falling_back`).Bool() {
			msg.ReplyTo = id.EventID(f[5].Get("event_id").Str)
		}
		msg.Body, msg.HTML = withoutReplyFallback(msg.Body, msg.HTML)
	}
	if f[0].Str == string(event.MsgLocation) {
		if msg.Location = locationOf(evt.Content.VeryRaw, msg.Body); msg.Location != nil {
			msg.Kind = KindLocation
		}
	}
	return msg, f[0].Str != string(event.MsgVerificationRequest)
}

// redactionOf reads a deletion from a redaction event, nil when it names no event or was
// itself deleted.
func redactionOf(evt *event.Event) *store.Change {
	target := evt.Redacts
	if target == "" { // room version 11 moved it into the content
		target = id.EventID(gjson.GetBytes(evt.Content.VeryRaw, "redacts").Str)
	}
	if target != "" && evt.Unsigned.RedactedBecause == nil {
		return &store.Change{ID: evt.ID, Target: target, Sender: evt.Sender, TS: evt.Timestamp, Redact: true}
	}
	return nil
}

// editOf reads an edit (m.replace with m.new_content) from an event's JSON, nil if it is not a
// well-formed one.
func editOf(evt *event.Event) *store.Change {
	f := gjson.GetManyBytes(evt.Content.VeryRaw, `m\.relates_to.rel_type`, `m\.relates_to.event_id`,
		`m\.new_content.msgtype`, `m\.new_content.body`, `m\.new_content.format`, `m\.new_content.formatted_body`)
	if f[0].Str != string(event.RelReplace) || f[1].Str == "" || f[2].Type != gjson.String || f[3].Type != gjson.String {
		return nil
	}
	html := ""
	if f[4].Str == string(event.FormatHTML) && f[5].Type == gjson.String {
		html = f[5].Str
	}
	return &store.Change{ID: evt.ID, Target: id.EventID(f[1].Str), Sender: evt.Sender, TS: evt.Timestamp,
		MsgType: f[2].Str, Body: f[3].Str, HTML: html}
}

func (s *Service) applyInvite(ctx context.Context, roomID id.RoomID, state []*event.Event) error {
	r, err := s.loadRoom(ctx, roomID)
	if err != nil {
		return err
	}
	r.Membership = string(event.MembershipInvite)
	for _, evt := range state {
		evt.RoomID = roomID
		if evt.Content.Parsed == nil {
			_ = evt.Content.ParseRaw(evt.Type)
		}
		switch evt.Type.Type {
		case event.StateRoomName.Type:
			if c, ok := evt.Content.Parsed.(*event.RoomNameEventContent); ok {
				r.Name = c.Name
			}
		case event.StateMember.Type:
			// Names of the people in the invite (the inviter's, usually) for the list.
			mautrix.UpdateStateStore(ctx, s.store.State, evt)
			if evt.GetStateKey() != s.me.String() {
				continue
			}
			c, ok := evt.Content.Parsed.(*event.MemberEventContent)
			if !ok || c.Membership != event.MembershipInvite {
				continue
			}
			r.Inviter = evt.Sender
			r.DirectInvite = c.IsDirect
			if evt.Timestamp > 0 {
				r.LastTS = evt.Timestamp
			}
		}
	}
	if r.LastTS == 0 {
		r.LastTS = time.Now().UnixMilli()
	}
	return s.store.PutRoom(ctx, r)
}

// sameRoom reports whether nothing the contacts list shows changed.
func sameRoom(a, b *store.Room) bool {
	return a.Membership == b.Membership && a.Name == b.Name && a.LastTS == b.LastTS &&
		a.JoinedCount == b.JoinedCount && a.InvitedCount == b.InvitedCount && a.Unread == b.Unread &&
		a.Highlight == b.Highlight && a.Tombstone == b.Tombstone && a.Preview == b.Preview &&
		a.Inviter == b.Inviter && slices.Equal(a.Heroes, b.Heroes) && slices.Equal(a.ServiceMembers, b.ServiceMembers)
}

// encryptionChange returns the timeline line for an m.room.encryption event that the store will
// refuse (store.StateStore keeps a room's first settings): one that names another algorithm
// than the room has, or none. nil for any other event, for the room's first encryption event,
// and for one that repeats the settings.
func (s *Service) encryptionChange(ctx context.Context, evt *event.Event) *Message {
	if evt.Type != event.StateEncryption || evt.GetStateKey() != "" || evt.ID == "" {
		return nil
	}
	have, ok, err := s.store.State.EncryptionAlgorithm(ctx, evt.RoomID)
	if err != nil || !ok {
		return nil
	}
	asked := gjson.GetBytes(evt.Content.VeryRaw, "algorithm")
	alg := asked.Str
	if asked.Type != gjson.String {
		alg = ""
	}
	if id.Algorithm(alg) == have {
		return nil // the same algorithm (other rotation settings are kept as they were, silently)
	}
	s.log.Warn().Stringer("room_id", evt.RoomID).Stringer("sender", evt.Sender).Stringer("event_id", evt.ID).
		Msg("someone tried to change the encryption of an encrypted room; it stays encrypted as it was")
	return &Message{RoomID: evt.RoomID, EventID: evt.ID, Sender: evt.Sender, Timestamp: time.UnixMilli(evt.Timestamp),
		EncryptionChange: &EncryptionChange{Algorithm: alg}}
}

// markPlain marks the messages, reactions, votes and live-location points of an encrypted room
// that came in plain text, as a batch of a sync or of history comes. A plain edit needs no mark: it is stored as plain (E2E
// false) and so never replaces an encrypted message (store.applyChanges).
func markPlain(msgs []Message, changes []store.Change) {
	for i := range msgs {
		if m := &msgs[i]; !m.E2E && !m.Encrypted && !m.Redacted && !m.Note() {
			m.NotEncrypted = true
		}
	}
	for i := range changes {
		if c := &changes[i]; (c.Reaction != "" || c.Vote || c.Location != "") && !c.E2E {
			c.NotEncrypted = true
		}
	}
}
