package matrixsvc

import (
	"bytes"
	"context"
	"errors"

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
type sessionGuard struct {
	crypto.Store
	sql *crypto.SQLCryptoStore
	log zerolog.Logger
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
			return nil
		}
		if !sameRatchet(stored, igs) {
			g.log.Warn().Stringer("room_id", igs.RoomID).Stringer("session_id", igs.ID()).
				Msg("refused a room key whose ratchet does not continue the session we hold")
			return nil
		}
	}
	if stored != nil && stored.KeySource != id.KeySourceDirect && igs.KeySource == id.KeySourceDirect {
		g.log.Info().Stringer("room_id", igs.RoomID).Stringer("session_id", igs.ID()).Stringer("source", stored.KeySource).
			Msg("a direct key for a session from elsewhere: its messages stay marked")
		igs.KeySource, igs.ForwardingChains, igs.SourceUser = stored.KeySource, stored.ForwardingChains, stored.SourceUser
	}
	return g.Store.PutGroupSession(ctx, igs)
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
