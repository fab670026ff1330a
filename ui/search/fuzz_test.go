package search

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/termtest"
)

// FuzzView: whatever the names, senders, snippets (markers in place or not) and error texts,
// the dialog is exactly its size, no line wider than it, and nothing in it is a terminal escape,
// at any size and in every colour profile.
func FuzzView(f *testing.F) {
	seeds := termtest.Hostile()
	for i, s := range seeds {
		other := seeds[(i+1)%len(seeds)]
		f.Add(s, "…a \x01"+other+"\x02 b…", "@"+s+":example.org", other, i%2 == 0, uint8(i*13), uint8(i*3), uint8(i))
	}
	f.Add("Alice", results()[2].Snippet, string(bob), "bad query", false, uint8(70), uint8(18), uint8(0))
	f.Add("Zoë", "\x01\x01\x02\x02\x02\x01", "", "", true, uint8(3), uint8(2), uint8(1))
	f.Cleanup(func() { termtest.Plain() }) // what the package's tests expect
	f.Fuzz(func(t *testing.T, name, snippet, sender, errText string, mine bool, w, h, profile uint8) {
		ascii := termtest.SetProfile(profile)
		width, height := 1+int(w)%200, 1+int(h)%40
		m := newDialog(width, height)
		check := func(stage string) {
			t.Helper()
			if err := termtest.View(m.View(), width, height, ascii); err != nil {
				t.Fatalf("%s at %dx%d: %v", stage, width, height, err)
			}
		}
		m.Open(Scope{User: id.UserID(sender), Name: name})
		check("empty")
		_ = m.Update(tea.PasteMsg{Content: snippet}) // its pause before searching is not waited for
		msgs, _ := press(t, m, enter)
		check("typed")
		seq := 0
		if qs := queries(msgs); len(qs) > 0 {
			seq = qs[0].Seq
		}
		var rs []Result
		for i := range 5 {
			rs = append(rs, Result{
				Person: id.UserID(sender), Name: name, Sender: id.UserID(sender), Mine: mine && i%2 == 0,
				Timestamp: now.Add(-time.Duration(i) * 100 * 24 * time.Hour), Snippet: snippet,
			})
			if i%2 == 1 {
				rs[i].Person = "" // a group: the sender is shown
				rs[i].Snippet = strings.Repeat(snippet, i)
			}
		}
		m.setResults(seq, rs, mine)
		check("results")
		press(t, m, down, down, down)
		check("moved")
		press(t, m, tab)
		check("toggled")
		msgs, _ = press(t, m, enter)
		if qs := queries(msgs); len(qs) > 0 {
			m.setError(qs[0].Seq, errText)
			check("error")
		}
	})
}
