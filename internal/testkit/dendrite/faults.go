package dendrite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"duet/internal/homeserver"
)

// FaultServer is a Dendrite of one test's own that the test can kill, restart and freeze, as a
// crash, a restart after it or a network that drops everything would. Its state is kept on disk
// (internal queues too, as in a real deployment) across kills and restarts, and it keeps its
// address, so clients see one server throughout.
//
// The embedded Server is the first run's: its URL, ServerName and Register stay good across
// restarts (a fresh connection reaches whichever run is up). Stop, LogTail and PID act on the
// run that is up now; SharedSecret is the first run's and is not the restarted server's.
//
// Fault tests must not share their server: use one FaultServer per test.
type FaultServer struct {
	*homeserver.Server

	opts homeserver.Options // what a restart starts: same binaries, state directory and port

	mu   sync.Mutex
	cur  *homeserver.Server // the run that is up (or was, after Kill)
	down bool               // cur has been stopped
	errs []error            // what stopping earlier runs reported

	stopOnce sync.Once
	stopErr  error
}

// StartFaulty starts a FaultServer from the binaries in binDir (see BinDir), with its state in a
// fresh directory that Stop removes. ctx bounds the start only; the caller must call Stop.
func StartFaulty(ctx context.Context, binDir string) (*FaultServer, error) {
	dir, err := homeserver.NewStateDir()
	if err != nil {
		return nil, err
	}
	// On-disk queues: a killed Dendrite then loses what a real one would not.
	opts := homeserver.Options{BinDir: binDir, StateDir: dir, DurableQueues: true}
	srv, err := homeserver.Start(ctx, opts)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	u, err := url.Parse(srv.URL)
	if err == nil {
		opts.Port, err = strconv.Atoi(u.Port())
	}
	if err != nil {
		_ = srv.Stop()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("dendrite: the port of %s: %w", srv.URL, err)
	}
	return &FaultServer{Server: srv, opts: opts, cur: srv}, nil
}

// Kill ends Dendrite at once (SIGKILL to its process group), as a crash or a pulled plug would,
// and keeps its state: Restart brings the same server back. Requests under way fail with a reset
// connection and new ones are refused until then.
func (f *FaultServer) Kill() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kill()
}

// kill stops the current run (homeserver.Server.Stop kills, and keeps a given state directory).
func (f *FaultServer) kill() {
	if f.down {
		return
	}
	f.down = true
	if err := f.cur.Stop(); err != nil {
		f.errs = append(f.errs, err)
	}
}

// Restart runs Dendrite again, after Kill or in place of a running (or frozen) one, which it
// kills first, on the same address with the same state, and returns once it answers.
func (f *FaultServer) Restart(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.kill()
	srv, err := homeserver.Start(ctx, f.opts)
	if err != nil {
		return fmt.Errorf("dendrite: restart: %w", err)
	}
	f.cur, f.down = srv, false
	return nil
}

// Freeze stops Dendrite's processes (SIGSTOP) without closing anything: the kernel still accepts
// connections, but no request is answered, as when the network silently drops packets. Thaw
// resumes it.
// It returns once the kernel says the process is stopped: SIGSTOP is delivered asynchronously,
// and on a loaded machine Dendrite could otherwise still answer a request sent right after.
func (f *FaultServer) Freeze() {
	f.signal(syscall.SIGSTOP)
	f.mu.Lock()
	pid := f.cur.PID()
	f.mu.Unlock()
	waitStopped(pid, 5*time.Second)
}

// waitStopped waits until process pid is stopped, as /proc says (where there is a /proc), for
// at most limit.
func waitStopped(pid int, limit time.Duration) {
	if pid <= 0 {
		return
	}
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return // no /proc, or gone
		}
		// The state follows the command name in parentheses: "pid (comm) S ...".
		if i := bytes.LastIndexByte(stat, ')'); i < 0 || i+2 >= len(stat) || stat[i+2] == 'T' || stat[i+2] == 't' {
			return
		}
	}
}

// Thaw resumes a server stopped by Freeze; requests that waited are then answered.
func (f *FaultServer) Thaw() { f.signal(syscall.SIGCONT) }

func (f *FaultServer) signal(sig syscall.Signal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if pid := f.cur.PID(); pid > 0 {
		_ = syscall.Kill(-pid, sig) // Dendrite leads its own process group
	}
}

// PID is the process ID of the run that is up; 0 after Kill.
func (f *FaultServer) PID() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur.PID()
}

// LogTail returns the last few KiB the current run wrote, for a failing test to print.
func (f *FaultServer) LogTail() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur.LogTail()
}

// Stop kills Dendrite and removes its state. It is safe to call more than once; later calls
// return the first result.
func (f *FaultServer) Stop() error {
	f.stopOnce.Do(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.kill()
		f.errs = append(f.errs, os.RemoveAll(f.opts.StateDir))
		if err := errors.Join(f.errs...); err != nil {
			f.stopErr = fmt.Errorf("dendrite: stop: %w", err)
		}
	})
	return f.stopErr
}
