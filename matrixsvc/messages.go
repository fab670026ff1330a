package matrixsvc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// SendText sends a text (or, with emote, a /me) message to a room, in one attempt. txnID makes
// retries idempotent for as long as the server remembers it (a restarted Dendrite forgets: the
// outbox's delivery checks cover that). An empty txnID gets a fresh one.
func (s *Service) SendText(ctx context.Context, room id.RoomID, body string, emote bool, txnID string) (id.EventID, error) {
	if strings.TrimSpace(body) == "" {
		return "", fmt.Errorf("nothing to send: the message is empty")
	}
	return s.sendContent(ctx, room, messageContent(body, emote), txnID)
}

// SendReply sends a message that answers the message replyTo of room, in one attempt, as
// SendText does.
func (s *Service) SendReply(ctx context.Context, room id.RoomID, body string, emote bool, replyTo id.EventID, txnID string) (id.EventID, error) {
	if strings.TrimSpace(body) == "" {
		return "", fmt.Errorf("nothing to send: the message is empty")
	}
	var sender id.UserID // mentioned, when the store knows who wrote it
	if evts, err := s.store.EventsByID(ctx, room, []id.EventID{replyTo}); err == nil && len(evts) == 1 && evts[0].Sender != s.me {
		sender = evts[0].Sender
	}
	return s.sendContent(ctx, room, replyContent(messageContent(body, emote), replyTo, sender), txnID)
}

// SendEdit replaces the text of our message evt in room with body (m.replace), in one attempt,
// idempotent by txnID as SendText is.
func (s *Service) SendEdit(ctx context.Context, room id.RoomID, evt id.EventID, body string, txnID string) (id.EventID, error) {
	if strings.TrimSpace(body) == "" {
		return "", fmt.Errorf("nothing to send: the new text is empty")
	}
	if !strings.HasPrefix(string(evt), "$") {
		return "", fmt.Errorf("%q is not an event ID: event IDs start with $", evt)
	}
	return s.sendContent(ctx, room, editContent(body, false, evt), txnID)
}

// sendContent sends one m.room.message, sealed for an encrypted room, in one attempt.
func (s *Service) sendContent(ctx context.Context, room id.RoomID, content *event.MessageEventContent, txnID string) (id.EventID, error) {
	return s.sendEvent(ctx, room, event.EventMessage, content, txnID)
}

// sendEvent sends one event of type typ, sealed for an encrypted room, in one attempt.
func (s *Service) sendEvent(ctx context.Context, room id.RoomID, typ event.Type, content any, txnID string) (id.EventID, error) {
	if txnID == "" {
		txnID = s.cli.TxnID()
	}
	evtType, payload, err := s.seal(ctx, room, typ, content)
	if err != nil {
		return "", err
	}
	// One attempt: the outbox decides when to try again (same transaction ID, so never twice).
	var resp mautrix.RespSendEvent
	_, err = s.cli.MakeFullRequest(ctx, mautrix.FullRequest{
		Method:       http.MethodPut,
		URL:          s.cli.BuildClientURL("v3", "rooms", room, "send", evtType.Type, txnID),
		RequestJSON:  payload,
		ResponseJSON: &resp,
		MaxAttempts:  1,
	})
	if err != nil {
		return "", fmt.Errorf("send to %s: %w", room, s.wrap(err))
	}
	return resp.EventID, nil
}

// Messages returns up to limit of the newest messages of a room, oldest first, paging through
// History: from the store, with its gaps filled from the server.
func (s *Service) Messages(ctx context.Context, room id.RoomID, limit int) ([]Message, error) {
	if limit <= 0 {
		limit = 20
	}
	var out []Message
	from := ""
	for pages := 0; len(out) < limit && pages < 20; pages++ {
		page, next, err := s.History(ctx, room, from, min(limit-len(out)+5, 100))
		if err != nil {
			return nil, err
		}
		out = append(page, out...)
		if next == "" {
			break
		}
		from = next
	}
	if len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, nil
}

// MarkRead moves our read receipt and read marker in a room to eventID, which resets the
// server's notification count for it (R19), and clears the room's unread count here at once.
func (s *Service) MarkRead(ctx context.Context, room id.RoomID, eventID id.EventID) error {
	if IsDuetLine(eventID) {
		// duet's own line is no event of the server: the newest event before it is read.
		evts, _, err := s.store.EventsBelow(ctx, room, math.Inf(1), 50)
		if err != nil {
			return err
		}
		eventID = ""
		for _, e := range evts {
			if !IsDuetLine(e.ID) {
				eventID = e.ID
				break
			}
		}
		if eventID == "" {
			return s.store.ClearUnread(ctx, room)
		}
	}
	if err := s.cli.SetReadMarkers(ctx, room, &mautrix.ReqSetReadMarkers{Read: eventID, FullyRead: eventID}); err != nil {
		return explainf(s.wrap(err), "mark %s read", room)
	}
	s.readMarks.Store(room, eventID)
	return s.store.ClearUnread(ctx, room)
}

// seal encrypts content for an encrypted room; other rooms get it as it is. A room that is
// encrypted, or continues a conversation that was (keepEncrypted), never gets plain text:
// when encrypting fails, sending fails.
func (s *Service) seal(ctx context.Context, room id.RoomID, evtType event.Type, content any) (event.Type, any, error) {
	// The room's first encryption settings: a later m.room.encryption event never turns
	// encryption off (store.StateStore).
	// A room known only from Bootstrap: its state first, encryption above all.
	if err := s.ensureRoomState(ctx, room); err != nil {
		return evtType, nil, err
	}
	alg, encrypted, err := s.store.State.EncryptionAlgorithm(ctx, room)
	if err != nil {
		return evtType, nil, err
	}
	if !encrypted {
		// A room that continues an encrypted conversation gets encryption turned on first.
		if encrypted, err = s.keepEncrypted(ctx, room); err != nil || !encrypted {
			return evtType, content, err
		}
		alg = id.AlgorithmMegolmV1
	}
	if alg != id.AlgorithmMegolmV1 {
		return evtType, nil, fmt.Errorf("%w: %s", ErrEncryptedRoom, unknownAlgorithm(alg))
	}
	e, err := s.cryptoReady(ctx)
	if err != nil {
		if Temporary(err) {
			return evtType, nil, err
		}
		return evtType, nil, &saidError{msg: fmt.Sprintf("%v: %v", ErrEncryptedRoom, err), err: fmt.Errorf("%w: %w", ErrEncryptedRoom, err)}
	}
	// Room keys go to every member's devices, so the member list must be complete.
	if err := s.ensureMembers(ctx, room); err != nil {
		return evtType, nil, err
	}
	// A 1:1's room key goes to the two of us alone, whoever else the server says is there.
	peer, err := s.oneToOnePeer(ctx, room)
	if err != nil {
		return evtType, nil, err
	}
	var enc *event.EncryptedEventContent
	e.op.Lock()
	if peer != "" {
		enc, err = s.encryptOneToOne(ctx, e, room, peer, evtType, content)
	} else {
		enc, err = e.helper.Encrypt(ctx, room, evtType, content)
	}
	e.op.Unlock()
	if errors.Is(err, ErrNotOneToOne) {
		return evtType, nil, err
	}
	if err != nil {
		return evtType, nil, fmt.Errorf("encrypt for %s: %w", room, s.wrap(err))
	}
	s.wakeKeys() // a new room key of ours goes to the key backup
	return event.EventEncrypted, enc, nil
}

// ensureMembers makes the state store hold a room's whole member list (sync lazy-loads them).
func (s *Service) ensureMembers(ctx context.Context, room id.RoomID) error {
	if ok, err := s.store.State.HasFetchedMembers(ctx, room); err == nil && ok {
		return nil
	}
	if _, err := s.cli.Members(ctx, room); err != nil {
		return fmt.Errorf("members of %s: %w", room, s.wrap(err))
	}
	return nil
}

// unknownAlgorithm says why a room encrypted with an algorithm duet does not know gets nothing.
func unknownAlgorithm(alg id.Algorithm) string {
	if alg == "" {
		return "its encryption event names no algorithm, so duet does not know how to encrypt for it; nothing was sent (ask the other person to start a new DM)"
	}
	return fmt.Sprintf("it is encrypted with %q, which duet cannot do; nothing was sent (ask the other person to start a new DM)", textOf(alg, 60))
}

// textOf is at most n bytes of a name from the network, for an error message (quoted there with
// %q, which escapes control characters).
func textOf(alg id.Algorithm, n int) string {
	s := string(alg)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
