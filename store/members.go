package store

import (
	"context"
	"database/sql"
	"errors"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// FetchedMembers returns the full member lists of every room whose members were fetched from
// the server (and kept current by sync since), in one query: the contacts list needs them for
// thousands of rooms at once.
func (s *Store) FetchedMembers(ctx context.Context) (map[id.RoomID]map[id.UserID]event.Membership, error) {
	rows, err := s.db.Query(ctx, `
		SELECT p.room_id, p.user_id, p.membership FROM mx_user_profile p
		JOIN mx_room_state r ON r.room_id = p.room_id
		WHERE r.members_fetched`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[id.RoomID]map[id.UserID]event.Membership)
	for rows.Next() {
		var room id.RoomID
		var user id.UserID
		var membership event.Membership
		if err := rows.Scan(&room, &user, &membership); err != nil {
			return nil, err
		}
		if out[room] == nil {
			out[room] = make(map[id.UserID]event.Membership)
		}
		out[room][user] = membership
	}
	return out, rows.Err()
}

// DisplayName returns the newest display name we have seen for a user in any room ("" if none).
func (s *Store) DisplayName(ctx context.Context, user id.UserID) (string, error) {
	var name string
	err := s.db.QueryRow(ctx, `SELECT displayname FROM mx_user_profile
		WHERE user_id=$1 AND displayname<>'' LIMIT 1`, user).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return name, err
}

// RoomDisplayNames returns the display names the members of a room have there.
func (s *Store) RoomDisplayNames(ctx context.Context, room id.RoomID) (map[id.UserID]string, error) {
	return s.names(ctx, `SELECT user_id, displayname FROM mx_user_profile WHERE room_id=$1 AND displayname<>''`, room)
}

// DisplayNames returns a display name for every user we have seen one for, in one query.
func (s *Store) DisplayNames(ctx context.Context) (map[id.UserID]string, error) {
	return s.names(ctx, `SELECT user_id, displayname FROM mx_user_profile WHERE displayname<>''`)
}

// names reads (user ID, display name) rows into a map.
func (s *Store) names(ctx context.Context, query string, args ...any) (map[id.UserID]string, error) {
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[id.UserID]string)
	for rows.Next() {
		var user id.UserID
		var name string
		if err := rows.Scan(&user, &name); err != nil {
			return nil, err
		}
		out[user] = name
	}
	return out, rows.Err()
}

// JoinedWithMe returns which of users the store knows as joined to a room we are joined to,
// from every member event it has seen (lazy loading means this may miss silent members of large
// rooms).
func (s *Store) JoinedWithMe(ctx context.Context, users []id.UserID) (map[id.UserID]bool, error) {
	out := make(map[id.UserID]bool)
	for _, u := range users {
		var one int
		err := s.db.QueryRow(ctx, `SELECT 1 FROM mx_user_profile p JOIN duet_room r ON r.room_id = p.room_id
			WHERE p.user_id=$1 AND p.membership='join' AND r.membership='join' LIMIT 1`, u).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[u] = true
	}
	return out, nil
}

// SharedSince returns, for each room where someone besides its two people joined, was invited
// or knocked (a NoticeMember line), the server time (ms) of the first such change.
func (s *Store) SharedSince(ctx context.Context) (map[id.RoomID]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT room_id, MIN(ts) FROM duet_event WHERE notice<>'' AND notice LIKE $1 GROUP BY room_id`,
		NoticeMember+"%")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[id.RoomID]int64)
	for rows.Next() {
		var room id.RoomID
		var ts int64
		if err := rows.Scan(&room, &ts); err != nil {
			return nil, err
		}
		out[room] = ts
	}
	return out, rows.Err()
}
