// Command startbench measures duet's start as a person sees it (issue 24): the real binary
// exec'd on a pseudo-terminal of 120x36, timed from the exec to the first frame that shows the
// contacts list with all N contacts, for an account of N DMs on a throwaway Dendrite.
//
//	make homeserver   # once: builds the pinned Dendrite
//	go run -tags goolm ./internal/testkit/startbench/cmd/startbench -runs 7
//
// The account (-dms DMs of -msgs messages each, through the client-server API) is built once
// per run of the command and used by every case:
//
//   - warm: a profile that has synced once (logged in with `duet login`, then duet run until
//     its first sync and key upload are done); every run starts duet on that same profile.
//   - silent: the same warm profile on a terminal that answers no question (a terminal,
//     multiplexer or serial console that does not know them): the start must not wait on it.
//   - new: a new device: a fresh profile logged in with `duet login` (not timed), empty store;
//     the time is then mostly the first sync.
//   - accounts: three accounts of -dms DMs each, the one above and two more, each on a
//     Dendrite of its own (the fixture's localparts are fixed), as three profiles of one XDG
//     home (alpha, bravo, charlie), each made warm as the warm case's profile is. Run by run,
//     taking turns, (a) `duet --profile alpha`, one account, and (b) `duet`, which opens every
//     logged-in profile: all three in one window. (b)'s first frame is the one with the header
//     "Contacts (3N)" and a row of each account, told by its tag (the profile's name, first on
//     the row's second line): before the three are built, the newest DM of each gets one more
//     message, so that one row of each is at the top of the list. Each start also reads duet's
//     peak RSS (VmHWM, /proc/PID/status) at that frame and 2 s later (the sync loops have
//     started by then). The summary gives the ratio of the medians, (b) over (a), and the
//     memory each account after the first adds.
//
// The first frame with the contacts is the first moment the terminal's screen (a terminal
// emulator, charmbracelet/x/vt, fed every byte duet writes) shows the list's header
// "Contacts (N)": the header is drawn by the same View as the rows under it, so the frame
// that carries it shows the list with all N contacts counted (the count is of the list duet
// holds, not of what fits). The time is taken when the read that brought its last byte
// returns. An earlier frame without the list (the header at "Contacts (0)") does not count. The default terminal answers
// the background colour, cursor position and device attributes as a dark xterm does
// (idlebench.Term).
//
// -duet before,after measures several binaries taking turns, run by run, so that each sees the
// same load on a shared machine (the first one makes the warm profile).
//
// Each run also says what the scheduler said of duet's process at that moment
// (/proc/PID/task/*/schedstat): its time on a CPU, and its time ready to run but waiting for
// one, which is what a busy machine adds.
//
// -profile DIR runs the warm case again under duetprof (duet with a CPU profile) and writes
// one profile per run, each stopped at the first frame (SIGUSR1): `go tool pprof -top DIR/*.pprof`
// merges them. With the accounts case it also profiles (a) and (b) there, into
// DIR/accounts-one-*.pprof and DIR/accounts-three-*.pprof.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"duet/internal/homeserver"
	"duet/internal/testkit/fixture"
	"duet/internal/testkit/idlebench"
)

const cols, rows = 120, 36

type options struct {
	duet    string
	dms     int
	msgs    int
	workers int
	runs    int
	cases   string
	profile string
	prof    string
	wrap    string
	pause   time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.duet, "duet", "", "the duet binary to measure (default: build it with go build -tags goolm); several, comma separated, take turns run by run (before,after)")
	flag.IntVar(&o.dms, "dms", 1000, "DMs of the account, one contact each")
	flag.IntVar(&o.msgs, "msgs", 2, "messages per DM")
	flag.IntVar(&o.workers, "workers", 8, "requests in flight while building the account")
	flag.IntVar(&o.runs, "runs", 7, "starts measured per case")
	flag.StringVar(&o.cases, "cases", "warm,silent,new", "what to measure, comma separated: warm, silent, new, accounts")
	flag.StringVar(&o.profile, "profile", "", "also profile the warm start (duetprof), one CPU profile per run into this directory")
	flag.StringVar(&o.prof, "duetprof", "", "with -profile: the duetprof binary to run (default: build it from this tree)")
	flag.StringVar(&o.wrap, "wrap", "", "run the warm case's duet under this command, for a timeline of its start (e.g. \"strace -f -ttt -o /tmp/start.strace\"); the times then include it")
	flag.DurationVar(&o.pause, "pause", time.Second, "wait between runs, for the homeserver to finish what the last run asked")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "startbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.runs < 1 || o.dms < 1 || o.msgs < 0 {
		return errors.New("-runs and -dms must be at least 1, -msgs not negative")
	}
	cases := strings.Split(o.cases, ",")
	for _, c := range cases {
		if !slices.Contains([]string{"warm", "silent", "new", "accounts"}, c) {
			return fmt.Errorf("-cases: no case %q", c)
		}
	}
	root, err := homeserver.RepoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "duet-startbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bins := strings.Split(o.duet, ",")
	bin := bins[0] // the one that makes the warm profile
	if bin == "" {
		bin = filepath.Join(tmp, "duet")
		bins = []string{bin}
		if err := build(ctx, root, bin, "."); err != nil {
			return err
		}
	}
	var prof string
	if o.profile != "" {
		prof = o.prof
		if prof == "" {
			prof = filepath.Join(tmp, "duetprof")
			if err := build(ctx, root, prof, "./internal/testkit/startbench/cmd/duetprof"); err != nil {
				return err
			}
		}
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return err
		}
	}

	fmt.Println("homeserver (the first run builds Dendrite: minutes; `make homeserver` does it beforehand)")
	binDir, err := homeserver.Binaries(ctx, root)
	if err != nil {
		return err
	}
	srv, err := homeserver.Start(ctx, homeserver.Options{BinDir: binDir, LogLevel: "warn"})
	if err != nil {
		return err
	}
	defer srv.Stop()
	fmt.Printf("account: %d DMs x %d messages on %s\n", o.dms, o.msgs, srv.URL)
	began := time.Now()
	fx, err := fixture.BuildReal(ctx, srv, fixture.Spec{DMs: o.dms, Msgs: o.msgs}, o.workers)
	if err != nil {
		return fmt.Errorf("build the account: %w (server log: %s)", err, srv.LogTail())
	}
	fmt.Printf("  built in %s\n", time.Since(began).Round(time.Second))
	b := bench{o: o, root: root, main: account{srv: srv, fx: fx}, header: fmt.Sprintf("Contacts (%d)", o.dms)}

	warm := filepath.Join(tmp, "warm")
	if slices.Contains(cases, "warm") || slices.Contains(cases, "silent") || prof != "" {
		fmt.Println("warm profile: duet login, then duet until its first sync is done")
		if err := b.prepareWarm(ctx, bin, warm, b.main); err != nil {
			return fmt.Errorf("warm profile: %w", err)
		}
	}
	fmt.Printf("exec to the first frame with %q on a %dx%d terminal, %d runs a case\n", b.header, cols, rows, o.runs)
	for _, c := range cases {
		if c == "accounts" {
			if err := b.accounts(ctx, bins, prof, filepath.Join(tmp, "accounts")); err != nil {
				return fmt.Errorf("accounts: %w", err)
			}
			continue
		}
		took := make([][]result, len(bins))
		for i := range o.runs {
			for j, bin := range bins { // several binaries take turns: the same load for each
				if err := pause(ctx, o.pause); err != nil {
					return err
				}
				var d result
				switch c {
				case "warm":
					d, err = b.start(ctx, bin, warm, start{wrap: strings.Fields(o.wrap)})
				case "silent":
					d, err = b.start(ctx, bin, warm, start{silent: true})
				case "new":
					d, err = b.newDevice(ctx, bin, filepath.Join(tmp, fmt.Sprintf("new%d-%d", i+1, j+1)))
				}
				if err != nil {
					return fmt.Errorf("%s, %s, run %d: %w", c, bin, i+1, err)
				}
				fmt.Printf("  %-7s %s run %d: %s\n", c, filepath.Base(bin), i+1, d)
				took[j] = append(took[j], d)
			}
		}
		for j, bin := range bins {
			summary(c+" "+filepath.Base(bin), took[j])
		}
	}
	if prof != "" {
		fmt.Printf("profiling the warm start (duetprof), %d runs\n", o.runs)
		var took []result
		for i := range o.runs {
			if err := pause(ctx, o.pause); err != nil {
				return err
			}
			out := filepath.Join(o.profile, fmt.Sprintf("warm-%d.pprof", i+1))
			d, err := b.start(ctx, prof, warm, start{profile: out})
			if err != nil {
				return fmt.Errorf("profile, run %d: %w", i+1, err)
			}
			took = append(took, d)
		}
		summary("profiled", took)
		fmt.Printf("see: go tool pprof -top %s\n", filepath.Join(o.profile, "*.pprof"))
	}
	return nil
}

func build(ctx context.Context, root, out, pkg string) error {
	fmt.Printf("building %s (go build -tags goolm)\n", pkg)
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "goolm", "-o", out, pkg)
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %s: %w", pkg, err)
	}
	return nil
}

type bench struct {
	o      options
	root   string  // the repository
	main   account // the account every case uses, in duet's default profile
	header string  // what the first frame with the contacts shows
}

// account is an account of the bench, built on its homeserver, and the profile duet keeps it
// in ("" for duet's default profile: no --profile).
type account struct {
	srv     *homeserver.Server
	fx      *fixture.Real
	profile string
}

// args are duet's arguments that choose a's profile, before any others.
func (a account) args(more ...string) []string {
	if a.profile == "" {
		return more
	}
	return append([]string{"--profile", a.profile}, more...)
}

// env is duet's environment for a profile under home: its own XDG directories, a true-colour
// xterm.
func env(home string) []string {
	return []string{
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"TERM=xterm-256color",
		"COLORTERM=truecolor",
		"LANG=C.UTF-8",
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"XDG_STATE_HOME=" + filepath.Join(home, "state"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
	}
}

// login logs a in to its profile, a fresh one, under home: a new device.
func (b *bench) login(ctx context.Context, bin, home string, a account) error {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, a.args("login", "--homeserver", a.srv.URL, "--user", string(a.fx.Me.ID), "--password-stdin")...)
	cmd.Env, cmd.Stdin = env(home), strings.NewReader(a.fx.Me.Password)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("duet login: %w: %s", err, out)
	}
	return nil
}

// prepareWarm logs a in to its profile under home and runs duet on that profile until the
// contacts are drawn, the status bar says live (the first sync is applied) and it has settled
// (keys uploaded): the store is warm.
func (b *bench) prepareWarm(ctx context.Context, bin, home string, a account) error {
	if err := b.login(ctx, bin, home, a); err != nil {
		return err
	}
	cmd := exec.Command(bin, a.args()...)
	cmd.Env = env(home)
	t, err := idlebench.Start(cmd, cols, rows)
	if err != nil {
		return err
	}
	defer t.Close("\x03", 10*time.Second)
	// Live: the first sync is applied. Settling alone is not enough: while a busy homeserver
	// takes seconds to answer the first sync, duet neither writes nor computes, and the store
	// would be left with only the contacts list taken from m.direct.
	if _, err := b.drawn(ctx, t, b.header, "● live"); err != nil {
		return err
	}
	if _, err := t.Settle(ctx, 2*time.Second, 200*time.Millisecond, 5*time.Minute); err != nil {
		return err
	}
	return t.Close("\x03", 10*time.Second)
}

// start is how one start is run.
type start struct {
	silent  bool     // the terminal answers nothing
	profile string   // duetprof's CPU profile, stopped at the first frame
	wrap    []string // a command duet runs under (strace)
	args    []string // duet's arguments
	drawn   []string // what the first frame shows, all of it (default: the bench's header)
	memory  bool     // read duet's peak RSS at the first frame and memoryAfter later
}

// memoryAfter is how long after the first frame the peak RSS is read again: the sync loops,
// which start at the first frame, have done their first work by then.
const memoryAfter = 2 * time.Second

// result is one start: the time to the first frame with the contacts, and what the scheduler
// said of duet's process at that moment.
type result struct {
	took   time.Duration
	onCPU  time.Duration // duet's threads on a CPU, from exec
	waited time.Duration // duet's threads ready to run but waiting for a CPU (a busy machine)

	hwm, hwmAfter int64 // with start.memory: duet's VmHWM in bytes at the frame, memoryAfter later
}

func (r result) String() string {
	s := fmt.Sprintf("%s (on CPU %s, waiting for a CPU %s)", ms(r.took), ms(r.onCPU), ms(r.waited))
	if r.hwm > 0 {
		s += fmt.Sprintf("; peak RSS %s, %s later %s", mb(r.hwm), memoryAfter, mb(r.hwmAfter))
	}
	return s
}

// summary prints the medians of a case's runs, with the spread of the times.
func summary(name string, rs []result) {
	pick := func(f func(result) time.Duration) []time.Duration {
		var out []time.Duration
		for _, r := range rs {
			out = append(out, f(r))
		}
		return out
	}
	took := pick(func(r result) time.Duration { return r.took })
	fmt.Printf("%s: median %s (min %s, max %s) over %d runs; on CPU %s, waiting for a CPU %s (medians)\n", name,
		ms(median(took)), ms(slices.Min(took)), ms(slices.Max(took)), len(rs),
		ms(median(pick(func(r result) time.Duration { return r.onCPU }))),
		ms(median(pick(func(r result) time.Duration { return r.waited }))))
}

// start execs bin on the profile under home and returns the time to the first frame with the
// contacts; duet is then quit with ctrl+c.
func (b *bench) start(ctx context.Context, bin, home string, s start) (result, error) {
	cmd := exec.Command(bin, s.args...)
	if len(s.wrap) > 0 {
		cmd = exec.Command(s.wrap[0], append(append(s.wrap[1:], bin), s.args...)...)
	}
	cmd.Env = env(home)
	if s.profile != "" {
		cmd.Env = append(cmd.Env, "DUETPROF_CPU="+s.profile)
	}
	began := time.Now()
	t, err := idlebench.StartWith(cmd, cols, rows, idlebench.Options{Silent: s.silent})
	if err != nil {
		return result{}, err
	}
	defer t.Close("\x03", 10*time.Second)
	seen, err := b.drawn(ctx, t, s.drawn...)
	if err != nil {
		return result{}, err
	}
	r := result{took: seen.At.Sub(began), onCPU: seen.Sched.OnCPU, waited: seen.Sched.Waited}
	if s.profile != "" {
		_ = cmd.Process.Signal(syscall.SIGUSR1) // duetprof: stop the profile here
	}
	if s.memory {
		if r.hwm, err = peakRSS(t.PID()); err != nil {
			return r, err
		}
		if err := pause(ctx, memoryAfter); err != nil {
			return r, err
		}
		if r.hwmAfter, err = peakRSS(t.PID()); err != nil {
			return r, err
		}
	}
	if err := t.Close("\x03", 10*time.Second); err != nil {
		return r, fmt.Errorf("quit: %w", err)
	}
	return r, nil
}

// drawn waits until the screen has shown each of texts (default: the contacts header) and
// returns when the last of them was first drawn. The texts are watched from the start, each on
// its own, so one drawn early is timed when it came.
func (b *bench) drawn(ctx context.Context, t *idlebench.Term, texts ...string) (idlebench.Seen, error) {
	const timeout = 10 * time.Minute
	if len(texts) == 0 {
		texts = []string{b.header}
	}
	waits := make([]<-chan idlebench.Seen, len(texts))
	for i, text := range texts {
		waits[i] = t.Drawn(text)
	}
	deadline := time.After(timeout)
	var last idlebench.Seen
	for i, text := range texts {
		select {
		case seen := <-waits[i]:
			if seen.At.After(last.At) {
				last = seen
			}
		case <-t.Exited():
			return idlebench.Seen{}, fmt.Errorf("duet exited before %q was drawn; its screen's last text: %q", text, tail(t.Screen(0), 400))
		case <-deadline:
			return idlebench.Seen{}, fmt.Errorf("%q not drawn within %s; the screen's last text: %q", text, timeout, tail(t.Screen(0), 400))
		case <-ctx.Done():
			return idlebench.Seen{}, ctx.Err()
		}
	}
	return last, nil
}

// newDevice logs in to a fresh profile under home (not timed) and times duet's first start on
// it.
func (b *bench) newDevice(ctx context.Context, bin, home string) (result, error) {
	if err := b.login(ctx, bin, home, b.main); err != nil {
		return result{}, err
	}
	defer os.RemoveAll(home)
	return b.start(ctx, bin, home, start{})
}

func median(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	if len(d)%2 == 0 {
		return (d[len(d)/2-1] + d[len(d)/2]) / 2
	}
	return d[len(d)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func pause(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
