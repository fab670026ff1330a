package matrixsvc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/store"
)

// view is everything the DM rules need, read from the local store in a few queries.
type view struct {
	direct     Direct
	wellFormed bool
	rooms      map[id.RoomID]*RoomInfo
	stored     map[id.RoomID]*store.Room
}

func (s *Service) loadView(ctx context.Context) (*view, error) {
	d, ok, err := s.direct(ctx)
	if err != nil {
		return nil, err
	}
	stored, err := s.store.Rooms(ctx)
	if err != nil {
		return nil, err
	}
	fetched, err := s.store.FetchedMembers(ctx)
	if err != nil {
		return nil, err
	}
	shared, err := s.store.SharedSince(ctx)
	if err != nil {
		return nil, err
	}
	rooms := make(map[id.RoomID]*RoomInfo, len(stored))
	for roomID, r := range stored {
		rooms[roomID] = s.roomInfo(r, fetched[roomID])
	}
	for roomID, since := range shared {
		if info := rooms[roomID]; info != nil {
			info.SharedSince = since
			if err := s.withClaimedMembers(ctx, info); err != nil {
				return nil, err
			}
		}
	}
	return &view{direct: d, wellFormed: ok, rooms: rooms, stored: stored}, nil
}

// roomInfo converts a stored room. Without a fetched member list, the sync summary still gives
// the exact members when every member other than us is a hero (rooms of up to six people) and
// no service members have to be told apart: that spares a /members request per DM.
func (s *Service) roomInfo(r *store.Room, members map[id.UserID]event.Membership) *RoomInfo {
	info := &RoomInfo{
		ID:             r.ID,
		Membership:     event.Membership(r.Membership),
		Members:        members,
		ServiceMembers: r.ServiceMembers,
		JoinedCount:    r.JoinedCount,
		InvitedCount:   r.InvitedCount,
		Heroes:         r.Heroes,
		LastActivity:   r.LastTS,
		Unread:         r.Unread,
		Name:           r.Name,
		Inviter:        r.Inviter,
		IsDirectInvite: r.DirectInvite,
		Tombstone:      r.Tombstone,
		Predecessor:    r.Predecessor,
	}
	if info.Members == nil && info.Membership == event.MembershipJoin && len(r.ServiceMembers) == 0 && r.JoinedCount > 0 {
		total := r.JoinedCount + r.InvitedCount
		others := slices.DeleteFunc(slices.Clone(r.Heroes), func(u id.UserID) bool { return u == s.me })
		switch {
		case total == len(others)+1:
			info.Members = map[id.UserID]event.Membership{s.me: event.MembershipJoin}
			for _, u := range others {
				info.Members[u] = event.MembershipJoin
			}
		case total == 1:
			// Alone: the heroes are the members who left.
			info.Members = map[id.UserID]event.Membership{s.me: event.MembershipJoin}
			for _, u := range others {
				info.Members[u] = event.MembershipLeave
			}
		}
	}
	return info
}

// fetchMembers loads full member lists from the server (mautrix stores them in the state store,
// where sync keeps them current) and updates v.
func (s *Service) fetchMembers(ctx context.Context, v *view, rooms []id.RoomID) error {
	if len(rooms) == 0 {
		return nil
	}
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for _, roomID := range rooms {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			resp, err := s.cli.Members(ctx, roomID)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("members of %s: %w", roomID, s.wrap(err))
				}
				return
			}
			members := make(map[id.UserID]event.Membership, len(resp.Chunk))
			for _, evt := range resp.Chunk {
				if c, ok := evt.Content.Parsed.(*event.MemberEventContent); ok {
					members[id.UserID(evt.GetStateKey())] = c.Membership
				}
			}
			if info := v.rooms[roomID]; info != nil {
				info.Members = members
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// resolveView loads the view with everything ChooseDMRoom needs for x.
func (s *Service) resolveView(ctx context.Context, x id.UserID) (*view, error) {
	v, err := s.loadView(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.fetchMembers(ctx, v, NeedMembers(s.me, x, v.direct, v.rooms)); err != nil {
		return nil, err
	}
	return v, nil
}

// FindDM returns the room R5-R8 pick for talking to x, without creating one. found is false
// when there is none (R9: a new room is needed).
func (s *Service) FindDM(ctx context.Context, x id.UserID) (room id.RoomID, found bool, err error) {
	if _, err := ValidateUserID(s.me, string(x)); err != nil {
		return "", false, err
	}
	v, err := s.resolveView(ctx, x)
	if err != nil {
		return "", false, err
	}
	room, found = ChooseDMRoom(s.me, x, v.direct, v.rooms)
	return room, found, nil
}

// OpenDM is R21: the room to talk to x in, created when none qualifies (R5-R12). created tells
// which. The same logic serves the UI's contacts, `/dm @x` and `duet send @x`.
//
// Callers for the same person share one lookup: the UI opening a new conversation and the
// outbox sending the first message typed into it both get the one room, where each looking
// on its own before the other's creation was recorded made two.
func (s *Service) OpenDM(ctx context.Context, x id.UserID) (room id.RoomID, created bool, err error) {
	type opened struct {
		room    id.RoomID
		created bool
	}
	res, err, _ := s.opens.Do(strings.TrimSpace(string(x)), func() (any, error) {
		room, found, err := s.FindDM(ctx, x)
		if err != nil || found {
			return opened{room, false}, err
		}
		room, err = s.CreateDM(ctx, x)
		return opened{room, room != ""}, err
	})
	o, _ := res.(opened)
	return o.room, o.created, err
}

// CheckUser is R12: x must be a well-formed user ID, not us, and the server must show that the
// user exists (a profile, or at least one device). It returns x's display name.
func (s *Service) CheckUser(ctx context.Context, raw string) (id.UserID, string, error) {
	x, err := ValidateUserID(s.me, raw)
	if err != nil {
		return "", "", err
	}
	profile, perr := s.cli.GetProfile(ctx, x)
	if perr == nil {
		return x, profile.DisplayName, nil
	}
	if IsLoggedOut(perr) {
		return "", "", s.wrap(perr)
	}
	var httpErr mautrix.HTTPError
	if Temporary(perr) {
		// The server is unreachable or in trouble: that says nothing about the user. Another
		// server's user is looked up over federation, and a server error is then most often
		// that server being unreachable, not ours.
		if errors.As(perr, &httpErr) && httpErr.Response != nil && httpErr.Response.StatusCode >= 500 && x.Homeserver() != s.me.Homeserver() {
			return "", "", &saidError{err: perr, msg: fmt.Sprintf("cannot check %s: your homeserver got no answer from %s (%d): check the server name, or try again later",
				x, x.Homeserver(), httpErr.Response.StatusCode)}
		}
		return "", "", explainf(s.wrap(perr), "cannot check %s", x)
	}
	if !errors.As(perr, &httpErr) || httpErr.Response == nil {
		return "", "", explainf(perr, "cannot check %s", x)
	}
	// Some servers hide profiles; a device list also proves the user exists.
	keys, kerr := s.cli.QueryKeys(ctx, &mautrix.ReqQueryKeys{DeviceKeys: mautrix.DeviceKeysRequest{x: {}}})
	if kerr == nil && len(keys.DeviceKeys[x]) > 0 {
		return x, "", nil
	}
	if Temporary(kerr) {
		return "", "", explainf(s.wrap(kerr), "cannot check %s", x)
	}
	return "", "", fmt.Errorf("%w: %s does not exist (check the spelling and the server name)", ErrUserNotFound, x)
}

// CreateDM always creates a new direct room with x invited (R10-R12) and records it in m.direct
// at once (R11); a *NotRecordedError comes with a usable room. At most one creation per contact
// is in flight: a second caller waits for the first and gets the same room.
func (s *Service) CreateDM(ctx context.Context, x id.UserID) (id.RoomID, error) {
	x, name, err := s.CheckUser(ctx, string(x))
	if err != nil {
		return "", err
	}
	res, err, _ := s.creations.Do(string(x), func() (any, error) {
		return s.createDM(ctx, x, name)
	})
	room, _ := res.(id.RoomID)
	return room, err
}

func (s *Service) createDM(ctx context.Context, x id.UserID, name string) (id.RoomID, error) {
	// The rooms we are in before, to find the room later if the server may have made it but
	// its answer was lost (delivery.go).
	joined, err := s.cli.JoinedRooms(ctx)
	if err != nil {
		return "", explainf(s.wrap(err), "create a DM with %s", x)
	}
	if before, ok := s.deliv.creationInDoubt(x); ok {
		room, found, err := s.findCreated(ctx, x, before)
		if err != nil {
			return "", explainf(s.wrap(err), "create a DM with %s", x)
		}
		s.deliv.creationSettled(x)
		if found {
			var enc event.EncryptionEventContent
			encrypted := s.cli.StateEvent(ctx, room, event.StateEncryption, "", &enc) == nil && enc.Algorithm != ""
			s.log.Info().Stringer("room_id", room).Stringer("user_id", x).Msg("the DM whose creation was in doubt was created; using it")
			return s.recordCreated(ctx, room, x, name, encrypted)
		}
	}
	req := &mautrix.ReqCreateRoom{
		Preset:     "trusted_private_chat",
		Visibility: "private",
		IsDirect:   true,
		Invite:     []id.UserID{x},
	}
	encrypted := s.shouldEncrypt(ctx, x)
	if encrypted {
		req.InitialState = append(req.InitialState, &event.Event{
			Type:    event.StateEncryption,
			Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}},
		})
	}
	resp, err := s.cli.CreateRoom(ctx, req)
	if err != nil {
		s.deliv.creationFailed(x, joined.JoinedRooms, err)
		return "", explainf(s.wrap(err), "create a DM with %s", x)
	}
	s.log.Info().Stringer("room_id", resp.RoomID).Stringer("user_id", x).Msg("created DM")
	return s.recordCreated(ctx, resp.RoomID, x, name, encrypted)
}

// recordCreated remembers a DM room we created before sync brings it, so that the conversation
// works at once, and records it in m.direct (R11).
func (s *Service) recordCreated(ctx context.Context, room id.RoomID, x id.UserID, name string, encrypted bool) (id.RoomID, error) {
	now := time.Now().UnixMilli()
	if err := s.store.Txn(ctx, func(ctx context.Context) error {
		if err := s.store.AddRoom(ctx, &store.Room{
			ID: room, Membership: string(event.MembershipJoin), LastTS: now,
			JoinedCount: 1, InvitedCount: 1, Heroes: []id.UserID{x},
		}); err != nil {
			return err
		}
		if err := s.store.State.SetMembership(ctx, room, s.me, event.MembershipJoin); err != nil {
			return err
		}
		// With the name from the profile lookup, the contact is named before sync says anything.
		if err := s.store.State.SetMember(ctx, room, x, &event.MemberEventContent{Membership: event.MembershipInvite, Displayname: name}); err != nil {
			return err
		}
		if encrypted {
			if err := s.store.State.SetEncryptionEvent(ctx, room, &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}); err != nil {
				return err
			}
		}
		return s.store.State.MarkMembersFetched(ctx, room)
	}); err != nil {
		return "", err
	}
	if err := s.assignDirect(ctx, room, x); err != nil {
		return room, &NotRecordedError{Room: room, Err: err}
	}
	return room, nil
}

// NotRecordedError says a DM room was created (and works) but m.direct could not be updated,
// for example because it is malformed (R1) or the write failed. Callers go on with Room.
type NotRecordedError struct {
	Room id.RoomID
	Err  error
}

func (e *NotRecordedError) Error() string {
	return fmt.Sprintf("created %s, but it is not recorded as a DM: %v", e.Room, e.Err)
}

func (e *NotRecordedError) Unwrap() error { return e.Err }

// Contacts derives the contacts list (R18-R20) from the local store. With resolve, it first
// fetches the member lists it needs to name each contact's room exactly (R5-R8); without, it
// answers from the store alone (rooms not yet known exactly show no chosen room).
func (s *Service) Contacts(ctx context.Context, resolve bool) (ContactList, error) {
	v, err := s.loadView(ctx)
	if err != nil {
		return ContactList{}, err
	}
	if resolve {
		var need []id.RoomID
		for user := range v.direct {
			need = append(need, NeedMembers(s.me, user, v.direct, v.rooms)...)
		}
		slices.Sort(need)
		if err := s.fetchMembers(ctx, v, slices.Compact(need)); err != nil {
			return ContactList{}, err
		}
	}
	blocked, err := s.blockedSet(ctx)
	if err != nil {
		return ContactList{}, err
	}
	return s.sortOut(ctx, v, BuildContacts(s.me, v.direct, v.rooms), blocked)
}

// DMRooms lists every DM room shared with x, best first (`duet dms @x`).
func (s *Service) DMRooms(ctx context.Context, x id.UserID) ([]DMRoomChoice, error) {
	if _, err := ValidateUserID(s.me, string(x)); err != nil {
		return nil, err
	}
	v, err := s.resolveView(ctx, x)
	if err != nil {
		return nil, err
	}
	return DMRoomsWith(s.me, x, v.direct, v.rooms), nil
}

// DirectWellFormed reports whether the last m.direct seen could be understood (R1).
func (s *Service) DirectWellFormed(ctx context.Context) (bool, error) {
	_, ok, err := s.direct(ctx)
	return ok, err
}

// DisplayName returns a user's display name as seen in any room, asking the server when we have
// none and network is true. "" when the user has none.
func (s *Service) DisplayName(ctx context.Context, user id.UserID, network bool) string {
	name, err := s.store.DisplayName(ctx, user)
	if err == nil && name != "" || !network {
		return name
	}
	if resp, err := s.cli.GetProfile(ctx, user); err == nil {
		return resp.DisplayName
	}
	return ""
}
