package cli

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"maunium.net/go/mautrix/id"

	"duet/internal/sanitize"
	"duet/store"
)

// Shell completion of what people type as arguments: @user IDs of contacts, the room IDs of
// pending invites, the event IDs of recent messages, profile names. It reads the profile's
// local store only (never the network), read-only and without the profile lock, so it answers
// while the UI runs on the same profile. Whatever goes wrong, it offers nothing.

// argKind is what a positional argument or an option value is, for completion.
type argKind int

const (
	kindNone     argKind = iota
	kindUser             // @user ID of a contact (display name as the description)
	kindTarget           // a contact's @user ID, or a joined group DM's !room ID
	kindBlocked          // @user ID on the ignore list
	kindInvite           // room ID of a pending invite
	kindEvent            // event ID of a recent message in the target's conversation
	kindOwnEvent         // event ID of a recent message of yours there (send --edit)
	kindKeysVerb         // export or import
	kindFile             // a file: the shell's own completion
)

// flagKinds are the options whose values complete, wherever a command has them.
var flagKinds = map[string]argKind{
	"reply-to": kindEvent,
	"thread":   kindEvent,
	"react":    kindEvent,
	"vote":     kindEvent,
	"end-poll": kindOwnEvent,
	"edit":     kindOwnEvent,
	"with":     kindUser,
	"file":     kindFile,
}

const completionTimeout = 2 * time.Second

// completeArgs is a ValidArgsFunction: kinds[i] is the kind of the i-th positional argument.
func (inv *invocation) completeArgs(kinds []argKind) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) >= len(kinds) {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return inv.complete(cmd, kinds[len(args)], args, toComplete)
	}
}

func (inv *invocation) completeFlag(kind argKind) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return inv.complete(cmd, kind, args, toComplete)
	}
}

func (inv *invocation) complete(cmd *cobra.Command, kind argKind, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	switch kind {
	case kindNone:
		return nil, cobra.ShellCompDirectiveNoFileComp
	case kindFile:
		return nil, cobra.ShellCompDirectiveDefault
	case kindKeysVerb:
		return filterPrefix([]cobra.Completion{
			cobra.CompletionWithDesc("export", "save room keys to FILE"),
			cobra.CompletionWithDesc("import", "load room keys from FILE"),
		}, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	if c := cmd.Context(); c != nil {
		ctx, cancel = context.WithTimeout(c, completionTimeout)
		defer cancel()
	}
	src, err := inv.openCompletion(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer src.close()
	var out []cobra.Completion
	switch kind {
	case kindUser:
		out = src.users(ctx)
	case kindTarget:
		out = src.users(ctx)
		if strings.HasPrefix(toComplete, "!") {
			out = src.groups(ctx)
		}
	case kindBlocked:
		out = src.blocked(ctx)
	case kindInvite:
		out = src.invites(ctx)
	case kindEvent, kindOwnEvent:
		target := ""
		if len(args) > 0 {
			target = args[0]
		}
		out = src.events(ctx, target, kind == kindOwnEvent)
	}
	return filterPrefix(out, toComplete), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
}

// completionSource is a profile's store opened for completion.
type completionSource struct {
	st *store.Store
	me id.UserID
}

func (inv *invocation) openCompletion(ctx context.Context) (*completionSource, error) {
	name := "default"
	if len(inv.profiles) > 0 {
		name = inv.profiles[len(inv.profiles)-1] // the UI's several: complete for the last
	}
	prof, err := inv.env.Dirs.ForProfile(name)
	if err != nil {
		return nil, err
	}
	src := &completionSource{}
	if sess, err := store.LoadSession(prof.SessionFile()); err == nil {
		src.me = sess.UserID
	}
	if src.st, err = store.OpenReadOnly(ctx, prof.Database()); err != nil {
		return nil, err
	}
	return src, nil
}

func (s *completionSource) close() { s.st.Close() }

// direct is the m.direct account data: user ID to their DM rooms.
func (s *completionSource) direct(ctx context.Context) map[id.UserID][]id.RoomID {
	raw, _ := s.st.AccountData(ctx, "m.direct")
	var direct map[id.UserID][]id.RoomID
	_ = json.Unmarshal(raw, &direct)
	return direct
}

// users are the people you have DMs with, are invited by, or share a joined room with (its
// heroes), each once, with their display name.
func (s *completionSource) users(ctx context.Context) []cobra.Completion {
	names, _ := s.st.DisplayNames(ctx)
	seen := map[id.UserID]bool{s.me: true}
	var users []id.UserID
	add := func(u id.UserID) {
		if !seen[u] && strings.HasPrefix(string(u), "@") {
			seen[u] = true
			users = append(users, u)
		}
	}
	for u := range s.direct(ctx) {
		add(u)
	}
	rooms, _ := s.st.Rooms(ctx)
	for _, r := range rooms {
		switch r.Membership {
		case "invite":
			add(r.Inviter)
		case "join":
			for _, h := range r.Heroes {
				add(h)
			}
		}
	}
	sort.Slice(users, func(i, j int) bool { return users[i] < users[j] })
	out := make([]cobra.Completion, 0, len(users))
	for _, u := range users {
		out = append(out, candidate(string(u), names[u]))
	}
	return out
}

// groups are the joined rooms with more than two members, by name: the targets that are no
// person (a 1:1 is reached by its @user).
func (s *completionSource) groups(ctx context.Context) []cobra.Completion {
	rooms, _ := s.st.Rooms(ctx)
	var out []cobra.Completion
	for _, r := range rooms {
		if r.Membership == "join" && r.JoinedCount+r.InvitedCount > 2 && r.Tombstone == "" {
			out = append(out, candidate(string(r.ID), r.Name))
		}
	}
	sort.Strings(out)
	return out
}

func (s *completionSource) blocked(ctx context.Context) []cobra.Completion {
	raw, _ := s.st.AccountData(ctx, "m.ignored_user_list")
	var list struct {
		Ignored map[id.UserID]json.RawMessage `json:"ignored_users"`
	}
	_ = json.Unmarshal(raw, &list)
	var out []cobra.Completion
	for u := range list.Ignored {
		out = append(out, candidate(string(u), ""))
	}
	sort.Strings(out)
	return out
}

// invites are the rooms you are invited to, with who invited you and the room's name.
func (s *completionSource) invites(ctx context.Context) []cobra.Completion {
	rooms, _ := s.st.Rooms(ctx)
	var out []cobra.Completion
	for _, r := range rooms {
		if r.Membership != "invite" {
			continue
		}
		desc := "from " + string(r.Inviter)
		if r.Name != "" {
			desc += ": " + r.Name
		}
		out = append(out, candidate(string(r.ID), desc))
	}
	sort.Strings(out)
	return out
}

// events are the newest messages in the conversation with target (@user or !room; every
// room when it is neither), yours only when own, newest first, with a snippet.
func (s *completionSource) events(ctx context.Context, target string, own bool) []cobra.Completion {
	var rooms []id.RoomID
	switch {
	case strings.HasPrefix(target, "!"):
		rooms = []id.RoomID{id.RoomID(target)}
	case strings.HasPrefix(target, "@"):
		rooms = s.direct(ctx)[id.UserID(target)]
		if len(rooms) == 0 {
			return nil
		}
	}
	var sender id.UserID
	if own {
		if s.me == "" {
			return nil
		}
		sender = s.me
	}
	msgs, _ := s.st.RecentMessages(ctx, rooms, sender, 30)
	out := make([]cobra.Completion, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, candidate(string(m.EventID), snippet(string(m.Sender), m.Body)))
	}
	return out
}

// candidate is one completion: a value the shell can take as one word, and a description on
// one line.
func candidate(value, desc string) cobra.Completion {
	if strings.ContainsFunc(value, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return ""
	}
	desc = strings.Join(strings.Fields(sanitize.Line(desc)), " ") // shown by the shell, as sent by others
	if desc == "" {
		return value
	}
	return cobra.CompletionWithDesc(value, desc)
}

// snippet is "sender: the start of body".
func snippet(sender, body string) string {
	body = strings.Join(strings.Fields(body), " ")
	if r := []rune(body); len(r) > 50 {
		body = string(r[:49]) + "…"
	}
	return sender + ": " + body
}

func filterPrefix(cands []cobra.Completion, prefix string) []cobra.Completion {
	out := cands[:0:0]
	for _, c := range cands {
		if c != "" && strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// completeProfiles lists the profiles that have a data directory, for --profile.
func (inv *invocation) completeProfiles(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	found, _ := findProfiles(inv.env)
	out := make([]cobra.Completion, 0, len(found))
	for _, p := range found {
		desc := "not logged in"
		if p.loggedIn() {
			desc = string(p.sess.UserID)
		}
		out = append(out, candidate(p.prof.Name, desc))
	}
	return filterPrefix(out, toComplete), cobra.ShellCompDirectiveNoFileComp
}
