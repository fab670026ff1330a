package matrixsvc

import (
	"context"
	"sync"
	"time"

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
