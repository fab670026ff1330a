package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"duet/internal/paths"
	"duet/store"
)

// contactsStore makes a profile whose store knows n contacts (m.direct, one room each, a
// display name each), without a homeserver.
func contactsStore(tb testing.TB, n int) paths.Dirs {
	tb.Helper()
	base := tb.TempDir()
	dirs := paths.Dirs{Config: filepath.Join(base, "config"), Data: filepath.Join(base, "data"),
		State: filepath.Join(base, "state"), Cache: filepath.Join(base, "cache")}
	prof, _ := dirs.ForProfile("default")
	ctx := context.Background()
	st, err := store.Open(ctx, prof.Database(), zerolog.Nop())
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	direct := map[id.UserID][]id.RoomID{}
	for i := range n {
		u := id.UserID(fmt.Sprintf("@user%04d:example.org", i))
		r := id.RoomID(fmt.Sprintf("!room%04d:example.org", i))
		direct[u] = []id.RoomID{r}
		if err := st.PutRoom(ctx, &store.Room{ID: r, Membership: "join", Heroes: []id.UserID{u}, JoinedCount: 2}); err != nil {
			tb.Fatal(err)
		}
		if _, err := st.DB().Exec(ctx, "INSERT INTO mx_user_profile (room_id, user_id, membership, displayname) VALUES ($1, $2, 'join', $3)",
			r, u, fmt.Sprintf("Person %d", i)); err != nil {
			tb.Fatal(err)
		}
	}
	raw, _ := json.Marshal(direct)
	if err := st.SetAccountData(ctx, "m.direct", raw); err != nil {
		tb.Fatal(err)
	}
	return dirs
}

func completeUsers(tb testing.TB, dirs paths.Dirs) string {
	var out, errb bytes.Buffer
	env := Env{Dirs: dirs, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
	if code := Run(context.Background(), env, []string{"__complete", "send", "@"}); code != 0 {
		tb.Fatalf("__complete: exit %d, %q", code, errb.String())
	}
	return out.String()
}

// Every one of 1,000 contacts is offered, with their display name.
func TestCompletionOffersEveryContact(t *testing.T) {
	out := completeUsers(t, contactsStore(t, 1000))
	if n := strings.Count(out, "@user"); n != 1000 || !strings.Contains(out, "@user0999:example.org\tPerson 999\n") {
		t.Fatalf("%d contacts offered:\n%.300s", n, out)
	}
}

// Completing @user with 1,000 contacts must stay well under 50 ms (issue 22): the shell waits
// for it at every TAB. go test -tags goolm -run '^$' -bench CompleteUsers ./internal/cli/
func BenchmarkCompleteUsers(b *testing.B) {
	dirs := contactsStore(b, 1000)
	b.ResetTimer()
	for b.Loop() {
		completeUsers(b, dirs)
	}
}
