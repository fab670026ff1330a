package switcher

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"
)

// many is n contacts with varied names and servers, the kind of list a busy account has.
func many(n int) []Entry {
	first := []string{"Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy",
		"Mallory", "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Zoë"}
	last := []string{"Martin", "Okafor", "Nakamura", "Müller", "García", "Smith", "Kowalski", "Rossi", "Dubois",
		"Andersson", "Novák", "Ivanova", "Chen", "Singh", "O'Brien", "Haddad", "Silva", "Jensen", "Kaya", "Marlow"}
	servers := []string{"example.org", "matrix.org", "chat.example.com", "kde.org", "a-rather-long-homeserver.example.net"}
	out := make([]Entry, n)
	for i := range out {
		f, l := first[i%len(first)], last[(i/len(first))%len(last)]
		uid := id.UserID(fmt.Sprintf("@%s.%s%d:%s", strings.ToLower(f), strings.ToLower(l), i, servers[i%len(servers)]))
		out[i] = Entry{Kind: KindContact, Key: string(uid), Name: f + " " + l, UserID: uid,
			LastActivity: ago(time.Duration(i*37%n) * time.Minute)}
	}
	return out
}

// BenchmarkFilter1000 is one keystroke over 1,000 contacts: the key through Update, the
// query's fuzzy match and the ranking. A frame is 16 ms.
func BenchmarkFilter1000(b *testing.B) {
	for _, bm := range []struct{ name, before, key string }{
		{"first-key", "", "a"}, // matches nearly everyone: the most to rank
		{"third-key", "ma", "r"},
		{"user-id", "@alice.martin0:example.or", "g"}, // the new-DM check runs too
	} {
		b.Run(bm.name, func(b *testing.B) {
			m := typeIn(open(100, 24, many(1000)), bm.before)
			k := tea.KeyPressMsg{Code: tea.KeyExtended, Text: bm.key}
			// Each key goes to a copy of m, so that every one is typed after bm.before.
			got := *m
			if got.Update(k); got.Query() != bm.before+bm.key || len(got.shown) == 0 {
				b.Fatalf("query %q lists %d", got.Query(), len(got.shown))
			}
			b.ReportAllocs()
			for b.Loop() {
				c := *m
				c.Update(k)
			}
		})
	}
}

// BenchmarkView1000 draws the box over 1,000 contacts after a keystroke.
func BenchmarkView1000(b *testing.B) {
	m := typeIn(open(100, 24, many(1000)), "mar")
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}
