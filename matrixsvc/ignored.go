package matrixsvc

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Blocking (R25) is the spec's ignore list, m.ignored_user_list in global account data:
// {"ignored_users": {"@user:server": {}, ...}}. The server then drops the blocked user's
// invites and messages for every client. It is edited like m.direct: one writer, read-modify-
// write, no write when nothing changes, every entry and key we did not add kept with its value.

// errIgnoredMalformed refuses to edit an ignore list that cannot be understood: writing would
// destroy entries we did not understand (as R1 for m.direct).
var errIgnoredMalformed = errors.New("the ignore list on the server is malformed (\"ignored_users\" is not an object); fix or remove it in another client first")

const ignoredUsersKey = "ignored_users"

// ParseIgnored returns the users on an ignore list, sorted. Entries whose key is not a user ID
// are skipped; wellFormed is false when the content or its ignored_users is not an object.
// nil or empty content is an empty, well-formed list.
func ParseIgnored(raw []byte) (users []id.UserID, wellFormed bool) {
	_, list, err := splitIgnored(raw)
	if err != nil {
		return nil, false
	}
	for key := range list {
		if _, err := ValidateUserID("", key); err == nil {
			users = append(users, id.UserID(key))
		}
	}
	slices.Sort(users)
	return users, true
}

// AddIgnored adds user to the ignore list in raw; changed is false when it was there already.
// Every other key and entry keeps its value; the content is written out again as compact JSON,
// keys sorted.
func AddIgnored(raw []byte, user id.UserID) (out []byte, changed bool, err error) {
	top, list, err := splitIgnored(raw)
	if err != nil {
		return nil, false, err
	}
	if _, ok := list[string(user)]; ok {
		return raw, false, nil
	}
	list[string(user)] = json.RawMessage(`{}`)
	return joinIgnored(top, list)
}

// RemoveIgnored takes user off the ignore list in raw; changed is false when it was not there.
func RemoveIgnored(raw []byte, user id.UserID) (out []byte, changed bool, err error) {
	top, list, err := splitIgnored(raw)
	if err != nil {
		return nil, false, err
	}
	if _, ok := list[string(user)]; !ok {
		return raw, false, nil
	}
	delete(list, string(user))
	return joinIgnored(top, list)
}

// splitIgnored decodes the content into its top-level keys and the ignored_users object.
// A missing ignored_users is an empty list; one that is not an object is errIgnoredMalformed,
// with top still set.
func splitIgnored(raw []byte) (top, list map[string]json.RawMessage, err error) {
	top = map[string]json.RawMessage{}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &top); err != nil || top == nil {
			return nil, nil, errIgnoredMalformed
		}
	}
	list = map[string]json.RawMessage{}
	if v, ok := top[ignoredUsersKey]; ok {
		if err := json.Unmarshal(v, &list); err != nil || list == nil {
			return top, nil, errIgnoredMalformed
		}
	}
	return top, list, nil
}

func joinIgnored(top, list map[string]json.RawMessage) ([]byte, bool, error) {
	encoded, err := json.Marshal(list)
	if err != nil {
		return nil, false, err
	}
	top[ignoredUsersKey] = encoded
	out, err := json.Marshal(top)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// SharesJoinedRoom reports whether the rooms show x joined in a room we are joined to: from a
// fetched member list, or from the sync summary when nobody is invited (every hero is then
// joined). Members known only from elsewhere are the caller's to add (lazy loading).
func SharesJoinedRoom(x id.UserID, rooms map[id.RoomID]*RoomInfo) bool {
	for _, r := range rooms {
		if r == nil || r.Membership != event.MembershipJoin {
			continue
		}
		if r.Members != nil {
			if r.Members[x] == event.MembershipJoin {
				return true
			}
			continue
		}
		if r.InvitedCount == 0 && slices.Contains(r.Heroes, x) {
			return true
		}
	}
	return false
}

// SortOutRequests applies R24 and R25 to a contact list. A contact known only by pending direct
// invites (Pending, no joined room) from someone we share no joined room with (shares false) is
// a request: it moves to Requests. A blocked user's pending-only contact disappears (their
// invites never show); a blocked contact with a conversation stays, marked Blocked.
func SortOutRequests(list ContactList, shares func(id.UserID) bool, blocked map[id.UserID]bool) ContactList {
	kept := list.Contacts[:0:0]
	for _, c := range list.Contacts {
		pendingOnly := c.Pending && len(c.Rooms) == 0
		switch {
		case blocked[c.UserID] && pendingOnly:
			continue
		case blocked[c.UserID]:
			c.Blocked = true
			c.InviteRooms, c.Pending = nil, false
		case pendingOnly && !shares(c.UserID):
			list.Requests = append(list.Requests, c)
			continue
		}
		kept = append(kept, c)
	}
	list.Contacts = kept
	return list
}
