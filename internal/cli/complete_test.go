package cli

import (
	"strings"
	"testing"
	"time"

	"duet/internal/testkit/hstest"
)

// complete runs the shell's question, `duet __complete ARGS… PARTIAL`, and returns the
// candidates as the shell gets them ("value\tdescription" a line, without the directive).
func (u *duetUser) complete(t *testing.T, args ...string) []string {
	t.Helper()
	r := u.run(t, "", append([]string{"__complete"}, args...)...)
	if r.code != 0 || strings.Contains(r.stderr, "running on profile") {
		t.Fatalf("__complete %v: exit %d, %q", args, r.code, r.stderr)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if line != "" && !strings.HasPrefix(line, ":") {
			out = append(out, line)
		}
	}
	return out
}

func hasCandidate(cands []string, value, descPart string) bool {
	for _, c := range cands {
		v, d, _ := strings.Cut(c, "\t")
		if v == value && strings.Contains(d, descPart) {
			return true
		}
	}
	return false
}

// Completion offers what the local store knows, computed from a real one: contacts with their
// display names, the pending invites, recent messages of the target's conversation (yours
// alone for --edit), the blocked users, the profiles; and it answers while another duet holds
// the profile, without the network.
func TestCompletionFromTheStore(t *testing.T) {
	t.Parallel()
	alice := newDuetUser(t, "alice", "Alice")
	bob := newDuetUser(t, "bob", "Bob")
	carol := newDuetUser(t, "carol", "Carol")
	dave := newDuetUser(t, "dave", "Dave")
	alice.login(t)
	mine := alice.send(t, string(bob.ID), "lunch at noon?")
	bob.Join(t, mine.RoomID)
	hostile := bob.Say(t, mine.RoomID, "\x1b]52;c;ZXZpbA==\a\x1b[2Jwiped\u202e")
	theirs := bob.Say(t, mine.RoomID, "noon works")
	invite := carol.CreateRoom(t, true, alice.ID)
	group := carol.CreateRoom(t, false, alice.ID, bob.ID)
	alice.accept(t, string(group))
	alice.ok(t, "", "block", string(dave.ID))
	hstest.Eventually(t, 15*time.Second, func() string {
		out := alice.ok(t, "", "messages", string(bob.ID))
		if !strings.Contains(out, "noon works") {
			return "alice has not got bob's answer: " + out
		}
		if inv := alice.ok(t, "", "invites"); !strings.Contains(inv, string(invite)) {
			return "alice has not got carol's invite: " + inv
		}
		return ""
	})

	prof, _ := alice.dirs.ForProfile("default")
	unlock, err := lockProfile(prof) // stands for the UI running on the profile
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	users := alice.complete(t, "send", "@")
	if !hasCandidate(users, string(bob.ID), "Bob") || !hasCandidate(users, string(carol.ID), "") || hasCandidate(users, string(alice.ID), "") {
		t.Fatalf("send @<TAB>: %q", users)
	}
	if got := alice.complete(t, "send", "@bo"); len(got) != 1 || !hasCandidate(got, string(bob.ID), "Bob") {
		t.Fatalf("send @bo<TAB>: %q", got)
	}
	if got := alice.complete(t, "messages", "!"); len(got) != 1 || !hasCandidate(got, string(group), "") {
		t.Fatalf("messages !<TAB> (the group DM): %q", got)
	}
	if got := alice.complete(t, "search", "lunch", "--with", "@"); !hasCandidate(got, string(bob.ID), "Bob") {
		t.Fatalf("search --with @<TAB>: %q", got)
	}
	if got := alice.complete(t, "accept", ""); len(got) != 1 || !hasCandidate(got, string(invite), string(carol.ID)) {
		t.Fatalf("accept <TAB>: %q", got)
	}
	replies := alice.complete(t, "send", string(bob.ID), "x", "--reply-to", "")
	if len(replies) < 2 || !hasCandidate(replies, string(theirs), "noon works") || !hasCandidate(replies, string(mine.EventID), "lunch at noon?") {
		t.Fatalf("--reply-to <TAB>: %q", replies)
	}
	// What the server sent cannot steer the terminal the shell shows the candidates in.
	for _, c := range replies {
		if strings.ContainsAny(c, "\x1b\a\u202e") {
			t.Fatalf("a candidate carries a control character: %q", c)
		}
	}
	if !hasCandidate(replies, string(hostile), "wiped") {
		t.Fatalf("--reply-to <TAB> lacks the hostile message, shown inert: %q", replies)
	}
	if !strings.HasPrefix(replies[0], string(theirs)+"\t") {
		t.Fatalf("--reply-to <TAB> is not newest first: %q", replies)
	}
	if got := alice.complete(t, "send", string(bob.ID), "x", "--edit", ""); len(got) != 1 || !hasCandidate(got, string(mine.EventID), "lunch") {
		t.Fatalf("--edit <TAB> (yours only): %q", got)
	}
	if got := alice.complete(t, "send", string(carol.ID), "x", "--react", ""); len(got) != 0 {
		t.Fatalf("--react <TAB> with no DM: %q", got)
	}
	if got := alice.complete(t, "unblock", ""); len(got) != 1 || !hasCandidate(got, string(dave.ID), "") {
		t.Fatalf("unblock <TAB>: %q", got)
	}
	if got := alice.complete(t, "--profile", ""); !hasCandidate(got, "default", string(alice.ID)) {
		t.Fatalf("--profile <TAB>: %q", got)
	}
	// A profile with no store offers nothing, and says nothing.
	if got := alice.complete(t, "--profile", "empty", "send", "@"); len(got) != 0 {
		t.Fatalf("an empty profile offers %q", got)
	}
}
