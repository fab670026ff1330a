package matrixsvc

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"duet/internal/testkit/hstest"

	"maunium.net/go/mautrix/id"
)

// Close keeps the list Overview derived last; CachedOverview gives it back as it was.
func TestTheLastListIsKeptForTheNextStart(t *testing.T) {
	svc := offlineService(t)
	ctx := hstest.Ctx(t)
	if _, ok := svc.CachedOverview(ctx); ok {
		t.Fatal("a new device has a kept list")
	}
	if err := svc.store.SetAccountData(ctx, "m.direct", []byte(`{"@bob:localhost":["!b:localhost"]}`)); err != nil {
		t.Fatal(err)
	}
	ov, err := svc.Overview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	svc.Close()
	got, ok := svc.CachedOverview(ctx)
	if !ok || !reflect.DeepEqual(got, ov) {
		t.Fatalf("kept %+v (%v), want %+v", got, ok, ov)
	}
}

// BenchmarkCachedOverview reads a kept list of a thousand contacts, as each account does before
// the first frame.
func BenchmarkCachedOverview(b *testing.B) {
	svc := offlineService(b)
	ctx := context.Background()
	var ov Overview
	for i := range 1000 {
		u := id.UserID(fmt.Sprintf("@contact%d:localhost:8448", i))
		r := id.RoomID(fmt.Sprintf("!abcdefghijklmnopq%d:localhost:8448", i))
		ov.Contacts = append(ov.Contacts, ContactView{
			Contact:     Contact{UserID: u, Rooms: []id.RoomID{r}, Room: r, LastActivity: int64(i) * 1000, Unread: i % 3},
			DisplayName: fmt.Sprintf("Contact number %d", i),
			Preview:     Preview{Body: "a message of an ordinary length, as most of them are", Sender: u, TS: int64(i) * 1000}})
	}
	svc.rememberOverview(ov)
	if err := svc.saveLastList(ctx); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if got, ok := svc.CachedOverview(ctx); !ok || len(got.Contacts) != 1000 {
			b.Fatalf("read %d contacts (%v)", len(got.Contacts), ok)
		}
	}
}
