package matrixsvc

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// dispatcher is the client "syncer" that mautrix's crypto and verification helpers register
// their handlers with. duet runs its own sync loop (sync.go) and calls dispatch only for the
// events someone listens to, so /sync responses are not decoded twice.
type dispatcher struct {
	mu     sync.RWMutex
	onSync []mautrix.SyncHandler
	byType map[event.Type][]mautrix.EventHandler
}

var _ mautrix.ExtensibleSyncer = (*dispatcher)(nil)
var _ mautrix.Syncer = (*dispatcher)(nil)

func newDispatcher() *dispatcher {
	return &dispatcher{byType: make(map[event.Type][]mautrix.EventHandler)}
}

func (d *dispatcher) OnSync(cb mautrix.SyncHandler) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.onSync = append(d.onSync, cb)
}

// OnEvent would see every event; duet's helpers do not ask for it (the state store is fed by
// the sync loop), so it is not supported.
func (d *dispatcher) OnEvent(mautrix.EventHandler) {}

func (d *dispatcher) OnEventType(t event.Type, cb mautrix.EventHandler) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.byType[t] = append(d.byType[t], cb)
}

func (d *dispatcher) syncHandlers() []mautrix.SyncHandler {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.onSync
}

// wants reports whether a handler listens to the type (with its class).
func (d *dispatcher) wants(t event.Type) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.byType[t]) > 0
}

func (d *dispatcher) dispatch(ctx context.Context, evt *event.Event) {
	evt = asTransaction(evt)
	d.mu.RLock()
	handlers := d.byType[evt.Type]
	d.mu.RUnlock()
	for _, h := range handlers {
		h(ctx, evt)
	}
}

// The mautrix.Syncer methods: never used, since mautrix's own sync loop never runs.

func (d *dispatcher) ProcessResponse(context.Context, *mautrix.RespSync, string) error { return nil }
func (d *dispatcher) OnFailedSync(*mautrix.RespSync, error) (time.Duration, error) {
	return 10 * time.Second, nil
}
func (d *dispatcher) GetFilterJSON(id.UserID) *mautrix.Filter { return &mautrix.Filter{} }

// asTransaction works around mautrix's verification helper (v0.32), which takes an in-room
// verification event's own ID for the transaction's: every in-room verification step after the
// request is then an unknown transaction. The transaction of such an event is the request it
// refers to (m.relates_to), so the helper gets a copy carrying that ID.
func asTransaction(evt *event.Event) *event.Event {
	if evt.ID == "" || evt.Type.Class != event.MessageEventType || !strings.HasPrefix(evt.Type.Type, "m.key.verification.") ||
		evt.Type.Type == "m.key.verification.request" {
		return evt
	}
	ref := gjson.GetBytes(evt.Content.VeryRaw, `m\.relates_to.event_id`).Str
	if ref == "" {
		return evt
	}
	cp := *evt
	cp.ID = id.EventID(ref)
	return &cp
}
