// Package cli is duet's command line: the script-friendly commands that share matrixsvc with the
// terminal UI, and the wiring that opens a profile and starts that UI. Exit codes: 0 success, 1
// failure (one line on stderr says what to do), 2 bad usage.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/rs/zerolog"

	"duet/internal/config"
	"duet/internal/flock"
	"duet/internal/paths"
	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/store"
)

const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// Env is what the commands need from the outside world, so tests can run them in-process.
type Env struct {
	Dirs   paths.Dirs
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// ReadPassword prompts for a password without echo; nil when stdin is not a terminal.
	ReadPassword func(prompt string) (string, error)
	// RunUI runs the terminal UI's model; nil: ui.Run (full screen). Tests drive it otherwise.
	RunUI func(ctx context.Context, m tea.Model) error
	// Config for the service; zero value means matrixsvc.DefaultConfig().
	Config *matrixsvc.Config
	// Getenv reads the environment ($BROWSER, $DISPLAY for a login in the browser; $VISUAL,
	// $EDITOR for a message written in the editor); nil: os.Getenv.
	Getenv func(string) string
	// LoginTimeout bounds the wait for the browser in `login --sso`; 0: five minutes.
	LoginTimeout time.Duration
}

// App is one profile's opened session, for commands and the UI.
type App struct {
	Profile paths.Profile
	Log     zerolog.Logger
	Session *store.Session
	Store   *store.Store
	Svc     *matrixsvc.Service
	logFile *os.File
}

// Close releases the store and the log file.
func (a *App) Close() {
	if a.Svc != nil {
		a.Svc.Close()
	}
	if a.Store != nil {
		a.Store.Close()
	}
	if a.logFile != nil {
		a.logFile.Close()
	}
}

// usageError is bad usage: exit 2. It keeps the error it was made from (a %w in usagef's format).
type usageError struct {
	msg string
	err error
}

func (e usageError) Error() string { return e.msg }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return usageError{msg: err.Error(), err: errors.Unwrap(err)}
}

// Run runs duet with the given arguments (without the program name) and returns the exit code.
func Run(ctx context.Context, env Env, args []string) int {
	env, flush := safeOutput(env)
	defer flush()
	code, err := run(ctx, env, args)
	if err != nil {
		return report(env, err)
	}
	return code
}

// safeOutput returns env with both streams going through one writer that shows control
// characters as visible stand-ins: whatever a field from the network holds (a body, an event
// ID, a device ID, the server's error text), no command prints an escape sequence. The UI
// draws on the terminal itself, not through these. flush writes what the writers hold.
func safeOutput(env Env) (_ Env, flush func()) {
	stdout, stderr := sanitize.NewWriter(env.Stdout), sanitize.NewWriter(env.Stderr)
	env.Stdout, env.Stderr = stdout, stderr
	return env, func() { stdout.Flush(); stderr.Flush() }
}

// report says on stderr, in one line, why a command failed, and returns its exit code.
func report(env Env, err error) int {
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(env.Stderr, "duet: %s\nRun `duet --help` for usage.\n", ue.msg)
		return exitUsage
	}
	fmt.Fprintf(env.Stderr, "duet: %s\n", oneLine(err))
	return exitFail
}

func oneLine(err error) string {
	msg := matrixsvc.Explain(err)
	return strings.ReplaceAll(msg, "\n", " ")
}

func run(ctx context.Context, env Env, args []string) (int, error) {
	if err := execute(ctx, env, args); err != nil {
		return 0, err
	}
	return exitOK, nil
}

// runCommand opens the profile's app, catches up with the server (offline, only send --queue
// and search go on), sends what the outbox holds, then runs the command.
func runCommand(ctx context.Context, env Env, prof paths.Profile, name string, run func(context.Context, Env, *App, *opts) error, opts *opts) error {
	app, err := OpenApp(ctx, env, prof)
	if err != nil {
		return err
	}
	defer app.Close()
	if name == "dms" && len(opts.pos) == 0 {
		// A new device answers from m.direct, the joined rooms and their members, without
		// waiting for the initial sync (minutes on a large account).
		synced, err := app.Svc.Synced(ctx)
		if err != nil {
			return app.fail(err)
		}
		if !synced {
			// What a catch-up does besides the sync is done all the same: this device's keys
			// go up (others can encrypt for it), and what waits in the outbox goes out.
			if err := app.Svc.SetUpEncryption(ctx); err != nil {
				return app.fail(err)
			}
			if err := app.Svc.Bootstrap(ctx, true); err != nil {
				return app.fail(err)
			}
			flushOutbox(ctx, env, app)
			opts.bootstrapped = true
			return app.fail(run(ctx, env, app, opts))
		}
	}
	if _, err := app.Svc.CatchUp(ctx); err != nil {
		if !(opts.queue || name == "search") || !matrixsvc.Temporary(err) {
			return app.fail(err)
		}
		opts.offline = err // send --queue stores the message for the next run
		if name == "search" {
			fmt.Fprintf(env.Stderr, "duet: offline (%s): searching what this device has\n", oneLine(err))
		}
	} else {
		flushOutbox(ctx, env, app)
	}
	err = run(ctx, env, app, opts)
	if opts.offline == nil {
		// Room keys this run received go to the key backup, as the UI's key worker does.
		if berr := app.Svc.BackUpKeys(ctx); berr != nil {
			app.Log.Warn().Err(berr).Msg("key backup upload failed")
		}
	}
	return app.fail(err)
}

// takeProfile makes the profile's private files private and locks the profile for this run,
// then empties its local cache when resetCache asks. One duet per profile: two would both send
// the outbox and both write the stores. unlock releases the lock.
func takeProfile(ctx context.Context, env Env, prof paths.Profile, resetCache bool) (unlock func(), err error) {
	return takeProfileAs(ctx, env, prof, resetCache, holderCommand)
}

// takeProfileAs is takeProfile for a holder the lock file names: duet's window (holderUI) tells
// a command that wants the profile to use that window.
func takeProfileAs(ctx context.Context, env Env, prof paths.Profile, resetCache bool, who holder) (unlock func(), err error) {
	securePrivateFiles(env, prof)
	unlock, err = lockProfileAs(prof, who)
	if err != nil {
		return nil, err
	}
	if resetCache {
		if err := resetLocalCache(ctx, env, prof); err != nil {
			unlock()
			return nil, err
		}
	}
	return unlock, nil
}

// flushOutbox sends what an earlier `send --queue` (or a UI that was closed or killed) left
// in the outbox. Problems are warnings: the command itself goes on.
func flushOutbox(ctx context.Context, env Env, app *App) {
	sent, err := app.Svc.FlushOutbox(ctx)
	if sent > 0 {
		fmt.Fprintf(env.Stderr, "duet: sent %d queued message(s)\n", sent)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "duet: warning: queued messages not sent yet: %s\n", oneLine(err))
	}
}

var errNotLoggedIn = errors.New("not logged in: run `duet login --homeserver URL --user @you:server`")

// OpenApp opens the profile's session, logger, store and service.
func OpenApp(ctx context.Context, env Env, prof paths.Profile) (*App, error) {
	log, logFile, err := openLog(prof)
	if err != nil {
		return nil, err
	}
	app := &App{Profile: prof, Log: log, logFile: logFile}
	sess, err := store.LoadSession(prof.SessionFile())
	if errors.Is(err, store.ErrNoSession) {
		return app, errNotLoggedIn
	} else if err != nil {
		app.Close()
		return nil, err
	}
	if sess.PickleKey == "" {
		// A session from before end-to-end encryption: its device has no keys yet.
		if err := removeCrypto(prof); err != nil {
			app.Close()
			return nil, err
		}
		sess.PickleKey = matrixsvc.NewPickleKey()
		if err := store.SaveSession(prof.SessionFile(), sess); err != nil {
			app.Close()
			return nil, err
		}
	}
	app.Session = sess
	st, err := store.Open(ctx, prof.Database(), log)
	if errors.Is(err, store.ErrUnusable) {
		app.Close()
		return nil, fmt.Errorf("%w: run `duet --reset-cache` to rebuild it from the server (queued messages are kept, the old file is set aside)", err)
	} else if err != nil {
		app.Close()
		return nil, err
	}
	app.Store = st
	cfg := matrixsvc.DefaultConfig()
	if env.Config != nil {
		cfg = *env.Config
	} else {
		file, err := config.Load(prof.ConfigFile())
		if err != nil {
			app.Close()
			return nil, err
		}
		cfg.TimelineLimit, cfg.Encryption = file.TimelineLimit, file.EncryptNewDMs
	}
	cfg.CryptoStore = prof.CryptoDatabase()
	cfg.SessionFile = prof.SessionFile() // refreshed tokens are saved at once
	svc, err := matrixsvc.New(sess, st, log, cfg)
	if err != nil {
		app.Close()
		return nil, err
	}
	app.Svc = svc
	return app, nil
}

// fail handles a rejected token: the session is marked logged out locally (the device ID is
// kept so that the next login reuses the device) and the error says what to do.
func (a *App) fail(err error) error {
	if err == nil || !matrixsvc.IsLoggedOut(err) {
		return err
	}
	a.Log.Warn().Msg("the homeserver rejected the access token; session marked logged out")
	if a.Session != nil {
		loggedOut := *a.Session
		loggedOut.AccessToken, loggedOut.RefreshToken = "", ""
		_ = store.SaveSession(a.Profile.SessionFile(), &loggedOut)
	}
	return matrixsvc.ErrLoggedOut
}

func openLog(prof paths.Profile) (zerolog.Logger, *os.File, error) {
	if err := paths.EnsurePrivate(prof.State); err != nil {
		return zerolog.Nop(), nil, fmt.Errorf("create log dir: %w", err)
	}
	f, err := os.OpenFile(prof.LogFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return zerolog.Nop(), nil, fmt.Errorf("open log: %w", err)
	}
	log := zerolog.New(f).With().Timestamp().Str("profile", prof.Name).Logger().Level(zerolog.InfoLevel)
	return log, f, nil
}

// holder is what holds a profile's lock: a command, or duet's window. The lock file says
// which ("PID" or "PID ui"), for the message another duet shows.
type holder int

const (
	holderCommand holder = iota
	holderUI
)

// lockProfile makes this process the only duet on the profile until unlock, for a command.
func lockProfile(prof paths.Profile) (unlock func(), err error) {
	return lockProfileAs(prof, holderCommand)
}

// lockProfileAs makes this process the only duet on the profile until unlock. The lock file
// holds the process ID, and "ui" after it when the holder is duet's window.
func lockProfileAs(prof paths.Profile, who holder) (unlock func(), err error) {
	if err := paths.EnsurePrivate(prof.Data); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	path := lockFile(prof)
	unlock, err = flock.Try(path)
	if errors.Is(err, flock.ErrLocked) && heldByUs(path) {
		// Our own lock, just released: a child this process was starting at that moment (a
		// browser, a build in tests) holds a copy of the file until it execs. It is a moment.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		unlock, err = flock.Wait(ctx, path)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			err = flock.ErrLocked // still held: by a command of this process that runs on
		}
	}
	if errors.Is(err, flock.ErrLocked) {
		pid, ui := readLock(path)
		return nil, &profileInUseError{profile: prof.Name, pid: pid, ui: ui}
	} else if err != nil {
		return nil, err
	}
	content := strconv.Itoa(os.Getpid())
	if who == holderUI {
		content += " ui"
	}
	_ = os.WriteFile(path, []byte(content+"\n"), 0o600)
	return unlock, nil
}

// lockFile is the file a duet on the profile holds locked.
func lockFile(prof paths.Profile) string { return filepath.Join(prof.Data, "duet.lock") }

// readLock says what the lock file at path names: the holder's process ID ("" when it names
// none) and whether the holder is duet's window.
func readLock(path string) (pid string, ui bool) {
	data, _ := os.ReadFile(path)
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return "", false
	}
	return fields[0], len(fields) > 1 && fields[1] == "ui"
}

// heldByUs reports whether the lock file at path names this process.
func heldByUs(path string) bool {
	pid, _ := readLock(path)
	return pid == strconv.Itoa(os.Getpid())
}

// profileInUseError is a profile another duet holds: a command, or duet's window.
type profileInUseError struct {
	profile string
	pid     string // "" when the lock file names none
	ui      bool   // the holder is duet's window
	command string // the command that wanted the profile, for the advice ("send": send from there)
}

func (e *profileInUseError) Error() string {
	proc := processOf(e.pid)
	if e.ui {
		advice := "use that window"
		if e.command == "send" {
			advice = "send from there"
		}
		return fmt.Sprintf("profile %q is open in duet's window%s: %s, or quit it first", e.profile, proc, advice)
	}
	return fmt.Sprintf("another duet%s is running on profile %q: quit it first, or use --profile NAME for another account", proc, e.profile)
}

func (e *profileInUseError) Unwrap() error { return flock.ErrLocked }

// holder names what holds the profile, after "in use by": "duet (process N)", "duet's window
// (process N)".
func (e *profileInUseError) holder() string {
	if e.ui {
		return "duet's window" + processOf(e.pid)
	}
	return "duet" + processOf(e.pid)
}

// processOf is " (process PID)", or "" when the lock file named none.
func processOf(pid string) string {
	if pid == "" {
		return ""
	}
	return " (process " + pid + ")"
}

// securePrivateFiles checks that the files holding the account's secrets (access token, pickle
// key, the device's keys, messages) are readable by the user alone, and makes them so with a
// warning when they are not (a backup restored with other modes, a careless copy).
func securePrivateFiles(env Env, prof paths.Profile) {
	check := func(path string, want os.FileMode) {
		info, err := os.Stat(path)
		if err != nil {
			return // absent: created private when needed
		}
		if got := info.Mode().Perm(); got&^want != 0 {
			if err := os.Chmod(path, want); err != nil {
				fmt.Fprintf(env.Stderr, "duet: warning: %s has mode %04o (others can read it) and could not be fixed: %v; run chmod %o %s\n", path, got, err, want, path)
				return
			}
			fmt.Fprintf(env.Stderr, "duet: warning: %s had mode %04o (others could read it); it is %04o now\n", path, got, want)
		}
	}
	check(prof.Data, 0o700)
	check(prof.State, 0o700)
	check(prof.LogFile(), 0o600)
	for _, f := range []string{prof.SessionFile(), prof.Database(), prof.CryptoDatabase()} {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			check(f+suffix, 0o600)
		}
	}
}

// resetLocalCache sets the profile's database aside and starts a new one holding only the
// messages that were waiting to be sent; everything else comes back from the server. The
// device's keys (crypto.db) are not a cache and are not touched.
func resetLocalCache(ctx context.Context, env Env, prof paths.Profile) error {
	path := prof.Database()
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(env.Stderr, "duet: no local database to reset")
		return nil
	}
	queued, salvageErr := store.SalvageOutbox(ctx, path)
	aside, err := store.SetAside(path)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, path, zerolog.Nop())
	if err != nil {
		return err
	}
	defer st.Close()
	for _, o := range queued {
		if err := st.AddOutgoing(ctx, o); err != nil {
			return fmt.Errorf("keep queued messages: %w (the old database is %s)", err, aside)
		}
	}
	fmt.Fprintf(env.Stderr, "duet: the local database was set aside as %s and starts afresh; %d queued message(s) kept\n", aside, len(queued))
	if salvageErr != nil {
		fmt.Fprintf(env.Stderr, "duet: warning: queued messages could not all be read from the old database (%v); it is kept at %s\n", salvageErr, aside)
	}
	return nil
}
