package matrixsvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// editDirect is the one m.direct writer (R13-R15): see editAccountData.
func (s *Service) editDirect(ctx context.Context, edit func(raw []byte) ([]byte, bool, error)) error {
	return s.editAccountData(ctx, &s.directMu, event.AccountDataDirectChats.Type, edit)
}

// editAccountData changes a global account data event the way R13-R14 and R25 ask: under its
// writer's lock it fetches the current content from the server (not found = empty), applies
// edit, and writes the result back only when something changed. Whatever happens, the local copy
// ends up as the server has it.
func (s *Service) editAccountData(ctx context.Context, mu *sync.Mutex, evtType string, edit func(raw []byte) ([]byte, bool, error)) error {
	mu.Lock()
	defer mu.Unlock()
	var current json.RawMessage
	err := s.cli.GetAccountData(ctx, evtType, &current)
	if errors.Is(err, mautrix.MNotFound) {
		current = nil
	} else if err != nil {
		return explainf(s.wrap(err), "read %s", evtType)
	}
	// Keep the local view equal to the server's before deciding anything.
	if current != nil {
		if err := s.store.SetAccountData(ctx, evtType, current); err != nil {
			return err
		}
	}
	updated, changed, err := edit(current)
	if err != nil {
		return fmt.Errorf("%s not changed: %w", evtType, err)
	}
	if !changed {
		return nil
	}
	if err := s.cli.SetAccountData(ctx, evtType, json.RawMessage(updated)); err != nil {
		return explainf(s.wrap(err), "write %s", evtType)
	}
	return s.store.SetAccountData(ctx, evtType, updated)
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
