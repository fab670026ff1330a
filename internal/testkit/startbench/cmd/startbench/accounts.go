package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"maunium.net/go/mautrix/event"

	"duet/internal/homeserver"
	"duet/internal/testkit/fixture"
)

// profiles are the accounts case's profiles, one an account; when several are open their
// names are the accounts' tags on the screen.
var profiles = []string{"alpha", "bravo", "charlie"}

// accounts runs the accounts case: the profiles made warm under home, then, run by run, each
// binary starting (a) `duet --profile alpha` and (b) `duet` on all of them, the two in turns
// (which goes first alternates), and with prof (duetprof) the same again with a CPU profile.
func (b *bench) accounts(ctx context.Context, bins []string, prof, home string) error {
	accts, stop, err := b.prepareAccounts(ctx, bins[0], home)
	defer stop()
	if err != nil {
		return err
	}
	one := start{args: accts[0].args(), memory: true}
	three := start{memory: true, drawn: []string{fmt.Sprintf("Contacts (%d)", len(accts)*b.o.dms)}}
	for _, a := range accts {
		three.drawn = append(three.drawn, "   "+a.profile+" ") // its tag, first on a row's second line
	}
	fmt.Printf("(a) `duet --profile %s`: one account, to %q; (b) `duet`: %d accounts, to %q\n", accts[0].profile, b.header, len(accts), three.drawn)
	type series struct{ one, three []result }
	took := make([]series, len(bins))
	for i := range b.o.runs {
		for j, bin := range bins {
			for k := range 2 {
				which, s, into := "one  ", one, &took[j].one
				if (i+k)%2 == 1 { // (a) first in odd runs, (b) first in even ones
					which, s, into = "three", three, &took[j].three
				}
				if err := pause(ctx, b.o.pause); err != nil {
					return err
				}
				r, err := b.start(ctx, bin, home, s)
				if err != nil {
					return fmt.Errorf("%s, %s, run %d: %w", which, bin, i+1, err)
				}
				fmt.Printf("  accounts %s %s run %d: %s\n", which, filepath.Base(bin), i+1, r)
				*into = append(*into, r)
			}
		}
	}
	for j, bin := range bins {
		name := "accounts " + filepath.Base(bin)
		summary(name+" (a) one account", took[j].one)
		summary(name+" (b) three accounts", took[j].three)
		ratio(name, took[j].one, took[j].three, len(accts))
	}
	if prof == "" {
		return nil
	}
	fmt.Printf("profiling (a) and (b) (duetprof), %d runs each\n", b.o.runs)
	var profiled series
	for i := range b.o.runs {
		for k, s := range []start{one, three} {
			if err := pause(ctx, b.o.pause); err != nil {
				return err
			}
			which, into := "one", &profiled.one
			if k == 1 {
				which, into = "three", &profiled.three
			}
			s.memory = false
			s.profile = filepath.Join(b.o.profile, fmt.Sprintf("accounts-%s-%d.pprof", which, i+1))
			r, err := b.start(ctx, prof, home, s)
			if err != nil {
				return fmt.Errorf("profile %s, run %d: %w", which, i+1, err)
			}
			*into = append(*into, r)
		}
	}
	summary("profiled (a) one account", profiled.one)
	summary("profiled (b) three accounts", profiled.three)
	fmt.Printf("see: go tool pprof -top %s, and the same with accounts-three-*\n", filepath.Join(b.o.profile, "accounts-one-*.pprof"))
	return nil
}

// ratio prints the ratio of the medians, three accounts over one, and the peak RSS each
// account after the first adds.
func ratio(name string, one, three []result, n int) {
	med := func(rs []result, f func(result) time.Duration) time.Duration {
		var d []time.Duration
		for _, r := range rs {
			d = append(d, f(r))
		}
		return median(d)
	}
	took := func(r result) time.Duration { return r.took }
	fmt.Printf("%s: (b)/(a) = %.2f (medians of the time to the first frame)\n", name, float64(med(three, took))/float64(med(one, took)))
	for _, at := range []struct {
		what string
		f    func(result) time.Duration
	}{
		{"at the first frame", func(r result) time.Duration { return time.Duration(r.hwm) }},
		{memoryAfter.String() + " later", func(r result) time.Duration { return time.Duration(r.hwmAfter) }},
	} {
		a, b := int64(med(one, at.f)), int64(med(three, at.f))
		fmt.Printf("%s: peak RSS %s: (a) %s, (b) %s (medians), %s each account after the first, (b)/(a) = %.2f\n",
			name, at.what, mb(a), mb(b), mb((b-a)/int64(n-1)), float64(b)/float64(a))
	}
}

// prepareAccounts makes the accounts case's profiles under home, each warm: the bench's own
// account, and one more of the same size for each further profile, each on a Dendrite of its
// own (BuildReal's localparts are fixed, one account a server). The newest DM of each gets one
// more message, in the profiles' order, so that the list's top rows are one of each. stop
// stops the servers it started, also after an error.
func (b *bench) prepareAccounts(ctx context.Context, bin, home string) (accts []account, stop func(), err error) {
	var servers []*homeserver.Server
	stop = func() {
		for _, s := range servers {
			s.Stop()
		}
	}
	binDir, err := homeserver.Binaries(ctx, b.root)
	if err != nil {
		return nil, stop, err
	}
	for i, name := range profiles {
		if i == 0 {
			accts = append(accts, account{srv: b.main.srv, fx: b.main.fx, profile: name})
			continue
		}
		srv, err := homeserver.Start(ctx, homeserver.Options{BinDir: binDir, LogLevel: "warn"})
		if err != nil {
			return nil, stop, err
		}
		servers = append(servers, srv)
		fmt.Printf("account %d (%s): %d DMs x %d messages on %s\n", i+1, name, b.o.dms, b.o.msgs, srv.URL)
		began := time.Now()
		fx, err := fixture.BuildReal(ctx, srv, fixture.Spec{DMs: b.o.dms, Msgs: b.o.msgs}, b.o.workers)
		if err != nil {
			return nil, stop, fmt.Errorf("build account %d: %w (server log: %s)", i+1, err, srv.LogTail())
		}
		fmt.Printf("  built in %s\n", time.Since(began).Round(time.Second))
		accts = append(accts, account{srv: srv, fx: fx, profile: name})
	}
	for _, a := range accts {
		// The newest DM is the last one built: its messages are the last sent.
		last := len(a.fx.Rooms) - 1
		content := &event.MessageEventContent{MsgType: event.MsgText, Body: "one more, the newest of " + a.profile}
		if _, err := a.fx.Contacts[last].Client.SendMessageEvent(ctx, a.fx.Rooms[last], event.EventMessage, content); err != nil {
			return nil, stop, fmt.Errorf("the newest message of %s: %w", a.profile, err)
		}
		if err := pause(ctx, 10*time.Millisecond); err != nil { // distinct timestamps: the rows' order is the order sent
			return nil, stop, err
		}
	}
	for _, a := range accts {
		fmt.Printf("profile %s: duet --profile %s login, then duet --profile %s until its first sync is done\n", a.profile, a.profile, a.profile)
		if err := b.prepareWarm(ctx, bin, home, a); err != nil {
			return nil, stop, fmt.Errorf("profile %s: %w", a.profile, err)
		}
	}
	return accts, stop, nil
}

// peakRSS is a process's peak resident set size (VmHWM of /proc/PID/status), in bytes.
func peakRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("the peak RSS of %d: %w", pid, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) == 3 && string(f[0]) == "VmHWM:" && string(f[2]) == "kB" {
			kb, err := strconv.ParseInt(string(f[1]), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("the peak RSS of %d: %w", pid, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("the peak RSS of %d: no VmHWM in /proc/%d/status", pid, pid)
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }
