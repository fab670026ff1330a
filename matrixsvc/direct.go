package matrixsvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// editDirect is the one m.direct writer (R13-R15): under a lock it fetches the current content
// from the server (not found = empty), applies edit, and writes the result back only when
// something changed. Whatever happens, the local copy ends up as the server has it (R14).
func (s *Service) editDirect(ctx context.Context, edit func(raw []byte) ([]byte, bool, error)) error {
	s.directMu.Lock()
	defer s.directMu.Unlock()
	var current json.RawMessage
	err := s.cli.GetAccountData(ctx, event.AccountDataDirectChats.Type, &current)
	if errors.Is(err, mautrix.MNotFound) {
		current = nil
	} else if err != nil {
		return fmt.Errorf("read m.direct: %w", s.wrap(err))
	}
	// Keep the local view equal to the server's before deciding anything.
	if current != nil {
		if err := s.store.SetAccountData(ctx, event.AccountDataDirectChats.Type, current); err != nil {
			return err
		}
	}
	updated, changed, err := edit(current)
	if err != nil {
		return fmt.Errorf("m.direct not changed: %w", err)
	}
	if !changed {
		return nil
	}
	if err := s.cli.SetAccountData(ctx, event.AccountDataDirectChats.Type, json.RawMessage(updated)); err != nil {
		return fmt.Errorf("write m.direct: %w", s.wrap(err))
	}
	return s.store.SetAccountData(ctx, event.AccountDataDirectChats.Type, updated)
}

// assignDirect records room as a DM with user (R11, R15, R16).
func (s *Service) assignDirect(ctx context.Context, room id.RoomID, user id.UserID) error {
	return s.editDirect(ctx, func(raw []byte) ([]byte, bool, error) {
		return AssignDirectRoom(raw, room, user)
	})
}

// unmarkDirect removes room from m.direct (R15, R17).
func (s *Service) unmarkDirect(ctx context.Context, room id.RoomID) error {
	return s.editDirect(ctx, func(raw []byte) ([]byte, bool, error) {
		return UnmarkDirectRoom(raw, room)
	})
}

// direct returns m.direct as last synced. wellFormed is false when it could not be understood
// as a whole (R1): it is shown as far as possible and never written back.
func (s *Service) direct(ctx context.Context) (Direct, bool, error) {
	raw, err := s.store.AccountData(ctx, event.AccountDataDirectChats.Type)
	if err != nil {
		return nil, false, err
	}
	d, ok := ParseDirect(raw)
	return d, ok, nil
}
