package demo

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/tidwall/gjson"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/homeserver"
	"duet/internal/testkit/dendrite"
	"duet/internal/testkit/hstest"
)

// TestDemo starts a real demo and looks at it as the demo user would through duet: the DM list,
// Carol's pending invite, Alice's history, and Alice answering. It fails, never skips, when the
// homeserver cannot start (DUET_SKIP_HOMESERVER=1 opts out locally, never in CI).
func TestDemo(t *testing.T) {
	if dendrite.OptedOut() {
		t.Log(dendrite.ErrOptedOut)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // covers a first build of Dendrite
	defer cancel()

	began := time.Now()
	d, err := Start(ctx, Options{Log: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("Start took %s", time.Since(began))
	stopped := false
	defer func() {
		if !stopped {
			_ = d.Stop()
		}
	}()

	you, err := mautrix.NewClient(d.Server.URL, id.UserID(d.You.UserID), d.You.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	you.DeviceID = id.DeviceID(d.You.DeviceID)
	alice := id.UserID(d.People["alice"].UserID)
	bob := id.UserID(d.People["bob"].UserID)
	carol := id.UserID(d.People["carol"].UserID)

	t.Run("display names", func(t *testing.T) {
		for user, want := range map[id.UserID]string{alice: "Alice Liddell", bob: "Bob Builder", carol: "Carol"} {
			resp, err := you.GetDisplayName(ctx, user)
			if err != nil {
				t.Fatalf("display name of %s: %v", user, err)
			}
			if resp.DisplayName != want {
				t.Errorf("display name of %s is %q, want %q", user, resp.DisplayName, want)
			}
		}
	})

	t.Run("m.direct", func(t *testing.T) {
		var direct map[id.UserID][]id.RoomID
		if err := you.GetAccountData(ctx, event.AccountDataDirectChats.Type, &direct); err != nil {
			t.Fatalf("m.direct: %v", err)
		}
		for _, c := range []struct {
			user id.UserID
			room id.RoomID
			what string
		}{
			{alice, d.Rooms.Alice, "alice's DM"},
			{bob, d.Rooms.Bob, "bob's DM"},
			{bob, d.Rooms.Group, "the group DM"},
			{alice, d.Rooms.Group, "the group DM"},
		} {
			if !slices.Contains(direct[c.user], c.room) {
				t.Errorf("m.direct does not list %s (%s) under %s: %v", c.what, c.room, c.user, direct)
			}
		}
		if len(direct[carol]) != 0 {
			t.Errorf("m.direct lists rooms under carol although her invite was not accepted: %v", direct[carol])
		}
		var aliceDirect map[id.UserID][]id.RoomID
		aliceCli := clientFor(t, d, d.People["alice"])
		if err := aliceCli.GetAccountData(ctx, event.AccountDataDirectChats.Type, &aliceDirect); err != nil {
			t.Fatalf("alice's m.direct: %v", err)
		}
		if !slices.Contains(aliceDirect[you.UserID], d.Rooms.Alice) {
			t.Errorf("alice's m.direct does not list her DM under the demo user: %v", aliceDirect)
		}
	})

	t.Run("joined rooms", func(t *testing.T) {
		resp, err := you.JoinedRooms(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, room := range []id.RoomID{d.Rooms.Alice, d.Rooms.Bob, d.Rooms.Group} {
			if !slices.Contains(resp.JoinedRooms, room) {
				t.Errorf("demo user is not joined to %s", room)
			}
		}
		if slices.Contains(resp.JoinedRooms, d.Rooms.Carol) {
			t.Errorf("demo user joined carol's room; it must stay a pending invite")
		}
		members, err := you.JoinedMembers(ctx, d.Rooms.Group)
		if err != nil {
			t.Fatal(err)
		}
		if len(members.Joined) != 3 {
			t.Errorf("group room has %d joined members, want 3: %v", len(members.Joined), members.Joined)
		}
	})

	t.Run("bob's upgraded DM", func(t *testing.T) {
		var tomb event.TombstoneEventContent
		if err := you.StateEvent(ctx, d.Rooms.Bob, event.StateTombstone, "", &tomb); err != nil {
			t.Fatalf("no tombstone in bob's first room: %v", err)
		}
		if tomb.ReplacementRoom != d.Rooms.BobNext || d.Rooms.BobNext == "" {
			t.Fatalf("tombstone points at %q, want %q", tomb.ReplacementRoom, d.Rooms.BobNext)
		}
		resp, err := you.FullSyncRequest(ctx, mautrix.ReqSync{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := resp.Rooms.Invite[d.Rooms.BobNext]; !ok {
			t.Fatalf("the demo user is not invited to bob's new room; invites: %v", keys(resp.Rooms.Invite))
		}
	})

	t.Run("carol's pending direct invite", func(t *testing.T) {
		resp, err := you.FullSyncRequest(ctx, mautrix.ReqSync{})
		if err != nil {
			t.Fatal(err)
		}
		inv, ok := resp.Rooms.Invite[d.Rooms.Carol]
		if !ok {
			t.Fatalf("no invite to %s in the sync; invites: %v", d.Rooms.Carol, keys(resp.Rooms.Invite))
		}
		found := false
		for _, evt := range inv.State.Events {
			if evt.Type != event.StateMember || evt.GetStateKey() != you.UserID.String() {
				continue
			}
			found = true
			var m struct {
				Membership string `json:"membership"`
				IsDirect   bool   `json:"is_direct"`
			}
			if err := json.Unmarshal(evt.Content.VeryRaw, &m); err != nil {
				t.Fatal(err)
			}
			if evt.Sender != carol || m.Membership != "invite" || !m.IsDirect {
				t.Errorf("our member event in the invite: sender %s, %+v; want an is_direct invite from %s", evt.Sender, m, carol)
			}
		}
		if !found {
			t.Errorf("invite_state of carol's room has no member event for us")
		}
	})

	t.Run("alice's history", func(t *testing.T) {
		msgs := messages(ctx, t, you, d.Rooms.Alice)
		if len(msgs) < 8 {
			t.Fatalf("alice's room has %d messages, want >= 8", len(msgs))
		}
		oldest := time.UnixMilli(msgs[0].Timestamp)
		if time.Since(oldest) < 24*time.Hour {
			t.Errorf("oldest message is from %s: the history does not spread over past days", oldest)
		}
		var long, multiline bool
		for _, m := range msgs {
			body := m.Content.AsMessage().Body
			long = long || len(body) > 200
			multiline = multiline || strings.Contains(body, "\n")
		}
		if !long || !multiline {
			t.Errorf("want a long and a multi-line message; long %v, multi-line %v", long, multiline)
		}
		for i := 1; i < len(msgs); i++ {
			if msgs[i].Sender == msgs[i-1].Sender {
				t.Errorf("messages %d and %d are both from %s; want alternating", i-1, i, msgs[i].Sender)
			}
		}
	})

	t.Run("replies, reactions and a picture", func(t *testing.T) {
		evts, err := you.Messages(ctx, d.Rooms.Alice, "", "", mautrix.DirectionBackward, nil, 100)
		if err != nil {
			t.Fatal(err)
		}
		var reactions []string
		replies := 0
		for _, evt := range evts.Chunk {
			_ = evt.Content.ParseRaw(evt.Type)
			switch evt.Type {
			case event.EventReaction:
				reactions = append(reactions, evt.Content.AsReaction().RelatesTo.Key)
			case event.EventMessage:
				if evt.Content.AsMessage().RelatesTo.GetReplyTo() != "" {
					replies++
				}
			}
		}
		slices.Sort(reactions)
		if !slices.Equal(reactions, []string{"📚", "😂"}) || replies != 1 {
			t.Errorf("alice's room has reactions %q and %d replies, want 📚 and 😂 and one reply", reactions, replies)
		}
		pics, err := clientFor(t, d, d.People["bob"]).Messages(ctx, d.Rooms.BobNext, "", "", mautrix.DirectionBackward, nil, 20)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, evt := range pics.Chunk {
			_ = evt.Content.ParseRaw(evt.Type)
			if c := evt.Content.AsMessage(); evt.Type == event.EventMessage && c.MsgType == event.MsgImage && c.Body == "shelf.png" && c.URL != "" {
				found = true
			}
		}
		if !found {
			t.Error("bob's new room has no picture of the shelf")
		}
	})

	t.Run("alice answers", func(t *testing.T) {
		before := len(messages(ctx, t, you, d.Rooms.Alice))
		// Alice's DM is encrypted from the end of the seeded history: the demo user needs an
		// encrypting device to talk there, as duet has.
		yours := (&hstest.Person{Account: d.You, ID: you.UserID, Client: you}).EnableCrypto(t)
		sentAt := time.Now()
		ours := yours.SendText(t, d.Rooms.Alice, "hello there")
		answer := yours.WaitMessage(t, d.Rooms.Alice, reply(0, "hello there"), 15*time.Second)
		t.Logf("alice answered after %s: %q", time.Since(sentAt), answer.Body)
		if answer.Sender != alice || !answer.Decrypted || answer.ReplyTo != ours {
			t.Errorf("the answer %+v should come from alice, end-to-end encrypted, as a reply to %s", answer, ours)
		}
		// Exactly our message and one answer were added: the history was not answered.
		time.Sleep(500 * time.Millisecond)
		if got := len(messages(ctx, t, you, d.Rooms.Alice)); got != before+2 {
			t.Errorf("alice's room has %d messages after one exchange, want %d", got, before+2)
		}
		// And she reacted to it, encrypted as Element does in an encrypted room (the relation
		// stays outside the ciphertext, as the spec has it).
		resp, err := you.Messages(ctx, d.Rooms.Alice, "", "", mautrix.DirectionBackward, &mautrix.FilterPart{Types: []event.Type{event.EventEncrypted}}, 20)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(resp.Chunk, func(evt *event.Event) bool {
			rel := gjson.GetBytes(evt.Content.VeryRaw, "m\\.relates_to")
			return evt.Sender == alice && rel.Get("event_id").Str == string(ours) && rel.Get("rel_type").Str == string(event.RelAnnotation)
		}) {
			t.Errorf("alice did not react (encrypted) to our message")
		}
		if got := len(messages(ctx, t, you, d.Rooms.Group)); got != 5 {
			t.Errorf("group room has %d messages, want the 5 seeded (nobody answers history)", got)
		}
	})

	t.Run("work account", func(t *testing.T) { testWork(ctx, t, d) })

	servers := []*homeserver.Server{d.Server}
	if d.Work != nil {
		servers = append(servers, d.Work.Server)
	}
	if err := d.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	stopped = true
	if err := d.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	for _, srv := range servers {
		if resp, err := hc.Get(srv.URL + "/_matrix/client/versions"); err == nil {
			resp.Body.Close()
			t.Errorf("homeserver %s still answers after Stop: %s", srv.URL, resp.Status)
		}
		if _, err := os.Stat(srv.StateDir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("state directory %s still there after Stop (%v)", srv.StateDir, err)
		}
	}
}

// testWork looks at the demo user's work account as duet would through a second profile: its
// own server, its DM list, the seeded history with Erin's unread question, and Dana answering.
func testWork(ctx context.Context, t *testing.T, d *Demo) {
	w := d.Work
	if w == nil || w.Server == nil || w.You == nil {
		t.Fatalf("no work account: %+v", w)
	}
	if w.Server.ServerName == d.Server.ServerName || w.Server.URL == d.Server.URL {
		t.Fatalf("the work server is the first one again: %s at %s", w.Server.ServerName, w.Server.URL)
	}
	if server := id.UserID(w.You.UserID).Homeserver(); server != w.Server.ServerName {
		t.Errorf("work user %s is not on the work server %s", w.You.UserID, w.Server.ServerName)
	}
	you := clientOn(t, w.Server, w.You)
	dana := id.UserID(w.People["dana"].UserID)
	erin := id.UserID(w.People["erin"].UserID)
	alice := id.UserID(w.People["alice"].UserID)

	t.Run("colleagues", func(t *testing.T) {
		for user, want := range map[id.UserID]string{dana: "Dana Whitfield", erin: "Erin Okafor", alice: "Alice Liddell"} {
			resp, err := you.GetDisplayName(ctx, user)
			if err != nil {
				t.Fatalf("display name of %s: %v", user, err)
			}
			if resp.DisplayName != want {
				t.Errorf("display name of %s is %q, want %q", user, resp.DisplayName, want)
			}
		}
		// The same person in both accounts: one name, two user IDs.
		if alice == id.UserID(d.People["alice"].UserID) {
			t.Errorf("alice's work account is her first account: %s", alice)
		}
	})

	t.Run("m.direct", func(t *testing.T) {
		var direct map[id.UserID][]id.RoomID
		if err := you.GetAccountData(ctx, event.AccountDataDirectChats.Type, &direct); err != nil {
			t.Fatalf("m.direct: %v", err)
		}
		want := map[id.UserID][]id.RoomID{dana: {w.Rooms.Dana}, erin: {w.Rooms.Erin}, alice: {w.Rooms.Alice}}
		if len(direct) != len(want) {
			t.Errorf("work m.direct lists %d people, want %d: %v", len(direct), len(want), direct)
		}
		for user, rooms := range want {
			if !slices.Equal(direct[user], rooms) || rooms[0] == "" {
				t.Errorf("work m.direct lists %v under %s, want %v", direct[user], user, rooms)
			}
		}
		joined, err := you.JoinedRooms(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, room := range []id.RoomID{w.Rooms.Dana, w.Rooms.Erin, w.Rooms.Alice} {
			if !slices.Contains(joined.JoinedRooms, room) {
				t.Errorf("work user is not joined to %s", room)
			}
		}
	})

	t.Run("history", func(t *testing.T) {
		for _, c := range []struct {
			room     id.RoomID
			n        int
			last     id.UserID
			lastHas  string
			lastWith time.Duration // the last message is at most this old
		}{
			{w.Rooms.Dana, 7, dana, "dashboards", time.Hour},
			{w.Rooms.Erin, 4, erin, "review", 15 * time.Minute},
			{w.Rooms.Alice, 2, you.UserID, "tonight", 4 * time.Hour},
		} {
			msgs := messages(ctx, t, you, c.room)
			if len(msgs) != c.n {
				t.Errorf("%s has %d messages, want %d: %q", c.room, len(msgs), c.n, bodies(msgs))
				continue
			}
			last := msgs[len(msgs)-1]
			if last.Sender != c.last || !strings.Contains(last.Content.AsMessage().Body, c.lastHas) {
				t.Errorf("the last message in %s is %q from %s, want one from %s with %q", c.room, last.Content.AsMessage().Body, last.Sender, c.last, c.lastHas)
			}
			if age := time.Since(time.UnixMilli(last.Timestamp)); age > c.lastWith || age < 0 {
				t.Errorf("the last message in %s is %s old, want recent (at most %s)", c.room, age, c.lastWith)
			}
			if time.Since(time.UnixMilli(msgs[0].Timestamp)) < 2*time.Hour {
				t.Errorf("the first message in %s is from %s: the history does not spread back", c.room, time.UnixMilli(msgs[0].Timestamp))
			}
		}
	})

	t.Run("erin waits unread, dana is read", func(t *testing.T) {
		// Dendrite counts notifications in the background: poll until both rooms have their count.
		var erinCount, danaCount int
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := you.FullSyncRequest(ctx, mautrix.ReqSync{})
			if err != nil {
				t.Fatal(err)
			}
			erinCount, danaCount = unread(resp, w.Rooms.Erin), unread(resp, w.Rooms.Dana)
			if erinCount == 1 && danaCount == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if erinCount != 1 || danaCount != 0 {
			t.Errorf("unread notifications: erin's DM %d, dana's %d; want 1 and 0", erinCount, danaCount)
		}
	})

	t.Run("dana answers", func(t *testing.T) {
		before := len(messages(ctx, t, you, w.Rooms.Dana))
		yours := (&hstest.Person{Account: w.You, ID: you.UserID, Client: you}).EnableCrypto(t)
		ours := yours.SendText(t, w.Rooms.Dana, "is staging green?")
		answer := yours.WaitMessage(t, w.Rooms.Dana, reply(0, "is staging green?"), 15*time.Second)
		if answer.Sender != dana || !answer.Decrypted || answer.ReplyTo != ours {
			t.Errorf("the answer %+v should come from dana, end-to-end encrypted, as a reply to %s", answer, ours)
		}
		time.Sleep(500 * time.Millisecond)
		if got := len(messages(ctx, t, you, w.Rooms.Dana)); got != before+2 {
			t.Errorf("dana's room has %d messages after one exchange, want %d", got, before+2)
		}
		if got := len(messages(ctx, t, you, w.Rooms.Erin)); got != 4 {
			t.Errorf("erin's room has %d messages, want the 4 seeded (nobody answers there)", got)
		}
	})
}

// unread is the room's notification count in a sync of the joined rooms, -1 when absent.
func unread(resp *mautrix.RespSync, room id.RoomID) int {
	r, ok := resp.Rooms.Join[room]
	if !ok || r.UnreadNotifications == nil {
		return -1
	}
	return r.UnreadNotifications.NotificationCount
}

// TestDemoNoWork starts the demo without the work server: only the first account is there, and
// Stop works without the second.
func TestDemoNoWork(t *testing.T) {
	if dendrite.OptedOut() {
		t.Log(dendrite.ErrOptedOut)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	began := time.Now()
	d, err := Start(ctx, Options{NoWork: true})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("Start took %s", time.Since(began))
	defer d.Stop()
	if d.Work != nil {
		t.Errorf("Work is %+v with NoWork", d.Work)
	}
	if d.Server == nil || d.You == nil || d.Rooms.Alice == "" {
		t.Errorf("the first account is missing: server %v, you %v, rooms %+v", d.Server, d.You, d.Rooms)
	}
	stateDir := d.Server.StateDir
	if err := d.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := os.Stat(stateDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state directory %s still there after Stop (%v)", stateDir, err)
	}
}

func clientFor(t *testing.T, d *Demo, acct *homeserver.Account) *mautrix.Client {
	t.Helper()
	return clientOn(t, d.Server, acct)
}

func clientOn(t *testing.T, srv *homeserver.Server, acct *homeserver.Account) *mautrix.Client {
	t.Helper()
	cli, err := mautrix.NewClient(srv.URL, id.UserID(acct.UserID), acct.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	cli.DeviceID = id.DeviceID(acct.DeviceID)
	return cli
}

// messages returns the room's m.room.message events, oldest first.
func messages(ctx context.Context, t *testing.T, cli *mautrix.Client, room id.RoomID) []*event.Event {
	t.Helper()
	resp, err := cli.Messages(ctx, room, "", "", mautrix.DirectionBackward, &mautrix.FilterPart{Types: []event.Type{event.EventMessage, event.EventEncrypted}}, 100)
	if err != nil {
		t.Fatalf("messages of %s: %v", room, err)
	}
	out := make([]*event.Event, 0, len(resp.Chunk))
	for i := len(resp.Chunk) - 1; i >= 0; i-- {
		evt := resp.Chunk[i]
		if gjson.GetBytes(evt.Content.VeryRaw, "m\\.relates_to.rel_type").Str == string(event.RelAnnotation) {
			continue // an encrypted reaction
		}
		_ = evt.Content.ParseRaw(evt.Type)
		out = append(out, evt)
	}
	return out
}

func bodies(evts []*event.Event) []string {
	out := make([]string, len(evts))
	for i, e := range evts {
		out[i] = e.Sender.String() + ": " + e.Content.AsMessage().Body
	}
	return out
}

func keys[K comparable, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestWithDirect(t *testing.T) {
	const room = id.RoomID("!new:hs")
	for _, c := range []struct {
		name, current string
		users         []id.UserID
		want          string // "" = unchanged
		wantErr       bool
	}{
		{name: "empty", current: `{}`, users: []id.UserID{"@a:hs"}, want: `{"@a:hs":["!new:hs"]}`},
		{name: "keeps others", current: `{"@b:hs":["!b:hs"],"@x:hs":"junk"}`, users: []id.UserID{"@a:hs"},
			want: `{"@a:hs":["!new:hs"],"@b:hs":["!b:hs"],"@x:hs":"junk"}`},
		{name: "appends", current: `{"@a:hs":["!old:hs"]}`, users: []id.UserID{"@a:hs"}, want: `{"@a:hs":["!old:hs","!new:hs"]}`},
		{name: "two users", current: `{}`, users: []id.UserID{"@a:hs", "@b:hs"}, want: `{"@a:hs":["!new:hs"],"@b:hs":["!new:hs"]}`},
		{name: "unchanged", current: `{"@a:hs":["!new:hs"]}`, users: []id.UserID{"@a:hs"}},
		{name: "malformed entry we change", current: `{"@a:hs":"junk"}`, users: []id.UserID{"@a:hs"}, wantErr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var current map[string]json.RawMessage
			if err := json.Unmarshal([]byte(c.current), &current); err != nil {
				t.Fatal(err)
			}
			before, _ := json.Marshal(current)
			next, changed, err := withDirect(current, room, c.users)
			if c.wantErr {
				if err == nil {
					t.Fatalf("no error, got %v", next)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if changed != (c.want != "") {
				t.Fatalf("changed = %v, want %v", changed, c.want != "")
			}
			if !changed {
				return
			}
			got, _ := json.Marshal(next)
			if string(got) != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
			if after, _ := json.Marshal(current); string(after) != string(before) {
				t.Errorf("current was modified: %s", after)
			}
		})
	}
}

func TestReply(t *testing.T) {
	for n := range replyTemplates {
		if got := reply(n, "hello there"); !strings.Contains(got, `"hello there"`) {
			t.Errorf("reply %d = %q, does not quote the message", n, got)
		}
	}
	if a, b := reply(0, "x"), reply(1, "x"); a == b {
		t.Errorf("consecutive replies are the same: %q", a)
	}
	long := strings.Repeat("word ", 40)
	got := quote(long)
	if n := len([]rune(got)); n > maxQuote || !strings.HasSuffix(got, "…") {
		t.Errorf("quote of a long message = %q (%d runes), want at most %d ending in …", got, n, maxQuote)
	}
	if got := quote("two\nlines  here"); got != "two lines here" {
		t.Errorf("quote of a multi-line message = %q, want it on one line", got)
	}
}
