package homeserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configures Start.
type Options struct {
	// BinDir holds dendrite, generate-keys and generate-config (see Binaries). Required.
	BinDir string
	// StateDir holds the server's key, config, SQLite databases and media. When empty, Start
	// creates a fresh directory under /dev/shm when that is writable (SQLite's fsyncs are free
	// there), else under os.TempDir(), and Stop removes it. A given StateDir is kept.
	StateDir string
	// LogWriter receives Dendrite's stdout and stderr. When nil they go to dendrite.log in
	// StateDir. Either way the last few KiB are kept for error messages and LogTail.
	LogWriter io.Writer
	// LogLevel is Dendrite's log level (trace, debug, info, warn, error). Default info; the
	// "trace" that `generate-config -ci` sets logs every request and slows the server down.
	LogLevel string
	// DurableQueues keeps Dendrite's internal queues (NATS JetStream) on disk in StateDir
	// instead of in memory, as a real deployment does. Without it, events a component had not
	// passed on when the process was killed are lost to the others (the room exists, but
	// /sync and /members never hear of it). Tests that kill and restart the server set it.
	DurableQueues bool
	// Port is the loopback port to listen on. 0 picks a free one (and another when something
	// takes it before Dendrite binds it). Started again on the StateDir and Port of a stopped
	// server, Dendrite is that server again, at the same address with the same accounts.
	Port int
}

// Server is one Dendrite process listening on 127.0.0.1, with federation off, open
// registration and no rate limiting.
type Server struct {
	URL          string // http://127.0.0.1:PORT
	ServerName   string // localhost:PORT, the part after the colon in user IDs
	SharedSecret string // client_api.registration_shared_secret (admin registration)
	StateDir     string

	ownsStateDir bool
	http         *http.Client
	tail         *tailBuffer
	logFile      *os.File // the default log file, closed by Stop

	dendrite   string    // the binary
	configPath string    // dendrite.yaml
	port       int       // the port it listens on
	logOut     io.Writer // where its output goes

	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been waited for
	waitErr error         // cmd.Wait's result, set before exited is closed

	stopOnce sync.Once
	stopErr  error
}

const (
	startTimeout  = 60 * time.Second
	portAttempts  = 3
	tailSize      = 16 << 10
	readyInterval = 25 * time.Millisecond
)

// errPortTaken means Dendrite could not bind the port picked for it (another process took it
// between the pick and the bind); Start then tries another port.
var errPortTaken = errors.New("port taken")

// Start creates a state directory, key and config, runs Dendrite on a loopback port (a free one
// unless Options.Port) and returns once GET /_matrix/client/versions answers 200, or fails after 60 seconds (the error
// then carries the tail of Dendrite's log). ctx bounds the start only: the server runs until
// Stop, which the caller must always call.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.BinDir == "" {
		return nil, errors.New("homeserver: Options.BinDir is required")
	}
	for _, name := range binaryNames {
		if _, err := os.Stat(filepath.Join(opts.BinDir, name)); err != nil {
			return nil, fmt.Errorf("homeserver: %w (run Binaries first)", err)
		}
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}

	s := &Server{
		http: &http.Client{Timeout: 30 * time.Second},
		tail: &tailBuffer{max: tailSize},
	}
	if opts.StateDir == "" {
		dir, err := NewStateDir()
		if err != nil {
			return nil, err
		}
		s.StateDir, s.ownsStateDir = dir, true
	} else {
		dir, err := filepath.Abs(opts.StateDir)
		if err != nil {
			return nil, fmt.Errorf("homeserver: %w", err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("homeserver: %w", err)
		}
		s.StateDir = dir
	}
	started := false
	defer func() {
		if !started {
			_ = s.Stop()
		}
	}()

	logOut := opts.LogWriter
	if logOut == nil {
		f, err := os.OpenFile(filepath.Join(s.StateDir, "dendrite.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("homeserver: %w", err)
		}
		s.logFile, logOut = f, f
	}
	logOut = io.MultiWriter(logOut, s.tail)

	keyPath := filepath.Join(s.StateDir, "matrix_key.pem")
	if _, err := os.Stat(keyPath); errors.Is(err, os.ErrNotExist) {
		if err := run(ctx, filepath.Join(opts.BinDir, "generate-keys"), nil, "--private-key", keyPath); err != nil {
			return nil, err
		}
	}
	secret, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	s.SharedSecret = secret

	for attempt := 1; ; attempt++ {
		port := opts.Port
		if port == 0 {
			if port, err = freePort(); err != nil {
				return nil, err
			}
		}
		configPath, err := s.writeConfig(ctx, opts, port, keyPath)
		if err != nil {
			return nil, err
		}
		s.dendrite, s.configPath, s.port, s.logOut = filepath.Join(opts.BinDir, "dendrite"), configPath, port, logOut
		err = s.launch(ctx)
		if err == nil {
			started = true
			return s, nil
		}
		if !errors.Is(err, errPortTaken) || attempt == portAttempts || opts.Port != 0 {
			return nil, err
		}
	}
}

// writeConfig generates dendrite.yaml for port with `generate-config -ci`, edits it for a
// loopback test server and checks it.
func (s *Server) writeConfig(ctx context.Context, opts Options, port int, keyPath string) (string, error) {
	serverName := "localhost:" + strconv.Itoa(port)
	var generated strings.Builder
	if err := run(ctx, filepath.Join(opts.BinDir, "generate-config"), &generated,
		"-ci", "-dir", s.StateDir, "-server", serverName); err != nil {
		return "", err
	}
	text, err := editConfig(generated.String(), []configEdit{
		{"global.private_key", yamlString(keyPath)},
		{"global.disable_federation", "true"},
		{"client_api.registration_shared_secret", yamlString(s.SharedSecret)},
		{"sync_api.search.enabled", "false"},
		{"logging.level", yamlString(opts.LogLevel)},
		{"global.jetstream.in_memory", strconv.FormatBool(!opts.DurableQueues)},
	})
	if err != nil {
		return "", err
	}
	if err := checkConfig(text, s.StateDir, opts.DurableQueues); err != nil {
		return "", err
	}
	path := filepath.Join(s.StateDir, "dendrite.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return "", fmt.Errorf("homeserver: %w", err)
	}
	s.ServerName = serverName
	s.URL = "http://127.0.0.1:" + strconv.Itoa(port)
	return path, nil
}

// launch starts Dendrite in its own process group and waits until it answers.
func (s *Server) launch(ctx context.Context) error {
	addr := "127.0.0.1:" + strconv.Itoa(s.port)
	cmd := exec.Command(s.dendrite, "-config", s.configPath, "-http-bind-address", addr, "-really-enable-open-registration")
	cmd.Dir = s.StateDir
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = s.logOut, s.logOut
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = 5 * time.Second
	s.tail.Reset()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("homeserver: starting dendrite: %w", err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) {
		s.waitErr = cmd.Wait()
		close(exited)
	}(s.exited)

	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(readyInterval)
	defer tick.Stop()
	for {
		if s.ready(ctx) {
			return nil
		}
		select {
		case <-s.exited:
			tail := s.tail.String()
			if strings.Contains(tail, "address already in use") {
				return fmt.Errorf("homeserver: dendrite on %s: %w", addr, errPortTaken)
			}
			return fmt.Errorf("homeserver: dendrite exited before answering (%v); log tail:\n%s", s.waitErr, tail)
		case <-ctx.Done():
			s.kill()
			return fmt.Errorf("homeserver: waiting for dendrite: %w; log tail:\n%s", ctx.Err(), s.tail.String())
		case <-deadline.C:
			s.kill()
			return fmt.Errorf("homeserver: dendrite did not answer on %s within %s; log tail:\n%s", addr, startTimeout, s.tail.String())
		case <-tick.C:
		}
	}
}

// ready reports whether GET /_matrix/client/versions answers 200.
func (s *Server) ready(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/_matrix/client/versions", nil)
	if err != nil {
		return false
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Stop kills Dendrite's process group, waits for it and removes the state directory if Start
// created it. It is safe to call more than once; later calls return the first result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.kill()
		var errs []error
		if s.logFile != nil {
			errs = append(errs, s.logFile.Close())
		}
		if s.ownsStateDir && s.StateDir != "" {
			errs = append(errs, os.RemoveAll(s.StateDir))
		}
		if err := errors.Join(errs...); err != nil {
			s.stopErr = fmt.Errorf("homeserver: stop: %w", err)
		}
	})
	return s.stopErr
}

// kill sends SIGKILL to the process group of a running Dendrite and waits for it to exit.
// The state is thrown away, so there is nothing to shut down gracefully.
func (s *Server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return // already reaped: its PID may belong to someone else now
	default:
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGCONT) // a frozen process dies only once it runs
	<-s.exited
}

// PID is the process ID of the running Dendrite, which leads its own process group; 0 before
// it started and once it has exited.
func (s *Server) PID() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	select {
	case <-s.exited:
		return 0 // reaped: the PID may belong to someone else now
	default:
		return s.cmd.Process.Pid
	}
}

// LogTail returns the last few KiB Dendrite wrote, for a failing test to print.
func (s *Server) LogTail() string { return s.tail.String() }

// NewStateDir creates a fresh directory for a server's state under /dev/shm when possible
// (SQLite's fsyncs are free there), else under os.TempDir().
func NewStateDir() (string, error) {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "duet-homeserver-"); err == nil {
			return dir, nil
		}
	}
	dir, err := os.MkdirTemp("", "duet-homeserver-")
	if err != nil {
		return "", fmt.Errorf("homeserver: %w", err)
	}
	return dir, nil
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("homeserver: picking a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run runs a helper binary, writing its stdout to out when given; its output is in the error.
func run(ctx context.Context, bin string, out io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = out, &stderr
	if out == nil {
		cmd.Stdout = &stderr
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("homeserver: %s: %w\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	return nil
}

// childEnv is the environment for Dendrite: ours, minus what would open more listeners.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PPROFLISTEN=") {
			env = append(env, kv)
		}
	}
	return env
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("homeserver: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

func (t *tailBuffer) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = t.buf[:0]
}
