package matrixsvc

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"duet/internal/testkit/hstest"
)

// progressLog collects the Progress events a listening service publishes.
type progressLog struct {
	mu   sync.Mutex
	seen []Progress
}

func listenForProgress(t *testing.T, svc *Service) *progressLog {
	t.Helper()
	l := &progressLog{}
	events := svc.Events()
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		for {
			select {
			case evt := <-events:
				if p, ok := evt.(Progress); ok {
					l.mu.Lock()
					l.seen = append(l.seen, p)
					l.mu.Unlock()
				}
			case <-done:
				return
			}
		}
	}()
	return l
}

// ended waits for the last report of a task of kind task, and returns every report of it.
func (l *progressLog) ended(t *testing.T, task Task) (last Progress, all []Progress) {
	t.Helper()
	hstest.Eventually(t, 20*time.Second, func() string {
		l.mu.Lock()
		defer l.mu.Unlock()
		all = nil
		for _, p := range l.seen {
			if p.Task == task {
				all = append(all, p)
				if p.Ended {
					last = p
					return ""
				}
			}
		}
		return "no end of the task yet"
	})
	return last, all
}

// A file sent and a file saved report their bytes as they go, and end with all of them; the
// first sync of a new device reports the rooms it takes in.
func TestProgressOfFilesAndFirstSync(t *testing.T) {
	t.Parallel()
	svc, alice, bob, room := acceptedDM(t)
	ctx := hstest.Ctx(t)
	log := listenForProgress(t, svc)

	data := make([]byte, 300<<10)
	_, _ = rand.Read(data)
	path := filepath.Join(t.TempDir(), "notes.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := svc.Enqueue(ctx, Outgoing{Kind: KindFile, Room: room, Target: bob.ID, File: path}); err != nil {
		t.Fatal(err)
	}
	flush(t, svc, 1)
	up, ups := log.ended(t, TaskUpload)
	if up.Name != "notes.bin" || up.Unit != UnitBytes || up.Done != int64(len(data)) || up.Total != int64(len(data)) {
		t.Fatalf("the upload ended as %+v", up)
	}
	if ups[0].Ended || ups[0].Done != 0 {
		t.Fatalf("the upload did not start at 0: %+v", ups[0])
	}

	var media *Media
	waitForCopy(t, svc, room, func(m Message) bool { return m.Media != nil && m.Media.Name == "notes.bin" }, func(m Message) string {
		media = m.Media
		return ""
	})
	saved, err := svc.SaveMedia(ctx, media, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(saved); !bytes.Equal(got, data) {
		t.Fatal("the file saved is not the file sent")
	}
	down, _ := log.ended(t, TaskDownload)
	if down.Name != "notes.bin" || down.Done != int64(len(data)) || down.Total != int64(len(data)) {
		t.Fatalf("the download ended as %+v", down)
	}

	// A new device of alice: its first sync brings the DM (and nothing is reported by a
	// service nobody listens to, as commands run).
	fresh := newService(t, alice, "")
	first := listenForProgress(t, fresh)
	if _, err := fresh.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	end, all := first.ended(t, TaskSync)
	if end.Unit != UnitRooms || end.Total < 1 || end.Done != end.Total {
		t.Fatalf("the first sync ended as %+v", end)
	}
	if all[0].Unit != UnitBytes {
		t.Fatalf("the first sync did not report its response first: %+v", all)
	}
	if _, err := fresh.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, again := first.ended(t, TaskSync); len(again) != len(all) {
		t.Fatalf("a sync after the first reported progress: %+v", again[len(all):])
	}
}

// A command does not listen: nothing is published, and nothing waits for a reader.
func TestNoProgressWithoutListener(t *testing.T) {
	t.Parallel()
	svc, _, _, _ := acceptedDM(t)
	tr := svc.track(TaskKeys, UnitKeys, "", 0)
	tr.Add(5)
	tr.End()
	select {
	case evt := <-svc.events:
		t.Fatalf("published %#v with nobody listening", evt)
	default:
	}
}
