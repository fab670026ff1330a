package matrixsvc

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// SendText sends a text (or, with emote, a /me) message to a room. txnID makes retries
// idempotent: the server keeps one event per transaction ID, so a message is never sent twice.
// An empty txnID gets a fresh one.
func (s *Service) SendText(ctx context.Context, room id.RoomID, body string, emote bool, txnID string) (id.EventID, error) {
	if strings.TrimSpace(body) == "" {
		return "", fmt.Errorf("nothing to send: the message is empty")
	}
	encrypted, err := s.store.State.IsEncrypted(ctx, room)
	if err != nil {
		return "", err
	}
	if encrypted {
		return "", ErrEncryptedRoom
	}
	content := &event.MessageEventContent{MsgType: event.MsgText, Body: body}
	if emote {
		content.MsgType = event.MsgEmote
	}
	if txnID == "" {
		txnID = s.cli.TxnID()
	}
	resp, err := s.cli.SendMessageEvent(ctx, room, event.EventMessage, content, mautrix.ReqSendEvent{TransactionID: txnID})
	if err != nil {
		return "", fmt.Errorf("send to %s: %s", room, Explain(s.wrap(err)))
	}
	return resp.EventID, nil
}

// Messages returns up to limit of the newest messages of a room, oldest first, from the server.
func (s *Service) Messages(ctx context.Context, room id.RoomID, limit int) ([]Message, error) {
	if limit <= 0 {
		limit = 20
	}
	from, err := s.store.Get(ctx, keyNextBatch)
	if err != nil {
		return nil, err
	}
	filter := &mautrix.FilterPart{
		LazyLoadMembers: true,
		Types:           []event.Type{event.EventMessage, event.EventEncrypted},
	}
	var out []Message
	for pages := 0; len(out) < limit && pages < 20; pages++ {
		resp, err := s.cli.Messages(ctx, room, from, "", mautrix.DirectionBackward, filter, min(limit-len(out)+5, 100))
		if err != nil {
			return nil, fmt.Errorf("history of %s: %s", room, Explain(s.wrap(err)))
		}
		for _, evt := range resp.Chunk {
			evt.RoomID = room
			if msg, ok := toMessage(evt); ok && len(out) < limit {
				out = append(out, msg)
			}
		}
		if resp.End == "" || len(resp.Chunk) == 0 {
			break
		}
		from = resp.End
	}
	slices.Reverse(out)
	return out, nil
}
