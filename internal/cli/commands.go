package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/term"
	"maunium.net/go/mautrix/id"

	"duet/internal/editor"
	"duet/internal/paths"
	"duet/internal/sanitize"
	"duet/matrixsvc"
	"duet/store"
)

// opts are a command's parsed arguments.
type opts struct {
	json        bool
	queue       bool
	limit       int
	with        string   // search --with @user
	edit        string   // send --edit $event
	replyTo     string   // send --reply-to $event
	react       string   // send --react $event (TEXT is the reaction)
	file        string   // send --file PATH
	thread      string   // send, messages --thread $root
	vote        string   // send --vote $poll (TEXT is the answers)
	endPoll     string   // send --end-poll $poll
	poll        string   // send --poll QUESTION
	answers     []string // send --answer (of --poll)
	maxAnswers  int      // send --max (of --poll)
	undisclosed bool     // send --undisclosed (of --poll)
	all         bool     // dms --all: every logged-in profile
	pos         []string
	offline     error // the catch-up failed for a passing reason (send --queue goes on)
	// bootstrapped: dms on a device whose first sync has not been saved answers from the
	// small requests (matrixsvc.Bootstrap): no unread counts or activity yet.
	bootstrapped bool

	secretStdin bool // verify, keys: read the key, password or passphrase from standard input
	recovery    bool // verify --recovery-key
	setup       bool // verify --setup
	accept      bool // verify --accept
}

// printJSON prints v as JSON that a terminal shows inert (sanitize.JSON) and a parser reads
// as it was: what is printed goes through the output writer unchanged.
func printJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(sanitize.JSON(b.Bytes()))
	return err
}

func matrixTo(room id.RoomID) string { return "https://matrix.to/#/" + string(room) }

func cmdLogin(ctx context.Context, env Env, prof paths.Profile, f loginFlags) error {
	homeserver, user, fromStdin, sso := f.homeserver, f.user, f.passwordStdin, f.sso
	if sso.used() {
		return cmdLoginBrowser(ctx, env, prof, homeserver, user, fromStdin, sso)
	}
	if user == "" {
		return usagef("--user is required (usage: duet login --homeserver URL --user USER [--password-stdin])")
	}
	if !strings.HasPrefix(user, "@") && homeserver == "" {
		return usagef("%q has no server: use --user @%s:example.org, or give --homeserver URL", user, user)
	}
	password, err := loginPassword(ctx, env, homeserver, user, fromStdin)
	if err != nil {
		return err
	}
	log, logFile, err := openLog(prof)
	if err != nil {
		return err
	}
	defer logFile.Close()
	sess, err := login(ctx, prof, log, homeserver, user, password)
	if err != nil {
		return err
	}
	log.Info().Stringer("user_id", sess.UserID).Stringer("device_id", sess.DeviceID).Msg("logged in")
	fmt.Fprintf(env.Stdout, "Logged in as %s (device %s) on %s.\n", sess.UserID, sess.DeviceID, sess.Homeserver)
	return nil
}

// loginPassword is the password `duet login` logs in with: piped in (fromStdin), or asked for
// on the terminal once the server is known to take one.
func loginPassword(ctx context.Context, env Env, homeserver, user string, fromStdin bool) (string, error) {
	var password string
	switch {
	case fromStdin:
		data, err := io.ReadAll(io.LimitReader(env.Stdin, 64<<10))
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		password = strings.TrimRight(string(data), "\r\n")
	case env.ReadPassword != nil:
		// A server that takes no password says so before one is asked for (piped in, the
		// login itself says it).
		if err := matrixsvc.CheckPasswordOffered(ctx, homeserver, user, zerolog.Nop()); err != nil {
			return "", err
		}
		p, err := env.ReadPassword(fmt.Sprintf("Password for %s: ", user))
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		password = p
	default:
		return "", usagef("standard input is not a terminal: pass --password-stdin and pipe the password")
	}
	if password == "" {
		return "", errors.New("empty password: nothing to log in with")
	}
	return password, nil
}

// login logs in and saves the session. Logging in again as the same user reuses this profile's
// device, keys included; anything else is a new device with a new crypto store.
func login(ctx context.Context, prof paths.Profile, log zerolog.Logger, homeserver, user, password string) (*store.Session, error) {
	old, _ := store.LoadSession(prof.SessionFile())
	sess, err := matrixsvc.Login(ctx, matrixsvc.LoginParams{Homeserver: homeserver, User: user, Password: password, DeviceID: reusableDevice(prof, old, user)}, log)
	if err != nil {
		return nil, err
	}
	return sess, adoptSession(prof, old, sess)
}

// adoptSession saves a new login's session, keeping this profile's device keys when it is the
// same user's same device, and its cache when it is the same user.
func adoptSession(prof paths.Profile, old, sess *store.Session) error {
	if old != nil && old.UserID != sess.UserID {
		// Another account's cache must not leak into this one.
		if err := removeDatabase(prof); err != nil {
			return err
		}
	}
	if old != nil && old.UserID == sess.UserID && old.DeviceID == sess.DeviceID && old.PickleKey != "" {
		sess.PickleKey = old.PickleKey
	} else {
		if err := removeCrypto(prof); err != nil {
			return err
		}
		sess.PickleKey = matrixsvc.NewPickleKey()
	}
	if err := store.SaveSession(prof.SessionFile(), sess); err != nil {
		return err
	}
	return nil
}

// reusableDevice is the device to log in to again: this profile's, for the same user, when its
// keys are still here.
func reusableDevice(prof paths.Profile, old *store.Session, user string) id.DeviceID {
	if old == nil || old.DeviceID == "" || old.PickleKey == "" {
		return ""
	}
	if _, err := os.Stat(prof.CryptoDatabase()); err != nil {
		return ""
	}
	if string(old.UserID) == user || strings.HasPrefix(string(old.UserID), "@"+user+":") {
		return old.DeviceID
	}
	return ""
}

func cmdLogout(ctx context.Context, env Env, app *App, o *opts) error {
	if err := app.Svc.Logout(ctx); err != nil {
		return err
	}
	app.Store.Close()
	app.Store = nil
	if err := removeFiles(app.Profile.SessionFile()); err != nil {
		return fmt.Errorf("logged out on the server, but %w", err)
	}
	if err := removeDatabase(app.Profile); err != nil {
		return fmt.Errorf("logged out on the server, but %w", err)
	}
	app.Svc.Close()
	if err := removeCrypto(app.Profile); err != nil {
		return fmt.Errorf("logged out on the server, but %w", err)
	}
	fmt.Fprintf(env.Stdout, "Logged out %s.\n", app.Session.UserID)
	return nil
}

func cmdWhoami(ctx context.Context, env Env, app *App, o *opts) error {
	user, device, err := app.Svc.Whoami(ctx)
	if err != nil {
		return err
	}
	if o.json {
		return printJSON(env.Stdout, map[string]string{"user_id": string(user), "device_id": string(device), "homeserver": app.Session.Homeserver})
	}
	fmt.Fprintf(env.Stdout, "%s (device %s) on %s\n", user, device, app.Session.Homeserver)
	return nil
}

type contactJSON struct {
	UserID       id.UserID   `json:"user_id"`
	DisplayName  string      `json:"display_name"`
	RoomID       id.RoomID   `json:"room_id"`
	Unread       int         `json:"unread"`
	LastActivity int64       `json:"last_activity"`
	Rooms        []id.RoomID `json:"rooms"`
	Pending      bool        `json:"pending_invite"`
	InviteRooms  []id.RoomID `json:"invite_rooms,omitempty"`
}

type groupJSON struct {
	RoomID       id.RoomID   `json:"room_id"`
	Name         string      `json:"name"`
	Users        []id.UserID `json:"users"`
	MemberCount  int         `json:"member_count"`
	Unread       int         `json:"unread"`
	LastActivity int64       `json:"last_activity"`
}

func cmdDMs(ctx context.Context, env Env, app *App, o *opts) error {
	if len(o.pos) == 1 {
		return cmdDMsWith(ctx, env, app, o)
	}
	list, err := listDMs(ctx, env, app, o)
	if err != nil {
		return err
	}
	return printDMs(env, list.Contacts, list.Groups, list.NotesToSelf, list.DirectWellFormed, list.Synced, o.json)
}

// printDMs prints `dms`: one JSON document, or the contacts and the group DMs as tables.
func printDMs(env Env, contacts []contactJSON, groups []groupJSON, notes []id.RoomID, wellFormed, synced, asJSON bool) error {
	list := dmsList{Contacts: nonNil(contacts), Groups: nonNil(groups), NotesToSelf: nonNil(notes), DirectWellFormed: wellFormed, Synced: synced}
	if asJSON {
		return printJSON(env.Stdout, list)
	}
	warnMalformedDirect(env, list)
	return printDMTables(env, []dmsList{list})
}

// dmsList is one account's `dms`: its contacts and group DMs. Profile and UserID (the
// account) are set by `dms --all` only.
type dmsList struct {
	Profile          string        `json:"profile,omitempty"`
	UserID           id.UserID     `json:"user_id,omitempty"`
	Contacts         []contactJSON `json:"contacts"`
	DirectWellFormed bool          `json:"direct_well_formed"`
	Groups           []groupJSON   `json:"groups"`
	NotesToSelf      []id.RoomID   `json:"notes_to_self"`
	Synced           bool          `json:"synced"`
}

// listDMs reads the app's contacts and group DMs.
func listDMs(ctx context.Context, env Env, app *App, o *opts) (dmsList, error) {
	list, err := app.Svc.Contacts(ctx, true)
	if err != nil {
		return dmsList{}, err
	}
	contacts := make([]contactJSON, 0, len(list.Contacts))
	for _, c := range list.Contacts {
		contacts = append(contacts, contactJSON{
			UserID: c.UserID, DisplayName: app.Svc.DisplayName(ctx, c.UserID, true), RoomID: c.Room,
			Unread: c.Unread, LastActivity: c.LastActivity, Rooms: c.Rooms, Pending: c.Pending, InviteRooms: c.InviteRooms,
		})
	}
	groups := make([]groupJSON, 0, len(list.Groups))
	for _, g := range list.Groups {
		groups = append(groups, groupJSON{RoomID: g.RoomID, Name: g.Name, Users: g.Users, MemberCount: g.MemberCount, Unread: g.Unread, LastActivity: g.LastActivity})
	}
	wellFormed, err := app.Svc.DirectWellFormed(ctx)
	if err != nil {
		return dmsList{}, err
	}
	if o.bootstrapped {
		fmt.Fprintln(env.Stderr, "duet: this device's first sync has not been done yet: names and rooms are known, "+
			"unread counts and activity come with it (run duet, or any other command, to do it)")
	}
	return dmsList{Contacts: contacts, Groups: groups, NotesToSelf: nonNil(list.NotesToSelf),
		DirectWellFormed: wellFormed, Synced: !o.bootstrapped}, nil
}

func warnMalformedDirect(env Env, list dmsList) {
	if !list.DirectWellFormed {
		fmt.Fprintln(env.Stderr, "duet: warning: your m.direct account data is malformed; showing what can be read, and not changing it")
	}
}

// printDMTables prints the contacts and the group DMs of `dms` as tables; with a PROFILE
// column first when the lists are of profiles (dms --all).
func printDMTables(env Env, lists []dmsList) error {
	several := len(lists) > 0 && lists[0].Profile != ""
	col := func(l dmsList) string {
		if several {
			return l.Profile + "\t"
		}
		return ""
	}
	head := ""
	if several {
		head = "PROFILE\t"
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, head+"USER\tNAME\tROOM\tUNREAD")
	anyGroups := false
	for _, l := range lists {
		for _, c := range l.Contacts {
			room := string(c.RoomID)
			switch {
			case c.Pending:
				room = "(invite: " + string(c.InviteRooms[0]) + ")"
			case room == "":
				room = "(none: a new room will be created)"
			}
			fmt.Fprintf(tw, "%s%s\t%s\t%s\t%d\n", col(l), sanitize.Line(string(c.UserID)), sanitize.Line(c.DisplayName), sanitize.Line(room), c.Unread)
		}
		anyGroups = anyGroups || len(l.Groups) > 0
	}
	tw.Flush()
	if anyGroups {
		fmt.Fprintln(env.Stdout, "\nGroup DMs:")
		tw = tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, head+"ROOM\tNAME\tMEMBERS\tUNREAD")
		for _, l := range lists {
			for _, g := range l.Groups {
				fmt.Fprintf(tw, "%s%s\t%s\t%d\t%d\n", col(l), sanitize.Line(string(g.RoomID)), sanitize.Line(g.Name), g.MemberCount, g.Unread)
			}
		}
		tw.Flush()
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func parseUser(app *App, raw string) (id.UserID, error) {
	return matrixsvc.ValidateUserID(app.Svc.Me(), raw)
}

func cmdDMsWith(ctx context.Context, env Env, app *App, o *opts) error {
	x, err := parseUser(app, o.pos[0])
	if err != nil {
		return err
	}
	rooms, err := app.Svc.DMRooms(ctx, x)
	if err != nil {
		return err
	}
	chain, err := app.Svc.Conversation(ctx, x)
	if err != nil {
		return err
	}
	out := dmRoomsWith(rooms, chain)
	if o.json {
		return printJSON(env.Stdout, out)
	}
	if len(out) == 0 {
		fmt.Fprintf(env.Stdout, "No DM rooms with %s. `duet send %s TEXT` starts one.\n", x, x)
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROOM\tMEMBERS\t1:1\tLINK")
	for _, r := range out {
		one := "no"
		if r.OneToOne {
			one = "yes"
		}
		switch {
		case r.Chosen:
			one += " (chosen)"
		case r.Why != "":
			one += " (" + r.Why + ")"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", r.RoomID, r.MemberCount, one, r.Link)
	}
	return tw.Flush()
}

// dmRoomJSON is one room in `dms-with`.
type dmRoomJSON struct {
	RoomID       id.RoomID `json:"room_id"`
	MemberCount  int       `json:"member_count"`
	OneToOne     bool      `json:"one_to_one"`
	Chosen       bool      `json:"chosen"`
	Listed       bool      `json:"listed_in_m_direct"`
	OtherLeft    bool      `json:"other_left"`
	LastActivity int64     `json:"last_activity"`
	Link         string    `json:"link"`
	// Why it is not where messages go: "" for the current room, "upgraded", "left by
	// them", "shared" (someone else came in), "older" (rooms of the one conversation,
	// R22), or "not 1:1".
	Why string `json:"why,omitempty"`
}

// dmRoomsWith lists the rooms of `dms-with`: the conversation's rooms first (R22: the current
// one, then the older ones), then the other direct rooms shared with the person.
func dmRoomsWith(rooms []matrixsvc.DMRoomChoice, chain []matrixsvc.ConversationRoom) []dmRoomJSON {
	byID := map[id.RoomID]matrixsvc.DMRoomChoice{}
	for _, r := range rooms {
		byID[r.RoomID] = r
	}
	out := make([]dmRoomJSON, 0, len(rooms)+len(chain))
	seen := map[id.RoomID]bool{}
	for _, c := range chain {
		r := byID[c.RoomID]
		seen[c.RoomID] = true
		out = append(out, dmRoomJSON{c.RoomID, r.MemberCount, r.OneToOne, c.Why == "", r.Listed, r.XLeft || c.Why == "left by them", r.LastActivity, matrixTo(c.RoomID), c.Why})
	}
	for _, r := range rooms {
		if seen[r.RoomID] {
			continue
		}
		why := "older"
		if !r.OneToOne {
			why = "not 1:1"
		}
		if r.Chosen {
			why = ""
		}
		out = append(out, dmRoomJSON{r.RoomID, r.MemberCount, r.OneToOne, r.Chosen, r.Listed, r.XLeft, r.LastActivity, matrixTo(r.RoomID), why})
	}
	return out
}

func cmdCreateDM(ctx context.Context, env Env, app *App, o *opts) error {
	x, err := parseUser(app, o.pos[0])
	if err != nil {
		return err
	}
	room, err := app.Svc.CreateDM(ctx, x)
	if err = warnNotRecorded(env, err); err != nil {
		return err
	}
	if o.json {
		return printJSON(env.Stdout, map[string]any{"room_id": room, "user_id": x, "link": matrixTo(room)})
	}
	fmt.Fprintln(env.Stdout, room)
	return nil
}

// target resolves @user (R5-R9, creating with R10-R12 when create) or !room.
func target(ctx context.Context, app *App, raw string, create bool) (room id.RoomID, created bool, err error) {
	switch {
	case strings.HasPrefix(raw, "!"):
		room, err := roomArg(raw)
		return room, false, err
	case strings.HasPrefix(raw, "@"):
		x, err := parseUser(app, raw)
		if err != nil {
			return "", false, err
		}
		if create {
			return app.Svc.OpenDM(ctx, x)
		}
		room, found, err := app.Svc.FindDM(ctx, x)
		if err == nil && !found {
			err = fmt.Errorf("no DM with %s yet: `duet send %s TEXT` starts one", x, x)
		}
		return room, false, err
	default:
		return "", false, usagef("%q is neither a user (@name:server) nor a room (!id:server)", raw)
	}
}

// cmdSend sends TEXT (or standard input) to TARGET: a message, or with one of --edit,
// --reply-to, --react, --file, --vote, --end-poll and --poll, that instead.
func cmdSend(ctx context.Context, env Env, app *App, o *opts) error {
	kinds := 0
	for _, f := range []string{o.edit, o.replyTo, o.react, o.file, o.vote, o.endPoll, o.poll} {
		if f != "" {
			kinds++
		}
	}
	thread := id.EventID(strings.TrimSpace(o.thread))
	if o.thread != "" {
		if !strings.HasPrefix(string(thread), "$") {
			return usagef("%q is not an event ID (they start with $; `duet messages TARGET --json` shows them)", thread)
		}
		if o.edit != "" || o.react != "" || o.vote != "" || o.endPoll != "" {
			return usagef("--thread goes with TEXT, --reply-to, --file or --poll: an edit, a reaction or a vote stays where its message is")
		}
		if err := toThreadRoom(ctx, app, o, thread); err != nil {
			return err
		}
	}
	switch {
	case kinds > 1:
		return usagef("give one of --edit, --reply-to, --react, --file, --vote, --end-poll and --poll")
	case o.poll == "" && (len(o.answers) > 0 || o.undisclosed || o.maxAnswers != 1):
		return usagef("--answer, --undisclosed and --max go with --poll")
	case o.vote != "":
		return sendVote(ctx, env, app, o)
	case o.endPoll != "":
		return sendEndPoll(ctx, env, app, o)
	case o.poll != "":
		return sendNewPoll(ctx, env, app, o)
	}
	if o.file != "" {
		if len(o.pos) == 2 {
			return usagef("--file sends the file alone: no TEXT")
		}
		return sendQueued(ctx, env, app, o, "file", thread, func(room id.RoomID, user id.UserID, txn string) error {
			return app.Svc.Enqueue(ctx, matrixsvc.Outgoing{Kind: matrixsvc.KindFile, Room: room, Target: user, File: o.file, Thread: thread, TxnID: txn})
		})
	}
	text, err := sendArgText(env, o)
	if err != nil {
		return err
	}
	switch {
	case o.edit != "":
		return sendEdit(ctx, env, app, o, text)
	case o.replyTo != "" || o.react != "":
		return sendAnswer(ctx, env, app, o, text)
	case thread != "":
		return sendQueued(ctx, env, app, o, "thread message", thread, func(room id.RoomID, user id.UserID, txn string) error {
			return app.Svc.Enqueue(ctx, matrixsvc.Outgoing{Kind: matrixsvc.KindText, Room: room, Target: user, Body: text, Thread: thread, TxnID: txn})
		})
	}
	return sendText(ctx, env, app, o, text)
}

// sendArgText is the TEXT argument; with none, the message written in $VISUAL/$EDITOR when
// standard input is a terminal, else standard input (also for "-").
func sendArgText(env Env, o *opts) (string, error) {
	var text string
	if len(o.pos) == 2 && o.pos[1] != "-" {
		text = o.pos[1]
	} else if tty := terminalStdin(env); tty != nil && len(o.pos) < 2 {
		written, err := editor.Run(editor.Command(env.Getenv), "", tty, os.Stdout, os.Stderr)
		switch {
		case errors.Is(err, editor.ErrEmpty):
			return "", usagef("nothing to send: the editor saved an empty message")
		case err != nil:
			return "", fmt.Errorf("write the message in the editor: %w", err)
		}
		text = written
	} else {
		data, err := io.ReadAll(io.LimitReader(env.Stdin, 1<<20))
		if err != nil {
			return "", fmt.Errorf("read message from standard input: %w", err)
		}
		text = strings.TrimRight(string(data), "\n")
	}
	if strings.TrimSpace(text) == "" {
		return "", usagef("nothing to send: give TEXT, or pipe it on standard input")
	}
	return text, nil
}

// terminalStdin is standard input when it is a terminal (someone at the keyboard, who may
// write the message in the editor), else nil (a pipe or a file: read as it is).
func terminalStdin(env Env) *os.File {
	if f, ok := env.Stdin.(*os.File); ok && f != nil && term.IsTerminal(int(f.Fd())) {
		return f
	}
	return nil
}

// sendAnswer sends a reply (--reply-to) or a reaction (--react) to a message, through the
// outbox.
func sendAnswer(ctx context.Context, env Env, app *App, o *opts, text string) error {
	evt := id.EventID(strings.TrimSpace(o.replyTo + o.react))
	if !strings.HasPrefix(string(evt), "$") {
		return usagef("%q is not an event ID (they start with $; `duet messages TARGET --json` shows them)", evt)
	}
	if o.react != "" {
		return sendQueued(ctx, env, app, o, "reaction", evt, func(room id.RoomID, _ id.UserID, txn string) error {
			return app.Svc.Enqueue(ctx, matrixsvc.Outgoing{Kind: matrixsvc.KindReaction, Room: room, Of: evt, Key: strings.TrimSpace(text), TxnID: txn})
		})
	}
	return sendQueued(ctx, env, app, o, "reply", evt, func(room id.RoomID, user id.UserID, txn string) error {
		return app.Svc.Enqueue(ctx, matrixsvc.Outgoing{Kind: matrixsvc.KindReply, Room: room, Target: user, Body: text, ReplyTo: evt,
			Thread: id.EventID(strings.TrimSpace(o.thread)), TxnID: txn})
	})
}

// sendText sends a message at once, finding or making the DM as the UI does; with --queue, one
// that cannot go now waits in the outbox.
func sendText(ctx context.Context, env Env, app *App, o *opts, text string) error {
	if o.offline != nil {
		return queueSend(ctx, env, app, o, "", text, o.offline)
	}
	room, created, err := target(ctx, app, o.pos[0], true)
	if err = warnNotRecorded(env, err); err != nil {
		if o.queue && matrixsvc.Temporary(err) {
			return queueSend(ctx, env, app, o, "", text, err)
		}
		return err
	}
	evt, err := app.Svc.SendText(ctx, room, text, false, app.Svc.NewTxnID())
	if err != nil {
		if o.queue && matrixsvc.Temporary(err) {
			return queueSend(ctx, env, app, o, room, text, err)
		}
		return err
	}
	if o.json {
		return printJSON(env.Stdout, map[string]any{"room_id": room, "event_id": evt, "created_room": created})
	}
	fmt.Fprintf(env.Stdout, "%s\t%s\n", room, evt)
	return nil
}

// sendQueued sends a reply, a reaction or a file through the outbox, in order with what is
// queued before it, and waits for it: a file's upload is recorded there, so a retry does not
// upload it again. A reply or a reaction goes to TARGET's room as it is (the message it answers
// is there); a file to @user finds or creates the DM as a message does. With --queue, what
// cannot go now stays queued for the next duet run; without, it is taken back.
func sendQueued(ctx context.Context, env Env, app *App, o *opts, what string, to id.EventID, enqueue func(id.RoomID, id.UserID, string) error) error {
	var room id.RoomID
	var user id.UserID
	var err error
	if o.offline != nil {
		err = o.offline
		if strings.HasPrefix(o.pos[0], "!") {
			room, err = roomArg(o.pos[0])
		} else if user, err = parseUser(app, o.pos[0]); err == nil {
			err = o.offline
		}
		if to != "" && room == "" {
			return fmt.Errorf("offline: a %s needs the conversation's room, which is not known yet: %w", what, o.offline)
		}
		if err != nil && !errors.Is(err, o.offline) {
			return err
		}
	} else if room, _, err = target(ctx, app, o.pos[0], to == ""); err != nil {
		if err = warnNotRecorded(env, err); err != nil {
			return err
		}
	}
	txn := app.Svc.NewTxnID()
	if err := enqueue(room, user, txn); err != nil {
		return err
	}
	var evt id.EventID
	if o.offline == nil {
		room, evt, err = app.Svc.Deliver(ctx, txn)
	} else {
		err = o.offline
	}
	switch {
	case err == nil:
		if o.json {
			out := map[string]any{"room_id": room, "event_id": evt}
			if to != "" {
				out[map[string]string{"reply": "reply_to", "reaction": "reacts_to", "vote": "votes_on", "poll end": "ends_poll",
					"thread message": "thread", "file": "thread"}[what]] = to
			}
			return printJSON(env.Stdout, out)
		}
		fmt.Fprintf(env.Stdout, "%s\t%s\n", room, evt)
		return nil
	case o.queue && matrixsvc.Temporary(err):
		if o.json {
			return printJSON(env.Stdout, map[string]any{"queued": true, "txn_id": txn, "room_id": room, "reason": oneLine(err)})
		}
		fmt.Fprintf(env.Stdout, "queued (%s): the next duet run sends the %s\n", oneLine(err), what)
		return nil
	}
	if uerr := app.Svc.Unqueue(ctx, txn); uerr != nil {
		return errors.Join(err, uerr)
	}
	return err
}

// sendEdit replaces the text of our message --edit in TARGET's room (never a new room: the
// message is in an existing one). With --queue, an edit that cannot go now waits in the outbox.
func sendEdit(ctx context.Context, env Env, app *App, o *opts, text string) error {
	evt := id.EventID(strings.TrimSpace(o.edit))
	if !strings.HasPrefix(string(evt), "$") {
		return usagef("--edit %q is not an event ID (they start with $; `duet messages TARGET --json` shows them)", o.edit)
	}
	room, _, err := target(ctx, app, o.pos[0], false)
	if err != nil {
		return err
	}
	txn := app.Svc.NewTxnID()
	if o.offline == nil {
		var edit id.EventID
		if edit, err = app.Svc.SendEdit(ctx, room, evt, text, txn); err == nil {
			if o.json {
				return printJSON(env.Stdout, map[string]any{"room_id": room, "event_id": edit, "edits": evt})
			}
			fmt.Fprintf(env.Stdout, "%s\t%s\n", room, edit)
			return nil
		}
		if !o.queue || !matrixsvc.Temporary(err) {
			return err
		}
	} else {
		err = o.offline
	}
	if qerr := app.Svc.Enqueue(ctx, matrixsvc.Outgoing{Kind: matrixsvc.KindEdit, Room: room, Of: evt, Body: text, TxnID: txn}); qerr != nil {
		return qerr
	}
	if o.json {
		return printJSON(env.Stdout, map[string]any{"queued": true, "txn_id": txn, "room_id": room, "edits": evt, "reason": oneLine(err)})
	}
	fmt.Fprintf(env.Stdout, "queued (%s): the next duet run sends the edit\n", oneLine(err))
	return nil
}

// queueSend keeps a message that cannot be sent now in the outbox: the next duet run (any
// command, or the UI) sends it, exactly once. room is "" when only the target is known.
func queueSend(ctx context.Context, env Env, app *App, o *opts, room id.RoomID, text string, why error) error {
	var user id.UserID
	switch {
	case room != "":
	case strings.HasPrefix(o.pos[0], "!"):
		r, err := roomArg(o.pos[0])
		if err != nil {
			return err
		}
		room = r
	default:
		u, err := parseUser(app, o.pos[0])
		if err != nil {
			return err
		}
		user = u
	}
	txn := app.Svc.NewTxnID()
	if err := app.Svc.Enqueue(ctx, matrixsvc.Outgoing{Kind: matrixsvc.KindText, Room: room, Target: user, Body: text, TxnID: txn}); err != nil {
		return err
	}
	if o.json {
		return printJSON(env.Stdout, map[string]any{"queued": true, "txn_id": txn, "room_id": room, "user_id": user, "reason": oneLine(why)})
	}
	fmt.Fprintf(env.Stdout, "queued (%s): the next duet run sends it\n", oneLine(why))
	return nil
}

func cmdMessages(ctx context.Context, env Env, app *App, o *opts) error {
	if o.thread != "" {
		return cmdThread(ctx, env, app, o)
	}
	var room id.RoomID
	var msgs []matrixsvc.Message
	var moves []matrixsvc.Move
	if strings.HasPrefix(o.pos[0], "@") {
		// One person, one conversation (R22): every room that is or was a 1:1 with them.
		x, err := parseUser(app, o.pos[0])
		if err != nil {
			return err
		}
		chain, err := app.Svc.Conversation(ctx, x)
		if err != nil {
			return err
		}
		if len(chain) == 0 {
			return fmt.Errorf("no DM with %s yet: `duet send %s TEXT` starts one", x, x)
		}
		if chain[0].Why == "" {
			room = chain[0].RoomID // where messages go now
		}
		if msgs, moves, err = app.Svc.ConversationMessages(ctx, x, o.limit); err != nil {
			return err
		}
	} else {
		var err error
		if room, _, err = target(ctx, app, o.pos[0], false); err != nil {
			return err
		}
		if msgs, err = app.Svc.Messages(ctx, room, o.limit); err != nil {
			return err
		}
	}
	name := func(u id.UserID) string { return app.Svc.DisplayName(ctx, u, true) }
	return printMessages(env.Stdout, room, msgs, moves, name, o.json)
}

// printMessages prints `messages`: one JSON document, or a line a message (a body of several
// lines goes on indented) with the moves to another room between them; name gives a sender's
// display name for duet's own lines.
func printMessages(w io.Writer, room id.RoomID, msgs []matrixsvc.Message, moves []matrixsvc.Move, name func(id.UserID) string, asJSON bool) error {
	if asJSON {
		out := make([]msgJSON, 0, len(msgs))
		for _, m := range msgs {
			out = append(out, messageJSON(m, name))
		}
		return printJSON(w, map[string]any{"room_id": room, "messages": out})
	}
	for i, m := range msgs {
		for _, mv := range moves {
			if mv.Before == i {
				what := "continued in a new room"
				if mv.Upgraded {
					what = "room upgraded"
				}
				fmt.Fprintf(w, "── %s, %s ──\n", what, m.Timestamp.Local().Format("2006-01-02"))
			}
		}
		if c := m.EncryptionChange; c != nil {
			fmt.Fprintf(w, "── %s, %s ──\n", c.Text(m.Sender, "", name),
				m.Timestamp.Local().Format("2006-01-02 15:04"))
			continue
		}
		if c := m.Member; c != nil {
			fmt.Fprintf(w, "%s  %s\n", m.Timestamp.Local().Format("2006-01-02 15:04"), c.Text(name))
			continue
		}
		body := strings.ReplaceAll(messageText(m), "\n", "\n    ")
		fmt.Fprintf(w, "%s  %s  %s\n", m.Timestamp.Local().Format("2006-01-02 15:04"), sanitize.Line(string(m.Sender)), body)
	}
	return nil
}

// msgJSON is one message in `messages --json`.
type msgJSON struct {
	RoomID    id.RoomID  `json:"room_id"`
	EventID   id.EventID `json:"event_id"`
	Sender    id.UserID  `json:"sender"`
	Timestamp int64      `json:"timestamp"`
	Time      string     `json:"time"`
	// Kind is what it is: "message" (an m.room.message), "sticker", "poll", "poll_end",
	// "call_invite", "call_hangup", "location", "live_location", or "other" (an event type
	// duet does not know, shown by its text fallback; type names it).
	Kind    string `json:"kind"`
	Type    string `json:"type,omitempty"`
	MsgType string `json:"msgtype,omitempty"`
	Body    string `json:"body"`
	// Undecryptable: an encrypted message this device cannot read (yet); why says why.
	Undecryptable bool   `json:"undecryptable,omitempty"`
	Why           string `json:"decrypt_error,omitempty"`
	E2E           bool   `json:"end_to_end_encrypted"`
	Trust         string `json:"device_warning,omitempty"`
	// Unauthenticated: decrypted with a key from the key backup, a key file or another
	// device, not from the sender's: nothing proves the sender wrote it.
	Unauthenticated bool `json:"authenticity_not_guaranteed,omitempty"`
	Edited          bool `json:"edited,omitempty"`   // the body is the sender's latest edit
	Redacted        bool `json:"redacted,omitempty"` // deleted: no body
	// ReplyTo is the message this one answers; Reactions the reactions to it.
	ReplyTo   id.EventID     `json:"reply_to,omitempty"`
	Reactions []reactionJSON `json:"reactions,omitempty"`
	File      *fileJSON      `json:"file,omitempty"`
	// NotEncrypted: it came in plain text in an end-to-end encrypted room.
	NotEncrypted bool `json:"not_encrypted,omitempty"`
	// EncryptionChanged: not a message but duet's line saying that sender tried to
	// change the room's encryption settings (refused: duet keeps encrypting).
	EncryptionChanged *encryptionChangeJSON `json:"encryption_changed,omitempty"`
	// MemberChange: no message but someone else coming into a 1:1 room (issue 19).
	MemberChange *memberChangeJSON `json:"member_change,omitempty"`

	// Thread is the root of the thread it is in; ThreadReplies, on a root, how many replies
	// of its thread are stored.
	Thread        id.EventID `json:"thread,omitempty"`
	ThreadReplies int        `json:"thread_replies,omitempty"`
	Poll          *pollJSON  `json:"poll,omitempty"`
	Ends          id.EventID `json:"ends_poll,omitempty"` // a poll_end: the poll it ends
	Location      *locJSON   `json:"location,omitempty"`
	Call          *callJSON  `json:"call,omitempty"`
}

// pollJSON is a poll in `messages --json`: its answers, with their counts while they may be
// shown (a disclosed poll's always, an undisclosed one's once it ended), and who voted for
// them in a disclosed poll.
type pollJSON struct {
	Question      string           `json:"question"`
	Disclosed     bool             `json:"disclosed"`
	MaxSelections int              `json:"max_selections"`
	Ended         bool             `json:"ended"`
	Voters        *int             `json:"voters,omitempty"`
	Mine          []string         `json:"my_answers,omitempty"`
	Answers       []pollAnswerJSON `json:"answers"`
}

type pollAnswerJSON struct {
	ID     string      `json:"id"`
	Text   string      `json:"text"`
	Count  *int        `json:"count,omitempty"`
	Voters []id.UserID `json:"voters,omitempty"`
}

// locJSON is a shared place: its geo: URI, an OpenStreetMap link, and for a live location
// whether it is still shared and until when.
type locJSON struct {
	URI         string `json:"uri,omitempty"`
	Map         string `json:"map,omitempty"`
	Description string `json:"description,omitempty"`
	Live        bool   `json:"live,omitempty"`
	Until       int64  `json:"until,omitempty"`
}

// callJSON is a call someone started or ended (duet takes no calls).
type callJSON struct {
	Video  bool   `json:"video,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// kindJSON fills in j what m's kind carries.
func kindJSON(j *msgJSON, m matrixsvc.Message) {
	j.Kind, j.Thread, j.ThreadReplies, j.Ends = m.Kind.Name(), m.Thread, m.ThreadReplies, m.Rel
	if m.Kind == matrixsvc.KindOther {
		j.Type = m.OtherType
	}
	if m.Kind != matrixsvc.KindMessage && m.Kind != matrixsvc.KindLocation {
		j.MsgType = ""
	}
	if p := m.Poll; p != nil {
		pj := &pollJSON{Question: p.Question, Disclosed: p.Disclosed, MaxSelections: p.MaxSelections, Ended: p.Ended, Mine: p.Mine}
		visible := p.ResultsVisible() && p.Tallied
		if visible {
			pj.Voters = &p.Voters
		}
		for _, a := range p.Answers {
			aj := pollAnswerJSON{ID: a.ID, Text: a.Text}
			if visible {
				aj.Count = &a.Count
			}
			if visible && p.Disclosed {
				aj.Voters = a.Voters
			}
			pj.Answers = append(pj.Answers, aj)
		}
		j.Poll = pj
	}
	if l := m.Location; l != nil {
		lj := &locJSON{URI: l.URI, Map: l.MapURL(), Description: l.Description, Live: l.Live}
		if !l.Until.IsZero() {
			lj.Until = l.Until.UnixMilli()
		}
		j.Location = lj
	}
	if c := m.Call; c != nil {
		j.Call = &callJSON{Video: c.Video, Reason: c.Reason}
	}
}

// messageJSON is m as `messages --json` prints it; name gives a sender's display name for
// duet's own lines.
func messageJSON(m matrixsvc.Message, name func(id.UserID) string) msgJSON {
	j := msgJSON{RoomID: m.RoomID, EventID: m.EventID, Sender: m.Sender, Timestamp: m.Timestamp.UnixMilli(),
		Time: m.Timestamp.UTC().Format(time.RFC3339), MsgType: m.MsgType, Body: m.Body, Undecryptable: m.Encrypted,
		Why: m.DecryptError, E2E: m.E2E || m.Encrypted, Trust: m.Trust, Unauthenticated: m.Unauthenticated,
		Edited: m.Edited, Redacted: m.Redacted, ReplyTo: m.ReplyTo, NotEncrypted: m.NotEncrypted}
	kindJSON(&j, m)
	if c := m.EncryptionChange; c != nil {
		j.EncryptionChanged = &encryptionChangeJSON{Algorithm: c.Algorithm}
	}
	if c := m.Member; c != nil {
		j.MemberChange = &memberChangeJSON{User: c.User, Name: c.Name, Membership: string(c.Membership), Peer: c.Peer,
			Device: c.Device, DeviceName: c.DeviceName, Text: c.Text(name)}
	}
	for _, r := range m.Reactions {
		j.Reactions = append(j.Reactions, reactionJSON{Key: r.Key, Count: len(r.Senders), Senders: r.Senders, Mine: r.Mine != "", NotEncrypted: r.NotEncrypted})
	}
	if md := m.Media; md != nil {
		j.File = &fileJSON{Kind: md.Kind, Name: md.Name, MimeType: md.MimeType, Size: md.Size, Width: md.Width, Height: md.Height,
			Encrypted: md.File != nil}
	}
	return j
}

// messageText is the body of a message's line in `messages`, with its marks: deleted,
// undecryptable, edited, the file it carries, the warnings about it, the message it answers
// and its reactions.
func messageText(m matrixsvc.Message) string {
	body := sanitize.Text(m.Body, true)
	if m.Edited {
		body += "  (edited)"
	}
	if m.Redacted {
		body = "[message deleted]"
	} else if m.Encrypted {
		body = "[unable to decrypt: " + m.DecryptError + "]"
	} else if m.MsgType == "m.emote" {
		body = "* " + body
	}
	if m.Trust != "" {
		body += "  [" + m.Trust + "]"
	}
	if md := m.Media; md != nil && !m.Redacted {
		body = fmt.Sprintf("[%s %s, %s, %d bytes]", strings.TrimPrefix(md.Kind, "m."), sanitize.Line(md.Name), sanitize.Line(md.MimeType), md.Size)
	}
	if m.Kind != matrixsvc.KindMessage && !m.Redacted && !m.Encrypted {
		body = kindText(m)
	}
	if m.Unauthenticated && !m.Redacted {
		body += "  [authenticity not guaranteed]"
	}
	if m.NotEncrypted { // after the file line, which replaces the body
		body += "  [⚠ not encrypted]"
	}
	if m.ReplyTo != "" {
		body = "(reply to " + sanitize.Line(string(m.ReplyTo)) + ") " + body
	}
	if m.Thread != "" {
		body = "(in thread " + sanitize.Line(string(m.Thread)) + ") " + body
	}
	if m.ThreadReplies > 0 {
		body += fmt.Sprintf("  [thread: %d %s]", m.ThreadReplies, plural(m.ThreadReplies, "reply", "replies"))
	}
	if len(m.Reactions) > 0 && !m.Redacted {
		var rs []string
		for _, r := range m.Reactions {
			mark := ""
			if r.NotEncrypted {
				mark = " ⚠ not encrypted"
			}
			rs = append(rs, fmt.Sprintf("%s %d%s", sanitize.Line(r.Key), len(r.Senders), mark))
		}
		body += "  [" + strings.Join(rs, ", ") + "]"
	}
	return body
}

// encryptionChangeJSON is a refused change of a room's encryption settings in `messages --json`:
// the algorithm asked for, "" for none (encryption off).
type encryptionChangeJSON struct {
	Algorithm string `json:"algorithm"`
}

// reactionJSON is one key of a message's reactions in `messages --json`.
type reactionJSON struct {
	Key     string      `json:"key"`
	Count   int         `json:"count"`
	Senders []id.UserID `json:"senders"`
	Mine    bool        `json:"mine,omitempty"`
	// NotEncrypted: these reactions came in plain text in an encrypted room.
	NotEncrypted bool `json:"not_encrypted,omitempty"`
}

// memberChangeJSON is someone other than the two people coming into a 1:1 room (membership
// set), or a new device of the contact (device set), in `messages --json`: the fields as the
// server gave them, and the line duet shows.
type memberChangeJSON struct {
	User       id.UserID   `json:"user"`
	Name       string      `json:"name,omitempty"`
	Membership string      `json:"membership,omitempty"`
	Peer       id.UserID   `json:"peer"`
	Device     id.DeviceID `json:"device,omitempty"`
	DeviceName string      `json:"device_name,omitempty"`
	Text       string      `json:"text"`
}

// fileJSON is a file message's file in `messages --json`.
type fileJSON struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	MimeType  string `json:"mimetype,omitempty"`
	Size      int64  `json:"size,omitempty"`
	Width     int    `json:"w,omitempty"`
	Height    int    `json:"h,omitempty"`
	Encrypted bool   `json:"encrypted"`
}

// cmdSearch finds messages in the local index: newest first, one a line, or one JSON document.
// No match is not an error: nothing on stdout, a line on stderr.
func cmdSearch(ctx context.Context, env Env, app *App, o *opts) error {
	var with id.UserID
	if o.with != "" {
		u, err := parseUser(app, o.with)
		if err != nil {
			return usagef("--with: %w", err)
		}
		with = u
	}
	results, more, err := app.Svc.Search(ctx, o.pos[0], with, o.limit)
	if errors.Is(err, matrixsvc.ErrBadSearch) {
		return usagef("%w", err)
	}
	if err != nil {
		return err
	}
	return printSearch(env, o.pos[0], results, more, o.json)
}

// printSearch prints `search`: one JSON document, or a line a result; no result and more
// results than shown are said on stderr.
func printSearch(env Env, query string, results []matrixsvc.SearchResult, more, asJSON bool) error {
	if asJSON {
		type resultJSON struct {
			RoomID    id.RoomID  `json:"room_id"`
			EventID   id.EventID `json:"event_id"`
			Sender    id.UserID  `json:"sender"`
			Person    id.UserID  `json:"person,omitempty"`
			Name      string     `json:"name"`
			Timestamp int64      `json:"timestamp"`
			Time      string     `json:"time"`
			Body      string     `json:"body"`
			Snippet   string     `json:"snippet"`
			Edited    bool       `json:"edited,omitempty"`
		}
		out := make([]resultJSON, 0, len(results))
		for _, r := range results {
			snippet := strings.NewReplacer("\x01", "", "\x02", "").Replace(r.Snippet)
			out = append(out, resultJSON{r.RoomID, r.EventID, r.Sender, r.Person, r.Name, r.Timestamp.UnixMilli(),
				r.Timestamp.UTC().Format(time.RFC3339), r.Body, snippet, r.Edited})
		}
		return printJSON(env.Stdout, map[string]any{"query": query, "results": out, "more": more})
	}
	if len(results) == 0 {
		fmt.Fprintln(env.Stderr, "duet: no messages match")
		return nil
	}
	for _, r := range results {
		snippet := sanitize.Line(strings.NewReplacer("\x01", "", "\x02", "", "\n", " ").Replace(r.Snippet))
		fmt.Fprintf(env.Stdout, "%s  %s  %s  %s\n", r.Timestamp.Local().Format("2006-01-02 15:04"), sanitize.Line(r.Name), sanitize.Line(string(r.RoomID)), snippet)
	}
	if more {
		fmt.Fprintf(env.Stderr, "duet: more messages match; --limit N shows more\n")
	}
	return nil
}

func cmdInvites(ctx context.Context, env Env, app *App, o *opts) error {
	invites, err := app.Svc.Invites(ctx)
	if err != nil {
		return err
	}
	if o.json {
		type inviteJSON struct {
			RoomID  id.RoomID `json:"room_id"`
			Inviter id.UserID `json:"inviter"`
			Direct  bool      `json:"direct"`
			Request bool      `json:"request"`
			Name    string    `json:"name"`
		}
		out := make([]inviteJSON, 0, len(invites))
		for _, inv := range invites {
			out = append(out, inviteJSON{inv.RoomID, inv.Inviter, inv.Direct, inv.Request, inv.Name})
		}
		return printJSON(env.Stdout, out)
	}
	if len(invites) == 0 {
		fmt.Fprintln(env.Stdout, "No pending invites.")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROOM\tKIND\tFROM\tNAME")
	for _, inv := range invites {
		kind := "room"
		switch {
		case inv.Request:
			kind = "request"
		case inv.Direct:
			kind = "direct"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", sanitize.Line(string(inv.RoomID)), kind, sanitize.Line(string(inv.Inviter)), sanitize.Line(inv.Name))
	}
	return tw.Flush()
}

// warnNotRecorded turns "room created but m.direct not updated" into a warning: the room works.
func warnNotRecorded(env Env, err error) error {
	var nr *matrixsvc.NotRecordedError
	if errors.As(err, &nr) {
		fmt.Fprintf(env.Stderr, "duet: warning: %s\n", oneLine(err))
		return nil
	}
	return err
}

func roomArg(raw string) (id.RoomID, error) {
	if !strings.HasPrefix(raw, "!") || !strings.Contains(raw, ":") {
		return "", usagef("%q is not a room ID: expected !opaque:server (see `duet invites`)", raw)
	}
	return id.RoomID(raw), nil
}

func cmdAccept(ctx context.Context, env Env, app *App, o *opts) error {
	return answerInvite(ctx, env, o, app.Svc.Accept, "Joined")
}

func cmdDecline(ctx context.Context, env Env, app *App, o *opts) error {
	return answerInvite(ctx, env, o, app.Svc.Decline, "Declined")
}

func answerInvite(ctx context.Context, env Env, o *opts, answer func(context.Context, id.RoomID) error, done string) error {
	room, err := roomArg(o.pos[0])
	if err != nil {
		return err
	}
	if err := answer(ctx, room); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s %s.\n", done, room)
	return nil
}

func cmdBlock(ctx context.Context, env Env, app *App, o *opts) error {
	x, changed, err := app.Svc.Block(ctx, o.pos[0])
	if err != nil {
		return err
	}
	if !changed {
		fmt.Fprintf(env.Stdout, "%s was already blocked.\n", x)
		return nil
	}
	fmt.Fprintf(env.Stdout, "Blocked %s: the server no longer passes on their messages and invites.\n", x)
	return nil
}

func cmdUnblock(ctx context.Context, env Env, app *App, o *opts) error {
	x, changed, err := app.Svc.Unblock(ctx, o.pos[0])
	if err != nil {
		return err
	}
	if !changed {
		fmt.Fprintf(env.Stdout, "%s was not blocked.\n", x)
		return nil
	}
	fmt.Fprintf(env.Stdout, "Unblocked %s.\n", x)
	return nil
}

func cmdBlocked(ctx context.Context, env Env, app *App, o *opts) error {
	users, wellFormed, err := app.Svc.Blocked(ctx)
	if err != nil {
		return err
	}
	if !wellFormed {
		fmt.Fprintln(env.Stderr, "duet: warning: the ignore list on the server is malformed; duet shows what it can and will not change it")
	}
	if o.json {
		return printJSON(env.Stdout, nonNil(users))
	}
	if len(users) == 0 {
		fmt.Fprintln(env.Stdout, "Nobody is blocked.")
		return nil
	}
	for _, u := range users {
		fmt.Fprintln(env.Stdout, sanitize.Line(string(u)))
	}
	return nil
}
