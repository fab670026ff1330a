package matrixsvc

import (
	"context"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Task is a long piece of work whose progress a listening UI shows.
type Task uint8

const (
	TaskSync     Task = iota + 1 // the first sync of the account: bytes received, then rooms taken in
	TaskHistory                  // filling a gap in a conversation's history: messages fetched
	TaskUpload                   // a file sent: bytes uploaded
	TaskDownload                 // a file saved or opened: bytes downloaded
	TaskKeys                     // room keys restored from the key backup: keys taken in
)

// Unit is what Progress counts.
type Unit uint8

const (
	UnitBytes Unit = iota
	UnitRooms
	UnitMessages
	UnitKeys
)

// Progress reports how far a task is: Done of Total Units (Total 0: not known). One with Ended
// set is the task's last report, whether it finished or failed. Reports of one task come in
// order; between its first and last, some may be left out (at most a few a second are sent).
type Progress struct {
	Task  Task
	ID    string // tells tasks apart while several run (two uploads)
	Name  string // what it is about, as sent by others: a file's name (not sanitized)
	Unit  Unit
	Done  int64
	Total int64
	Ended bool
}

func (Progress) isEvent() {}

// progressEvery is how often one task reports at most, but for its first and last report.
const progressEvery = 150 * time.Millisecond

var progressSeq atomic.Uint64

// tracker follows one task and reports it to a listening UI; commands do not listen, and for
// them it reports nothing. Its methods may be called from any goroutine.
type tracker struct {
	s *Service

	mu   sync.Mutex
	p    Progress
	last time.Time // when the last report went out
	done bool
}

// track starts following a task; End must be called once it is over.
func (s *Service) track(task Task, unit Unit, name string, total int64) *tracker {
	t := &tracker{s: s, p: Progress{Task: task, Unit: unit, Name: name, Total: total,
		ID: strconv.FormatUint(progressSeq.Add(1), 10)}}
	t.report(false)
	return t
}

// Add counts n more units done.
func (t *tracker) Add(n int64) {
	if t == nil || n == 0 {
		return
	}
	t.mu.Lock()
	t.p.Done += n
	due := time.Since(t.last) >= progressEvery
	t.mu.Unlock()
	if due {
		t.report(false)
	}
}

// Phase goes on to another count of the same task (a first sync receives bytes, then takes in
// rooms): done starts from 0.
func (t *tracker) Phase(unit Unit, total int64) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.p.Unit, t.p.Done, t.p.Total = unit, 0, total
	t.mu.Unlock()
	t.report(false)
}

// keepReporting reports the task every interval until the returned stop is called: for a
// wait in which nothing is counted (so that a UI that starts listening meanwhile hears of it,
// and does not take it for a task whose end was lost).
func (t *tracker) keepReporting(interval time.Duration) (stop func()) {
	if t == nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				t.report(false)
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done) }) }
}

// setTotal sets how many units the task has in all, once that is known.
func (t *tracker) setTotal(total int64) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.p.Total = total
	t.mu.Unlock()
}

// End reports the task over. A nil tracker does nothing, so callers may defer it freely.
func (t *tracker) End() {
	if t == nil {
		return
	}
	t.mu.Lock()
	if t.done {
		t.mu.Unlock()
		return
	}
	t.done, t.p.Ended = true, true
	t.mu.Unlock()
	t.report(true)
}

// report sends the task's state. The last report waits for room on the events channel (the UI
// must not keep showing a task that ended); the others are left out when it is full.
func (t *tracker) report(last bool) {
	if !t.s.listening.Load() {
		return
	}
	t.mu.Lock()
	t.last = time.Now()
	p := t.p
	t.mu.Unlock()
	if last {
		// Bounded: a UI that stopped reading must not hold the task's goroutine.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		t.s.publish(ctx, p)
		return
	}
	select {
	case t.s.events <- p:
	default:
	}
}

// Reader counts what is read through r as done.
func (t *tracker) Reader(r io.Reader) io.Reader {
	if t == nil {
		return r
	}
	return &countingReader{r: r, t: t}
}

// Writer counts what is written through w as done.
func (t *tracker) Writer(w io.Writer) io.Writer {
	if t == nil {
		return w
	}
	return &countingWriter{w: w, t: t}
}

type countingWriter struct {
	w io.Writer
	t *tracker
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.t.Add(int64(n))
	return n, err
}

type countingReader struct {
	r io.Reader
	t *tracker
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.t.Add(int64(n))
	return n, err
}
