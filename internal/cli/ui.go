package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"golang.org/x/term"
	"maunium.net/go/mautrix/id"

	"duet/internal/config"
	"duet/internal/demo"
	"duet/internal/notify"
	"duet/internal/paths"
	"duet/matrixsvc"
	"duet/store"
	"duet/ui"
	"duet/ui/keys"
)

// runUI starts the terminal UI for a profile: the main screen when logged in, else the login
// form, which ends in the same saved session as `duet login`. The sync loop runs until the UI
// ends.
func runUI(ctx context.Context, env Env, prof paths.Profile) error {
	s, err := setUpUI(ctx, &env, prof)
	if err != nil {
		return err
	}
	defer s.end()
	ctx, opts, loops, run := s.ctx, s.opts, s.loops, s.run

	var model tea.Model
	app, err := OpenApp(ctx, env, prof)
	switch {
	case errors.Is(err, errNotLoggedIn):
		if app != nil {
			app.Close()
		}
		model = loginScreen(env, prof, opts, loops.start)
	case err != nil:
		return err
	default:
		// The sync loop (and with it the crypto machine it loads, the outbox and the key
		// backup) starts once the first frame with the contacts is drawn: none of it is
		// needed for that frame, and on a busy machine it would compete with it. At the
		// latest after firstFrameLimit, whatever the UI says.
		loops.add(app)
		start := sync.OnceFunc(func() { loops.run(app) })
		opts.FirstFrame = start
		limit := time.AfterFunc(firstFrameLimit, start)
		defer limit.Stop()
		model = ui.New(app.Svc, opts)
	}
	return run(ctx, model)
}

// runUIs starts the terminal UI on several profiles at once: every account's DMs in one window,
// each account with its own service, store, crypto and lock (taken by the caller). One profile
// is runUI.
//
// skipped says what was left out (a profile another duet holds); it and any profile that cannot
// be opened are said in the status bar while the others open.
func runUIs(ctx context.Context, env Env, profs []paths.Profile, skipped ...string) error {
	if len(profs) == 1 && len(skipped) == 0 {
		return runUI(ctx, env, profs[0])
	}
	// One configuration file for every profile: the keys, the look, and each profile's tag.
	s, err := setUpUI(ctx, &env, profs[0])
	if err != nil {
		return err
	}
	defer s.end()
	ctx, opts, loops, cfg := s.ctx, s.opts, s.loops, s.cfg
	apps, notes, err := openApps(ctx, env, profs, loops)
	if err != nil {
		return err
	}
	skipped = append(skipped, notes...)
	opts.StartNotice = strings.Join(skipped, "; ")
	profiles := make([]ui.Profile, len(apps))
	for i, app := range apps {
		look := cfg.Profile[app.Profile.Name]
		profiles[i] = ui.Profile{Name: app.Profile.Name, Tag: look.Tag, Color: look.Color, Svc: app.Svc}
	}
	// Every sync loop starts once the first frame is drawn, as with one account.
	start := sync.OnceFunc(func() {
		for _, app := range apps {
			loops.run(app)
		}
	})
	opts.FirstFrame = start
	limit := time.AfterFunc(firstFrameLimit, start)
	defer limit.Stop()
	return s.run(ctx, ui.NewAccounts(profiles, opts))
}

// openApps opens each profile's app, at once: a slow disk or a large store of one does not hold
// the others back. Each app opened is the loops' to close. One that cannot be opened (not
// logged in, a damaged store) is left out, and notes say why; when none can, that is the error.
func openApps(ctx context.Context, env Env, profs []paths.Profile, loops *syncLoops) (opened []*App, notes []string, _ error) {
	apps := make([]*App, len(profs))
	errs := make([]error, len(profs))
	var wg sync.WaitGroup
	for i, prof := range profs {
		wg.Go(func() { apps[i], errs[i] = OpenApp(ctx, env, prof) })
	}
	wg.Wait()
	var firstErr error
	for i, err := range errs {
		if apps[i] != nil {
			loops.add(apps[i])
		}
		if errors.Is(err, errNotLoggedIn) {
			err = fmt.Errorf("profile %q is not logged in: duet login --profile %s", profs[i].Name, profs[i].Name)
		} else if err != nil {
			err = fmt.Errorf("profile %q: %w", profs[i].Name, err)
		}
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			notes = append(notes, oneLine(err))
			continue
		}
		opened = append(opened, apps[i])
	}
	if len(opened) == 0 {
		return nil, nil, firstErr
	}
	return opened, notes, nil
}

// uiSetup is what every start of the UI prepares: the terminal, the configuration, the UI's
// options, the sync loops; end stops the loops (and closes their apps) and the notifier.
type uiSetup struct {
	ctx   context.Context // ends when the UI does
	cfg   config.Config
	opts  ui.Options
	loops *syncLoops
	run   func(ctx context.Context, m tea.Model) error
	end   func()
}

// setUpUI prepares the UI with the configuration read for prof (one file for every profile),
// which it also puts in env.Config for the services.
func setUpUI(ctx context.Context, env *Env, prof paths.Profile) (*uiSetup, error) {
	run := env.RunUI
	if run == nil {
		if !term.IsTerminal(int(os.Stdin.Fd())) || !term.IsTerminal(int(os.Stdout.Fd())) {
			return nil, usagef("the UI needs a terminal; in scripts use a command (duet --help lists them)")
		}
		run = ui.Run
		ui.DetectTerminal()
	}
	cfg, km, err := loadUIConfig(env, prof)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	loops := &syncLoops{ctx: ctx}
	opts := ui.Options{Keymap: &km, Context: ctx,
		InlineImages: cfg.InlineImages, KittyImages: cfg.InlineImages && ui.KittyGraphics(os.Getenv),
		ProgressBar: ui.TerminalProgress(os.Getenv),
		NoTyping:    !cfg.SendTyping, Bell: cfg.Notify.Bell,
		Downloads: paths.Downloads(), OpenDir: prof.OpenDir(), Getenv: env.Getenv}
	closeDesktop := func() {}
	if cfg.Notify.Desktop {
		desktop := notify.NewDesktop() // connects on the first notification
		closeDesktop = func() { _ = desktop.Close() }
		opts.Desktop = desktop
	}
	end := func() {
		cancel()
		loops.stop()
		closeDesktop()
	}
	return &uiSetup{ctx: ctx, cfg: cfg, opts: opts, loops: loops, run: run, end: end}, nil
}

// firstFrameLimit bounds the wait for the UI's first frame before the sync loop starts.
const firstFrameLimit = 2 * time.Second

// loadUIConfig reads the profile's configuration: the key bindings, and the service settings
// it sets (put in env.Config, over env's own or the defaults).
func loadUIConfig(env *Env, prof paths.Profile) (config.Config, keys.KeyMap, error) {
	cfg, err := config.Load(prof.ConfigFile())
	if err != nil {
		return cfg, keys.KeyMap{}, err
	}
	km := keys.DefaultKeyMap()
	if err := keys.Apply(&km, cfg.Keys); err != nil {
		return cfg, km, fmt.Errorf("config %s: %w", prof.ConfigFile(), err)
	}
	svcCfg := matrixsvc.DefaultConfig()
	if env.Config != nil {
		svcCfg = *env.Config
	}
	svcCfg.TimelineLimit = cfg.TimelineLimit
	svcCfg.Encryption = cfg.EncryptNewDMs
	env.Config = &svcCfg
	return cfg, km, nil
}

// syncLoops runs the sync loop of each app the UI opens until ctx ends; stop waits for them
// and closes the apps.
type syncLoops struct {
	ctx context.Context
	wg  sync.WaitGroup

	mu      sync.Mutex
	apps    []*App
	stopped bool // stop has begun: no loop starts any more
}

// start runs app's sync loop.
func (l *syncLoops) start(app *App) {
	l.add(app)
	l.run(app)
}

// add makes app one that stop closes, its sync loop not started yet (run).
func (l *syncLoops) add(app *App) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.apps = append(l.apps, app)
}

// run starts the sync loop of an app added before, unless stop has begun. Call it once.
func (l *syncLoops) run(app *App) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		app.Svc.Run(l.ctx)
	}()
}

// stop waits for the sync loops, once ctx has ended, then closes the apps: a sync loop has
// stopped before its store closes.
func (l *syncLoops) stop() {
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
	l.wg.Wait()
	for _, a := range l.apps {
		a.Close()
	}
}

// loginScreen is the UI's login form: with a password or single sign-on, each ending in a
// saved session whose app is opened and handed to start.
func loginScreen(env Env, prof paths.Profile, opts ui.Options, start func(*App)) tea.Model {
	var mu sync.Mutex
	return ui.NewLogin(func(ctx context.Context, homeserver, user string, password string) (ui.Service, error) {
		mu.Lock()
		defer mu.Unlock()
		app, err := loginAndOpen(ctx, env, prof, homeserver, user, password)
		if err != nil {
			return nil, err
		}
		start(app)
		return app.Svc, nil
	}, opts).WithSSO(func(ctx context.Context, homeserver, user string, tell func(string, bool), paste func() (string, error)) (ui.Service, error) {
		mu.Lock()
		defer mu.Unlock()
		app, err := loginBrowserAndOpen(ctx, env, prof, homeserver, user, tell, paste)
		if err != nil {
			return nil, err
		}
		start(app)
		return app.Svc, nil
	})
}

// loginAndOpen is `duet login` for the login form: log in, save the session, open it.
func loginAndOpen(ctx context.Context, env Env, prof paths.Profile, homeserver, user, password string) (*App, error) {
	log, logFile, err := openLog(prof)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	sess, err := login(ctx, prof, log, homeserver, user, password)
	if err != nil {
		return nil, err
	}
	log.Info().Stringer("user_id", sess.UserID).Stringer("device_id", sess.DeviceID).Msg("logged in from the UI")
	return OpenApp(ctx, env, prof)
}

// cmdDemo runs the UI against a throwaway local homeserver with a few people to talk to, in a
// throwaway profile; quitting stops the homeserver and removes everything.
func cmdDemo(ctx context.Context, env Env, args []string) error {
	if len(args) > 0 {
		return usagef("demo takes no arguments")
	}
	base, err := os.MkdirTemp("", "duet-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(base)
	dirs := paths.Dirs{Config: env.Dirs.Config, Data: filepath.Join(base, "data"), State: filepath.Join(base, "state"), Cache: filepath.Join(base, "cache")}
	prof, err := dirs.ForProfile("home")
	if err != nil {
		return err
	}
	log, logFile, err := openLog(prof)
	if err != nil {
		return err
	}
	defer logFile.Close()
	serverLog, err := os.OpenFile(filepath.Join(prof.State, "dendrite.log"), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer serverLog.Close()
	fmt.Fprintln(env.Stderr, "Starting two throwaway homeservers: one with Alice, Bob and Carol, one for work with Dana, Erin and Alice (the first run builds them: a few minutes)...")
	d, err := demo.Start(ctx, demo.Options{Log: log, ServerLog: serverLog})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer d.Stop()
	fmt.Fprintf(env.Stderr, "You are %s and, at work, %s; password %q (setting up a recovery key asks for it).\n",
		d.You.UserID, d.Work.You.UserID, demo.YourPassword)
	sess := &store.Session{Homeserver: d.Server.URL, UserID: id.UserID(d.You.UserID), DeviceID: id.DeviceID(d.You.DeviceID), AccessToken: d.You.AccessToken}
	if err := store.SaveSession(prof.SessionFile(), sess); err != nil {
		return err
	}
	// The work account is a second profile, as `duet login --profile work` makes one: its
	// own store, crypto and lock. Both are locked as the window's, as `duet` locks its
	// profiles: a command pointed at the demo's folders is refused, not run beside it.
	work, err := dirs.ForProfile("work")
	if err != nil {
		return err
	}
	for _, p := range []paths.Profile{prof, work} {
		unlock, err := lockProfileAs(p, holderUI)
		if err != nil {
			return err
		}
		defer unlock()
	}
	w := d.Work.You
	workSess := &store.Session{Homeserver: d.Work.Server.URL, UserID: id.UserID(w.UserID), DeviceID: id.DeviceID(w.DeviceID), AccessToken: w.AccessToken}
	if err := store.SaveSession(work.SessionFile(), workSess); err != nil {
		return err
	}
	env.Dirs = dirs
	return runUIs(ctx, env, []paths.Profile{prof, work})
}

// removeDatabase deletes a profile's database (with SQLite's side files).
func removeDatabase(prof paths.Profile) error { return removeSQLite(prof.Database()) }

// removeCrypto deletes a profile's crypto store: the keys of a device that is gone.
func removeCrypto(prof paths.Profile) error { return removeSQLite(prof.CryptoDatabase()) }

func removeSQLite(db string) error { return removeFiles(db, db+"-wal", db+"-shm") }

func removeFiles(files ...string) error {
	for _, f := range files {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("could not remove %s: %w", f, err)
		}
	}
	return nil
}
