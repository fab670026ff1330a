package matrixsvc

import (
	"bytes"
	"context"
	"errors"
	"sync"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// sessionGuard is the crypto store with two rules mautrix v0.32 lacks for a Megolm session it
// already holds (its merge in OlmMachine.storeGroupSessionInner trusts the newcomer):
//
//   - A session that came from the key backup, a key file or a forward is never promoted to
//     "came straight from its sender" because a key for it later arrived directly. mautrix
//     would promote it without checking that the direct key came from the device the session
//     claims; a server that writes a session in someone's name into the backup, then sends its
//     key directly from any device, would make its messages show as that person's, unmarked.
//     Such messages keep their "authenticity not guaranteed" mark.
//   - A session's claimed origin (sender and signing key) and ratchet never change: a copy
//     that claims another origin, or whose ratchet does not continue the stored one, is not
//     stored.
//
// A session is read back only when a copy could change it: mautrix also stores a session each
// time a decryption moves its ratchet on, and those copies (same origin, same or later first
// index than the last one stored here) go straight through.
type sessionGuard struct {
	crypto.Store
	sql *crypto.SQLCryptoStore
	log zerolog.Logger

	mu    sync.Mutex
	known map[id.SessionID]origin // what this process last stored of each session
}

// origin is what a copy of a session says of where it comes from, and where its ratchet starts.
type origin struct {
	room    id.RoomID
	sender  id.SenderKey
	signing id.Ed25519
	source  id.KeySource
	first   uint32
}

func originOf(igs *crypto.InboundGroupSession) origin {
	return origin{igs.RoomID, igs.SenderKey, igs.SigningKey, igs.KeySource, igs.Internal.FirstKnownIndex()}
}

// sqlStore returns the SQL store under a crypto store, guarded or not.
func sqlStore(store crypto.Store) (*crypto.SQLCryptoStore, bool) {
	switch st := store.(type) {
	case *sessionGuard:
		return st.sql, true
	case *crypto.SQLCryptoStore:
		return st, true
	}
	return nil, false
}

func (g *sessionGuard) PutGroupSession(ctx context.Context, igs *crypto.InboundGroupSession) error {
	o := originOf(igs)
	g.mu.Lock()
	last, seen := g.known[igs.ID()]
	g.mu.Unlock()
	if seen && last.room == o.room && last.sender == o.sender && last.signing == o.signing && last.source == o.source &&
		o.first >= last.first {
		return g.put(ctx, igs) // the same session going on
	}
	if err := g.check(ctx, igs); err != nil {
		if errors.Is(err, errRefused) {
			return nil
		}
		return err
	}
	return g.put(ctx, igs)
}

// put stores igs and remembers what it says of its origin.
func (g *sessionGuard) put(ctx context.Context, igs *crypto.InboundGroupSession) error {
	if err := g.Store.PutGroupSession(ctx, igs); err != nil {
		return err
	}
	g.mu.Lock()
	if g.known == nil {
		g.known = make(map[id.SessionID]origin)
	}
	g.known[igs.ID()] = originOf(igs)
	g.mu.Unlock()
	return nil
}

// errRefused says check refused a copy (and logged why).
var errRefused = errors.New("refused")

// check compares igs with the stored copy of its session: it refuses a copy that claims
// another origin or whose ratchet does not continue the stored one, and takes a promotion to
// "direct" back (igs is changed).
func (g *sessionGuard) check(ctx context.Context, igs *crypto.InboundGroupSession) error {
	stored, err := g.Store.GetGroupSession(ctx, igs.RoomID, igs.ID())
	var withheld *event.RoomKeyWithheldEventContent
	if err != nil && !errors.As(err, &withheld) && !errors.Is(err, crypto.ErrGroupSessionWithheld) {
		return err
	}
	if stored != nil && stored != igs {
		if stored.SenderKey != igs.SenderKey || stored.SigningKey != igs.SigningKey {
			g.log.Warn().Stringer("room_id", igs.RoomID).Stringer("session_id", igs.ID()).
				Stringer("sender_key", igs.SenderKey).Stringer("stored_sender_key", stored.SenderKey).
				Msg("refused a room key that claims another origin for a session we hold")
			return errRefused
		}
		if !sameRatchet(stored, igs) {
			g.log.Warn().Stringer("room_id", igs.RoomID).Stringer("session_id", igs.ID()).
				Msg("refused a room key whose ratchet does not continue the session we hold")
			return errRefused
		}
	}
	if stored != nil && stored.KeySource != id.KeySourceDirect && igs.KeySource == id.KeySourceDirect {
		g.log.Info().Stringer("room_id", igs.RoomID).Stringer("session_id", igs.ID()).Stringer("source", stored.KeySource).
			Msg("a direct key for a session from elsewhere: its messages stay marked")
		igs.KeySource, igs.ForwardingChains, igs.SourceUser = stored.KeySource, stored.ForwardingChains, stored.SourceUser
	}
	return nil
}

// sameRatchet reports whether two copies of a session agree where both can say: exported at
// the later of their first known indexes, they are the same key.
func sameRatchet(a, b *crypto.InboundGroupSession) bool {
	at := max(a.Internal.FirstKnownIndex(), b.Internal.FirstKnownIndex())
	ka, err := a.Internal.Export(at)
	if err != nil {
		return false
	}
	kb, err := b.Internal.Export(at)
	if err != nil {
		return false
	}
	return bytes.Equal(ka, kb)
}
