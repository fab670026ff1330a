package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"duet/internal/config"
	"duet/internal/paths"
)

// The command line is defined once, here, as cobra commands: parsing, `duet help`, `--help`,
// completion and the man page all come from these definitions. cobra (with pflag) was chosen
// over kong: it is what gh, kubectl and hugo use, its bash/zsh/fish completion takes dynamic
// candidates with descriptions (ValidArgsFunction, RegisterFlagCompletionFunc), and cobra/doc
// writes the man page from the same tree.

// exitStatusText ends every command's help.
const exitStatusText = "Exit status: 0 success, 1 failure (one line on stderr says why), 2 bad usage."

// usageTemplate is the help of every command: its usage line, its arguments (the "args"
// annotation), examples, subcommands, flags and the exit status.
const usageTemplate = `Usage:
  duet {{if .HasParent}}{{.Use}}{{else}}[--profile NAME] [--reset-cache] [COMMAND]{{end}}{{with index .Annotations "args"}}

Arguments:
{{.}}{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

Commands:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Options:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global options:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableSubCommands}}

Run "duet help COMMAND" or "duet COMMAND --help" for a command's help.{{end}}

` + exitStatusText + "\n"

// invocation is one Run's state: the global options and whether a command's own code ran (an
// error before that is cobra's parsing or validation: bad usage).
type invocation struct {
	ctx        context.Context
	env        Env
	profiles   []string // --profile, as often as given
	command    string   // the command that runs ("duet": the UI), for messages
	resetCache bool
	version    bool
	json       bool // duet --version --json
	ran        bool
}

// spec is one duet command that runs on a profile's opened app (see runCommand).
type spec struct {
	use     string // the usage line after "duet", as the errors quote it
	args    string // what the positional arguments are, for help
	short   string
	long    string
	example string
	minPos  int
	maxPos  int
	kinds   []argKind // what each positional argument is, for completion
	flags   func(fs *pflag.FlagSet, o *opts)
	check   func(o *opts) error // more rules on the parsed options: usage errors
	run     func(ctx context.Context, env Env, app *App, o *opts) error
}

func withJSON(fs *pflag.FlagSet, o *opts) {
	fs.BoolVar(&o.json, "json", false, "print one JSON document instead of text")
}

func positiveLimit(o *opts) error {
	if o.limit <= 0 {
		return usagef("--limit must be a positive number")
	}
	return nil
}

// specs are the commands that run on the profile's session, in the order help lists them.
var specs = []spec{
	{use: "logout", short: "end this session on the server and forget it here",
		run: cmdLogout},
	{use: "whoami [--json]", short: "who you are logged in as",
		flags: withJSON, run: cmdWhoami},
	{kinds: []argKind{kindUser}, use: "dms [@user | --all] [--json]", args: "  @user    a Matrix user ID: @local:server", short: "your contacts, or every DM room shared with @user",
		long: "With no argument: your contacts (user ID, display name, chosen room, unread count) and your\n" +
			"group DMs.\n\n" +
			"With @user: every DM room shared with @user: the current one first, then the older rooms of the\n" +
			"same conversation and why each is not current (upgraded, left by them, older), then direct\n" +
			"rooms that are not 1:1.\n\n" +
			"With --all: the contacts and group DMs of every logged-in profile, one after the other, with a\n" +
			"PROFILE column; --json: an array with one object per profile, {profile, user_id (the account),\n" +
			"contacts, groups, notes_to_self, direct_well_formed, synced}, the rest as `dms --json` prints it.\n" +
			"A profile a running duet holds (the UI) is skipped with a line on stderr, the others are listed,\n" +
			"and the exit status is 1.",
		example: "  duet dms\n  duet dms @bob:example.org --json\n  duet dms --all --json | jq '.[] | .profile as $p | .contacts[] | [$p, .user_id] | @tsv'",
		maxPos:  1, flags: func(fs *pflag.FlagSet, o *opts) {
			withJSON(fs, o)
			withAll(fs, o)
		}, run: cmdDMs},
	{kinds: []argKind{kindUser}, use: "create-dm @user [--json]", args: "  @user    a Matrix user ID: @local:server", short: "create a new direct room with @user",
		minPos: 1, maxPos: 1, flags: withJSON, run: cmdCreateDM},
	{kinds: []argKind{kindTarget}, use: "send TARGET [TEXT] [--edit EVENT | --reply-to EVENT | --react EVENT | --file PATH | --vote EVENT | --end-poll EVENT | --poll QUESTION --answer A --answer B] [--thread ROOT] [--queue] [--json]",
		args: "  TARGET   @user:server (finds or creates the DM with them) or !room:server\n" +
			"  TEXT     the message (with --react: the emoji; with --vote: the answers, by number or ID,\n" +
			"           separated by commas); none, or \"-\", reads standard input;\n" +
			"           none on a terminal: write it in $VISUAL or $EDITOR",
		short: "send to @user (finds or creates the DM) or !room",
		long: "Send TEXT to @user (finds or creates the DM) or to a !room. No TEXT, or \"-\", reads standard\n" +
			"input; with no TEXT on a terminal, the message is written in $VISUAL (else $EDITOR, else vi).\n" +
			"TEXT is Markdown (sent with HTML when it formats anything).\n\n" +
			"Offline it fails, unless --queue: then the message is kept and the next duet run sends it (once).\n\n" +
			"--edit replaces the text of your message EVENT; --reply-to answers EVENT; --react EVENT reacts\n" +
			"with TEXT (an emoji); --file sends a file, no TEXT (image, video, audio or file by its type;\n" +
			"encrypted in encrypted rooms). --vote EVENT votes on a poll with the answers TEXT (1 is the\n" +
			"first; a new vote replaces yours); --end-poll EVENT ends a poll of yours; --poll QUESTION starts a\n" +
			"poll with two or more --answer (results shown as votes come unless --undisclosed; --max N\n" +
			"answers per person, 1 by default). --thread ROOT writes in the thread on the message ROOT (with\n" +
			"TEXT, --reply-to, --file or --poll). Replies, reactions, files, polls and thread messages go\n" +
			"through the outbox in order and the command waits for them. Event IDs come from\n" +
			"`duet messages --json` (and complete with TAB).",
		example: "  duet send @bob:example.org 'see you at noon'\n" +
			"  echo 'from a script' | duet send @bob:example.org\n" +
			"  duet send @bob:example.org 'see you at one' --edit '$event'\n" +
			"  duet send @bob:example.org 👍 --react '$event'\n" +
			"  duet send @bob:example.org --file notes.pdf\n" +
			"  duet send @bob:example.org --poll 'Lunch?' --answer pizza --answer soup\n" +
			"  duet send @bob:example.org --vote '$poll' 2\n" +
			"  duet send @bob:example.org 'count me in' --thread '$root'",
		minPos: 1, maxPos: 2, flags: func(fs *pflag.FlagSet, o *opts) {
			withJSON(fs, o)
			fs.BoolVar(&o.queue, "queue", false, "keep a message that cannot be sent now; the next duet run sends it")
			fs.StringVar(&o.edit, "edit", "", "replace the text of your message `EVENT` instead")
			fs.StringVar(&o.replyTo, "reply-to", "", "answer the message `EVENT`")
			fs.StringVar(&o.react, "react", "", "react to the message `EVENT` with TEXT (an emoji)")
			fs.StringVar(&o.file, "file", "", "send the file at `PATH` (encrypted in encrypted DMs)")
			fs.StringVar(&o.vote, "vote", "", "vote on the poll `EVENT` for the answers TEXT (numbers or IDs: 1,3)")
			fs.StringVar(&o.endPoll, "end-poll", "", "end your poll `EVENT`")
			fs.StringVar(&o.poll, "poll", "", "start a poll asking `QUESTION` (with --answer)")
			fs.StringArrayVar(&o.answers, "answer", nil, "an `ANSWER` of --poll (give it twice or more)")
			fs.BoolVar(&o.undisclosed, "undisclosed", false, "--poll: results only once the poll ends")
			fs.IntVar(&o.maxAnswers, "max", 1, "--poll: let each person pick up to `N` answers")
			fs.StringVar(&o.thread, "thread", "", "write in the thread on the message `ROOT`")
		}, run: cmdSend},
	{kinds: []argKind{kindTarget}, use: "messages TARGET [--limit N] [--thread ROOT] [--json]",
		args: "  TARGET   @user:server (the whole conversation with them, across rooms) or !room:server", short: "recent messages of that DM, oldest first",
		long: "Recent messages, oldest first. For @user, across every room that is or was a 1:1 with them (a\n" +
			"line marks each move to a new room or an upgrade).\n\n" +
			"--json gives each message its room_id, and reply_to, reactions (key, count, senders, mine),\n" +
			"file (kind, name, mimetype, size, encrypted), edited and redacted where they apply;\n" +
			"authenticity_not_guaranteed (and \"[authenticity not guaranteed]\" in the plain output) when\n" +
			"its key came from key backup, a key file or another device rather than from the sender's;\n" +
			"thread (the root of the thread a message is in) and thread_replies (on a root); kind (message,\n" +
			"sticker, poll, poll_end, call_invite, call_hangup, location, live_location, or other with its\n" +
			"type) and what it carries: poll (question, answers, counts while they may be shown), location\n" +
			"(uri, map), call.\n\n" +
			"--thread ROOT shows the thread on the message ROOT instead: ROOT, then its newest --limit\n" +
			"replies, oldest first (the history is read back to find ROOT when it is not here yet).",
		example: "  duet messages @bob:example.org --limit 50\n  duet messages @bob:example.org --thread '$root' --json",
		minPos:  1, maxPos: 1, flags: func(fs *pflag.FlagSet, o *opts) {
			withJSON(fs, o)
			fs.IntVar(&o.limit, "limit", 20, "show at most `N` messages")
			fs.StringVar(&o.thread, "thread", "", "show the thread on the message `ROOT`")
		}, check: positiveLimit, run: cmdMessages},
	{use: "search QUERY [--with @user] [--limit N] [--json]",
		args:  "  QUERY    words to find; \"quoted words\" together",
		short: "find messages by their words on this device, newest first",
		long: "Find messages by their words on this device (encrypted ones too; offline too; nothing is sent\n" +
			"to the server), newest first: time, person, room, snippet. Every word matches as a word or its\n" +
			"start, case and accents aside; \"quoted words\" must be together. No match: nothing on stdout,\n" +
			"a line on stderr, exit 0. A query it cannot take: exit 2, saying why.",
		example: "  duet search 'lunch friday'\n  duet search '\"train station\"' --with @bob:example.org",
		minPos:  1, maxPos: 1, flags: func(fs *pflag.FlagSet, o *opts) {
			withJSON(fs, o)
			fs.IntVar(&o.limit, "limit", 20, "show at most `N` results")
			fs.StringVar(&o.with, "with", "", "only the conversation with `@user`")
		}, check: positiveLimit, run: cmdSearch},
	{use: "invites [--json]", short: "pending invites",
		long: "Pending invites; direct ones marked with their inviter, and \"request\" when they come from\n" +
			"someone you share no room with.",
		flags: withJSON, run: cmdInvites},
	{kinds: []argKind{kindInvite}, use: "accept ROOM_ID", args: "  ROOM_ID  a pending invite's room ID (!opaque:server), as `duet invites` lists it", short: "join an invite (a direct one becomes a DM with its inviter)",
		minPos: 1, maxPos: 1, run: cmdAccept},
	{kinds: []argKind{kindInvite}, use: "decline ROOM_ID", args: "  ROOM_ID  a pending invite's room ID (!opaque:server), as `duet invites` lists it", short: "reject an invite",
		minPos: 1, maxPos: 1, run: cmdDecline},
	{kinds: []argKind{kindUser}, use: "block @user", args: "  @user    a Matrix user ID: @local:server", short: "ignore @user everywhere and decline their pending invites",
		long:   "Ignore @user everywhere (the server drops their messages and invites) and decline their pending invites.",
		minPos: 1, maxPos: 1, run: cmdBlock},
	{kinds: []argKind{kindBlocked}, use: "unblock @user", args: "  @user    a Matrix user ID: @local:server", short: "stop ignoring @user",
		minPos: 1, maxPos: 1, run: cmdUnblock},
	{use: "blocked [--json]", short: "the users you have blocked",
		flags: withJSON, run: cmdBlocked},
	{kinds: []argKind{kindUser}, use: "verify [--recovery-key | --setup | --accept | @user] [--stdin]",
		args:  "  @user    the person to compare emoji with (none: your other devices)",
		short: "verify this device, or compare emoji with someone",
		long: "verify --recovery-key: verify this device with your recovery key or passphrase and restore\n" +
			"  older messages from key backup.\n" +
			"verify --setup: no recovery key yet: make one (asks your account password).\n" +
			"verify [@user]: compare emoji with @user, or with your other devices.\n" +
			"verify --accept [@user]: wait for a verification started on one of your other devices (or by\n" +
			"  @user) and answer it; a request from anyone else is refused (the sender is told, and a line\n" +
			"  on stderr says who), and duet keeps waiting.",
		example: "  duet verify --recovery-key\n  duet verify @bob:example.org",
		maxPos:  1, flags: func(fs *pflag.FlagSet, o *opts) {
			fs.BoolVar(&o.recovery, "recovery-key", false, "verify with your recovery key or passphrase")
			fs.BoolVar(&o.setup, "setup", false, "make a recovery key (asks your account password)")
			fs.BoolVar(&o.accept, "accept", false, "answer a verification started elsewhere")
			fs.BoolVar(&o.secretStdin, "stdin", false, "read the key or password from standard input")
		}, run: cmdVerify},
	{kinds: []argKind{kindKeysVerb, kindFile}, use: "keys export|import FILE [--stdin]",
		args:    "  export   save this device's room keys to FILE (never overwrites it)\n  import   load room keys from FILE\n  FILE     a key file in Element's format",
		short:   "save or load room keys in Element's format (asks a passphrase)",
		example: "  duet keys export element-keys.txt",
		minPos:  2, maxPos: 2, flags: func(fs *pflag.FlagSet, o *opts) {
			fs.BoolVar(&o.secretStdin, "stdin", false, "read the passphrase from standard input")
		}, run: cmdKeys},
}

const loginUsage = "login --homeserver URL --user USER [--password-stdin], or duet login --homeserver URL --sso [--user USER] [--paste]"

func init() {
	cobra.EnableCommandSorting = false // help lists the commands in the order they are defined
}

// newRoot builds duet's command tree for one run.
func newRoot(inv *invocation) *cobra.Command {
	root := &cobra.Command{
		Use:   "duet [--profile NAME] [COMMAND]",
		Short: "direct messages on Matrix, in your terminal",
		Long: "duet: direct messages on Matrix, in your terminal\n\n" +
			"With no command, duet starts the terminal UI (a login form when not logged in) on the profiles\n" +
			"--profile names (give it more than once to open several accounts in one window), else on the\n" +
			"config's `profiles`, else on every logged-in profile (`duet profiles` lists them).\n\n" +
			"Every command first catches up with the server from the stored sync position. Everything a\n" +
			"command prints goes through one writer that shows control characters as visible stand-ins\n" +
			"(ESC as ␛); --json escapes them instead, still valid JSON with every value as sent.",
		SilenceUsage:          true,
		SilenceErrors:         true,
		DisableFlagsInUseLine: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q", args[0])
			}
			return nil
		},
		RunE: inv.wrap(func(cmd *cobra.Command, args []string) error {
			if inv.version {
				return printVersion(inv.env.Stdout, inv.json)
			}
			if inv.json {
				return usagef("--json goes with --version or a command (usage: duet --version [--json])")
			}
			profs, unlock, skipped, err := inv.takeForUI()
			if err != nil {
				return err
			}
			defer unlock()
			return runUIs(inv.ctx, inv.env, profs, skipped...)
		}),
	}
	root.Flags().BoolVar(&inv.version, "version", false, "print the version of duet and the revision it was built from")
	root.Flags().BoolVar(&inv.json, "json", false, "with --version: print one JSON document")
	pf := root.PersistentFlags()
	pf.StringArrayVar(&inv.profiles, "profile", nil, "keep several accounts apart: use the profile `NAME` (default \"default\")")
	pf.BoolVar(&inv.resetCache, "reset-cache", false, "rebuild the local database from the server (after it was damaged, or written by a newer duet); queued messages are kept")

	_ = root.RegisterFlagCompletionFunc("profile", inv.completeProfiles)
	root.AddCommand(loginCommand(inv))
	for _, s := range specs {
		root.AddCommand(s.command(inv))
	}
	root.AddCommand(profilesCommand(inv))
	root.AddCommand(versionCommand(inv))
	root.AddCommand(completionCommand(inv))
	root.CompletionOptions.DisableDefaultCmd = true // completionCommand is duet's
	root.SetHelpCommand(helpCommand(inv))
	root.AddCommand(&cobra.Command{
		Use:                   "demo",
		Short:                 "try duet on a throwaway local homeserver with people to talk to",
		DisableFlagsInUseLine: true,
		Args:                  cobra.ArbitraryArgs, // cmdDemo says it takes none
		RunE: inv.wrap(func(cmd *cobra.Command, args []string) error {
			return cmdDemo(inv.ctx, inv.env, args)
		}),
	})

	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usagef("%w (usage: duet %s)", err, usageOf(cmd))
	})
	root.SetUsageTemplate(usageTemplate)
	root.SetIn(inv.env.Stdin)
	root.SetOut(inv.env.Stdout)
	root.SetErr(inv.env.Stderr)
	return root
}

// usageOf is cmd's usage line after "duet".
func usageOf(cmd *cobra.Command) string {
	if cmd.Name() == "login" {
		return loginUsage
	}
	if !cmd.HasParent() {
		return "[--profile NAME] [COMMAND]"
	}
	return cmd.Use
}

// argCount is a command's rule on the number of its positional arguments.
func argCount(use string, min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || len(args) > max {
			return usagef("wrong number of arguments (usage: duet %s)", use)
		}
		return nil
	}
}

func (s spec) command(inv *invocation) *cobra.Command {
	o := &opts{}
	cmd := &cobra.Command{
		Use:                   s.use,
		Short:                 s.short,
		Long:                  s.long,
		Example:               s.example,
		DisableFlagsInUseLine: true,
	}
	if s.args != "" {
		cmd.Annotations = map[string]string{"args": s.args}
	}
	if cmd.Long == "" {
		cmd.Long = strings.ToUpper(s.short[:1]) + s.short[1:] + "."
	}
	if s.flags != nil {
		s.flags(cmd.Flags(), o)
	}
	cmd.ValidArgsFunction = inv.completeArgs(s.kinds)
	for name, kind := range flagKinds {
		if cmd.Flags().Lookup(name) != nil {
			_ = cmd.RegisterFlagCompletionFunc(name, inv.completeFlag(kind))
		}
	}
	count := argCount(s.use, s.minPos, s.maxPos)
	cmd.Args = func(cmd *cobra.Command, args []string) error {
		if err := count(cmd, args); err != nil {
			return err
		}
		if s.check != nil {
			return s.check(o)
		}
		return nil
	}
	cmd.RunE = inv.wrap(func(cmd *cobra.Command, args []string) error {
		o.pos = args
		if o.all { // dms --all
			switch {
			case len(args) > 0:
				return usagef("dms --all lists every profile's contacts; for the rooms shared with %s, leave out --all", args[0])
			case len(inv.profiles) > 0:
				return usagef("dms --all lists every logged-in profile; leave out --profile, or --all")
			}
			return cmdDMsAll(inv, o)
		}
		prof, unlock, err := inv.take()
		if err != nil {
			return err
		}
		defer unlock()
		return runCommand(inv.ctx, inv.env, prof, cmd.Name(), s.run, o)
	})
	return cmd
}

// loginFlags are `duet login`'s options.
type loginFlags struct {
	homeserver, user string
	passwordStdin    bool
	sso              ssoFlags // --sso, --paste, --port, --idp: browserlogin.go
}

func loginCommand(inv *invocation) *cobra.Command {
	var f loginFlags
	cmd := &cobra.Command{
		Use:   "login --homeserver URL --user USER [--password-stdin] | --sso [--user USER] [--paste] [--port N] [--idp ID]",
		Short: "log in with a password, or in the browser",
		Long: "Log in with a password (USER: @local:server, or local with --homeserver); it is asked for on\n" +
			"the terminal, or read from standard input with --password-stdin. Without --homeserver, the\n" +
			"homeserver is found from the user ID's server (.well-known).\n\n" +
			"With --sso, log in in the browser: OAuth 2.0 or single sign-on (for accounts without a\n" +
			"password); --paste for a browser on another machine (SSH): paste the address it ends on.\n" +
			"See docs/login.md.",
		Example: "  duet login --homeserver https://matrix.example.org --user alice\n" +
			"  pass matrix | duet login --user @alice:example.org --password-stdin\n" +
			"  duet login --homeserver https://matrix.example.org --sso",
		DisableFlagsInUseLine: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q (usage: duet %s)", args[0], loginUsage)
			}
			return nil
		},
		RunE: inv.wrap(func(cmd *cobra.Command, args []string) error {
			prof, unlock, err := inv.take()
			if err != nil {
				return err
			}
			defer unlock()
			return cmdLogin(inv.ctx, inv.env, prof, f)
		}),
	}
	fs := cmd.Flags()
	fs.StringVar(&f.homeserver, "homeserver", "", "the homeserver's `URL`")
	fs.StringVar(&f.user, "user", "", "your user ID `USER`: @local:server, or local with --homeserver")
	fs.BoolVar(&f.passwordStdin, "password-stdin", false, "read the password from standard input")
	f.sso.register(fs)
	return cmd
}

// wrap marks that a command's own code runs: its errors are its own, not cobra's.
func (inv *invocation) wrap(run func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		inv.ran = true
		inv.command = cmd.Name()
		return run(cmd, args)
	}
}

// profile is the one profile a command runs on: the --profile given, else "default". Only the
// UI takes several.
func (inv *invocation) profile() (string, error) {
	switch len(inv.profiles) {
	case 0:
		return "default", nil
	case 1:
		return inv.profiles[0], nil
	}
	return "", usagef("%s takes one --profile (only duet with no command opens several)", inv.command)
}

// take opens the profile the options name and locks it for this run (see takeProfile).
func (inv *invocation) take() (paths.Profile, func(), error) {
	name, err := inv.profile()
	if err != nil {
		return paths.Profile{}, nil, err
	}
	prof, err := inv.env.Dirs.ForProfile(name)
	if err != nil {
		return prof, nil, usagef("%w", err)
	}
	unlock, err := takeProfile(inv.ctx, inv.env, prof, inv.resetCache)
	if err != nil {
		return prof, nil, inv.inUse(err)
	}
	return prof, unlock, nil
}

// takeForUI finds the profiles the UI opens (uiProfiles) and locks each for this run, marked
// as duet's window; unlock releases them all.
//
// With several profiles, one that another duet holds is left out (skipped says why) rather
// than keep the others closed: a script's `duet send --profile work` must not stop the window
// from opening. With one, or when every one is held, that is the error.
func (inv *invocation) takeForUI() (_ []paths.Profile, _ func(), skipped []string, _ error) {
	base, err := inv.env.Dirs.ForProfile("default")
	if err != nil {
		return nil, nil, nil, err
	}
	cfg, err := config.Load(base.ConfigFile()) // one file for every profile
	if err != nil {
		return nil, nil, nil, err
	}
	profs, err := uiProfiles(inv.env, inv.profiles, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	var unlocks []func()
	unlockAll := func() {
		for i := len(unlocks) - 1; i >= 0; i-- {
			unlocks[i]()
		}
	}
	var taken []paths.Profile
	var firstErr error
	for _, prof := range profs {
		unlock, err := takeProfileAs(inv.ctx, inv.env, prof, inv.resetCache, holderUI)
		var inUse *profileInUseError
		if err != nil && len(profs) > 1 && errors.As(err, &inUse) {
			firstErr = cmp.Or(firstErr, inv.inUse(err))
			skipped = append(skipped, fmt.Sprintf("profile %q not opened: another %s is using it", prof.Name, inUse.holder()))
			continue
		}
		if err != nil {
			unlockAll()
			return nil, nil, nil, inv.inUse(err)
		}
		unlocks = append(unlocks, unlock)
		taken = append(taken, prof)
	}
	if len(taken) == 0 {
		return nil, nil, nil, firstErr
	}
	return taken, unlockAll, skipped, nil
}

// inUse fills in the command that met a profile another duet holds, for the advice its error
// gives.
func (inv *invocation) inUse(err error) error {
	var inUse *profileInUseError
	if errors.As(err, &inUse) {
		inUse.command = inv.command
	}
	return err
}

// execute runs args through the command tree. An error from before a command's own code ran
// (cobra's parsing and validation) is bad usage.
func execute(ctx context.Context, env Env, args []string) error {
	inv := &invocation{ctx: ctx, env: env}
	root := newRoot(inv)
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	if len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		plainFlagUsages(root) // the shell shows the usage as the description: no `NAME` quotes
	}
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ue usageError
	if err != nil && !inv.ran && !errors.As(err, &ue) {
		return usageError{msg: err.Error(), err: err}
	}
	return err
}

// helpCommand is `duet help [COMMAND]`: cobra's own says an unknown topic with exit 0.
func helpCommand(inv *invocation) *cobra.Command {
	return &cobra.Command{
		Use:                   "help [COMMAND]",
		Short:                 "help for duet, or for one command",
		Long:                  "Help for duet, or for one command: its arguments, options, examples and exit status.",
		Annotations:           map[string]string{"args": "  COMMAND  the command to explain"},
		Example:               "  duet help send",
		DisableFlagsInUseLine: true,
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []cobra.Completion
			for _, c := range cmd.Root().Commands() {
				if c.IsAvailableCommand() && strings.HasPrefix(c.Name(), toComplete) {
					names = append(names, cobra.CompletionWithDesc(c.Name(), c.Short))
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: inv.wrap(func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			c, _, err := root.Find(args)
			if err != nil || c == root && len(args) > 0 {
				return usagef("unknown command %q", args[0])
			}
			c.InitDefaultHelpFlag()
			return c.Help()
		}),
	}
}

// plainFlagUsages drops the backquotes that name a flag's value in help (pflag's `NAME`).
func plainFlagUsages(cmd *cobra.Command) {
	strip := func(f *pflag.Flag) { f.Usage = strings.ReplaceAll(f.Usage, "`", "") }
	cmd.Flags().VisitAll(strip)
	cmd.PersistentFlags().VisitAll(strip)
	for _, c := range cmd.Commands() {
		plainFlagUsages(c)
	}
}
