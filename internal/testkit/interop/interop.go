// Package interop drives a Matrix client built on matrix-js-sdk, Element's SDK, with the Rust
// crypto that Element Web uses, so that tests can prove duet's end-to-end encryption works with
// Element's. The client is tools/interop/interop.mjs, a Node program that reads one JSON
// command per line on stdin and answers with one JSON line on stdout (its header lists the
// commands). Only tests use this package.
//
// It needs node and npm on PATH (Debian: nodejs, npm); EnsureInstalled runs `npm ci` in
// tools/interop when its node_modules is missing or older than the lock file.
package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"duet/internal/flock"
	"duet/internal/homeserver"
)

// hiddenLockfile is what npm writes into node_modules at the end of a successful install
// (`npm ci` removes node_modules first), so its time is the time of the last install.
const hiddenLockfile = ".package-lock.json"

// stderrTail is how much of the client's stderr an error quotes.
const stderrTail = 4000

// Dir returns tools/interop in the repository.
func Dir() (string, error) {
	root, err := homeserver.RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "tools", "interop"), nil
}

// EnsureInstalled runs `npm ci` in tools/interop unless its node_modules is current (installed
// after package.json and package-lock.json last changed, by this function, .ci/run or a
// developer's npm). A file lock
// (tools/interop/.npm-ci.lock) serialises installs across processes, so test packages that run
// in parallel install once. It fails when node or npm is missing.
func EnsureInstalled(ctx context.Context) error {
	dir, err := Dir()
	if err != nil {
		return err
	}
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("interop: %s is needed for the matrix-js-sdk client (Debian packages nodejs and npm): %w", tool, err)
		}
	}
	if current, err := installed(dir); err != nil || current {
		return err
	}
	unlock, err := lockFile(ctx, filepath.Join(dir, ".npm-ci.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	// Another process may have installed while we waited for the lock.
	if current, err := installed(dir); err != nil || current {
		return err
	}
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NPM_CONFIG_UPDATE_NOTIFIER=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("interop: npm ci in %s: %w\n%s", dir, err, out)
	}
	if current, err := installed(dir); err != nil || !current {
		return fmt.Errorf("interop: npm ci in %s left node_modules/%s older than the package files (%v)", dir, hiddenLockfile, err)
	}
	return nil
}

// installed reports whether npm's hidden lockfile in node_modules is at least as new as
// package.json and package-lock.json.
func installed(dir string) (bool, error) {
	marker, err := os.Stat(filepath.Join(dir, "node_modules", hiddenLockfile))
	if err != nil {
		return false, nil
	}
	for _, name := range []string{"package.json", "package-lock.json"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return false, fmt.Errorf("interop: %w", err)
		}
		if fi.ModTime().After(marker.ModTime()) {
			return false, nil
		}
	}
	return true, nil
}

// lockFile waits for the flock on path; the returned func releases it.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	unlock, err = flock.Wait(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("interop: %w", err)
	}
	return unlock, nil
}

// Client is one running interop.mjs: a logged-in matrix-js-sdk client with its own new device.
// Do may be called from several goroutines at once.
type Client struct {
	UserID   string
	DeviceID string

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuffer

	writeMu sync.Mutex // one command line at a time on stdin

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan map[string]any

	done    chan struct{} // closed when stdout is closed and the process has been waited for
	exitErr error         // cmd.Wait's result, set before done is closed

	closeOnce sync.Once
	closeErr  error
}

// Start runs interop.mjs for userID (after EnsureInstalled), which logs in with password as a
// new device, and waits until it answers "ready": first sync done, crypto set up, its device keys
// on the server. ctx bounds the start only; the process runs until Close.
func Start(ctx context.Context, homeserverURL, userID, password string) (*Client, error) {
	if err := EnsureInstalled(ctx); err != nil {
		return nil, err
	}
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	c := &Client{
		UserID:  userID,
		stderr:  &lockedBuffer{},
		pending: map[int64]chan map[string]any{},
		done:    make(chan struct{}),
	}
	c.cmd = exec.Command("node", "interop.mjs",
		"--homeserver", homeserverURL, "--user", userID, "--password", password,
		"--device-name", "interop "+userID)
	c.cmd.Dir = dir
	c.cmd.Stderr = c.stderr
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("interop: %w", err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("interop: %w", err)
	}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("interop: starting node: %w", err)
	}
	go c.read(stdout)

	reply, err := c.Do(ctx, map[string]any{"cmd": "ready"})
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("%w\nstderr of the client:\n%s", err, c.Stderr())
	}
	c.DeviceID, _ = reply["device_id"].(string)
	return c, nil
}

// read delivers each reply line to the Do waiting for its id. When stdout closes it waits for
// the process and closes done, which fails every pending and later Do.
func (c *Client) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var head struct {
			ID *int64 `json:"id"`
		}
		var reply map[string]any
		if json.Unmarshal(line, &head) != nil || json.Unmarshal(line, &reply) != nil || head.ID == nil {
			fmt.Fprintf(c.stderr, "interop (Go side): unexpected line on stdout: %s\n", line)
			continue
		}
		c.mu.Lock()
		ch := c.pending[*head.ID]
		delete(c.pending, *head.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- reply // buffered
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(c.stderr, "interop (Go side): reading stdout: %v\n", err)
	}
	c.exitErr = c.cmd.Wait()
	close(c.done)
}

// Do sends cmd (a command object without "id"; Do adds a fresh one) and waits for its reply.
// A reply with "ok": false is returned together with an error carrying its "error".
func (c *Client) Do(ctx context.Context, cmd map[string]any) (map[string]any, error) {
	name, _ := cmd["cmd"].(string)
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan map[string]any, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()

	msg := make(map[string]any, len(cmd)+1)
	for k, v := range cmd {
		msg[k] = v
	}
	msg["id"] = id
	line, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("interop: %s: %w", name, err)
	}
	c.writeMu.Lock()
	_, err = c.stdin.Write(append(line, '\n'))
	c.writeMu.Unlock()
	if err != nil {
		select {
		case <-c.done:
			return nil, c.exitedError(name)
		default:
			return nil, fmt.Errorf("interop: %s for %s: writing the command: %w", name, c.UserID, err)
		}
	}

	select {
	case reply := <-ch:
		if ok, _ := reply["ok"].(bool); !ok {
			return reply, fmt.Errorf("interop: %s for %s failed: %v", name, c.UserID, reply["error"])
		}
		return reply, nil
	case <-c.done:
		// The reply may have arrived just before the process ended.
		select {
		case reply := <-ch:
			if ok, _ := reply["ok"].(bool); ok {
				return reply, nil
			}
		default:
		}
		return nil, c.exitedError(name)
	case <-ctx.Done():
		return nil, fmt.Errorf("interop: %s for %s: %w", name, c.UserID, ctx.Err())
	}
}

func (c *Client) exitedError(name string) error {
	return fmt.Errorf("interop: %s for %s: the client exited (%v); end of its stderr:\n%s",
		name, c.UserID, c.exitErr, tail(c.Stderr(), stderrTail))
}

// Stderr returns everything the client wrote to stderr so far (its log; INTEROP_LOG=debug in
// the environment makes it verbose).
func (c *Client) Stderr() string {
	return c.stderr.String()
}

// Close asks the client to quit and waits for it to exit, killing it after a few seconds. It
// returns an error when the process did not exit cleanly. Later calls return the same.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		select {
		case <-c.done:
		default:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, _ = c.Do(ctx, map[string]any{"cmd": "quit"})
			cancel()
			_ = c.stdin.Close()
			select {
			case <-c.done:
			case <-time.After(5 * time.Second):
				_ = c.cmd.Process.Kill()
				<-c.done
				c.closeErr = fmt.Errorf("interop: client for %s did not quit; killed", c.UserID)
				return
			}
		}
		if c.exitErr != nil {
			c.closeErr = fmt.Errorf("interop: client for %s: %w; end of its stderr:\n%s",
				c.UserID, c.exitErr, tail(c.Stderr(), stderrTail))
		}
	})
	return c.closeErr
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// lockedBuffer is a bytes.Buffer safe for the process's stderr copier and readers at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
