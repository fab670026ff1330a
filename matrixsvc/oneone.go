package matrixsvc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
)

// ErrNotOneToOne means a message for a 1:1 conversation was not encrypted for its room because
// someone besides the two people is (or, as the server says, has become) a member there: the
// room key would have gone to their devices too (issue 19; R6).
var ErrNotOneToOne = errors.New("this conversation's room is no longer one-to-one")

// peerKey carries, in a send's context, the contact a queued message was written to.
type peerKey struct{}

// withPeer marks a send as being for the 1:1 conversation with x.
func withPeer(ctx context.Context, x id.UserID) context.Context {
	if x == "" {
		return ctx
	}
	return context.WithValue(ctx, peerKey{}, x)
}

// oneToOnePeer is the other person of room when messages to it are meant for the two of us
// only: the contact a queued message was written to; or else, for a room m.direct lists under
// one user while the sync summary does not show it shared (a DM with three members that the
// user writes to from the group section, R20, is a group), the one other member the state
// store has, or that user when it has none. "" when the room is no 1:1.
func (s *Service) oneToOnePeer(ctx context.Context, room id.RoomID) (id.UserID, error) {
	if x, ok := ctx.Value(peerKey{}).(id.UserID); ok && x != "" {
		return x, nil
	}
	listed, err := s.dmPeer(ctx, room)
	if err != nil || listed == "" {
		return "", err
	}
	r, err := s.loadRoom(ctx, room)
	if err != nil {
		return "", err
	}
	if r.JoinedCount+r.InvitedCount > 2 {
		return "", nil
	}
	// A room R8 chose may be listed under someone who has left it: its other member is the
	// person. With two or more others, encryptOneToOne refuses.
	others, err := s.strangers(ctx, room, "", true)
	if err != nil {
		return "", err
	}
	if len(others) == 1 {
		return others[0], nil
	}
	return listed, nil
}

// strangers are the joined or invited members of room, as the state store (what mautrix
// shares room keys with) has them, who are neither us nor x; service members (m.member_hints)
// are left out when allowService.
func (s *Service) strangers(ctx context.Context, room id.RoomID, x id.UserID, allowService bool) ([]id.UserID, error) {
	members, err := s.store.State.GetRoomJoinedOrInvitedMembers(ctx, room)
	if err != nil {
		return nil, fmt.Errorf("members of %s: %w", room, err)
	}
	var service []id.UserID
	if allowService {
		if r, err := s.loadRoom(ctx, room); err == nil {
			service = r.ServiceMembers
		}
	}
	var out []id.UserID
	for _, u := range members {
		if u != s.me && u != x && !slices.Contains(service, u) {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return out, nil
}

// encryptOneToOne encrypts content for the 1:1 room with x: it refuses when anyone else is a
// member (ErrNotOneToOne), and shares a new room key with the devices of us and x only, never
// with whoever else the state store lists (a member event the server forged). e.op is held.
func (s *Service) encryptOneToOne(ctx context.Context, e *e2ee, room id.RoomID, x id.UserID, evtType event.Type, content any) (*event.EncryptedEventContent, error) {
	// Service members (m.member_hints) do not make it a group (R6), but get no key either.
	others, err := s.strangers(ctx, room, x, true)
	if err != nil {
		return nil, err
	}
	if len(others) > 0 {
		names := make([]string, len(others))
		for i, u := range others {
			names[i] = sanitize.Line(string(u))
		}
		return nil, fmt.Errorf("%w: %s is in it too, so the message was not sent there; retry it to send it to %s in a room of your own",
			ErrNotOneToOne, strings.Join(names, ", "), sanitize.Line(string(x)))
	}
	mach := e.helper.Machine()
	// A session shared with anyone else (by mautrix's own sharing, for a verification step
	// sent into the room) is not used for the two of us: a new one is made.
	if beyond, err := sharedBeyond(ctx, mach, room, s.me, x); err != nil {
		return nil, err
	} else if beyond {
		if err := mach.CryptoStore.RemoveOutboundGroupSession(ctx, room); err != nil {
			return nil, fmt.Errorf("renew the room key: %w", err)
		}
	}
	enc, err := mach.EncryptMegolmEvent(ctx, room, evtType, content)
	if err == nil {
		return enc, nil
	}
	if !errors.Is(err, crypto.ErrSessionExpired) && !errors.Is(err, crypto.ErrNoGroupSession) && !errors.Is(err, crypto.ErrSessionNotShared) {
		return nil, err
	}
	if err := mach.ShareGroupSession(ctx, room, []id.UserID{s.me, x}); err != nil {
		return nil, fmt.Errorf("share the room key: %w", err)
	}
	return mach.EncryptMegolmEvent(ctx, room, evtType, content)
}

// sharedBeyond reports whether room's outbound Megolm session was shared with a device of
// anyone but me and x.
func sharedBeyond(ctx context.Context, mach *crypto.OlmMachine, room id.RoomID, me, x id.UserID) (bool, error) {
	sess, err := mach.CryptoStore.GetOutboundGroupSession(ctx, room)
	if err != nil || sess == nil {
		return false, err
	}
	for ud := range sess.Users { // the memory store keeps them here
		if ud.UserID != me && ud.UserID != x {
			return true, nil
		}
	}
	sql, ok := sqlStore(mach.CryptoStore)
	if !ok {
		return false, errors.New("the crypto store is not the SQL one")
	}
	var others int
	err = sql.DB.QueryRow(ctx, `SELECT COUNT(*) FROM crypto_megolm_outbound_session_shared
		WHERE session_id=$1 AND user_id<>$2 AND user_id<>$3`, sess.ID(), me, x).Scan(&others)
	if err != nil {
		return false, fmt.Errorf("who has the room key of %s: %w", room, err)
	}
	return others > 0, nil
}
