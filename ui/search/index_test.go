package search

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/styles"
)

// fakeIndex answers every search with results or err, and notes what it was asked.
type fakeIndex struct {
	results []matrixsvc.SearchResult
	err     error
	asked   []string // "query|with|limit"
}

func (f *fakeIndex) Search(_ context.Context, query string, with id.UserID, limit int) ([]matrixsvc.SearchResult, bool, error) {
	f.asked = append(f.asked, fmt.Sprintf("%s|%s|%d", query, with, limit))
	return f.results, false, f.err
}

// searchFor types query and enter into a dialog on idx, and hands what that sends back to it
// as the root does, until nothing more comes; it returns what the dialog hands to the root.
func searchFor(t *testing.T, idx *fakeIndex, scope Scope, query string, closeFirst bool) (*Model, []Msg) {
	t.Helper()
	m := New(idx, Options{Keys: DefaultKeyMap(), Styles: styles.Default().Search, Me: me, Now: clock})
	m.SetSize(70, 18)
	m.Open(scope)
	msgs, _ := press(t, m, append(runes(query), enter)...)
	if closeFirst {
		m.Close()
	}
	var back []Msg
	for len(msgs) > 0 {
		msg := msgs[0].(Msg)
		msgs = msgs[1:]
		switch msg.(type) {
		case OpenMsg, ClosedMsg:
			back = append(back, msg)
		default:
			msgs = append(msgs, run(m.Update(msg))...)
		}
	}
	return m, back
}

// The dialog asks the index itself, in the scope, and shows the answer, the user's own
// messages as "you".
func TestSearchAsksTheIndex(t *testing.T) {
	idx := &fakeIndex{results: []matrixsvc.SearchResult{
		{Message: matrixsvc.Message{RoomID: "!dm:example.org", EventID: "$1", Sender: me, Timestamp: now},
			Person: alice, Name: "Alice", Snippet: "we \x01meet\x02 here"},
		{Message: matrixsvc.Message{RoomID: "!dm:example.org", EventID: "$2", Sender: alice, Timestamp: now.Add(-time.Hour)},
			Person: alice, Name: "Alice", Snippet: "\x01meet\x02 you there"},
	}}
	m, back := searchFor(t, idx, Scope{User: alice, Name: "Alice"}, "meet", false)
	if want := []string{"meet|" + string(alice) + "|50"}; fmt.Sprint(idx.asked) != fmt.Sprint(want) || len(back) != 0 {
		t.Fatalf("asked %q, handed back %v", idx.asked, back)
	}
	v := m.View()
	if !strings.Contains(v, "2 messages") || !strings.Contains(v, "you: we [meet] here") || strings.Contains(v, "you: [meet] you") {
		t.Fatalf("the answer is not shown as it should be:\n%s", v)
	}
}

// A query the index cannot run says why in its own words; other errors are explained.
func TestSearchErrors(t *testing.T) {
	bad := fmt.Errorf("%w: a quote is not closed", matrixsvc.ErrBadSearch)
	m, _ := searchFor(t, &fakeIndex{err: bad}, Scope{}, "\"meet", false)
	if !strings.Contains(m.View(), bad.Error()) {
		t.Fatalf("the bad query's reason is not shown:\n%s", m.View())
	}
	other := errors.New("disk I/O error")
	m, _ = searchFor(t, &fakeIndex{err: other}, Scope{}, "meet", false)
	if !strings.Contains(m.View(), matrixsvc.Explain(other)) {
		t.Fatalf("the error is not explained:\n%s", m.View())
	}
}

// A query sent before the dialog closed is still run; its answer is dropped.
func TestSearchAnswerAfterClose(t *testing.T) {
	idx := &fakeIndex{results: []matrixsvc.SearchResult{{Person: alice, Name: "Alice", Snippet: "\x01meet\x02"}}}
	m, back := searchFor(t, idx, Scope{}, "meet", true)
	if len(idx.asked) != 1 || len(back) != 0 || m.Active() {
		t.Fatalf("asked %q, handed back %v, active %v", idx.asked, back, m.Active())
	}
	m.Open(Scope{})
	if strings.Contains(m.View(), "Alice") {
		t.Fatalf("an answer that came while closed shows:\n%s", m.View())
	}
}
