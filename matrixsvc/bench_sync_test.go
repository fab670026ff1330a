package matrixsvc_test

import (
	"context"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/rs/zerolog"

	"duet/internal/testkit/fixture"
	"duet/matrixsvc"
	"duet/store"
)

// syncedService is a service on a fresh store in b.TempDir() that has applied the initial sync
// of srv (one CatchUp, outside any timing).
func syncedService(b *testing.B, srv *fixture.Server) *matrixsvc.Service {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "duet.db"), zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	svc, err := matrixsvc.New(srv.Session(), st, zerolog.Nop(), matrixsvc.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CatchUp(ctx); err != nil {
		b.Fatalf("initial sync: %v", err)
	}
	return svc
}

// BenchmarkSyncThroughput is sync processing of plain messages (issue 4, goal >= 30,000
// events/s): each op is one CatchUp that fetches and applies an incremental /sync of 10,000
// new messages from a local fixture server, on a store that already holds the DMs. dms=1000
// deals the events over 1,000 DMs (10 each, the common case of a busy account); dms=10 puts
// 1,000 in each of 10, which separates the per-event cost from the per-room one. allocs/event
// and B/event count every allocation of the op, the fixture server's page (about 3,800
// allocations and 3.6 MB per page, see internal/testkit/fixture's BenchmarkIncrementalSync) included.
func BenchmarkSyncThroughput(b *testing.B) {
	const perSync = 10_000
	for _, dms := range []int{1000, 10} {
		b.Run("dms="+strconv.Itoa(dms), func(b *testing.B) {
			srv := fixture.NewServer(fixture.Spec{DMs: dms, Msgs: 10}, fixture.Options{Pages: -1, PageEvents: perSync})
			defer srv.Close()
			svc := syncedService(b, srv)
			ctx := context.Background()
			pagesBefore := srv.Served("page")
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ReportAllocs()
			for b.Loop() {
				applied, err := svc.CatchUp(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if len(applied.Messages) != perSync {
					b.Fatalf("a sync of %d messages gave %d", perSync, len(applied.Messages))
				}
			}
			runtime.ReadMemStats(&after)
			if got := srv.Served("page") - pagesBefore; got != b.N {
				b.Fatalf("%d ops fetched %d pages", b.N, got)
			}
			if u := srv.Unexpected(); len(u) > 0 {
				b.Fatalf("requests outside the fixture: %v", u)
			}
			events := float64(perSync) * float64(b.N)
			b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/events, "allocs/event")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/events, "B/event")
		})
	}
}
