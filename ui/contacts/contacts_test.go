package contacts

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/termtest"
	"duet/matrixsvc"
	"duet/ui/styles"
)

func TestMain(m *testing.M) {
	termtest.Plain()
	os.Exit(m.Run())
}

var now = time.Date(2026, 3, 2, 15, 30, 0, 0, time.UTC)

const me = id.UserID("@me:example.org")

func at(d time.Duration) int64 { return now.Add(-d).UnixMilli() }

func overview() matrixsvc.Overview {
	return matrixsvc.Overview{
		Contacts: []matrixsvc.ContactView{
			{Contact: matrixsvc.Contact{UserID: "@bob:example.org", Room: "!b", LastActivity: at(26 * time.Hour)},
				DisplayName: "Bob", Preview: matrixsvc.Preview{Body: "ok", Sender: me}},
			{Contact: matrixsvc.Contact{UserID: "@alice:example.org", Room: "!a", LastActivity: at(5 * time.Minute), Unread: 2},
				DisplayName: "Alice", Preview: matrixsvc.Preview{Body: "see you\ntomorrow", Sender: "@alice:example.org"}},
			{Contact: matrixsvc.Contact{UserID: "@carol:example.org", LastActivity: at(time.Hour), Pending: true, InviteRooms: []id.RoomID{"!i"}},
				DisplayName: "Carol"},
			{Contact: matrixsvc.Contact{UserID: "@zed:example.org", Room: "!z", LastActivity: at(400 * 24 * time.Hour), Unread: 1234},
				DisplayName: "Zed with a very long display name indeed"},
		},
		Groups: []matrixsvc.GroupView{
			{GroupDM: matrixsvc.GroupDM{RoomID: "!g", Users: []id.UserID{"@alice:example.org", "@bob:example.org"}, MemberCount: 3, LastActivity: at(3 * time.Hour), Unread: 5, Name: "Weekend trip"},
				Preview: matrixsvc.Preview{Body: "who brings the tent?"}},
		},
		Invites: []matrixsvc.Invite{{RoomID: "!club", Inviter: "@erin:example.org", Name: "Book club", Timestamp: at(48 * time.Hour)}},
	}
}

func newList(w, h int) Model {
	m := New(DefaultKeyMap(), styles.Default().Contacts, func() time.Time { return now })
	m.SetSize(w, h)
	m.Focus()
	m.SetOverview(overview(), me)
	return m
}

func press(m Model, s string) Model {
	for _, r := range s {
		_ = m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return m
}

func TestViewList(t *testing.T) {
	m := newList(30, 16)
	_ = m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
	golden.RequireEqual(t, m.View())
}

func TestViewFiltered(t *testing.T) {
	m := newList(30, 10)
	m = press(m, "/al")
	if !m.Filtering() {
		t.Fatal("/ should start filtering")
	}
	golden.RequireEqual(t, m.View())
}

func TestViewScrollsToSelection(t *testing.T) {
	m := newList(24, 6)
	for range 5 {
		_ = m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
	}
	view := m.View()
	if !strings.Contains(view, "›Weekend trip") {
		t.Fatalf("the selected group is not in view:\n%s", view)
	}
	golden.RequireEqual(t, view)
}

func TestOrder(t *testing.T) {
	m := newList(30, 20)
	var got []string
	for _, it := range m.Items() {
		got = append(got, it.Name)
	}
	want := "Carol,Book club,Alice,Bob,Zed with a very long display name indeed,Weekend trip"
	if strings.Join(got, ",") != want {
		t.Fatalf("order %v, want %s", got, want)
	}
	// Bob writes: he moves up, and the selection stays on the same person.
	m.Select("u:@zed:example.org")
	ov := overview()
	ov.Contacts[0].LastActivity = now.UnixMilli()
	m.SetOverview(ov, me)
	if m.Items()[2].Name != "Bob" {
		t.Fatalf("Bob did not move up: %v", m.Items()[2].Name)
	}
	if it, _ := m.Selected(); it.UserID != "@zed:example.org" {
		t.Fatalf("selection moved to %v", it.UserID)
	}
}

// Before anyone chose a row, the first one is selected whatever the order: a new device's list
// re-sorts when its first sync lands, and the top row is where a person starts.
func TestTheFirstRowUntilARowIsChosen(t *testing.T) {
	m := newList(30, 20)
	ov := overview()
	ov.Contacts[0].LastActivity = now.UnixMilli() // Bob now first among the people
	ov.Invites = nil
	for i := range ov.Contacts {
		ov.Contacts[i].Pending = false
	}
	m.SetOverview(ov, me)
	if it, _ := m.Selected(); it.Key() != m.Items()[0].Key() {
		t.Fatalf("selected %v, not the first row %v", it.Name, m.Items()[0].Name)
	}
}

func TestKeysEmit(t *testing.T) {
	m := newList(30, 20)
	cmd := m.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	if open, ok := cmd().(OpenMsg); !ok || open.Item.UserID != "@carol:example.org" {
		t.Fatalf("enter gave %#v", cmd())
	}
	cmd = m.Update(tea.KeyPressMsg{Code: 'a', Text: "a"})
	if acc, ok := cmd().(AcceptMsg); !ok || acc.Item.InviteRooms[0] != "!i" {
		t.Fatalf("a gave %#v", cmd())
	}
	m = press(m, "j")
	cmd = m.Update(tea.KeyPressMsg{Code: 'n', Text: "n"})
	if _, ok := cmd().(NewDMMsg); !ok {
		t.Fatalf("n gave %#v", cmd())
	}
	m = press(m, "jj")
	if cmd = m.Update(tea.KeyPressMsg{Code: 'a', Text: "a"}); cmd != nil {
		t.Fatal("a on a contact without an invite did something")
	}
}

// The accounts' rows merged in one pass are what sorting them all together gives: by
// section, newest first, the earlier account first on a tie.
func TestMergePartsIsTheSortedList(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		parts := make([][]Item, 1+rng.IntN(4))
		var all []Item
		for a := range parts {
			for range rng.IntN(30) {
				parts[a] = append(parts[a], Item{Acct: a, Section: Section(rng.IntN(4)), TS: int64(rng.IntN(10)), Name: fmt.Sprint(rng.Int())})
			}
			slices.SortStableFunc(parts[a], func(x, y Item) int {
				return cmp.Or(cmp.Compare(x.Section, y.Section), cmp.Compare(y.TS, x.TS))
			})
			all = append(all, parts[a]...)
		}
		slices.SortStableFunc(all, func(x, y Item) int {
			return cmp.Or(cmp.Compare(x.Section, y.Section), cmp.Compare(y.TS, x.TS))
		})
		got := mergeParts(parts)
		if len(all) == 0 && len(got) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, all) {
			t.Fatalf("merged %v\nwant %v", got, all)
		}
	}
}
