package matrixsvc

import (
	"context"
	"errors"
	"fmt"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Block puts a user on the ignore list (R25), so that the server drops their invites and
// messages for every client, and declines their pending invites. A malformed user ID or
// ourselves is an error and writes nothing; changed is false when they were blocked already
// (nothing is written then either).
func (s *Service) Block(ctx context.Context, raw string) (x id.UserID, changed bool, err error) {
	x, err = ValidateUserID(s.me, raw)
	if err != nil {
		return "", false, err
	}
	err = s.editAccountData(ctx, &s.ignoreMu, event.AccountDataIgnoredUserList.Type, func(raw []byte) ([]byte, bool, error) {
		out, c, err := AddIgnored(raw, x)
		changed = c
		return out, c, err
	})
	if err != nil {
		return x, false, err
	}
	s.log.Info().Stringer("user_id", x).Bool("changed", changed).Msg("blocked")
	rooms, err := s.store.Rooms(ctx)
	if err != nil {
		return x, changed, err
	}
	var errs []error
	for _, r := range rooms {
		if r.Membership == string(event.MembershipInvite) && r.Inviter == x {
			if err := s.Decline(ctx, r.ID); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return x, changed, fmt.Errorf("blocked %s, but declining their invites failed: %w", x, err)
	}
	return x, changed, nil
}

// Unblock takes a user off the ignore list; changed is false (and nothing is written) when
// they were not on it.
func (s *Service) Unblock(ctx context.Context, raw string) (x id.UserID, changed bool, err error) {
	x, err = ValidateUserID(s.me, raw)
	if err != nil {
		return "", false, err
	}
	err = s.editAccountData(ctx, &s.ignoreMu, event.AccountDataIgnoredUserList.Type, func(raw []byte) ([]byte, bool, error) {
		out, c, err := RemoveIgnored(raw, x)
		changed = c
		return out, c, err
	})
	if err == nil {
		s.log.Info().Stringer("user_id", x).Bool("changed", changed).Msg("unblocked")
	}
	return x, changed, err
}

// Blocked lists the users on the ignore list as last synced; wellFormed is false when the list
// could not be understood (it is then never written, see AddIgnored).
func (s *Service) Blocked(ctx context.Context) (users []id.UserID, wellFormed bool, err error) {
	raw, err := s.store.AccountData(ctx, event.AccountDataIgnoredUserList.Type)
	if err != nil {
		return nil, false, err
	}
	users, wellFormed = ParseIgnored(raw)
	return users, wellFormed, nil
}

// blockedSet is Blocked as a set (empty when the list is unreadable).
func (s *Service) blockedSet(ctx context.Context) (map[id.UserID]bool, error) {
	users, _, err := s.Blocked(ctx)
	if err != nil {
		return nil, err
	}
	set := make(map[id.UserID]bool, len(users))
	for _, u := range users {
		set[u] = true
	}
	return set, nil
}

// sortOut applies R24-R25 to a contact list built from v: requests apart, blocked marked.
func (s *Service) sortOut(ctx context.Context, v *view, list ContactList, blocked map[id.UserID]bool) (ContactList, error) {
	shares, err := s.sharing(ctx, v, pendingOnly(list.Contacts))
	if err != nil {
		return list, err
	}
	return SortOutRequests(list, func(u id.UserID) bool { return shares[u] }, blocked), nil
}

// sharing tells for each of users whether we share a joined room with them (R24).
func (s *Service) sharing(ctx context.Context, v *view, users []id.UserID) (map[id.UserID]bool, error) {
	out := make(map[id.UserID]bool, len(users))
	var unknown []id.UserID
	for _, u := range users {
		if SharesJoinedRoom(u, v.rooms) {
			out[u] = true
		} else {
			unknown = append(unknown, u)
		}
	}
	if len(unknown) == 0 {
		return out, nil
	}
	known, err := s.store.JoinedWithMe(ctx, unknown)
	if err != nil {
		return nil, err
	}
	for u := range known {
		out[u] = true
	}
	return out, nil
}

func pendingOnly(contacts []Contact) []id.UserID {
	var out []id.UserID
	for _, c := range contacts {
		if c.Pending && len(c.Rooms) == 0 {
			out = append(out, c.UserID)
		}
	}
	return out
}
