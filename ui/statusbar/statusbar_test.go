package statusbar

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"duet/internal/testkit/termtest"
	"duet/matrixsvc"
	"duet/ui/styles"
)

func TestMain(m *testing.M) {
	termtest.Plain()
	os.Exit(m.Run())
}

func bar() Model {
	m := New(styles.Default().Status)
	m.SetWidth(70)
	m.SetAccount("@me:example.org")
	m.SetHint("enter open • n new DM • ? help")
	return m
}

func TestViewLive(t *testing.T) {
	m := bar()
	m.SetSync(matrixsvc.SyncStateChanged{State: matrixsvc.SyncLive})
	golden.RequireEqual(t, m.View())
}

func TestViewOffline(t *testing.T) {
	m := bar()
	m.SetSync(matrixsvc.SyncStateChanged{State: matrixsvc.SyncOffline, Err: errors.New("dial tcp: connection refused"), RetryIn: 8 * time.Second})
	golden.RequireEqual(t, m.View())
}

func TestViewError(t *testing.T) {
	m := bar()
	m.SetSync(matrixsvc.SyncStateChanged{State: matrixsvc.SyncLive})
	m.SetError("not sent: the homeserver refused\x1b[2J: nope (M_FORBIDDEN)")
	golden.RequireEqual(t, m.View())
}
