// Package demo runs duet's demo: a throw-away local Dendrite with the person using duet, three
// people who have display names and direct-message history with them, and Alice, who answers
// whatever the demo user writes, so the demo is alive.
//
// Start builds and starts the homeserver, registers the accounts, seeds the history with plain
// mautrix clients (one per person, each writing its own m.direct by read-modify-write, as a real
// client would) and starts Alice's responder. Stop stops everything and removes the server's
// state. The caller writes a duet session for Demo.You; this package never touches duet's files.
//
// Nothing here prints to the terminal: logs go to Options.Log and Dendrite's output to
// Options.ServerLog or a file in the server's state directory.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"duet/internal/homeserver"
)

// Options configures Start.
type Options struct {
	// Log receives the demo's logs and those of its Matrix clients. The zero value discards them.
	Log zerolog.Logger
	// ServerLog receives Dendrite's output. When nil it goes to dendrite.log in the server's
	// state directory, which Stop removes.
	ServerLog io.Writer
	// BinDir holds the Dendrite binaries. When empty, Start builds them with
	// homeserver.Binaries into the .bin directory of the repository around the working
	// directory (the first build takes minutes).
	BinDir string
	// ReplyDelay is how long Alice "types" before she answers. Default one second.
	ReplyDelay time.Duration
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

// Demo is a running demo. Its fields are set by Start and must not be changed.
type Demo struct {
	Server *homeserver.Server
	// You is the person using duet (display name "Demo User"). Its access token, device ID
	// and password are what a duet session for the demo needs.
	You *homeserver.Account
	// People are the others, by localpart: "alice", "bob", "carol".
	People map[string]*homeserver.Account
	Rooms  Rooms

	log       zerolog.Logger
	transport *http.Transport    // the demo clients' own, so Stop can close its connections
	cancel    context.CancelFunc // stops the responder
	wg        sync.WaitGroup     // the responder's goroutines
	cryptoDir string             // the responder's crypto store
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

// The cast. Localparts are plain names: the server is fresh, so they cannot collide.
var cast = []struct{ localpart, name string }{
	{"demo", "Demo User"},
	{"alice", "Alice Liddell"},
	{"bob", "Bob Builder"},
	{"carol", "Carol"},
}

const (
	defaultReplyDelay = time.Second
	// responderReadyTimeout bounds the wait for the responder's first sync.
	responderReadyTimeout = 30 * time.Second
	// clientTimeout bounds one request of a demo client; a /sync long-poll takes 30 s.
	clientTimeout = 90 * time.Second
)

// Start builds (when needed) and starts Dendrite with a fresh state directory, registers the
// demo user and Alice, Bob and Carol, seeds their rooms and history, and starts Alice's
// responder. It returns once everything is seeded and visible to clients and the responder is
// listening. ctx bounds the start only; the demo runs until Stop. On error nothing is left
// running.
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
	srv, err := homeserver.Start(ctx, homeserver.Options{BinDir: binDir, LogWriter: opts.ServerLog, LogLevel: "warn"})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	d := &Demo{
		Server:    srv,
		People:    map[string]*homeserver.Account{},
		log:       log,
		transport: http.DefaultTransport.(*http.Transport).Clone(),
	}
	defer func() {
		if err != nil {
			_ = d.Stop()
		}
	}()
	log.Info().Str("url", srv.URL).Dur("took", time.Since(begin)).Msg("homeserver started")

	people := map[string]*person{}
	for _, c := range cast {
		p, err := d.register(ctx, c.localpart, c.name, opts.Log)
		if err != nil {
			return nil, err
		}
		people[c.localpart] = p
	}
	you := people["demo"]
	d.You = you.acct
	for _, name := range []string{"alice", "bob", "carol"} {
		d.People[name] = people[name].acct
	}

	s := &seeder{you: you, alice: people["alice"], bob: people["bob"], carol: people["carol"], now: time.Now()}
	if d.Rooms, err = s.seed(ctx); err != nil {
		return nil, fmt.Errorf("demo: seeding: %w", err)
	}
	log.Info().Dur("took", time.Since(begin)).Msg("history seeded")

	rctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	r := newResponder(people["alice"], you.id, opts.ReplyDelay, log.With().Str("responder", "alice").Logger())
	if d.cryptoDir, err = os.MkdirTemp("", "duet-demo-crypto-*"); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := r.start(ctx, rctx, &d.wg, responderReadyTimeout, filepath.Join(d.cryptoDir, "alice.db")); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	log.Info().Dur("took", time.Since(begin)).Msg("demo ready")
	return d, nil
}

// register creates an account with a generated password and a mautrix client for it.
func (d *Demo) register(ctx context.Context, localpart, name string, log zerolog.Logger) (*person, error) {
	password, err := newPassword()
	if err != nil {
		return nil, err
	}
	if localpart == "demo" {
		// The person trying duet may need it: setting up a recovery key asks for it. The
		// server listens on loopback only and is thrown away.
		password = YourPassword
	}
	acct, err := d.Server.Register(ctx, localpart, password, name)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	cli, err := mautrix.NewClient(d.Server.URL, id.UserID(acct.UserID), acct.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("demo: client for %s: %w", acct.UserID, err)
	}
	cli.DeviceID = id.DeviceID(acct.DeviceID)
	cli.Client = &http.Client{Timeout: clientTimeout, Transport: d.transport}
	cli.Log = log.With().Str("component", "demo").Str("as", localpart).Logger()
	return &person{acct: acct, id: id.UserID(acct.UserID), name: name, cli: cli}, nil
}

// Stop stops the responder, waits for its goroutines, then stops the homeserver and removes its
// state directory. It is safe to call more than once; later calls return the first result.
func (d *Demo) Stop() error {
	d.stopOnce.Do(func() {
		if d.cancel != nil {
			d.cancel()
		}
		d.wg.Wait()
		if d.transport != nil {
			d.transport.CloseIdleConnections()
		}
		if d.Server != nil {
			if err := d.Server.Stop(); err != nil {
				d.stopErr = fmt.Errorf("demo: %w", err)
			}
		}
		if d.cryptoDir != "" {
			_ = os.RemoveAll(d.cryptoDir)
		}
		d.log.Info().Err(d.stopErr).Msg("demo stopped")
	})
	return d.stopErr
}

// newPassword returns 32 random hex digits.
func newPassword() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("demo: password: %w", err)
	}
	return hex.EncodeToString(b), nil
}
