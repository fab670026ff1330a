package matrixsvc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// deviceNoticePrefix starts the event IDs of duet's own "new device" lines. Server event IDs
// start with $; a random part keeps a hostile server from taking an ID first.
const deviceNoticePrefix = "~device:"

// IsDuetLine reports whether evt is a line duet made itself (a new device), not an event of
// the server: it cannot be read, answered or reacted to there.
func IsDuetLine(evt id.EventID) bool { return strings.HasPrefix(string(evt), deviceNoticePrefix) }

// newDevice is a device of a contact that appeared in a sync.
type newDevice struct {
	user   id.UserID
	device id.DeviceID
	name   string
}

// deviceSnapshot is, for each contact of a 1:1 whose device list the server says changed,
// the devices the crypto store knew before the sync's key query; only contacts whose devices
// were known before (so that a new one can be told) are in it. e.op is held.
func (s *Service) deviceSnapshot(ctx context.Context, e *e2ee, changed []id.UserID) map[id.UserID]map[id.DeviceID]bool {
	var out map[id.UserID]map[id.DeviceID]bool
	for _, u := range changed {
		if rooms, err := s.dmRoomsOf(ctx, u); err != nil || len(rooms) == 0 {
			continue
		}
		devs, err := e.mach.CryptoStore.GetDevices(ctx, u)
		if err != nil || len(devs) == 0 {
			continue
		}
		if out == nil {
			out = map[id.UserID]map[id.DeviceID]bool{}
		}
		out[u] = map[id.DeviceID]bool{}
		for d := range devs {
			out[u][d] = true
		}
	}
	return out
}

// devicesAdded compares the crypto store after the sync's key query with a snapshot. e.op is
// held.
func (s *Service) devicesAdded(ctx context.Context, e *e2ee, before map[id.UserID]map[id.DeviceID]bool) []newDevice {
	var out []newDevice
	for u, known := range before {
		devs, err := e.mach.CryptoStore.GetDevices(ctx, u)
		if err != nil {
			continue
		}
		for d, dev := range devs {
			if !known[d] && dev != nil && !dev.Deleted && !(u == s.me && d == s.cli.DeviceID) {
				out = append(out, newDevice{user: u, device: d, name: dev.Name})
			}
		}
	}
	slices.SortFunc(out, func(a, b newDevice) int {
		return strings.Compare(string(a.user)+string(a.device), string(b.user)+string(b.device))
	})
	return out
}

// dmRoomsOf lists the rooms m.direct lists under user alone, with the user; for us, every
// room m.direct lists under one other user, with that user: a new device of ours gets the keys
// of all of them.
func (s *Service) dmRoomsOf(ctx context.Context, user id.UserID) (map[id.RoomID]id.UserID, error) {
	if _, err := s.dmPeer(ctx, ""); err != nil { // brings the cache up to date
		return nil, err
	}
	s.peers.mu.Lock()
	defer s.peers.mu.Unlock()
	out := map[id.RoomID]id.UserID{}
	for room, users := range s.peers.rooms {
		if len(users) == 1 && (users[0] == user || user == s.me && users[0] != s.me) {
			out[room] = users[0]
		}
	}
	return out, nil
}

// noteNewDevices puts a line about each new device of a contact into the 1:1 rooms with them,
// and about a new device of ours into every 1:1 room, that are shown (joined, with a stored
// timeline), after what the sync brought, and returns them as messages for the UI. It runs
// inside the sync's transaction.
func (s *Service) noteNewDevices(ctx context.Context, devs []newDevice) ([]Message, error) {
	var out []Message
	now := time.Now()
	for _, d := range devs {
		rooms, err := s.dmRoomsOf(ctx, d.user)
		if err != nil {
			return nil, err
		}
		for _, room := range slices.Sorted(maps.Keys(rooms)) {
			r, err := s.loadRoom(ctx, room)
			if err != nil {
				return nil, err
			}
			if r.Membership != string(event.MembershipJoin) {
				continue
			}
			// A room with nothing stored yet gets none: alone, the line would look like the
			// room's whole history.
			if has, err := s.store.HasEvents(ctx, room); err != nil {
				return nil, err
			} else if !has {
				continue
			}
			var nonce [8]byte
			_, _ = rand.Read(nonce[:])
			msg := Message{
				RoomID:    room,
				EventID:   id.EventID(deviceNoticePrefix + hex.EncodeToString(nonce[:])),
				Sender:    d.user,
				Timestamp: now,
				Member:    &MemberChange{User: d.user, Peer: rooms[room], Device: d.device, DeviceName: d.name},
			}
			if err := s.store.AppendEvents(ctx, room, toStored([]Message{msg}), false, ""); err != nil {
				return nil, err
			}
			out = append(out, msg)
		}
	}
	return out, nil
}
