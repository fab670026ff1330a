package matrixsvc

import (
	"context"
	"encoding/json"
)

// The list the last run showed, for the next start's first frame.
//
// Deriving the contacts list (Overview) from the store takes a thousand-DM account tens of
// milliseconds, the largest part of a warm start. The list as it was when duet last closed is
// kept as one value in the store and drawn first; Overview, derived as always, replaces it a
// moment later. It is this device's own data, in the store it came from.

const keyLastList = "ui_last_list"

// CachedOverview is the list as it was when duet last closed; ok is false when there is none
// (a new device, a reset cache) or it cannot be read (a newer duet's).
func (s *Service) CachedOverview(ctx context.Context) (ov Overview, ok bool) {
	raw, err := s.store.Get(ctx, keyLastList)
	if err != nil || raw == "" || json.Unmarshal([]byte(raw), &ov) != nil {
		return Overview{}, false
	}
	return ov, true
}

// rememberOverview keeps the list derived last, for the next start (Close saves it).
func (s *Service) rememberOverview(ov Overview) { s.lastList.Store(&ov) }

// saveLastList writes the list derived last, if any, for the next start.
func (s *Service) saveLastList(ctx context.Context) error {
	ov := s.lastList.Load()
	if ov == nil {
		return nil
	}
	raw, err := json.Marshal(ov)
	if err != nil {
		return err
	}
	return s.store.Set(ctx, keyLastList, string(raw))
}
