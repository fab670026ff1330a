package switcher

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"duet/matrixsvc"
	"duet/ui/contacts"
	"duet/ui/styles"
)

// fakeDirectory answers every search with users or err, and notes what it was asked.
type fakeDirectory struct {
	users []matrixsvc.DirectoryUser
	err   error
	asked []string // "term|limit"
}

func (f *fakeDirectory) SearchUsers(_ context.Context, term string, limit int) ([]matrixsvc.DirectoryUser, error) {
	f.asked = append(f.asked, fmt.Sprintf("%s|%d", term, limit))
	return f.users, f.err
}

// askDirectory types query into a switcher on dir and, once typing has paused, hands what
// that sends back to it as the root does.
func askDirectory(t *testing.T, dir *fakeDirectory, query string) *Model {
	t.Helper()
	m := New(dir, Options{Keys: DefaultKeyMap(), Styles: styles.Default().Switcher, Me: me})
	m.SetSize(100, 16)
	m.Open(entries())
	msgs := run(press(m, typed(query)...)...)
	for len(msgs) > 0 {
		msg := msgs[0]
		msgs = msgs[1:]
		if _, ok := msg.(Msg); !ok {
			continue // the input's own
		}
		msgs = append(msgs, run(m.Update(msg))...)
	}
	return m
}

// The switcher asks the directory itself once typing pauses, and lists the people found, by
// their user ID when they have no name.
func TestDirectoryAsked(t *testing.T) {
	dir := &fakeDirectory{users: []matrixsvc.DirectoryUser{
		{UserID: "@caroline:astro.example", DisplayName: "Caroline Herschel"},
		{UserID: "@carl:example.com"},
	}}
	m := askDirectory(t, dir, "car")
	if want := []string{"car|20"}; fmt.Sprint(dir.asked) != fmt.Sprint(want) {
		t.Fatalf("asked %q, want %q", dir.asked, want)
	}
	got := listed(m)
	want := []string{"from the server's directory", "Caroline Herschel  @caroline:astro.example", "@carl:example.com"}
	if fmt.Sprint(got[len(got)-3:]) != fmt.Sprint(want) {
		t.Fatalf("listed %q, want it to end with %q", got, want)
	}
}

// A failed directory search is explained under the list.
func TestDirectoryError(t *testing.T) {
	err := errors.New("connection refused")
	m := askDirectory(t, &fakeDirectory{err: err}, "zzz")
	if v := m.View(); !strings.Contains(v, "the directory search failed: "+matrixsvc.Explain(err)) {
		t.Fatalf("the failure is not shown:\n%s", v)
	}
}

// An answer that comes after the switcher closed is dropped.
func TestDirectoryAnswerAfterClose(t *testing.T) {
	dir := &fakeDirectory{users: []matrixsvc.DirectoryUser{{UserID: "@caroline:astro.example", DisplayName: "Caroline"}}}
	m := New(dir, Options{Keys: DefaultKeyMap(), Styles: styles.Default().Switcher, Me: me})
	m.Open(entries())
	typeIn(m, "car")
	ask := m.Update(DirectoryMsg{Query: "car"})
	m.Close()
	m.Update(ask())
	m.Open(entries())
	typeIn(m, "car")
	if len(dir.asked) != 1 || strings.Contains(m.View(), "Caroline") {
		t.Fatalf("asked %q; an answer from before shows:\n%s", dir.asked, m.View())
	}
}

// The contacts list's rows become entries of their kind, with what is said of them.
func TestEntriesOf(t *testing.T) {
	rows := []contacts.Item{
		{Kind: contacts.KindContact, UserID: "@bob:example.org", Name: "Bob", TS: 5},
		{Kind: contacts.KindGroup, RoomID: "!g:example.org", Name: "Book club", Members: 4},
		{Kind: contacts.KindRoomInvite, RoomID: "!i:example.org", Name: "Party"},
		{Kind: contacts.KindContact, UserID: "@req:example.org", Name: "Req", Pending: true, Request: true},
		{Kind: contacts.KindContact, UserID: "@dave:example.org", Name: "Dave", Pending: true},
		{Kind: contacts.KindContact, UserID: "@mal:example.org", Name: "Mal", Blocked: true},
	}
	want := []Entry{
		{Kind: KindContact, Key: "u:@bob:example.org", Name: "Bob", UserID: "@bob:example.org", LastActivity: 5},
		{Kind: KindGroup, Key: "r:!g:example.org", Name: "Book club", Detail: "4 members"},
		{Kind: KindInvite, Key: "r:!i:example.org", Name: "Party", Detail: "room invite"},
		{Kind: KindInvite, Key: "u:@req:example.org", Name: "Req", UserID: "@req:example.org", Detail: "request"},
		{Kind: KindInvite, Key: "u:@dave:example.org", Name: "Dave", UserID: "@dave:example.org", Detail: "invite"},
		{Kind: KindContact, Key: "u:@mal:example.org", Name: "Mal", UserID: "@mal:example.org", Detail: "blocked"},
	}
	if got := EntriesOf(rows); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("entries\n%+v\nwant\n%+v", got, want)
	}
}
