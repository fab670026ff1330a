// Command idlebench measures what duet costs while nothing happens (issue 21: Bubble Tea v1
// against v2): the real duet binary on a pseudo-terminal of 120x36, logged in to the demo's
// account on a throwaway Dendrite (three people, a group, an invite), left alone. It prints
// the bytes duet wrote to the terminal and the CPU time its process took over -duration, first
// with the contacts list shown, then with a conversation open (Alice's).
//
//	go run -tags goolm ./internal/testkit/idlebench/cmd/idlebench -duration 20s -runs 3
//
// Each run is a fresh profile: `duet login` into a new XDG home, then `duet` on the terminal.
// The measuring starts once the first frame shows the contacts and duet has settled (the first
// sync and setting up its keys go on after it): nothing written and no more than a tenth of
// the time on the CPU, for -settle. The terminal answers the usual questions as a dark
// terminal does (idlebench.Term); the time to the first frame is printed too.
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
	"time"

	"duet/internal/demo"
	"duet/internal/homeserver"
	"duet/internal/testkit/idlebench"
)

const cols, rows = 120, 36

// What the screen shows once the contacts are drawn, and once Alice's conversation is open
// (a message of hers that only the timeline shows).
const (
	contactsText     = "Alice Liddell"
	conversationText = "lemonade and the blanket"
)

type options struct {
	duration time.Duration
	runs     int
	duet     string
	settle   time.Duration
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long each figure is measured")
	flag.IntVar(&o.runs, "runs", 1, "how many times duet is started and measured, each with a fresh profile")
	flag.StringVar(&o.duet, "duet", "", "the duet binary to measure (default: build it with go build -tags goolm)")
	flag.DurationVar(&o.settle, "settle", 3*time.Second, "how long duet must be idle before a figure is measured")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "idlebench:", err)
		os.Exit(1)
	}
}

// result is one run's figures.
type result struct {
	firstFrame   time.Duration // from the start of duet to the contacts drawn
	contacts     idlebench.Figures
	conversation idlebench.Figures
}

func run(ctx context.Context, o options) error {
	if o.runs < 1 || o.duration <= 0 {
		return errors.New("-runs must be at least 1 and -duration positive")
	}
	root, err := homeserver.RepoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "duet-idlebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := o.duet
	if bin == "" {
		bin = filepath.Join(tmp, "duet")
		fmt.Println("building duet (go build -tags goolm)")
		build := exec.CommandContext(ctx, "go", "build", "-tags", "goolm", "-o", bin, ".")
		build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build duet: %w", err)
		}
	}

	fmt.Println("starting a throwaway homeserver with the demo's people (the first run builds it: minutes)")
	// Only the home account: the second homeserver the demo also starts would add its load to
	// the figures, which were taken with one.
	d, err := demo.Start(ctx, demo.Options{NoWork: true})
	if err != nil {
		return err
	}
	defer d.Stop()

	fmt.Printf("duet idle on a %dx%d terminal, %s a figure\n", cols, rows, o.duration)
	var results []result
	for i := range o.runs {
		r, err := measure(ctx, o, bin, d, filepath.Join(tmp, fmt.Sprintf("run%d", i+1)))
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		fmt.Printf("run %d (first frame after %s):\n", i+1, r.firstFrame.Round(time.Millisecond))
		fmt.Printf("  contacts list      %s\n", figures(r.contacts))
		fmt.Printf("  conversation open  %s\n", figures(r.conversation))
		results = append(results, r)
	}
	if len(results) > 1 {
		fmt.Printf("over %d runs, min / median / max:\n", len(results))
		summary := func(name string, f func(result) idlebench.Figures) {
			var b, c, on []float64
			for _, r := range results {
				b = append(b, float64(f(r).Bytes))
				c = append(c, f(r).CPU.Seconds())
				on = append(on, f(r).OnCPU.Seconds())
			}
			fmt.Printf("  %-18s bytes %s; CPU s %s; on-CPU s %s\n", name, spread(b, "%.0f"), spread(c, "%.2f"), spread(on, "%.3f"))
		}
		summary("contacts list", func(r result) idlebench.Figures { return r.contacts })
		summary("conversation open", func(r result) idlebench.Figures { return r.conversation })
	}
	return nil
}

func figures(f idlebench.Figures) string {
	return fmt.Sprintf("%d bytes written, CPU %.2f s (on-CPU %.3f s)", f.Bytes, f.CPU.Seconds(), f.OnCPU.Seconds())
}

// spread is min / median / max.
func spread(v []float64, format string) string {
	v = slices.Clone(v)
	slices.Sort(v)
	median := v[len(v)/2]
	if len(v)%2 == 0 {
		median = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return strings.Join([]string{fmt.Sprintf(format, v[0]), fmt.Sprintf(format, median), fmt.Sprintf(format, v[len(v)-1])}, " / ")
}

// measure logs the demo's account in to a fresh profile under home, starts duet on a terminal
// and measures it idle, with the contacts list, then with Alice's conversation open.
func measure(ctx context.Context, o options, bin string, d *demo.Demo, home string) (result, error) {
	var r result
	env := []string{
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
	if err := os.MkdirAll(home, 0o700); err != nil {
		return r, err
	}
	login := exec.CommandContext(ctx, bin, "login", "--homeserver", d.Server.URL, "--user", d.You.UserID, "--password-stdin")
	login.Env, login.Stdin = env, strings.NewReader(demo.YourPassword)
	if out, err := login.CombinedOutput(); err != nil {
		return r, fmt.Errorf("duet login: %w: %s", err, out)
	}

	began := time.Now()
	cmd := exec.Command(bin)
	cmd.Env = env
	t, err := idlebench.Start(cmd, cols, rows)
	if err != nil {
		return r, err
	}
	defer t.Close("\x03", 10*time.Second) // ctrl+c quits
	if err := t.WaitFor(ctx, contactsText, 0, time.Minute); err != nil {
		return r, fmt.Errorf("the contacts: %w", err)
	}
	r.firstFrame = time.Since(began)
	if r.contacts, err = idle(ctx, o, t); err != nil {
		return r, err
	}

	// ctrl+k, the quick switcher: Alice.
	mark := t.Written()
	for _, keys := range []string{"\x0b", "alice", "\r"} {
		if err := t.Type(keys); err != nil {
			return r, err
		}
		if err := sleepCtx(ctx, 300*time.Millisecond); err != nil {
			return r, err
		}
	}
	if err := t.WaitFor(ctx, conversationText, mark, 30*time.Second); err != nil {
		return r, fmt.Errorf("Alice's conversation: %w", err)
	}
	if r.conversation, err = idle(ctx, o, t); err != nil {
		return r, err
	}
	if err := t.Close("\x03", 10*time.Second); err != nil {
		return r, fmt.Errorf("quit: %w", err)
	}
	return r, nil
}

// idle waits until duet settles, then measures it for the duration.
func idle(ctx context.Context, o options, t *idlebench.Term) (idlebench.Figures, error) {
	if _, err := t.Settle(ctx, o.settle, o.settle/10, 2*time.Minute); err != nil {
		return idlebench.Figures{}, fmt.Errorf("settle: %w", err)
	}
	return t.Measure(ctx, o.duration)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
