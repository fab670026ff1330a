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

func TestHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	if held, err := Held(path); held || err != nil {
		t.Fatalf("Held on a missing file: %v, %v", held, err)
	}
	unlock, err := Try(path)
	if err != nil {
		t.Fatal(err)
	}
	if held, err := Held(path); !held || err != nil {
		t.Fatalf("Held on a held lock: %v, %v", held, err)
	}
	unlock()
	if held, err := Held(path); held || err != nil {
		t.Fatalf("Held after unlock: %v, %v", held, err)
	}
	// Asking did not take it: Try still gets it.
	unlock, err = Try(path)
	if err != nil {
		t.Fatalf("Try after Held: %v", err)
	}
	unlock()
}
