package matrixsvc

import (
	"reflect"
	"testing"

	"duet/internal/testkit/hstest"
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
