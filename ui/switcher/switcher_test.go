package switcher

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/termtest"
	"duet/ui/styles"
)

func TestMain(m *testing.M) {
	termtest.Plain()
	os.Exit(m.Run())
}

const me = id.UserID("@me:example.org")

// base is "now" for LastActivity, in ms.
const base int64 = 1_772_465_400_000

func ago(d time.Duration) int64 { return base - d.Milliseconds() }

func entries() []Entry {
	return []Entry{
		{Kind: KindContact, Key: "u:@bob:example.org", Name: "Bob", UserID: "@bob:example.org", LastActivity: ago(26 * time.Hour)},
		{Kind: KindContact, Key: "u:@alice:example.org", Name: "Alice Liddell", UserID: "@alice:example.org", Detail: "2 unread", LastActivity: ago(5 * time.Minute)},
		{Kind: KindContact, Key: "u:@carol:example.org", Name: "Carol", UserID: "@carol:example.org", LastActivity: ago(time.Hour)},
		{Kind: KindGroup, Key: "r:!book:example.org", Name: "Book club", Detail: "4 members", LastActivity: ago(30 * time.Minute)},
		{Kind: KindInvite, Key: "i:!inv:example.net", Name: "Dave", UserID: "@dave:example.net", Detail: "invite", LastActivity: ago(10 * time.Minute)},
		{Kind: KindContact, Key: "u:@zed:example.org", Name: "Zed with a very long display name indeed, longer than any box", UserID: "@zed:matrix.example.org", LastActivity: ago(400 * 24 * time.Hour)},
		{Kind: KindContact, Key: "u:@mallory:example.org", Name: "Mal\x1b[2Jlory", UserID: "@mallory:example.org", LastActivity: ago(72 * time.Hour)},
	}
}

func open(w, h int, es []Entry) *Model {
	m := New(nil, Options{Keys: DefaultKeyMap(), Styles: styles.Default().Switcher, Me: me})
	m.SetSize(w, h)
	m.Open(es)
	return m
}

// press sends keys and returns what they asked for, without running it: a debounce timer
// sleeps.
func press(m *Model, keys ...tea.KeyPressMsg) []tea.Cmd {
	var cmds []tea.Cmd
	for _, k := range keys {
		if cmd := m.Update(k); cmd != nil {
			cmds = append(cmds, cmd)
		}
	}
	return cmds
}

func typed(s string) []tea.KeyPressMsg {
	var out []tea.KeyPressMsg
	for _, r := range s {
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return out
}

func typeIn(m *Model, s string) *Model {
	press(m, typed(s)...)
	return m
}

// run runs cmds at once (timers overlap, as they do in the program) and returns their
// messages in the order of cmds, batches flattened.
func run(cmds ...tea.Cmd) []tea.Msg {
	out := make([][]tea.Msg, len(cmds))
	var wg sync.WaitGroup
	for i, cmd := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if cmd == nil {
				return
			}
			switch msg := cmd().(type) {
			case nil:
			case tea.BatchMsg:
				out[i] = run(msg...)
			default:
				out[i] = []tea.Msg{msg}
			}
		}()
	}
	wg.Wait()
	var flat []tea.Msg
	for _, msgs := range out {
		flat = append(flat, msgs...)
	}
	return flat
}

var (
	esc   = tea.KeyPressMsg{Code: tea.KeyEscape}
	enter = tea.KeyPressMsg{Code: tea.KeyEnter}
	down  = tea.KeyPressMsg{Code: tea.KeyDown}
	up    = tea.KeyPressMsg{Code: tea.KeyUp}
	ctrlN = tea.KeyPressMsg{Code: 'n', Mod: tea.ModCtrl}
	ctrlP = tea.KeyPressMsg{Code: 'p', Mod: tea.ModCtrl}
	pgDn  = tea.KeyPressMsg{Code: tea.KeyPgDown}
	pgUp  = tea.KeyPressMsg{Code: tea.KeyPgUp}
	bksp  = tea.KeyPressMsg{Code: tea.KeyBackspace}
)

// listed is the list as the user reads it: the text of each list line of the box, trimmed.
func listed(m *Model) []string {
	lines := strings.Split(m.View(), "\n")
	var out []string
	for _, l := range lines[3 : len(lines)-1] {
		l = strings.TrimSpace(strings.Trim(l, "│"))
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// order is the names of the rows, in order.
func order(m *Model) []string {
	var out []string
	for _, c := range m.shown {
		out = append(out, c.it.name)
	}
	return out
}

// selectedLine is the text of the list line marked as selected.
func selectedLine(t *testing.T, m *Model) string {
	t.Helper()
	var found []string
	for _, l := range listed(m) {
		if strings.HasPrefix(l, "›") {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d selected lines:\n%s", len(found), m.View())
	}
	return found[0]
}

func TestEmptyQueryMostRecentFirst(t *testing.T) {
	m := open(60, 16, entries())
	want := []string{"Alice Liddell", "Dave", "Book club", "Carol", "Bob", "Mal␛[2Jlory", "Zed with a very long display name indeed, longer than any box"}
	if got := order(m); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("order %q, want %q", got, want)
	}
	if l := selectedLine(t, m); !strings.HasPrefix(l, "› Alice Liddell") {
		t.Fatalf("the most recent is not selected: %q", l)
	}
}

func TestRanking(t *testing.T) {
	tests := []struct {
		name  string
		query string
		es    []Entry
		want  []string
	}{
		{
			name:  "a prefix beats a word start, which beats the middle of a word and scattered letters",
			query: "ann",
			es: []Entry{
				{Name: "Kathleen Jonas", UserID: "@kj:example.org", LastActivity: ago(time.Minute)},
				{Name: "Marianne", UserID: "@marianne:example.org", LastActivity: ago(2 * time.Minute)},
				{Name: "Bob Annan", UserID: "@bob:example.org", LastActivity: ago(3 * time.Minute)},
				{Name: "Anna", UserID: "@anna:example.org", LastActivity: ago(4 * time.Minute)},
			},
			want: []string{"Anna", "Bob Annan", "Marianne", "Kathleen Jonas"},
		},
		{
			name:  "the exact name beats a longer one it begins",
			query: "bob",
			es: []Entry{
				{Name: "Bobby Tables", UserID: "@bobby:example.org", LastActivity: ago(time.Minute)},
				{Name: "Bob", UserID: "@bob:example.org", LastActivity: ago(time.Hour)},
			},
			want: []string{"Bob", "Bobby Tables"},
		},
		{
			name:  "a long server name does not bury a prefix match",
			query: "ale",
			es: []Entry{
				{Name: "Dale", UserID: "@d:x.org", LastActivity: ago(time.Minute)},
				{Name: "Alex", UserID: "@alex:a-rather-long-homeserver-name.example.org", LastActivity: ago(time.Hour)},
			},
			want: []string{"Alex", "Dale"},
		},
		{
			name:  "equal matches: the most recent first, then by name",
			query: "sam",
			es: []Entry{
				{Name: "Sam", UserID: "@sam:a.example", LastActivity: ago(time.Hour)},
				{Name: "Sam", UserID: "@sam:c.example", LastActivity: ago(time.Minute)},
				{Name: "sam", UserID: "@sam:b.example", LastActivity: ago(time.Hour)},
				{Kind: KindGroup, Name: "Sam", Key: "r:1", LastActivity: ago(time.Second)},
			},
			want: []string{"Sam", "Sam", "Sam", "sam"},
		},
		{
			name:  "the user ID matches too",
			query: "@caro",
			es: []Entry{
				{Name: "Bob", UserID: "@bob:example.org"},
				{Name: "Cee", UserID: "@carol:example.org"},
			},
			want: []string{"Cee"},
		},
		{
			name:  "no match",
			query: "xyz",
			es:    entries(),
			want:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := typeIn(open(60, 16, tt.es), tt.query)
			if got := order(m); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("%q lists %q, want %q", tt.query, got, tt.want)
			}
		})
	}
	// The ties above, by their user IDs: group (most recent), c, then a and b by name.
	m := typeIn(open(60, 16, tests[3].es), "sam")
	var ids []string
	for _, c := range m.shown {
		ids = append(ids, string(c.it.UserID))
	}
	if want := "[ @sam:c.example @sam:a.example @sam:b.example]"; fmt.Sprint(ids) != want {
		t.Fatalf("ties in order %v, want %v", ids, want)
	}
	if strings.Contains(m.View(), "no match") {
		t.Fatalf("no match shown with matches:\n%s", m.View())
	}
	m = typeIn(open(60, 16, entries()), "xyz")
	if l := listed(m); len(l) != 1 || l[0] != "no match" {
		t.Fatalf("nothing matches, the list shows %q", l)
	}
}

func TestNewDMRow(t *testing.T) {
	tests := []struct {
		query string
		want  id.UserID // "" = no row
	}{
		{"@dana:example.org", "@dana:example.org"},
		{"  @dana:example.org:8448 ", "@dana:example.org:8448"},
		{"@alice:example.org", ""}, // a contact
		{"@dave:example.net", ""},  // has invited us
		{string(me), ""},
		{"@dana", ""},
		{"@dana:", ""},
		{"dana:example.org", ""},
		{"@da na:example.org", ""},
		{"@dana:exa mple.org", ""},
	}
	for _, tt := range tests {
		m := typeIn(open(60, 16, entries()), tt.query)
		first, ok := m.Selected()
		isNew := ok && first.Kind == KindNewDM
		if isNew != (tt.want != "") || (isNew && first.UserID != tt.want) {
			t.Fatalf("%q: first row %+v, want a new-DM row for %q", tt.query, first, tt.want)
		}
		if isNew {
			if l := selectedLine(t, m); l != "› start a DM with "+string(tt.want) {
				t.Fatalf("%q: the row reads %q", tt.query, l)
			}
			for _, c := range m.shown[1:] {
				if c.it.Kind == KindNewDM {
					t.Fatalf("%q: a second new-DM row", tt.query)
				}
			}
			cmds := press(m, enter)
			if msgs := run(cmds...); len(msgs) != 1 || msgs[0] != (ChosenMsg{Entry{Kind: KindNewDM, Name: string(tt.want), UserID: tt.want}}) {
				t.Fatalf("%q: enter gives %v", tt.query, msgs)
			}
		}
	}
	// A known user ID lists the contact instead, selected.
	m := typeIn(open(60, 16, entries()), "@alice:example.org")
	if e, _ := m.Selected(); e.Key != "u:@alice:example.org" {
		t.Fatalf("@alice:example.org selects %+v", e)
	}
}

// directoryMsgs runs what the keys asked for, hands the timers' ticks back to the switcher and
// returns the directory searches that asked for, with the time it took.
func directoryMsgs(t *testing.T, m *Model, cmds []tea.Cmd) ([]DirectoryMsg, time.Duration) {
	t.Helper()
	start := time.Now()
	msgs := run(cmds...)
	took := time.Since(start)
	var out []DirectoryMsg
	for _, msg := range msgs {
		tick, ok := msg.(TickMsg)
		if !ok {
			continue
		}
		for _, msg := range run(m.Update(tick)) {
			d, ok := msg.(DirectoryMsg)
			if !ok {
				t.Fatalf("a tick gave %T", msg)
			}
			out = append(out, d)
		}
	}
	return out, took
}

func TestDirectoryDebounce(t *testing.T) {
	m := open(60, 16, entries())
	cmds := press(m, typed("alic")...)
	dms, took := directoryMsgs(t, m, cmds)
	if len(dms) != 1 || dms[0].Query != "alic" {
		t.Fatalf("typing alic asked the directory for %+v, want once for alic", dms)
	}
	if took < directoryDelay {
		t.Fatalf("asked after %v, before typing had paused for %v", took, directoryDelay)
	}
	if !strings.Contains(m.View(), "searching the directory…") {
		t.Fatalf("no sign of the search:\n%s", m.View())
	}
	// The same tick again, or one more for the same query, asks nothing more.
	dms, _ = directoryMsgs(t, m, []tea.Cmd{func() tea.Msg { return TickMsg{Seq: dms[0].Seq} }})
	if len(dms) != 0 {
		t.Fatalf("a repeated tick asked again: %+v", dms)
	}
	// Two characters never ask; neither does a query whose tick is overtaken by a key.
	m = open(60, 16, entries())
	cmds = press(m, typed("al")...)
	if dms, _ = directoryMsgs(t, m, cmds); len(dms) != 0 {
		t.Fatalf("al asked the directory: %+v", dms)
	}
	cmds = press(m, typed("i")...)
	press(m, bksp)
	if dms, _ = directoryMsgs(t, m, cmds); len(dms) != 0 {
		t.Fatalf("the tick for ali asked after the query went back to al: %+v", dms)
	}
	// Spaces around the query are not a new query.
	m = typeIn(open(60, 16, entries()), "car")
	cmds = press(m, typed("  ")...)
	if dms, _ = directoryMsgs(t, m, cmds); len(dms) != 0 {
		t.Fatalf("trailing spaces asked again: %+v", dms)
	}
}

func directory() []Entry {
	return []Entry{
		{Name: "Carol", UserID: "@carol:example.org", Key: "d:@carol:example.org"}, // a contact, already listed
		{Name: "Caroline Herschel", UserID: "@caroline:astro.example", Key: "d:@caroline:astro.example"},
		{Name: "Me", UserID: me},
		{Name: "Carlos", UserID: "@carlos:example.com", Key: "d:@carlos:example.com"},
		{Name: "Caroline again", UserID: "@caroline:astro.example"}, // the server repeated her
		{Name: "nobody"},
	}
}

func TestSetDirectory(t *testing.T) {
	m := open(60, 16, entries())
	cmds := press(m, typed("car")...)
	dms, _ := directoryMsgs(t, m, cmds)
	if len(dms) != 1 {
		t.Fatalf("asked %+v", dms)
	}
	m.setDirectory("ca", directory()) // an older query's answer
	if strings.Contains(m.View(), "directory\n") || strings.Contains(m.View(), "Carlos") {
		t.Fatalf("a stale answer is shown:\n%s", m.View())
	}
	if !strings.Contains(m.View(), "searching the directory…") {
		t.Fatal("a stale answer ended the search")
	}
	m.setDirectory("car", directory())
	want := []string{
		"› Carol  @carol:example.org",
		"Alice Liddell  @alice:example.org             2 unread", // c…a…r, scattered, last
		"from the server's directory",
		"Caroline Herschel  @caroline:astro.example",
		"Carlos  @carlos:example.com",
	}
	if got := listed(m); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("listed %q, want %q", got, want)
	}
	// Choosing one hands back the server's entry as a directory entry.
	c := *m // a copy moves down and chooses; m goes on from here
	m2 := &c
	cmds = press(m2, down, down, down)
	if msgs := run(cmds...); len(msgs) != 0 {
		t.Fatalf("moving sent %v", msgs)
	}
	cmds = press(m2, enter)
	msgs := run(cmds...)
	wantChosen := ChosenMsg{Entry{Kind: KindDirectory, Name: "Carlos", UserID: "@carlos:example.com", Key: "d:@carlos:example.com"}}
	if len(msgs) != 1 || msgs[0] != wantChosen {
		t.Fatalf("enter on Carlos: %v", msgs)
	}
	// The answer belongs to "car": a longer query hides it, coming back shows it without asking.
	press(m, typed("o")...)
	if strings.Contains(m.View(), "Caroline") {
		t.Fatalf("the answer for car is shown for caro:\n%s", m.View())
	}
	cmds = press(m, bksp)
	if dms, _ := directoryMsgs(t, m, cmds); len(dms) != 0 || !strings.Contains(m.View(), "Caroline Herschel") {
		t.Fatalf("back to car: asked %v\n%s", dms, m.View())
	}
	// An answer after the switcher closed is dropped.
	m.Close()
	m.setDirectory("car", directory())
	m.Open(entries())
	m = typeIn(m, "car")
	if strings.Contains(m.View(), "Caroline") {
		t.Fatalf("an answer from before is shown:\n%s", m.View())
	}
}

// People the directory finds who are among the local matches, or are the new-DM row, are
// listed once.
func TestDirectoryDedupNewDM(t *testing.T) {
	m := typeIn(open(60, 16, entries()), "@carlos:example.com")
	m.setDirectory("@carlos:example.com", directory()[3:4])
	if got := listed(m); len(got) != 1 || got[0] != "› start a DM with @carlos:example.com" {
		t.Fatalf("listed %q", got)
	}
}

func TestDirectoryFailed(t *testing.T) {
	m := open(100, 16, entries())
	cmds := press(m, typed("zzz")...)
	directoryMsgs(t, m, cmds)
	m.directoryFailed("zzz", "M_LIMIT_EXCEEDED:\x1b[31m too many requests\n")
	got := listed(m)
	want := []string{"no match", "the directory search failed: M_LIMIT_EXCEEDED:␛[31m too many requests"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("listed %q, want %q", got, want)
	}
	// Typing on clears it; coming back asks again.
	press(m, typed("z")...)
	cmds = press(m, bksp)
	if strings.Contains(m.View(), "failed") {
		t.Fatalf("the failure stays:\n%s", m.View())
	}
	dms, _ := directoryMsgs(t, m, cmds)
	if len(dms) != 1 || dms[0].Query != "zzz" {
		t.Fatalf("after a failure the directory is not asked again: %+v", dms)
	}
}

func TestEnterAndEsc(t *testing.T) {
	m := typeIn(open(60, 16, entries()), "mal")
	cmds := press(m, enter)
	msgs := run(cmds...)
	if len(msgs) != 1 || msgs[0] != (ChosenMsg{entries()[6]}) {
		t.Fatalf("enter: %v, want the entry as given", msgs)
	}
	if m.Active() || m.View() != "" {
		t.Fatal("enter left the switcher open")
	}
	if cmds = press(m, enter); len(cmds) != 0 {
		t.Fatalf("a closed switcher answered enter")
	}

	m.Open(entries())
	m = typeIn(m, "xyz")
	if cmds = press(m, enter); len(cmds) != 0 || !m.Active() {
		t.Fatal("enter with nothing listed did something")
	}
	cmds = press(m, esc)
	if msgs := run(cmds...); len(msgs) != 1 || msgs[0] != (ClosedMsg{}) || m.Active() {
		t.Fatalf("esc: %v, active %v", msgs, m.Active())
	}
	// Opening again starts afresh.
	m.Open(entries())
	if m.Query() != "" || len(m.shown) != len(entries()) {
		t.Fatalf("reopened with query %q, %d rows", m.Query(), len(m.shown))
	}
}

func TestScrollKeepsSelectionVisible(t *testing.T) {
	var es []Entry
	for i := range 40 {
		es = append(es, Entry{Kind: KindContact, Key: fmt.Sprint(i), Name: fmt.Sprintf("Person %02d", i),
			UserID: id.UserID(fmt.Sprintf("@p%02d:example.org", i)), LastActivity: ago(time.Duration(i) * time.Minute)})
	}
	m := open(40, 10, es) // six list lines
	check := func(want int) {
		t.Helper()
		if l := selectedLine(t, m); !strings.HasPrefix(l, fmt.Sprintf("› Person %02d", want)) {
			t.Fatalf("selected %q, want Person %02d:\n%s", l, want, m.View())
		}
		if got := len(strings.Split(m.View(), "\n")); got != 10 {
			t.Fatalf("%d lines", got)
		}
	}
	for i := range 39 {
		press(m, down)
		check(i + 1)
	}
	press(m, down) // stays at the end
	check(39)
	press(m, pgUp)
	check(34)
	press(m, ctrlP, ctrlP)
	check(32)
	for range 20 {
		press(m, pgUp)
	}
	check(0)
	press(m, pgDn, ctrlN)
	check(6)
	// Rows that arrive below do not move the selection.
	m = typeIn(open(40, 10, es), "person")
	press(m, down, down)
	m.setDirectory("person", []Entry{{Name: "Persona", UserID: "@persona:example.org"}})
	check(2)
	for range 40 {
		press(m, down)
	}
	if l := selectedLine(t, m); !strings.HasPrefix(l, "› Persona") {
		t.Fatalf("the last directory row is not reachable: %q", l)
	}
	press(m, up)
	check(39)
	press(m, down)
	if got := listed(m); got[len(got)-2] != "from the server's directory" {
		t.Fatalf("the heading is not shown above its row: %q", got)
	}
}

// A sync while the switcher is open keeps the query and the selected entry.
func TestSetEntriesKeepsSelection(t *testing.T) {
	m := typeIn(open(60, 16, entries()), "o")
	press(m, down)
	was, _ := m.Selected()
	es := append(entries(), Entry{Kind: KindContact, Key: "u:@olive:example.org", Name: "Olive", UserID: "@olive:example.org", LastActivity: base})
	m.SetEntries(es)
	if now, _ := m.Selected(); now != was || m.Query() != "o" {
		t.Fatalf("selected %+v, was %+v; query %q", now, was, m.Query())
	}
	if !strings.Contains(m.View(), "Olive") {
		t.Fatalf("the new entry is not listed:\n%s", m.View())
	}
}

func TestHighlight(t *testing.T) {
	segs := highlight("Ålice", 10, []int{3, 10, 13, 14}, lookName)
	var got []string
	for _, s := range segs {
		mark := ""
		if s.style == lookMatch {
			mark = "*"
		}
		got = append(got, mark+s.text)
	}
	if want := "[*Å l *ic e]"; fmt.Sprint(got) != want {
		t.Fatalf("segments %q, want %s", got, want)
	}
}

func TestViewGolden60x16(t *testing.T) {
	m := typeIn(open(60, 16, entries()), "a")
	press(m, down)
	golden.RequireEqual(t, m.View())
}

func TestViewGolden100x24(t *testing.T) {
	m := typeIn(open(100, 24, entries()), "car")
	m.setDirectory("car", directory())
	golden.RequireEqual(t, m.View())
}

func TestViewGoldenNewDM(t *testing.T) {
	m := typeIn(open(60, 16, entries()), "@dana:example.org")
	m.pending = m.Query() // as after the debounce
	golden.RequireEqual(t, m.View())
}
