// Package matrixsvc is duet's Matrix side: login, the sync loop, the DM rules of
// docs/dm-rules.md, sending and history. It never imports the UI; the UI calls its
// context-taking methods from commands and listens on Events.
package matrixsvc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/singleflight"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"duet/store"
)

// Config holds the service's options.
type Config struct {
	// Encryption makes new DMs encrypted (R10) unless the homeserver's .well-known turns it off.
	Encryption bool
	// CryptoStore is the path of the SQLite file holding this device's keys; "" runs without
	// end-to-end encryption (encrypted rooms can then be neither read nor written).
	CryptoStore string
	// TimelineLimit is how many events per room each sync carries (a preview, not history).
	TimelineLimit int
	// DeviceName is shown in the user's device list.
	DeviceName string
	// SessionFile is where refreshed OAuth 2.0 tokens are saved (tokens.go); "" keeps them in
	// memory.
	SessionFile string
}

// DefaultConfig is what duet runs with unless configured otherwise.
func DefaultConfig() Config {
	return Config{TimelineLimit: 10, DeviceName: "duet", Encryption: true}
}

// Service owns the Matrix client, the local store and the sync loop of one logged-in account.
type Service struct {
	cli   *mautrix.Client
	store *store.Store
	log   zerolog.Logger
	cfg   Config
	me    id.UserID

	events chan Event

	syncMu    sync.Mutex  // one /sync at a time: the stored token moves forward only
	bootMu    sync.Mutex  // Bootstrap's writes and the saving of a sync exclude each other
	syncSaved atomic.Bool // a sync has been saved to the store (synced)
	// lastList is the list Overview derived last, saved at Close for the next start.
	lastList atomic.Pointer[Overview]
	// stateFetched: rooms known from Bootstrap whose state this process fetched before sending.
	stateFetched sync.Map
	directMu     sync.Mutex         // the one m.direct writer (R13)
	ignoreMu     sync.Mutex         // the one m.ignored_user_list writer (R25)
	creations    singleflight.Group // CreateDM by contact
	opens        singleflight.Group // OpenDM by contact

	outboxMu   sync.Mutex    // one sender at a time keeps messages in order
	outboxWake chan struct{} // something was queued, or the server may be back
	syncWake   chan struct{} // retry the sync now rather than after the backoff
	listening  atomic.Bool   // someone reads Events (the UI); commands do not
	firstSync  *tracker      // the initial sync's progress while it runs (under syncMu)
	deliv      delivery      // what to check before a request whose fate is unknown is repeated
	recount    recounter     // unread counts to ask again after a burst (recount.go)
	upgrades   upgrades      // replacements of upgraded DM rooms not joined yet (upgrade.go)
	readMarks  sync.Map      // id.RoomID -> id.EventID: the newest read receipt this process sent
	peers      directPeers   // m.direct inverted, for telling a 1:1's third member (membership.go)
	push       pushState     // the parsed push rules (push.go); under syncMu
	tokens     tokenState    // an OAuth 2.0 session's refresh (tokens.go)

	// End-to-end encryption, set up on first use (crypto.go).
	cryptoPath    string
	pickleKey     string
	cryptoMu      sync.Mutex
	cryptoFailed  error // why encryption could not be set up, if it could not
	wellKnownOnce sync.Once
	wellKnownOff  bool // the homeserver's .well-known turns encryption of new DMs off
	crypt         atomic.Pointer[e2ee]
	verifyCB      *verifyCallbacks
	keysWake      chan struct{}
	pendingKeys   sync.Map // id.SessionID -> keyWant: keys to ask for

	// faultBeforeCommit fails a sync after it was applied but before its transaction commits:
	// a crash at the worst moment. Only tests set it, through SetFaultBeforeCommit in
	// export_test.go; in the binary it is always nil.
	faultBeforeCommit func() error
}

// New builds a service for a saved session. It does no network I/O.
func New(sess *store.Session, st *store.Store, log zerolog.Logger, cfg Config) (*Service, error) {
	cli, err := newClient(sess.Homeserver, log)
	if err != nil {
		return nil, err
	}
	cli.UserID = sess.UserID
	cli.DeviceID = sess.DeviceID
	cli.AccessToken = sess.AccessToken
	cli.StateStore = st.State
	if cfg.TimelineLimit <= 0 {
		cfg.TimelineLimit = DefaultConfig().TimelineLimit
	}
	svc := &Service{
		cli:        cli,
		store:      st,
		log:        log,
		cfg:        cfg,
		me:         sess.UserID,
		events:     make(chan Event, 64),
		outboxWake: make(chan struct{}, 1),
		syncWake:   make(chan struct{}, 1),
		keysWake:   make(chan struct{}, 1),
		recount:    recounter{wake: make(chan struct{}, 1)},
		cryptoPath: cfg.CryptoStore,
		pickleKey:  sess.PickleKey,
	}
	svc.verifyCB = &verifyCallbacks{s: svc}
	svc.setupTokens(sess)
	return svc, nil
}

func newClient(homeserver string, log zerolog.Logger) (*mautrix.Client, error) {
	cli, err := mautrix.NewClient(homeserver, "", "")
	if err != nil {
		return nil, fmt.Errorf("homeserver address %q: %w", homeserver, err)
	}
	cli.Log = log.With().Str("component", "mautrix").Logger()
	cli.UserAgent = "duet/0.1 " + mautrix.DefaultUserAgent
	cli.Client = &http.Client{Timeout: 90 * time.Second, Transport: idempotentSends{base: http.DefaultTransport}}
	// No hidden retries: a person waiting on a request hears at once; the sync loop and the
	// outbox retry by themselves with backoff.
	cli.DefaultHTTPRetries = 0
	return cli, nil
}

// Me is the logged-in user.
func (s *Service) Me() id.UserID { return s.me }

// DeviceID is this session's device.
func (s *Service) DeviceID() id.DeviceID { return s.cli.DeviceID }

// Homeserver is the client-server API base URL.
func (s *Service) Homeserver() string { return s.cli.HomeserverURL.String() }

// Events is the stream of background events for the UI. Once it has been asked for, the
// service waits for each event to be read.
func (s *Service) Events() <-chan Event {
	s.listening.Store(true)
	return s.events
}

// publishOutgoing tells a listening UI about the outbox; commands do not listen.
func (s *Service) publishOutgoing(ctx context.Context, evt OutgoingChanged) {
	if s.listening.Load() {
		s.publish(ctx, evt)
	}
}

func (s *Service) publish(ctx context.Context, evt Event) {
	select {
	case s.events <- evt:
	case <-ctx.Done():
	}
}

// LoginParams are what a password login needs.
type LoginParams struct {
	Homeserver string // base URL; empty: discovered from the user ID's server (.well-known)
	User       string // @local:server, or local with Homeserver
	Password   string
	DeviceID   id.DeviceID // reuse this device when set
	DeviceName string
}

// homeserverClient is a client for hs once hs answers as a Matrix homeserver; the error says
// what it is instead (unreachable, something else).
func homeserverClient(ctx context.Context, hs string, log zerolog.Logger) (*mautrix.Client, error) {
	cli, err := newClient(hs, log)
	if err != nil {
		return nil, err
	}
	if _, err := cli.Versions(ctx); err != nil {
		if errors.As(err, new(mautrix.HTTPError)) && !isNetErr(err) {
			return nil, explainf(err, "%s does not look like a Matrix homeserver", hs)
		}
		return nil, explained(err)
	}
	return cli, nil
}

// Login logs in with a password and returns the new session. It does not save it.
func Login(ctx context.Context, p LoginParams, log zerolog.Logger) (*store.Session, error) {
	hs, localpart, err := resolveHomeserver(ctx, discoveryClient, p.Homeserver, p.User)
	if err != nil {
		return nil, err
	}
	cli, err := homeserverClient(ctx, hs, log)
	if err != nil {
		return nil, err
	}
	if err := checkPasswordOffered(ctx, cli); err != nil {
		return nil, err
	}
	name := p.DeviceName
	if name == "" {
		name = DefaultConfig().DeviceName
	}
	resp, err := cli.Login(ctx, &mautrix.ReqLogin{
		Type:                     mautrix.AuthTypePassword,
		Identifier:               mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: localpart},
		Password:                 p.Password,
		DeviceID:                 p.DeviceID,
		InitialDeviceDisplayName: name,
	})
	if err != nil {
		if errors.Is(err, mautrix.MForbidden) || errors.Is(err, mautrix.MUserDeactivated) {
			return nil, errors.New("login failed: wrong user ID or password")
		}
		return nil, explainf(err, "login failed")
	}
	if resp.WellKnown != nil && resp.WellKnown.Homeserver.BaseURL != "" {
		hs = resp.WellKnown.Homeserver.BaseURL
	}
	return &store.Session{
		Homeserver:  strings.TrimRight(hs, "/"),
		UserID:      resp.UserID,
		DeviceID:    resp.DeviceID,
		AccessToken: resp.AccessToken,
	}, nil
}

// resolveHomeserver finds the client API for a login: the given URL, or .well-known discovery
// from the user ID's server name. It returns the identifier to log in with.
func resolveHomeserver(ctx context.Context, client *http.Client, homeserver, user string) (hs, ident string, err error) {
	user = strings.TrimSpace(user)
	if user == "" {
		return "", "", errors.New("no user given: pass --user @name:server")
	}
	if !strings.HasPrefix(user, "@") {
		if homeserver == "" {
			return "", "", fmt.Errorf("%q has no server: pass --user @%s:example.org, or --homeserver URL", user, user)
		}
		return homeserver, user, nil
	}
	uid := id.UserID(user)
	_, server, perr := uid.Parse()
	if perr != nil || server == "" {
		return "", "", fmt.Errorf("%q is not a Matrix user ID: expected @name:server", user)
	}
	if homeserver != "" {
		return homeserver, user, nil
	}
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	wk, derr := mautrix.DiscoverClientAPIWithClient(dctx, client, server)
	if derr == nil && wk != nil && wk.Homeserver.BaseURL != "" {
		return wk.Homeserver.BaseURL, user, nil
	}
	// No .well-known: the spec says to try the server name itself.
	return "https://" + server, user, nil
}

// discoveryClient fetches .well-known/matrix/client.
var discoveryClient = &http.Client{Timeout: 15 * time.Second}

func isNetErr(err error) bool {
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) {
		return httpErr.Response == nil
	}
	return true
}

// Logout ends the session on the server. The caller removes it locally.
func (s *Service) Logout(ctx context.Context) error {
	if isOAuth, err := s.revokeTokens(ctx); isOAuth {
		return err
	}
	_, err := s.cli.Logout(ctx)
	if err != nil && !IsLoggedOut(err) {
		return explainf(err, "log out")
	}
	return nil
}

// Whoami asks the server who our token belongs to.
func (s *Service) Whoami(ctx context.Context) (id.UserID, id.DeviceID, error) {
	resp, err := s.cli.Whoami(ctx)
	if err != nil {
		return "", "", s.wrap(err)
	}
	return resp.UserID, resp.DeviceID, nil
}

// wrap turns a token rejection into ErrLoggedOut and keeps everything else.
func (s *Service) wrap(err error) error {
	if err != nil && (errors.Is(err, mautrix.MUnknownToken) || refreshRefused(err)) {
		return fmt.Errorf("%w (%w)", ErrLoggedOut, err)
	}
	return err
}
