package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"maunium.net/go/mautrix/id"

	"duet/internal/config"
	"duet/internal/flock"
	"duet/internal/paths"
	"duet/store"
)

// Several accounts: the profiles the UI opens together, `duet profiles`, and `dms --all`. What
// is found here comes from the profiles' folders and session files only: nothing is locked or
// opened.

// profileInfo is one profile folder and its session file, as found on disk.
type profileInfo struct {
	prof paths.Profile
	sess *store.Session // nil: not logged in
}

func (p profileInfo) loggedIn() bool { return p.sess != nil }

// findProfiles lists the profile folders under the data dir, "default" first, then by name.
// A folder whose name is no profile name is not one.
func findProfiles(env Env) ([]profileInfo, error) {
	base, err := env.Dirs.ForProfile("default")
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(filepath.Dir(base.Data))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var out []profileInfo
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		prof, err := env.Dirs.ForProfile(e.Name())
		if err != nil {
			continue
		}
		out = append(out, profileInfoOf(prof))
	}
	sortProfiles(out)
	return out, nil
}

// profileInfoOf reads the profile's session file: logged in when it holds an access token.
func profileInfoOf(prof paths.Profile) profileInfo {
	info := profileInfo{prof: prof}
	if sess, err := store.LoadSession(prof.SessionFile()); err == nil {
		info.sess = sess
	}
	return info
}

// sortProfiles puts "default" first, then the others by name.
func sortProfiles(ps []profileInfo) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].prof.Name, ps[j].prof.Name
		if a == "default" || b == "default" {
			return a == "default" && b != "default"
		}
		return a < b
	})
}

// uiProfiles are the profiles `duet` (the UI) opens: the --profile names given (one may be
// new: the login form; of several, each must be logged in); else the config's `profiles`, each
// logged in; else every logged-in profile, "default" first, then by name; else "default", for
// the login form.
func uiProfiles(env Env, named []string, cfg config.Config) ([]paths.Profile, error) {
	if len(named) > 0 {
		profs, err := profilesNamed(env, named, func(err error) error { return usagef("%w", err) })
		if err != nil || len(profs) == 1 {
			return profs, err
		}
		return profs, requireLoggedIn(profs, "")
	}
	if len(cfg.Profiles) > 0 {
		where := "in the config's profiles"
		profs, err := profilesNamed(env, cfg.Profiles, func(err error) error { return fmt.Errorf("config: profiles: %w", err) })
		if err != nil {
			return nil, err
		}
		return profs, requireLoggedIn(profs, where)
	}
	found, err := findProfiles(env)
	if err != nil {
		return nil, err
	}
	var profs []paths.Profile
	for _, p := range found {
		if p.loggedIn() {
			profs = append(profs, p.prof)
		}
	}
	if len(profs) == 0 {
		prof, err := env.Dirs.ForProfile("default")
		return []paths.Profile{prof}, err
	}
	return profs, nil
}

// profilesNamed are the profiles of names, each once, in their order; bad says what an invalid
// name is (bad usage on the command line, a failure in the config).
func profilesNamed(env Env, names []string, bad func(error) error) ([]paths.Profile, error) {
	var profs []paths.Profile
	for _, name := range names {
		prof, err := env.Dirs.ForProfile(name)
		if err != nil {
			return nil, bad(err)
		}
		if !slices.ContainsFunc(profs, func(p paths.Profile) bool { return p.Name == name }) {
			profs = append(profs, prof)
		}
	}
	return profs, nil
}

// requireLoggedIn fails on the first profile of profs that is not logged in, saying how to
// log it in.
func requireLoggedIn(profs []paths.Profile, where string) error {
	for _, prof := range profs {
		if profileInfoOf(prof).loggedIn() {
			continue
		}
		if where != "" {
			where = " (" + where + ")"
		}
		return fmt.Errorf("profile %q%s is not logged in: run `duet login --profile %s` (or `duet --profile %s` alone for the login form)", prof.Name, where, prof.Name, prof.Name)
	}
	return nil
}

// profileJSON is one row of `duet profiles --json`.
type profileJSON struct {
	Profile    string    `json:"profile"`
	LoggedIn   bool      `json:"logged_in"`
	UserID     id.UserID `json:"user_id,omitempty"`
	Homeserver string    `json:"homeserver,omitempty"`
	Default    bool      `json:"default"` // the profile commands use without --profile
	UI         bool      `json:"ui"`      // one of the profiles `duet` opens without --profile
	InUse      bool      `json:"in_use"`  // a duet holds it now
	PID        string    `json:"pid,omitempty"`
	Window     bool      `json:"window"` // the duet that holds it is the UI
}

func profilesCommand(inv *invocation) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "profiles [--json]",
		Short: "your profiles: their accounts, which ones duet opens, which are in use",
		Long: "Every profile (the accounts kept apart by --profile): its name, the user ID and homeserver it\n" +
			"is logged in to (or \"not logged in\"), and marks: default (what commands use without --profile),\n" +
			"ui (what duet with no command opens: the config's profiles, else every logged-in one), and\n" +
			"whether a duet runs on it now (\"in use by process N\", or \"open in duet's window\"). It reads\n" +
			"the session files only: it works while duet runs, and it locks nothing.\n\n" +
			"--json: an array of {profile, logged_in, user_id, homeserver, default, ui, in_use, pid, window}.",
		Example:               "  duet profiles\n  duet profiles --json",
		DisableFlagsInUseLine: true,
		Args:                  argCount("profiles [--json]", 0, 0),
		ValidArgsFunction:     cobra.NoFileCompletions,
		RunE: inv.wrap(func(cmd *cobra.Command, args []string) error {
			if len(inv.profiles) > 0 {
				return usagef("profiles lists every profile: leave out --profile")
			}
			return cmdProfiles(inv.env, asJSON)
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document instead of text")
	return cmd
}

// cmdProfiles is `duet profiles`.
func cmdProfiles(env Env, asJSON bool) error {
	found, err := findProfiles(env)
	if err != nil {
		return err
	}
	base, err := env.Dirs.ForProfile("default")
	if err != nil {
		return err
	}
	cfg, err := config.Load(base.ConfigFile())
	if err != nil {
		// The list is what one needs to find out what is wrong: it goes on without the config.
		fmt.Fprintf(env.Stderr, "duet: warning: %s; the ui marks are every logged-in profile (duet itself would not start)\n", oneLine(err))
		cfg = config.Config{}
	}
	// The UI's profiles: the config's (listed here whether or not their folder exists, so
	// that one it cannot open shows), else the logged-in ones, else "default".
	ui := map[string]bool{}
	if len(cfg.Profiles) > 0 {
		for _, name := range cfg.Profiles {
			ui[name] = true
			prof, err := env.Dirs.ForProfile(name)
			if err == nil && !slices.ContainsFunc(found, func(p profileInfo) bool { return p.prof.Name == name }) {
				found = append(found, profileInfoOf(prof))
			}
		}
		sortProfiles(found)
	} else {
		for _, p := range found {
			if p.loggedIn() {
				ui[p.prof.Name] = true
			}
		}
		if len(ui) == 0 {
			ui["default"] = true
		}
	}
	rows := make([]profileJSON, 0, len(found))
	for _, p := range found {
		row := profileJSON{Profile: p.prof.Name, LoggedIn: p.loggedIn(), Default: p.prof.Name == "default", UI: ui[p.prof.Name]}
		if p.sess != nil {
			row.UserID, row.Homeserver = p.sess.UserID, p.sess.Homeserver
		}
		path := lockFile(p.prof)
		if held, err := flock.Held(path); err == nil && held {
			row.InUse = true
			row.PID, row.Window = readLock(path)
		}
		rows = append(rows, row)
	}
	if asJSON {
		return printJSON(env.Stdout, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(env.Stdout, "No profiles yet: `duet login --homeserver URL --user @you:server` makes \"default\" (--profile NAME another).")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE\tUSER\tHOMESERVER\tMARKS\tIN USE")
	for _, r := range rows {
		user, homeserver := "not logged in", "-"
		if r.LoggedIn {
			user, homeserver = string(r.UserID), r.Homeserver
		}
		var marks []string
		if r.Default {
			marks = append(marks, "default")
		}
		if r.UI {
			marks = append(marks, "ui")
		}
		inUse := "-"
		switch {
		case r.InUse && r.Window:
			inUse = "open in duet's window" + processOf(r.PID)
		case r.InUse && r.PID != "":
			inUse = "in use by process " + r.PID
		case r.InUse:
			inUse = "in use"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Profile, user, homeserver, orDash(strings.Join(marks, ",")), inUse)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// withAll adds dms' --all.
func withAll(fs *pflag.FlagSet, o *opts) {
	fs.BoolVar(&o.all, "all", false, "the contacts of every logged-in profile, each row with its profile")
}

// cmdDMsAll is `dms --all`: `dms` on every logged-in profile in turn, each locked and opened as
// a command does (runCommand), then one table or one JSON array of them all. A profile another
// duet holds is skipped with a line on stderr, and the others are listed; any skipped one
// makes the exit status 1.
func cmdDMsAll(inv *invocation, o *opts) error {
	found, err := findProfiles(inv.env)
	if err != nil {
		return err
	}
	var lists []dmsList
	var skipped []string
	tried := 0
	for _, p := range found {
		if !p.loggedIn() {
			continue
		}
		tried++
		env := inv.env
		env.Stderr = profileLines{w: inv.env.Stderr, profile: p.prof.Name}
		list, err := dmsOf(inv, env, p.prof, *o)
		if err != nil {
			var inUse *profileInUseError
			why := oneLine(err)
			if errors.As(err, &inUse) {
				why = "in use by " + inUse.holder()
			}
			fmt.Fprintf(env.Stderr, "duet: %s; skipped\n", why)
			skipped = append(skipped, p.prof.Name)
			continue
		}
		list.Profile, list.UserID = p.prof.Name, p.sess.UserID
		lists = append(lists, list)
	}
	if tried == 0 {
		return errors.New("no profile is logged in: run `duet login --homeserver URL --user @you:server` (--profile NAME for another account)")
	}
	if o.json {
		if err := printJSON(inv.env.Stdout, nonNil(lists)); err != nil {
			return err
		}
	} else if len(lists) > 0 { // every one skipped: no table, the lines on stderr say why
		if err := printDMTables(inv.env, lists); err != nil {
			return err
		}
	}
	if len(skipped) > 0 {
		return fmt.Errorf("%d of %d profiles skipped: %s", len(skipped), tried, strings.Join(skipped, ", "))
	}
	return nil
}

// dmsOf runs `dms` on one profile: locked for the time it takes, opened, caught up.
func dmsOf(inv *invocation, env Env, prof paths.Profile, o opts) (dmsList, error) {
	unlock, err := takeProfile(inv.ctx, env, prof, inv.resetCache)
	if err != nil {
		return dmsList{}, err
	}
	defer unlock()
	var list dmsList
	err = runCommand(inv.ctx, env, prof, "dms", func(ctx context.Context, env Env, app *App, o *opts) error {
		list, err = listDMs(ctx, env, app, o)
		if err == nil && !o.json {
			warnMalformedDirect(env, list)
		}
		return err
	}, &o)
	return list, err
}

// profileLines names the profile in each "duet: ..." line written through it: the warnings
// and notes of one profile among several.
type profileLines struct {
	w       io.Writer
	profile string
}

func (p profileLines) Write(b []byte) (int, error) {
	if rest, ok := bytes.CutPrefix(b, []byte("duet: ")); ok {
		if _, err := fmt.Fprintf(p.w, "duet: profile %s: %s", p.profile, rest); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return p.w.Write(b)
}
