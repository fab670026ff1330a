package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// The UI's sync loop starts after its first frame: a UI that ends before that frame still
// closes its app, and a late word of the frame starts nothing once the UI has ended (the app's
// store is closed by then; a loop started on it would crash on a nil service here).
func TestASyncLoopThatNeverStartedIsClosed(t *testing.T) {
	log, err := os.Create(filepath.Join(t.TempDir(), "duet.log"))
	if err != nil {
		t.Fatal(err)
	}
	app := &App{logFile: log}
	ctx, cancel := context.WithCancel(context.Background())
	loops := &syncLoops{ctx: ctx}
	loops.add(app)
	cancel()
	loops.stop()
	loops.run(app)
	if _, err := log.WriteString("x"); err == nil {
		t.Fatal("the app was not closed")
	}
}
