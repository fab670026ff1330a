package switcher

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/termtest"
)

// FuzzView: names, user IDs and details from the server, the directory's answer and its
// error, and a pasted query are drawn inert and in a box exactly the size set, every row
// selected in turn, at any size and in every colour profile.
func FuzzView(f *testing.F) {
	seeds := termtest.Hostile()
	for i, s := range seeds {
		other := seeds[(i+1)%len(seeds)]
		f.Add(s, "@"+other+":example.org", other, s, uint8(i*11), uint8(i*3), uint8(i))
	}
	f.Add("Alice", "@alice:example.org", "2 unread", "al", uint8(60), uint8(16), uint8(0))
	f.Add("Dana", "@dana:example.org", "", "@dana:example.org", uint8(100), uint8(24), uint8(1))
	f.Add("", "", "", "", uint8(0), uint8(0), uint8(2))
	f.Cleanup(func() { termtest.Plain() }) // what the package's tests expect
	f.Fuzz(func(t *testing.T, name, user, detail, query string, w, h, profile uint8) {
		ascii := termtest.SetProfile(profile)
		width, height := 1+int(w)%200, 1+int(h)%40
		uid := id.UserID(user)
		es := append(entries(),
			Entry{Kind: KindContact, Key: "1", Name: name, UserID: uid, Detail: detail, LastActivity: base},
			Entry{Kind: KindGroup, Key: "2", Name: name, Detail: detail},
			Entry{Kind: KindInvite, Key: "3", Name: detail, UserID: uid + "2", Detail: name},
			Entry{Kind: KindContact, Key: "4", UserID: uid + "3"},
		)
		m := open(width, height, es)
		check := func(stage string) {
			t.Helper()
			if err := termtest.View(m.View(), width, height, ascii); err != nil {
				t.Fatalf("%s: %v", stage, err)
			}
		}
		check("open")
		m.Update(tea.PasteMsg{Content: query})
		check("query")
		q := m.Query()
		m.pending = q
		check("searching")
		m.setDirectory(q, []Entry{
			{Name: name, UserID: uid + "4", Detail: detail},
			{Name: detail, UserID: uid},
			{Name: name, UserID: uid + "4"},
		})
		check("directory")
		for range len(m.shown) + 1 {
			m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
			check("down")
		}
		m.directoryFailed(q, name)
		check("failed")
	})
}

// TestViewHugeFields: 100 KB names, user IDs and details are drawn inert and within the box.
func TestViewHugeFields(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 100<<10; i++ {
		s := termtest.Hostile()
		b.WriteString(s[i%len(s)])
	}
	big := b.String()
	m := open(50, 12, []Entry{
		{Kind: KindContact, Key: "1", Name: big, UserID: id.UserID(big), Detail: big},
		{Kind: KindGroup, Key: "2", Name: big, Detail: big},
	})
	if err := termtest.View(m.View(), 50, 12, true); err != nil {
		t.Fatal(err)
	}
	m.Update(tea.PasteMsg{Content: "hel"})
	m.setDirectory("hel", []Entry{{Name: big, UserID: id.UserID(big)}})
	m.directoryFailed("hel", big)
	if err := termtest.View(m.View(), 50, 12, true); err != nil {
		t.Fatal(err)
	}
}
