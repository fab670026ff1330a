package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
)

// threadSearchPages bounds how many pages of a room's history `messages --thread` reads back to
// find a thread's root that is not stored yet; threadSearchPage is one page.
const (
	threadSearchPages = 20
	threadSearchPage  = 100
)

// cmdThread is `messages TARGET --thread ROOT`: the root and its newest --limit replies, oldest
// first. The root is looked for in the conversation's rooms as stored, then by paging their
// history back.
func cmdThread(ctx context.Context, env Env, app *App, o *opts) error {
	root := id.EventID(strings.TrimSpace(o.thread))
	if !strings.HasPrefix(string(root), "$") {
		return usagef("%q is not an event ID (they start with $; `duet messages TARGET --json` shows them)", root)
	}
	var rooms []id.RoomID
	if strings.HasPrefix(o.pos[0], "@") {
		var err error
		if rooms, err = conversationRooms(ctx, app, o.pos[0]); err != nil {
			return err
		}
		if len(rooms) == 0 {
			return fmt.Errorf("no DM with %s yet: `duet send %s TEXT` starts one", o.pos[0], o.pos[0])
		}
	} else {
		room, _, err := target(ctx, app, o.pos[0], false)
		if err != nil {
			return err
		}
		rooms = []id.RoomID{room}
	}
	room, msgs, err := findThread(ctx, app, rooms, root, o.limit)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(msgs, func(m matrixsvc.Message) bool { return m.EventID == root }) {
		if len(msgs) == 0 {
			return fmt.Errorf("no message %s in this conversation", root)
		}
		fmt.Fprintf(env.Stderr, "the thread's first message %s was not found; its replies follow\n", root)
	}
	name := func(u id.UserID) string { return app.Svc.DisplayName(ctx, u, true) }
	return printMessages(env.Stdout, room, msgs, nil, name, o.json)
}

// findThread reads the thread on root in the first of rooms that has it stored; when none has
// its root, it pages each room's history back (a bounded number of pages) until the root is
// found, and reads the thread again.
func findThread(ctx context.Context, app *App, rooms []id.RoomID, root id.EventID, limit int) (id.RoomID, []matrixsvc.Message, error) {
	var bestRoom id.RoomID
	var best []matrixsvc.Message
	for _, room := range rooms {
		msgs, found, _, err := app.Svc.ThreadMessages(ctx, room, root, limit)
		if err != nil {
			return "", nil, err
		}
		if found {
			return room, msgs, nil
		}
		if len(msgs) > len(best) {
			bestRoom, best = room, msgs
		}
	}
	for _, room := range rooms {
		from := ""
		for range threadSearchPages {
			page, next, err := app.Svc.History(ctx, room, from, threadSearchPage)
			if err != nil {
				return "", nil, err
			}
			if slices.ContainsFunc(page, func(m matrixsvc.Message) bool { return m.EventID == root }) {
				msgs, _, _, err := app.Svc.ThreadMessages(ctx, room, root, limit)
				return room, msgs, err
			}
			if next == "" {
				break
			}
			from = next
		}
	}
	if bestRoom == "" && len(rooms) > 0 {
		bestRoom = rooms[0]
	}
	return bestRoom, best, nil
}

// toThreadRoom makes a send to @user --thread ROOT go to the room the thread is in: a thread
// cannot span rooms, and the conversation may have moved on to a newer room (R22, R23) since
// ROOT was written. A root found nowhere leaves the target as it is (the server says no).
func toThreadRoom(ctx context.Context, app *App, o *opts, root id.EventID) error {
	if !strings.HasPrefix(o.pos[0], "@") || o.offline != nil {
		return nil
	}
	rooms, err := conversationRooms(ctx, app, o.pos[0])
	if err != nil || len(rooms) == 0 {
		return err // no conversation yet: the send makes one, and the server says the root is not there
	}
	room, msgs, err := findThread(ctx, app, rooms, root, 1)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(msgs, func(m matrixsvc.Message) bool { return m.EventID == root }) {
		o.pos[0] = string(room)
	}
	return nil
}

// conversationRooms is every room that is or was a 1:1 with the @user arg (R22), newest first:
// none when there is no DM with them yet.
func conversationRooms(ctx context.Context, app *App, arg string) ([]id.RoomID, error) {
	x, err := parseUser(app, arg)
	if err != nil {
		return nil, err
	}
	chain, err := app.Svc.Conversation(ctx, x)
	if err != nil {
		return nil, err
	}
	rooms := make([]id.RoomID, 0, len(chain))
	for _, r := range chain {
		rooms = append(rooms, r.RoomID)
	}
	return rooms, nil
}
