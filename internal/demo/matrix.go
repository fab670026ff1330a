package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// The seeding steps a person takes, each as a real client would, with one difference: events
// carry a `ts` query parameter so that the history spreads over the past days. Dendrite honours
// `ts` on createRoom, room events and state events for every user (the spec reserves it for
// application services), so the demo shows day separators.

// tsQuery is the `ts` query parameter for at.
func tsQuery(at time.Time) map[string]string {
	return map[string]string{"ts": strconv.FormatInt(at.UnixMilli(), 10)}
}

// createDM creates a private room with is_direct invites, as a client starting a DM does
// (R10, without encryption: the demo's clients do not run crypto).
func (p *person) createDM(ctx context.Context, at time.Time, invite ...id.UserID) (id.RoomID, error) {
	req := &mautrix.ReqCreateRoom{
		Visibility: "private",
		Preset:     "trusted_private_chat",
		IsDirect:   true,
		Invite:     invite,
	}
	var resp mautrix.RespCreateRoom
	u := p.cli.BuildURLWithQuery(mautrix.ClientURLPath{"v3", "createRoom"}, tsQuery(at))
	if _, err := p.cli.MakeRequest(ctx, http.MethodPost, u, req, &resp); err != nil {
		return "", fmt.Errorf("%s creates a DM with %v: %w", p.id, invite, err)
	}
	return resp.RoomID, nil
}

// join joins a room p is invited to. It sends p's own member event through the state endpoint,
// which takes `ts` (the /join endpoint does not); the content is what /join would write.
func (p *person) join(ctx context.Context, room id.RoomID, at time.Time) error {
	content := &event.MemberEventContent{Membership: event.MembershipJoin, Displayname: p.name}
	_, err := p.cli.SendStateEvent(ctx, room, event.StateMember, p.id.String(), content, mautrix.ReqSendEvent{Timestamp: at.UnixMilli()})
	if err != nil {
		return fmt.Errorf("%s joins %s: %w", p.id, room, err)
	}
	return nil
}

// say sends a text message.
func (p *person) say(ctx context.Context, room id.RoomID, at time.Time, text string) (id.EventID, error) {
	content := &event.MessageEventContent{MsgType: event.MsgText, Body: text}
	resp, err := p.cli.SendMessageEvent(ctx, room, event.EventMessage, content, mautrix.ReqSendEvent{Timestamp: at.UnixMilli()})
	if err != nil {
		return "", fmt.Errorf("%s says %q in %s: %w", p.id, text, room, err)
	}
	return resp.EventID, nil
}

// replyTo sends a text message that answers the message to (m.in_reply_to).
func (p *person) replyTo(ctx context.Context, room id.RoomID, at time.Time, to id.EventID, text string) (id.EventID, error) {
	content := &event.MessageEventContent{MsgType: event.MsgText, Body: text,
		RelatesTo: &event.RelatesTo{InReplyTo: &event.InReplyTo{EventID: to}}}
	resp, err := p.cli.SendMessageEvent(ctx, room, event.EventMessage, content, mautrix.ReqSendEvent{Timestamp: at.UnixMilli()})
	if err != nil {
		return "", fmt.Errorf("%s answers %s in %s: %w", p.id, to, room, err)
	}
	return resp.EventID, nil
}

// react reacts to the message to with key (m.annotation).
func (p *person) react(ctx context.Context, room id.RoomID, at time.Time, to id.EventID, key string) error {
	content := &event.ReactionEventContent{RelatesTo: event.RelatesTo{Type: event.RelAnnotation, EventID: to, Key: key}}
	if _, err := p.cli.SendMessageEvent(ctx, room, event.EventReaction, content, mautrix.ReqSendEvent{Timestamp: at.UnixMilli()}); err != nil {
		return fmt.Errorf("%s reacts to %s in %s: %w", p.id, to, room, err)
	}
	return nil
}

// sendImage uploads a PNG and sends it as an image message.
func (p *person) sendImage(ctx context.Context, room id.RoomID, at time.Time, name string, png []byte, w, h int) (id.EventID, error) {
	up, err := p.cli.UploadBytesWithName(ctx, png, "image/png", name)
	if err != nil {
		return "", fmt.Errorf("%s uploads %s: %w", p.id, name, err)
	}
	content := &event.MessageEventContent{MsgType: event.MsgImage, Body: name, FileName: name, URL: up.ContentURI.CUString(),
		Info: &event.FileInfo{MimeType: "image/png", Size: len(png), Width: w, Height: h}}
	resp, err := p.cli.SendMessageEvent(ctx, room, event.EventMessage, content, mautrix.ReqSendEvent{Timestamp: at.UnixMilli()})
	if err != nil {
		return "", fmt.Errorf("%s sends %s in %s: %w", p.id, name, room, err)
	}
	return resp.EventID, nil
}

// inThread sends a text message into the thread on root, as Element does: rel_type m.thread,
// and a reply to the thread's latest event (latest) marked as the fallback for clients that
// show no threads.
func (p *person) inThread(ctx context.Context, room id.RoomID, at time.Time, root, latest id.EventID, text string) (id.EventID, error) {
	content := &event.MessageEventContent{MsgType: event.MsgText, Body: text,
		RelatesTo: (&event.RelatesTo{}).SetThread(root, latest)}
	resp, err := p.cli.SendMessageEvent(ctx, room, event.EventMessage, content, mautrix.ReqSendEvent{Timestamp: at.UnixMilli()})
	if err != nil {
		return "", fmt.Errorf("%s answers in the thread on %s in %s: %w", p.id, root, room, err)
	}
	return resp.EventID, nil
}

// sendSticker uploads a PNG and sends it as a sticker (m.sticker), as Element's sticker picker does.
func (p *person) sendSticker(ctx context.Context, room id.RoomID, at time.Time, body string, png []byte, w, h int) (id.EventID, error) {
	up, err := p.cli.UploadBytesWithName(ctx, png, "image/png", "sticker.png")
	if err != nil {
		return "", fmt.Errorf("%s uploads a sticker: %w", p.id, err)
	}
	content := map[string]any{"body": body, "url": up.ContentURI.CUString(),
		"info": map[string]any{"mimetype": "image/png", "size": len(png), "w": w, "h": h}}
	resp, err := p.cli.SendMessageEvent(ctx, room, event.EventSticker, content, mautrix.ReqSendEvent{Timestamp: at.UnixMilli()})
	if err != nil {
		return "", fmt.Errorf("%s sends a sticker in %s: %w", p.id, room, err)
	}
	return resp.EventID, nil
}

// askPoll starts a disclosed single-choice poll in Element's (unstable, MSC3381) form; the
// answers get the IDs "1", "2", ...
func (p *person) askPoll(ctx context.Context, room id.RoomID, at time.Time, question string, answers []string) (id.EventID, error) {
	list := make([]map[string]string, len(answers))
	fallback := question
	for i, a := range answers {
		list[i] = map[string]string{"id": fmt.Sprint(i + 1), "org.matrix.msc1767.text": a}
		fallback += fmt.Sprintf("\n%d. %s", i+1, a)
	}
	content := map[string]any{
		"org.matrix.msc3381.poll.start": map[string]any{
			"kind": "org.matrix.msc3381.poll.disclosed", "max_selections": 1,
			"question": map[string]string{"org.matrix.msc1767.text": question}, "answers": list,
		},
		"org.matrix.msc1767.text": fallback,
	}
	resp, err := p.cli.SendMessageEvent(ctx, room, event.EventUnstablePollStart, content, mautrix.ReqSendEvent{Timestamp: at.UnixMilli()})
	if err != nil {
		return "", fmt.Errorf("%s asks a poll in %s: %w", p.id, room, err)
	}
	return resp.EventID, nil
}

// vote answers a poll (Element's unstable form) with the answer IDs given.
func (p *person) vote(ctx context.Context, room id.RoomID, at time.Time, poll id.EventID, answers ...string) (id.EventID, error) {
	content := map[string]any{
		"org.matrix.msc3381.poll.response": map[string]any{"answers": answers},
		"m.relates_to":                     map[string]any{"rel_type": "m.reference", "event_id": poll},
	}
	resp, err := p.cli.SendMessageEvent(ctx, room, event.EventUnstablePollResponse, content, mautrix.ReqSendEvent{Timestamp: at.UnixMilli()})
	if err != nil {
		return "", fmt.Errorf("%s votes in %s: %w", p.id, room, err)
	}
	return resp.EventID, nil
}

// addDirect lists room under each of users in p's m.direct, by read-modify-write (R13): the
// current content is fetched from the server (not found = empty), entries we do not change are
// kept byte for byte, and nothing is written when nothing changed (R14). An entry we must change
// that is not a list of strings is an error rather than overwritten (R1).
func (p *person) addDirect(ctx context.Context, room id.RoomID, users ...id.UserID) error {
	var current map[string]json.RawMessage
	err := p.cli.GetAccountData(ctx, event.AccountDataDirectChats.Type, &current)
	if errors.Is(err, mautrix.MNotFound) {
		current = nil
	} else if err != nil {
		return fmt.Errorf("%s reads m.direct: %w", p.id, err)
	}
	next, changed, err := withDirect(current, room, users)
	if err != nil {
		return fmt.Errorf("%s updates m.direct: %w", p.id, err)
	}
	if !changed {
		return nil
	}
	if err := p.cli.SetAccountData(ctx, event.AccountDataDirectChats.Type, next); err != nil {
		return fmt.Errorf("%s writes m.direct: %w", p.id, err)
	}
	return nil
}

// errNotStrings means an m.direct entry we must change is not a list of room ID strings.
var errNotStrings = errors.New("m.direct entry is not a list of strings")

// withDirect returns m.direct content with room added under each of users, and whether that
// changed anything. current is not modified.
func withDirect(current map[string]json.RawMessage, room id.RoomID, users []id.UserID) (map[string]json.RawMessage, bool, error) {
	next := make(map[string]json.RawMessage, len(current)+len(users))
	for k, v := range current {
		next[k] = v
	}
	changed := false
	for _, u := range users {
		var rooms []string
		if raw, ok := next[u.String()]; ok {
			if err := json.Unmarshal(raw, &rooms); err != nil {
				return nil, false, fmt.Errorf("%s: %w", u, errNotStrings)
			}
		}
		if slices.Contains(rooms, room.String()) {
			continue
		}
		raw, err := json.Marshal(append(rooms, room.String()))
		if err != nil {
			return nil, false, err
		}
		next[u.String()] = raw
		changed = true
	}
	return next, changed, nil
}

// waitVisible polls until ev can be read back through the client API, that is until
// Dendrite's sync API, which consumes the room server's output asynchronously, has it.
func (p *person) waitVisible(ctx context.Context, room id.RoomID, ev id.EventID) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := p.cli.Context(ctx, room, ev, nil, 1)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s in %s: %w (last error: %v)", ev, room, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// read sets p's read receipt and fully-read marker on ev, and waits until Dendrite has marked
// p's notifications in room read, so that a message sent after read returns stays unread.
//
// Dendrite 0.13 counts notifications in the background, and a receipt marks read every
// notification the room has when the receipt is processed, whatever event it names. So
// read first waits until the notification for ev (when p is notified of it) exists, and
// afterwards until it is read.
func (p *person) read(ctx context.Context, room id.RoomID, ev id.EventID, notified bool) error {
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if notified {
		if err := p.waitNotification(wctx, ev, false); err != nil {
			return err
		}
	}
	if err := p.cli.SetReadMarkers(ctx, room, &mautrix.ReqSetReadMarkers{Read: ev, FullyRead: ev}); err != nil {
		return fmt.Errorf("%s reads %s: %w", p.id, room, err)
	}
	if notified {
		return p.waitNotification(wctx, ev, true)
	}
	return nil
}

// notification is the part of an entry of GET /notifications that waitNotification reads.
type notification struct {
	Read  bool `json:"read"`
	Event struct {
		ID id.EventID `json:"event_id"`
	} `json:"event"`
}

// waitNotification polls p's notifications until the one for ev is there, or, when read is
// true, until it is read or gone (Dendrite deletes the notifications a fully-read marker
// passes).
func (p *person) waitNotification(ctx context.Context, ev id.EventID, read bool) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	u := p.cli.BuildURLWithQuery(mautrix.ClientURLPath{"v3", "notifications"}, map[string]string{"limit": "100"})
	for {
		var resp struct {
			Notifications []notification `json:"notifications"`
		}
		_, err := p.cli.MakeRequest(ctx, http.MethodGet, u, nil, &resp)
		if err == nil {
			i := slices.IndexFunc(resp.Notifications, func(n notification) bool { return n.Event.ID == ev })
			if !read && i >= 0 || read && (i < 0 || resp.Notifications[i].Read) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s's notification of %s (read %v): %w (last error: %v)", p.id, ev, read, ctx.Err(), err)
		case <-tick.C:
		}
	}
}
