package matrixsvc

import (
	"context"

	"maunium.net/go/mautrix/id"

	"duet/store"
)

// ErrBadSearch is a search the index cannot run (an unclosed quote, nothing but punctuation,
// too long); the error's text says what to change.
var ErrBadSearch = store.ErrBadQuery

// SearchResult is a message found by Search.
type SearchResult struct {
	Message
	Person  id.UserID // whose conversation it is in (R22); "" in a group DM or another room
	Name    string    // the person's display name (their user ID when unknown), or the group's name
	Snippet string    // the text around the match: matched words between \x01 and \x02, … where cut
}

// Search finds messages by their words in the local index (nothing is sent to the server),
// newest first: in every room, or in the conversation with with (all its rooms, R22) when set.
// more says there are more than limit.
func (s *Service) Search(ctx context.Context, query string, with id.UserID, limit int) (results []SearchResult, more bool, err error) {
	if limit <= 0 {
		limit = 20
	}
	if _, err := store.ParseQuery(query); err != nil {
		return nil, false, err
	}
	v, err := s.loadView(ctx)
	if err != nil {
		return nil, false, err
	}
	var rooms []id.RoomID
	if with != "" {
		if _, err := ValidateUserID(s.me, string(with)); err != nil {
			return nil, false, err
		}
		for _, r := range ConversationWith(s.me, with, v.direct, v.rooms) {
			rooms = append(rooms, r.RoomID)
		}
		if len(rooms) == 0 {
			return nil, false, nil
		}
	}
	hits, err := s.store.Search(ctx, query, rooms, limit+1)
	if err != nil {
		return nil, false, err
	}
	if len(hits) > limit {
		hits, more = hits[:limit], true
	}
	names, err := s.store.DisplayNames(ctx)
	if err != nil {
		return nil, false, err
	}
	listed := v.direct.Rooms()
	for _, h := range hits {
		res := SearchResult{Message: fromStored(h.Event), Snippet: h.Snippet}
		res.Person, res.Name = s.whoseRoom(v, listed, names, h.Room)
		results = append(results, res)
	}
	return results, more, nil
}

// whoseRoom is whom a search result's room is with: the person of a 1:1 (with their name),
// else the room's name, its people's names, or its ID. listed is v.direct.Rooms(), names the
// stored display names.
func (s *Service) whoseRoom(v *view, listed map[id.RoomID][]id.UserID, names map[id.UserID]string, hitRoom id.RoomID) (id.UserID, string) {
	// An upgraded room is no longer in m.direct: its replacement says whose it is.
	room := hitRoom
	for range 8 {
		if _, ok := listed[room]; ok {
			break
		}
		r := v.stored[room]
		if r == nil || r.Tombstone == "" {
			break
		}
		room = r.Tombstone
	}
	users := listed[room]
	r := v.rooms[room]
	switch {
	case len(users) == 1 && users[0] != s.me && (r == nil || r.MemberCount() <= 2):
		if name := names[users[0]]; name != "" {
			return users[0], name
		}
		return users[0], string(users[0])
	case r != nil && r.Name != "":
		return "", r.Name
	case len(users) > 0:
		return "", s.namesOf(users, names)
	}
	return "", string(hitRoom)
}

// DirectoryUser is a person found in the homeserver's user directory.
type DirectoryUser struct {
	UserID      id.UserID
	DisplayName string
}

// SearchUsers asks the homeserver's user directory for people matching term (by name or user
// ID): those who share a room with us or are public on the server, as the server decides. Us
// and people we have blocked are left out.
func (s *Service) SearchUsers(ctx context.Context, term string, limit int) ([]DirectoryUser, error) {
	resp, err := s.cli.SearchUserDirectory(ctx, term, limit)
	if err != nil {
		return nil, explainf(s.wrap(err), "search the user directory")
	}
	blocked, err := s.blockedSet(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DirectoryUser, 0, len(resp.Results))
	for _, r := range resp.Results {
		if r == nil || r.UserID == "" || r.UserID == s.me || blocked[r.UserID] {
			continue
		}
		out = append(out, DirectoryUser{UserID: r.UserID, DisplayName: r.DisplayName})
	}
	return out, nil
}
