package ui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/styles"
)

// The session BenchmarkSession replays (issue 21: bytes written to the terminal, Bubble Tea v1
// against v2).
const (
	sessionWidth, sessionHeight = 120, 36
	sessionHistory              = 200 // messages in the conversation opened
	sessionPages                = 5   // pages scrolled up
	sessionSends                = 20  // messages typed and sent
	sessionReceived             = 100 // messages received, one sync each
)

// replaySession is the session, one message at a time: open a conversation of 200 messages,
// scroll up 5 pages, type and send 20 messages (each confirmed by the server), receive 100.
// d.send returns once what a message caused is drawn, as a person at a keyboard would see it.
//
// Only the key messages (press, typeText) depend on the Bubble Tea version: v1 had tea.KeyMsg,
// v2 has tea.KeyPressMsg.
func replaySession(d sessionDriver, svc *fakeSvc) {
	press := func(k rune) { d.send(tea.KeyPressMsg{Code: k}) }
	typeText := func(s string) {
		for _, r := range s {
			d.send(tea.KeyPressMsg{Code: r, Text: string(r)})
		}
	}

	typeText("jj") // past Carol's invite and the book club, to Alice
	press(tea.KeyEnter)
	for range sessionPages {
		press(tea.KeyPgUp)
	}
	for i := range sessionSends {
		typeText(fmt.Sprintf("reply %02d, ok", i+1))
		press(tea.KeyEnter)
		d.send(eventsMsg{events: svc.takeEvents()}) // the outbox's report: sent
	}
	for i := range sessionReceived {
		d.send(eventsMsg{events: []matrixsvc.Event{svc.incoming(i)}})
	}
}

// sessionDriver hands the program one message and waits until it is drawn.
type sessionDriver interface{ send(tea.Msg) }

// incoming is the sync that brings Alice's i-th message of the session; the contacts list shows
// it as her preview from then on.
func (f *fakeSvc) incoming(i int) matrixsvc.SyncApplied {
	m := msg(aliceRoom, id.EventID(fmt.Sprintf("$in%d", i)), alice, testNow, fmt.Sprintf("incoming %d: a message of about the usual length", i))
	f.mu.Lock()
	defer f.mu.Unlock()
	for j, c := range f.ov.Contacts {
		if c.UserID == alice {
			f.ov.Contacts[j].Preview = matrixsvc.Preview{Body: m.Body, Sender: alice, TS: ms(testNow)}
			f.ov.Contacts[j].LastActivity = ms(testNow)
		}
	}
	return matrixsvc.SyncApplied{Messages: []matrixsvc.Message{m}}
}

// BenchmarkSession runs the real program (renderer, frame rate and all) on the root model, its
// output counted, and replays one session (replaySession) per op. It reports the bytes written
// to the terminal and the frames drawn (View calls) per session, and the writes (the renderer's
// flushes). ns/op is the replay's wall time, mostly spent waiting for frames: not a figure to
// compare.
//
//	go test -tags goolm -run '^$' -bench BenchmarkSession -count 5 ./ui/
func BenchmarkSession(b *testing.B) {
	// Draw in colour, as a terminal does (the tests draw without), on a dark background: the
	// styles' terminal and the program's colour profile.
	was := styles.Current()
	styles.SetTerminal(styles.Terminal{Profile: colorprofile.TrueColor})
	b.Cleanup(func() { styles.SetTerminal(was) })

	var total sessionCounts
	sessions := 0
	for b.Loop() {
		total.add(runSession(b))
		sessions++
	}
	n := float64(sessions)
	b.ReportMetric(float64(total.bytes)/n, "bytes/session")
	b.ReportMetric(float64(total.views)/n, "frames/session")
	b.ReportMetric(float64(total.writes)/n, "writes/session")
}

// runSession starts a program on a fresh fake and replays the session in it.
func runSession(b *testing.B) sessionCounts {
	svc := fixture()
	svc.history[aliceRoom] = longHistory(sessionHistory)
	svc.ov.Contacts[0].Unread = 0 // read before the session: the fake would report it unread forever

	meter := &sessionMeter{}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// Run's options, but no terminal: no input, the output counted, no signal handling, in
	// colour. (The alt screen, mouse and focus reports are the View's.)
	p := tea.NewProgram(countedModel{New(svc, Options{Now: fixedNow}), meter},
		tea.WithInput(nil), tea.WithOutput(meter), tea.WithContext(ctx), tea.WithoutSignalHandler(),
		tea.WithColorProfile(colorprofile.TrueColor), tea.WithWindowSize(sessionWidth, sessionHeight))
	done := make(chan error, 1)
	go func() {
		_, err := p.Run()
		done <- err
	}()
	d := &settlingDriver{b: b, p: p, meter: meter}
	d.send(tea.WindowSizeMsg{Width: sessionWidth, Height: sessionHeight})
	for start := time.Now(); !strings.Contains(meter.view(), "Alice"); time.Sleep(time.Millisecond) {
		// The program starts in its own time: the contacts come with its first frames.
		if time.Since(start) > 10*time.Second {
			b.Fatalf("no contacts on screen after 10 s:\n%s", meter.view())
		}
	}
	d.send(nil) // and settle

	replaySession(d, svc)
	counts := meter.counts()

	if v := meter.view(); !strings.Contains(v, fmt.Sprintf("incoming %d:", sessionReceived-1)) {
		b.Fatalf("the last message received is not on screen:\n%s", v)
	}
	svc.mu.Lock()
	sent, pages := len(svc.sends), len(svc.pages)
	svc.mu.Unlock()
	if sent != sessionSends {
		b.Fatalf("%d messages sent, want %d", sent, sessionSends)
	}
	if pages < 2 {
		b.Fatalf("scrolling up loaded no older messages (%d history pages)", pages)
	}
	p.Quit()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return counts
}

// settlingDriver sends a message to the program and waits until the program is quiet: no
// Update, View or write for a frame and a half, and the last change of the view written.
type settlingDriver struct {
	b     *testing.B
	p     *tea.Program
	meter *sessionMeter
	steps int
}

// frameInterval is the renderer's: Bubble Tea's default of 60 frames a second.
const frameInterval = time.Second / 60

func (d *settlingDriver) send(msg tea.Msg) {
	d.b.Helper()
	d.steps++
	d.meter.touch() // the quiet starts after the message
	d.p.Send(msg)
	deadline := time.Now().Add(10 * time.Second)
	for !d.meter.settled(frameInterval * 3 / 2) {
		if time.Now().After(deadline) {
			d.b.Fatalf("step %d (%T) not drawn within 10 s", d.steps, msg)
		}
		time.Sleep(time.Millisecond)
	}
}

// countedModel is the root model with its frames counted.
type countedModel struct {
	m     tea.Model
	meter *sessionMeter
}

func (c countedModel) Init() tea.Cmd { return c.m.Init() }

func (c countedModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	c.m, cmd = c.m.Update(msg)
	c.meter.touch()
	return c, cmd
}

// View counts a frame; its content is what is compared.
func (c countedModel) View() tea.View {
	v := c.m.View()
	c.meter.viewed(v.Content)
	return v
}

type sessionCounts struct{ bytes, views, writes int }

func (c *sessionCounts) add(o sessionCounts) {
	c.bytes += o.bytes
	c.views += o.views
	c.writes += o.writes
}

// sessionMeter is the program's terminal: it counts what is written to it and the frames drawn,
// and knows when the program last did anything.
type sessionMeter struct {
	mu      sync.Mutex
	c       sessionCounts
	last    time.Time // the last Update, View or write (or message sent)
	frame   string    // the last view
	pending bool      // the last view differs from the one before and has not been written since
}

func (s *sessionMeter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c.bytes += len(p)
	s.c.writes++
	s.last = time.Now()
	s.pending = false
	return len(p), nil
}

func (s *sessionMeter) touch() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = time.Now()
}

func (s *sessionMeter) viewed(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.c.views++
	s.last = time.Now()
	if v != s.frame {
		s.frame, s.pending = v, true
	}
}

// settled reports whether nothing happened for quiet and the last change of the view was
// written. A write that began just before that change (with the frame before it) is followed by
// the renderer's next one within a frame, which quiet waits for.
func (s *sessionMeter) settled(quiet time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.pending && time.Since(s.last) >= quiet
}

func (s *sessionMeter) counts() sessionCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c
}

func (s *sessionMeter) view() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frame
}
