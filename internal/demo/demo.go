// Package demo runs duet's demo: a throw-away local Dendrite with the person using duet, three
// people who have display names and direct-message history with them, and Alice, who answers
// whatever the demo user writes, so the demo is alive. A second throw-away Dendrite holds the
// demo user's work account, with colleagues of their own (Dana answers too), so that duet can
// show two accounts' DMs in one window.
//
// Start builds and starts both homeservers at once, registers the accounts, seeds the history
// with plain mautrix clients (one per person, each writing its own m.direct by
// read-modify-write, as a real client would) and starts the responders. Stop stops everything
// and removes the servers' state. The caller writes a duet session for Demo.You (and one for
// Demo.Work.You); this package never touches duet's files.
//
// Nothing here prints to the terminal: logs go to Options.Log and Dendrite's output to
// Options.ServerLog or a file in each server's state directory.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"duet/internal/homeserver"
)

// Options configures Start.
type Options struct {
	// Log receives the demo's logs and those of its Matrix clients. The zero value discards them.
	Log zerolog.Logger
	// ServerLog receives Dendrite's output, from both servers (one write at a time). When nil
	// it goes to dendrite.log in each server's state directory, which Stop removes.
	ServerLog io.Writer
	// BinDir holds the Dendrite binaries. When empty, Start builds them with
	// homeserver.Binaries into the .bin directory of the repository around the working
	// directory (the first build takes minutes).
	BinDir string
	// ReplyDelay is how long Alice (and Dana) "type" before they answer. Default one second.
	ReplyDelay time.Duration
	// NoWork leaves out the work account and its homeserver (Demo.Work is nil), for callers
	// that need only the first account. `duet demo` has both.
	NoWork bool
}

// Rooms are the rooms the demo seeds.
type Rooms struct {
	Alice id.RoomID // 1:1 DM created by Alice; both m.direct lists name it
	Bob   id.RoomID // 1:1 DM created by You, joined by Bob, then upgraded by Bob
	// BobNext replaces Bob (R23): You are invited, and duet joins it and moves m.direct.
	BobNext id.RoomID
	Carol   id.RoomID // Carol's direct invite to You, not accepted; she wrote one message
	Group   id.RoomID // "direct" room of Bob, Alice and You; You list it under Bob and Alice
}

// WorkRooms are the rooms the demo seeds on the work server.
type WorkRooms struct {
	Dana id.RoomID // 1:1 DM created by Dana, read up to her last message, then encrypted; she answers
	Erin id.RoomID // 1:1 DM created by You; Erin's last message, minutes ago, is unread
	// Alice is a 1:1 DM with Alice's own work account, which has the same display name as her
	// account on the first server: the same person in two accounts, two conversations.
	Alice id.RoomID
}

// Work is the demo user's second account, on a homeserver of its own.
type Work struct {
	// Server is the work homeserver: another Dendrite on loopback, whose ServerName (and so
	// the part after the colon in its user IDs) differs from Demo.Server's.
	Server *homeserver.Server
	// You is the demo user's work account (display name "Demo User", password YourPassword).
	// Its access token and device ID are what a second duet session needs, with Server.URL.
	You *homeserver.Account
	// People are the colleagues, by localpart: "dana", "erin", and "alice" (Alice's work account).
	People map[string]*homeserver.Account
	Rooms  WorkRooms
}

// Demo is a running demo. Its fields are set by Start and must not be changed.
type Demo struct {
	Server *homeserver.Server
	// You is the person using duet (display name "Demo User"). Its access token, device ID
	// and password are what a duet session for the demo needs.
	You *homeserver.Account
	// People are the others, by localpart: "alice", "bob", "carol".
	People map[string]*homeserver.Account
	Rooms  Rooms
	// Work is the demo user's work account on a second homeserver; nil with Options.NoWork.
	Work *Work

	log       zerolog.Logger
	transport *http.Transport    // the demo clients' own, so Stop can close its connections
	cancel    context.CancelFunc // stops the responders
	wg        sync.WaitGroup     // the responders' goroutines
	cryptoDir string             // the responders' crypto stores
	stopOnce  sync.Once
	stopErr   error
}

// person is one account of the demo driven by a plain mautrix client.
type person struct {
	acct *homeserver.Account
	id   id.UserID
	name string // display name
	cli  *mautrix.Client
}

// YourPassword is the demo user's password.
const YourPassword = "duet-demo"

// The casts, the demo user first. Localparts are plain names: each server is fresh, so they
// cannot collide.
type role struct{ localpart, name string }

var (
	cast = []role{
		{"demo", "Demo User"},
		{"alice", "Alice Liddell"},
		{"bob", "Bob Builder"},
		{"carol", "Carol"},
	}
	workCast = []role{
		{"demo", "Demo User"},
		{"dana", "Dana Whitfield"},
		{"erin", "Erin Okafor"},
		{"alice", "Alice Liddell"}, // the same name as on the first server
	}
)

const (
	defaultReplyDelay = time.Second
	// responderReadyTimeout bounds the wait for the responder's first sync.
	responderReadyTimeout = 30 * time.Second
	// clientTimeout bounds one request of a demo client; a /sync long-poll takes 30 s.
	clientTimeout = 90 * time.Second
)

// Start builds (when needed) and starts two Dendrites with fresh state directories, at the
// same time: the first with the demo user and Alice, Bob and Carol, the second (unless
// Options.NoWork) with the demo user's work account and Dana, Erin and Alice's work account. It
// seeds each server's rooms and history and starts Alice's and Dana's responders, and returns
// once everything is seeded and visible to clients and the responders are listening. ctx bounds
// the start only; the demo runs until Stop. On error nothing is left running.
func Start(ctx context.Context, opts Options) (_ *Demo, err error) {
	if opts.ReplyDelay <= 0 {
		opts.ReplyDelay = defaultReplyDelay
	}
	log := opts.Log.With().Str("component", "demo").Logger()
	begin := time.Now()

	binDir := opts.BinDir
	if binDir == "" {
		root, err := homeserver.RepoRoot()
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		if binDir, err = homeserver.Binaries(ctx, root); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	if opts.ServerLog != nil {
		opts.ServerLog = &lockedWriter{w: opts.ServerLog} // two servers write to it
	}
	d := &Demo{
		People:    map[string]*homeserver.Account{},
		log:       log,
		transport: http.DefaultTransport.(*http.Transport).Clone(),
	}
	defer func() {
		if err != nil {
			_ = d.Stop()
		}
	}()
	rctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	if d.cryptoDir, err = os.MkdirTemp("", "duet-demo-crypto-*"); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}

	// The two sides share nothing but the transport, the responders' context and wait group,
	// and the crypto directory, and each writes only its own fields of d. The first error
	// cancels the other side's start; Stop then stops whatever either side had started.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return d.startPersonal(gctx, rctx, opts, binDir, begin) })
	if !opts.NoWork {
		d.Work = &Work{People: map[string]*homeserver.Account{}}
		g.Go(func() error { return d.startWork(gctx, rctx, opts, binDir, begin) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	log.Info().Dur("took", time.Since(begin)).Msg("demo ready")
	return d, nil
}

// startPersonal starts the first server and sets d.Server, d.You, d.People and d.Rooms.
func (d *Demo) startPersonal(ctx, rctx context.Context, opts Options, binDir string, begin time.Time) error {
	srv, err := d.startServer(ctx, opts, binDir, &d.Server, begin, "homeserver started")
	if err != nil {
		return err
	}
	people, err := d.registerAll(ctx, srv, cast, opts.Log)
	if err != nil {
		return err
	}
	you := people["demo"]
	d.You = you.acct
	for _, name := range []string{"alice", "bob", "carol"} {
		d.People[name] = people[name].acct
	}

	s := &seeder{you: you, alice: people["alice"], bob: people["bob"], carol: people["carol"], clock: clock{now: time.Now()}}
	if d.Rooms, err = s.seed(ctx); err != nil {
		return fmt.Errorf("demo: seeding: %w", err)
	}
	d.log.Info().Dur("took", time.Since(begin)).Msg("history seeded")
	return d.startResponder(ctx, rctx, people["alice"], you.id, opts.ReplyDelay, "alice.db")
}

// startWork starts the work server and fills d.Work.
func (d *Demo) startWork(ctx, rctx context.Context, opts Options, binDir string, begin time.Time) error {
	w := d.Work
	srv, err := d.startServer(ctx, opts, binDir, &w.Server, begin, "work homeserver started")
	if err != nil {
		return err
	}
	people, err := d.registerAll(ctx, srv, workCast, opts.Log)
	if err != nil {
		return err
	}
	you := people["demo"]
	w.You = you.acct
	for _, name := range []string{"dana", "erin", "alice"} {
		w.People[name] = people[name].acct
	}

	s := &workSeeder{you: you, dana: people["dana"], erin: people["erin"], alice: people["alice"], clock: clock{now: time.Now()}}
	if w.Rooms, err = s.seed(ctx); err != nil {
		return fmt.Errorf("demo: seeding the work server: %w", err)
	}
	d.log.Info().Dur("took", time.Since(begin)).Msg("work history seeded")
	return d.startResponder(ctx, rctx, people["dana"], you.id, opts.ReplyDelay, "work-dana.db")
}

// startServer starts a Dendrite and stores it in *dst before anything else can fail, so that
// Stop stops it.
func (d *Demo) startServer(ctx context.Context, opts Options, binDir string, dst **homeserver.Server, begin time.Time, msg string) (*homeserver.Server, error) {
	srv, err := homeserver.Start(ctx, homeserver.Options{BinDir: binDir, LogWriter: opts.ServerLog, LogLevel: "warn"})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	*dst = srv
	d.log.Info().Str("url", srv.URL).Dur("took", time.Since(begin)).Msg(msg)
	return srv, nil
}

// registerAll registers a cast on srv, by localpart.
func (d *Demo) registerAll(ctx context.Context, srv *homeserver.Server, roles []role, log zerolog.Logger) (map[string]*person, error) {
	people := map[string]*person{}
	for _, r := range roles {
		p, err := d.register(ctx, srv, r.localpart, r.name, log)
		if err != nil {
			return nil, err
		}
		people[r.localpart] = p
	}
	return people, nil
}

// startResponder makes p answer you, with its crypto store in the file db of d.cryptoDir.
func (d *Demo) startResponder(ctx, rctx context.Context, p *person, you id.UserID, delay time.Duration, db string) error {
	name := p.acct.UserID
	r := newResponder(p, you, delay, d.log.With().Str("responder", name).Logger())
	if err := r.start(ctx, rctx, &d.wg, responderReadyTimeout, filepath.Join(d.cryptoDir, db)); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// register creates an account on srv with a generated password and a mautrix client for it.
func (d *Demo) register(ctx context.Context, srv *homeserver.Server, localpart, name string, log zerolog.Logger) (*person, error) {
	password, err := newPassword()
	if err != nil {
		return nil, err
	}
	if localpart == "demo" {
		// The person trying duet may need it: setting up a recovery key asks for it. The
		// server listens on loopback only and is thrown away.
		password = YourPassword
	}
	acct, err := srv.Register(ctx, localpart, password, name)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	cli, err := mautrix.NewClient(srv.URL, id.UserID(acct.UserID), acct.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("demo: client for %s: %w", acct.UserID, err)
	}
	cli.DeviceID = id.DeviceID(acct.DeviceID)
	cli.Client = &http.Client{Timeout: clientTimeout, Transport: d.transport}
	cli.Log = log.With().Str("component", "demo").Str("as", acct.UserID).Logger()
	return &person{acct: acct, id: id.UserID(acct.UserID), name: name, cli: cli}, nil
}

// Stop stops the responders, waits for their goroutines, then stops both homeservers and
// removes their state directories. It is safe to call more than once; later calls return the
// first result.
func (d *Demo) Stop() error {
	d.stopOnce.Do(func() {
		if d.cancel != nil {
			d.cancel()
		}
		d.wg.Wait()
		if d.transport != nil {
			d.transport.CloseIdleConnections()
		}
		var errs []error
		for _, srv := range d.servers() {
			if err := srv.Stop(); err != nil {
				errs = append(errs, fmt.Errorf("demo: %w", err))
			}
		}
		d.stopErr = errors.Join(errs...)
		if d.cryptoDir != "" {
			_ = os.RemoveAll(d.cryptoDir)
		}
		d.log.Info().Err(d.stopErr).Msg("demo stopped")
	})
	return d.stopErr
}

// servers are the homeservers started so far.
func (d *Demo) servers() []*homeserver.Server {
	var out []*homeserver.Server
	if d.Server != nil {
		out = append(out, d.Server)
	}
	if d.Work != nil && d.Work.Server != nil {
		out = append(out, d.Work.Server)
	}
	return out
}

// lockedWriter lets two servers' output goroutines share one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// newPassword returns 32 random hex digits.
func newPassword() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("demo: password: %w", err)
	}
	return hex.EncodeToString(b), nil
}
