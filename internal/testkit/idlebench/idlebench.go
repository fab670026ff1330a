// Package idlebench runs a program on a pseudo-terminal, as a person's terminal would, and
// measures what it costs while nothing happens: the bytes it writes to the terminal and the CPU
// time its process takes. cmd/idlebench measures duet with it (issue 21: Bubble Tea v1 against
// v2).
//
// Only commands under internal/testkit import it: the duet binary must not link the pty
// package (deps_test.go).
package idlebench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	"github.com/creack/pty"
)

// Term is a program running on a pseudo-terminal. Everything it writes is read (a terminal
// that stops reading would block it) and kept.
type Term struct {
	cmd *exec.Cmd
	pty *os.File

	silent bool // answers no question (Options.Silent)

	mu       sync.Mutex
	out      []byte       // everything the program wrote
	scanned  int          // out is answered up to here (see answers)
	screen   *vt.Emulator // what a terminal shows of out
	watchers []watcher

	exited  chan struct{} // closed once the process is waited for
	waitErr error

	closeOnce sync.Once
	closeErr  error
}

// watcher waits for a text to be drawn (Drawn).
type watcher struct {
	text string
	at   chan Seen
}

// Seen is when a text was first drawn, and what the scheduler said of the program then.
type Seen struct {
	At    time.Time
	Sched Sched
}

// Options say how the terminal behaves.
type Options struct {
	// Silent is a terminal that answers no question (some terminals, multiplexers and serial
	// consoles do not): a program that waits for an answer waits until it gives up.
	Silent bool
}

// Start starts cmd on a new pseudo-terminal of cols x rows, which is its standard input,
// output and error and its controlling terminal. The terminal answers as a dark xterm does.
func Start(cmd *exec.Cmd, cols, rows int) (*Term, error) {
	return StartWith(cmd, cols, rows, Options{})
}

// StartWith is Start with a terminal that behaves as o says.
func StartWith(cmd *exec.Cmd, cols, rows int, o Options) (*Term, error) {
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)})
	if err != nil {
		return nil, fmt.Errorf("start %s on a terminal: %w", cmd.Path, err)
	}
	t := &Term{cmd: cmd, pty: f, silent: o.Silent, screen: vt.NewEmulator(cols, rows), exited: make(chan struct{})}
	go func() { _, _ = io.Copy(io.Discard, t.screen) }() // the emulator's own answers: Term answers (or not)
	go t.read()
	go func() {
		t.waitErr = cmd.Wait()
		close(t.exited)
	}()
	return t, nil
}

func (t *Term) read() {
	buf := make([]byte, 32<<10)
	for {
		n, err := t.pty.Read(buf)
		if n > 0 {
			at := time.Now()
			t.mu.Lock()
			t.out = append(t.out, buf[:n]...)
			_, _ = t.screen.Write(buf[:n])
			var replies []string
			if !t.silent {
				replies = t.answer()
			}
			t.notify(at)
			t.mu.Unlock()
			for _, r := range replies {
				_, _ = t.pty.WriteString(r)
			}
		}
		if err != nil { // EIO once the program exited and its side of the terminal closed
			return
		}
	}
}

// answers are a terminal's answers to what programs ask it: a dark terminal that knows the
// usual questions. Without them a program may wait for an answer before its first frame (duet
// on Bubble Tea v1 waits 5 s for the background colour).
var answers = []struct{ query, answer string }{
	{"\x1b]11;?\x1b\\", "\x1b]11;rgb:0000/0000/0000\x1b\\"}, // background colour
	{"\x1b]11;?\a", "\x1b]11;rgb:0000/0000/0000\a"},
	{"\x1b]10;?\x1b\\", "\x1b]10;rgb:cccc/cccc/cccc\x1b\\"}, // foreground colour
	{"\x1b]10;?\a", "\x1b]10;rgb:cccc/cccc/cccc\a"},
	{"\x1b[6n", "\x1b[1;1R"},   // cursor position
	{"\x1b[c", "\x1b[?62;22c"}, // primary device attributes: VT220 with colour
	{"\x1b[0c", "\x1b[?62;22c"},
}

// answer returns the answers to the questions written since the last call, in the order they
// were asked. A question cut in two by a read is answered once its end has come.
func (t *Term) answer() []string {
	type hit struct {
		at, end int
		answer  string
	}
	var hits []hit
	longest := 0
	for _, a := range answers {
		longest = max(longest, len(a.query))
		for from := t.scanned; ; {
			i := bytes.Index(t.out[from:], []byte(a.query))
			if i < 0 {
				break
			}
			hits = append(hits, hit{at: from + i, end: from + i + len(a.query), answer: a.answer})
			from += i + len(a.query)
		}
	}
	slices.SortFunc(hits, func(a, b hit) int { return a.at - b.at })
	t.scanned = max(t.scanned, len(t.out)-longest+1)
	var out []string
	for _, h := range hits {
		out = append(out, h.answer)
		t.scanned = max(t.scanned, h.end)
	}
	return out
}

// Drawn returns a channel that receives, once, the time at which the terminal's screen first
// shows text on one of its lines (a terminal emulator, charmbracelet/x/vt, draws what the
// program wrote: a renderer that rewrites only the cells that changed still counts): when the
// read that brought the last byte of it returned. The time is taken as the bytes arrive, not
// when someone looks, and so is the scheduler's account of the program.
func (t *Term) Drawn(text string) <-chan Seen {
	w := watcher{text: text, at: make(chan Seen, 1)}
	t.mu.Lock()
	defer t.mu.Unlock()
	if strings.Contains(t.screen.String(), text) {
		w.at <- Seen{At: time.Now(), Sched: ProcessSched(t.PID())}
		return w.at
	}
	t.watchers = append(t.watchers, w)
	return w.at
}

// notify tells the watchers whose text has come. t.mu is held.
func (t *Term) notify(at time.Time) {
	if len(t.watchers) == 0 {
		return
	}
	screen := t.screen.String()
	t.watchers = slices.DeleteFunc(t.watchers, func(w watcher) bool {
		if strings.Contains(screen, w.text) {
			w.at <- Seen{At: at, Sched: ProcessSched(t.PID())}
			return true
		}
		return false
	})
}

// Exited is closed once the program has exited.
func (t *Term) Exited() <-chan struct{} { return t.exited }

// PID is the program's process ID.
func (t *Term) PID() int { return t.cmd.Process.Pid }

// Written is how many bytes the program has written to the terminal so far.
func (t *Term) Written() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.out)
}

// Type writes s to the program's terminal as typed keys ("\r" is enter, "\x03" ctrl+c).
func (t *Term) Type(s string) error {
	_, err := t.pty.WriteString(s)
	return err
}

// Screen is the text the program wrote from byte offset from on, its escape sequences taken
// out (what a terminal would draw, without the positions).
func (t *Term) Screen(from int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return ansi.Strip(string(t.out[min(from, len(t.out)):]))
}

// WaitFor waits until the program has drawn text, written from byte offset from on.
func (t *Term) WaitFor(ctx context.Context, text string, from int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !strings.Contains(t.Screen(from), text) {
		if err := t.alive(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%q not drawn within %s; the screen's last text: %q", text, timeout, tail(t.Screen(from), 400))
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// Settle waits until the program has been idle for quiet: nothing written to the terminal and
// no more than maxCPU of CPU time taken (a start goes on syncing and setting up keys after the
// first frame; an idle program may still take a little, a renderer's frame ticker for one). It
// gives up after timeout and says how long it waited either way.
func (t *Term) Settle(ctx context.Context, quiet, maxCPU, timeout time.Duration) (time.Duration, error) {
	began := time.Now()
	for {
		bytesBefore := t.Written()
		cpuBefore, err := ProcessCPU(t.PID())
		if err != nil {
			return time.Since(began), err
		}
		if err := sleep(ctx, quiet); err != nil {
			return time.Since(began), err
		}
		if err := t.alive(); err != nil {
			return time.Since(began), err
		}
		cpuAfter, err := ProcessCPU(t.PID())
		if err != nil {
			return time.Since(began), err
		}
		if t.Written() == bytesBefore && cpuAfter-cpuBefore <= maxCPU {
			return time.Since(began), nil
		}
		if time.Since(began) > timeout {
			return time.Since(began), fmt.Errorf("not idle after %s", timeout)
		}
	}
}

// Figures are what the program cost over a while.
type Figures struct {
	Bytes int           // written to the terminal
	CPU   time.Duration // utime+stime of the process (/proc/PID/stat: 10 ms steps)
	OnCPU time.Duration // the same from the scheduler, to the nanosecond (/proc/PID/task/*/schedstat); 0 when the kernel has no schedstat
}

// Measure measures the program for d.
func (t *Term) Measure(ctx context.Context, d time.Duration) (Figures, error) {
	b0 := t.Written()
	c0, err := ProcessCPU(t.PID())
	if err != nil {
		return Figures{}, err
	}
	s0 := threadsOnCPU(t.PID())
	if err := sleep(ctx, d); err != nil {
		return Figures{}, err
	}
	if err := t.alive(); err != nil {
		return Figures{}, err
	}
	c1, err := ProcessCPU(t.PID())
	if err != nil {
		return Figures{}, err
	}
	s1 := threadsOnCPU(t.PID())
	var on time.Duration
	for tid, ns := range s1 {
		on += ns - s0[tid] // a thread started meanwhile counts from zero
	}
	return Figures{Bytes: t.Written() - b0, CPU: c1 - c0, OnCPU: on}, nil
}

// Close ends the program: typed keys (quit) first, then SIGKILL after grace. It returns the
// program's exit error, nil for a clean exit after quit. Later calls return the first's result.
func (t *Term) Close(quit string, grace time.Duration) error {
	t.closeOnce.Do(func() { t.closeErr = t.close(quit, grace) })
	return t.closeErr
}

func (t *Term) close(quit string, grace time.Duration) error {
	defer t.pty.Close()
	if quit != "" {
		_ = t.Type(quit)
	}
	select {
	case <-t.exited:
		return t.waitErr
	case <-time.After(grace):
	}
	_ = t.cmd.Process.Kill()
	<-t.exited
	return fmt.Errorf("did not quit within %s: killed", grace)
}

// alive fails once the program has exited.
func (t *Term) alive() error {
	select {
	case <-t.exited:
		return fmt.Errorf("the program exited (%v); its screen's last text: %q", t.waitErr, tail(t.Screen(0), 400))
	default:
		return nil
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// userHZ is the unit of the times in /proc/PID/stat: the kernel's USER_HZ, 100 on Linux.
const userHZ = 100

// ProcessCPU is the CPU time a process has taken, all its threads, in user and kernel mode
// (utime+stime of /proc/PID/stat).
func ProcessCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("the CPU time of %d: %w", pid, err)
	}
	utime, stime, err := parseStat(string(data))
	if err != nil {
		return 0, fmt.Errorf("the CPU time of %d: %w", pid, err)
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}

// parseStat reads utime and stime (fields 14 and 15) from a /proc/PID/stat line. The command
// name (field 2) is in parentheses and may itself hold spaces and parentheses: the fields are
// counted from the last ')'.
func parseStat(line string) (utime, stime uint64, err error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, 0, errors.New("no command name in /proc/PID/stat")
	}
	fields := strings.Fields(line[i+1:]) // from field 3, the state
	if len(fields) < 13 {
		return 0, 0, fmt.Errorf("%d fields after the command name in /proc/PID/stat, want at least 13", len(fields))
	}
	if utime, err = strconv.ParseUint(fields[14-3], 10, 64); err != nil {
		return 0, 0, fmt.Errorf("utime: %w", err)
	}
	if stime, err = strconv.ParseUint(fields[15-3], 10, 64); err != nil {
		return 0, 0, fmt.Errorf("stime: %w", err)
	}
	return utime, stime, nil
}

// threadsOnCPU is the time each thread of a process has run, by thread ID (the first field of
// /proc/PID/task/TID/schedstat, in nanoseconds). Threads it cannot read are left out.
func threadsOnCPU(pid int) map[string]time.Duration {
	out := map[string]time.Duration{}
	dirs, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "schedstat"))
		if err != nil {
			continue
		}
		f := bytes.Fields(data)
		if len(f) == 0 {
			continue
		}
		if ns, err := strconv.ParseInt(string(f[0]), 10, 64); err == nil {
			out[filepath.Base(dir)] = time.Duration(ns)
		}
	}
	return out
}

// Sched is what the scheduler says of a process so far, summed over its threads (the first two
// fields of /proc/PID/task/TID/schedstat, in nanoseconds).
type Sched struct {
	OnCPU  time.Duration // run on a CPU
	Waited time.Duration // ready to run, waiting for a CPU (on a busy machine: time lost to others)
}

// ProcessSched reads Sched for a process; threads that have exited are not counted. Zero when
// the kernel has no schedstat.
func ProcessSched(pid int) Sched {
	var s Sched
	dirs, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "schedstat"))
		if err != nil {
			continue
		}
		f := bytes.Fields(data)
		if len(f) < 2 {
			continue
		}
		on, err1 := strconv.ParseInt(string(f[0]), 10, 64)
		wait, err2 := strconv.ParseInt(string(f[1]), 10, 64)
		if err1 == nil && err2 == nil {
			s.OnCPU += time.Duration(on)
			s.Waited += time.Duration(wait)
		}
	}
	return s
}
