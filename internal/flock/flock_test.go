package flock

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestTryAndWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := Try(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Try(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Try: %v, want ErrLocked", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := Wait(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on a held lock: %v", err)
	}
	unlock()
	unlock2, err := Wait(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	unlock2()
}
