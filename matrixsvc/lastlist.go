package matrixsvc

import (
	"bytes"
	"context"
	"encoding/gob"
)

// The list the last run showed, for the next start's first frame.
//
// Deriving the contacts list (Overview) from the store takes a thousand-DM account tens of
// milliseconds, the largest part of a warm start. The list as it was when duet last closed is
// kept as one value in the store and drawn first; Overview, derived as always, replaces it a
// moment later. It is this device's own data, in the store it came from.

// The list is kept in gob, not JSON: reading a thousand contacts takes 1.2 ms where JSON took
// 7.2 (BenchmarkCachedOverview), and with several accounts each one's is read before the
// first frame. keyLastListJSON is where an older duet kept it: emptied on save.
const (
	keyLastList     = "ui_last_list_gob"
	keyLastListJSON = "ui_last_list"
)

// CachedOverview is the list as it was when duet last closed; ok is false when there is none
// (a new device, a reset cache) or it cannot be read (a newer duet's).
func (s *Service) CachedOverview(ctx context.Context) (ov Overview, ok bool) {
	raw, err := s.store.Get(ctx, keyLastList)
	if err != nil || raw == "" || gob.NewDecoder(bytes.NewReader([]byte(raw))).Decode(&ov) != nil {
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
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(ov); err != nil {
		return err
	}
	if err := s.store.Set(ctx, keyLastListJSON, ""); err != nil {
		return err
	}
	return s.store.Set(ctx, keyLastList, buf.String())
}
