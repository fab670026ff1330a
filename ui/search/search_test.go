package search

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/termtest"
	"duet/ui/styles"
)

func TestMain(m *testing.M) {
	termtest.Plain()
	os.Exit(m.Run())
}

const (
	alice = id.UserID("@alice:example.org")
	bob   = id.UserID("@bob:example.org")
	me    = id.UserID("@me:example.org")
)

// now is a Friday afternoon; the results are from today, earlier this year and last year.
var now = time.Date(2025, 3, 14, 16, 30, 0, 0, time.UTC)

func clock() time.Time { return now }

func results() []Result {
	return []Result{
		{
			RoomID: "!dm:example.org", EventID: "$1", Person: alice, Name: "Alice", Sender: alice,
			Timestamp: time.Date(2025, 3, 14, 9, 5, 0, 0, time.UTC),
			Snippet:   "…could we \x01meet\x02 at the station \x01tomorrow\x02 before the…",
		},
		{
			RoomID: "!dm:example.org", EventID: "$2", Person: alice, Name: "Alice", Sender: me, Mine: true,
			Timestamp: time.Date(2025, 2, 2, 20, 0, 0, 0, time.UTC),
			Snippet:   "ok!\nsee you at the \x01meeting\x02\npoint",
		},
		{
			RoomID: "!group:example.org", EventID: "$3", Name: "Weekend trip 🏕️", Sender: bob,
			Timestamp: time.Date(2024, 8, 30, 12, 0, 0, 0, time.UTC),
			Snippet: "…so the plan is that we take the early train on Saturday morning, walk up to the " +
				"hut, spend the night there, and on Sunday we \x01meet\x02 the others at the lake…",
		},
		{
			RoomID: "!zoe:example.org", EventID: "$4", Person: "@zoe:example.org", Name: "Zoë 日本語の名前",
			Sender: "@zoe:example.org", Timestamp: time.Date(2025, 3, 13, 23, 59, 0, 0, time.UTC),
			Snippet: "🎉🎉 明日\x01会う\x02 👩‍👩‍👧‍👦 family \x01meet\x02-up ❤️",
		},
	}
}

func newDialog(w, h int) *Model {
	m := New(nil, Options{Keys: DefaultKeyMap(), Styles: styles.Default().Search, Now: clock})
	m.SetSize(w, h)
	return m
}

// run runs cmd and whatever it batches, and returns the messages they produce, ticks
// included: the ticks of one batch wait side by side, as they would in the program.
func run(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	batch, ok := msg.(tea.BatchMsg)
	if !ok {
		if msg == nil {
			return nil
		}
		return []tea.Msg{msg}
	}
	outs := make([][]tea.Msg, len(batch))
	var wg sync.WaitGroup
	for i, c := range batch {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = run(c)
		}()
	}
	wg.Wait()
	var out []tea.Msg
	for _, o := range outs {
		out = append(out, o...)
	}
	return out
}

// press sends keys and returns the messages they produce at once, leaving tick commands
// unrun: they are returned to be run when the test says time has passed.
func press(t *testing.T, m *Model, keys ...tea.KeyPressMsg) ([]tea.Msg, []tea.Cmd) {
	t.Helper()
	var msgs []tea.Msg
	var later []tea.Cmd
	for _, k := range keys {
		cmd := m.Update(k)
		if cmd == nil {
			continue
		}
		if k.Text != "" || k.Code == tea.KeyBackspace {
			later = append(later, cmd) // a tick: 250 ms
			continue
		}
		msgs = append(msgs, run(cmd)...)
	}
	return msgs, later
}

// wait runs the pending ticks together, as if typing had paused, and feeds what they produce
// back in order; it returns what the dialog sent.
func wait(m *Model, later []tea.Cmd) []tea.Msg {
	outs := make([][]tea.Msg, len(later))
	var wg sync.WaitGroup
	for i, c := range later {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = run(c)
		}()
	}
	wg.Wait()
	var sent []tea.Msg
	for _, o := range outs {
		for _, msg := range o {
			sent = append(sent, run(m.Update(msg))...)
		}
	}
	return sent
}

func runes(s string) []tea.KeyPressMsg {
	var out []tea.KeyPressMsg
	for _, r := range s {
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return out
}

var (
	esc   = tea.KeyPressMsg{Code: tea.KeyEscape}
	enter = tea.KeyPressMsg{Code: tea.KeyEnter}
	tab   = tea.KeyPressMsg{Code: tea.KeyTab}
	down  = tea.KeyPressMsg{Code: tea.KeyDown}
	up    = tea.KeyPressMsg{Code: tea.KeyUp}
	bs    = tea.KeyPressMsg{Code: tea.KeyBackspace}
)

// queries picks the QueryMsgs out of msgs.
func queries(msgs []tea.Msg) []QueryMsg {
	var out []QueryMsg
	for _, msg := range msgs {
		if q, ok := msg.(QueryMsg); ok {
			out = append(out, q)
		}
	}
	return out
}

// A burst of typing asks once, 250 ms after the last key; the next burst asks once more.
func TestDebounceOneQueryPerBurst(t *testing.T) {
	m := newDialog(70, 18)
	m.Open(Scope{User: alice, Name: "Alice"})
	start := time.Now()
	msgs, later := press(t, m, runes("meet")...)
	if len(msgs) != 0 || len(later) != 4 {
		t.Fatalf("typing: sent %v at once, %d ticks", msgs, len(later))
	}
	if !strings.Contains(m.View(), "meet") || strings.Contains(m.View(), "searching") {
		t.Fatalf("the query is not shown, or searching before the pause:\n%s", m.View())
	}
	sent := wait(m, later)
	if d := time.Since(start); d < Debounce {
		t.Fatalf("the ticks came after %v, before the pause of %v", d, Debounce)
	}
	qs := queries(sent)
	if len(qs) != 1 || len(sent) != 1 || qs[0] != (QueryMsg{Seq: 1, Query: "meet", User: alice}) {
		t.Fatalf("after the first burst: %v", sent)
	}
	if !strings.Contains(m.View(), "searching…") {
		t.Fatalf("no searching… while the query is out:\n%s", m.View())
	}

	_, later = press(t, m, runes(" up")...)
	sent = wait(m, later)
	if qs := queries(sent); len(qs) != 1 || qs[0] != (QueryMsg{Seq: 2, Query: "meet up", User: alice}) {
		t.Fatalf("after the second burst: %v", sent)
	}

	// Typing and deleting back to what was asked: nothing new to ask.
	m.setResults(2, results(), false)
	_, later = press(t, m, append(runes("x"), bs)...)
	if sent = wait(m, later); len(sent) != 0 {
		t.Fatalf("the same query again: %v", sent)
	}

	// Blanks alone are nothing to search for.
	m.Open(Scope{})
	_, later = press(t, m, runes("   ")...)
	if sent = wait(m, later); len(sent) != 0 {
		t.Fatalf("a blank query: %v", sent)
	}
}

// An answer to an older query than the newest is ignored; the newest's is shown.
func TestStaleResultsIgnored(t *testing.T) {
	m := newDialog(70, 18)
	m.Open(Scope{})
	msgs, _ := press(t, m, append(runes("meet"), enter)...)
	first := queries(msgs)
	msgs, _ = press(t, m, append(runes("ing"), enter)...)
	second := queries(msgs)
	if len(first) != 1 || len(second) != 1 || second[0].Seq <= first[0].Seq || second[0].Query != "meeting" {
		t.Fatalf("queries %v then %v", first, second)
	}

	m.setResults(first[0].Seq, results()[:1], false)
	if v := m.View(); strings.Contains(v, "Alice") || !strings.Contains(v, "searching…") {
		t.Fatalf("the older answer was shown:\n%s", v)
	}
	m.setError(first[0].Seq, "the older query failed")
	if strings.Contains(m.View(), "failed") {
		t.Fatalf("the older error was shown:\n%s", m.View())
	}

	m.setResults(second[0].Seq, results()[1:2], false)
	v := m.View()
	if !strings.Contains(v, "1 message ") || !strings.Contains(v, "you: ok!") || strings.Contains(v, "searching") {
		t.Fatalf("the newest answer is not shown:\n%s", v)
	}
	m.setResults(first[0].Seq, results(), true)
	if v2 := m.View(); v2 != v {
		t.Fatalf("a late older answer replaced the newest:\n%s", v2)
	}

	// Closed: what comes in is ignored, and does not show when the dialog opens again.
	m.Close()
	m.setResults(second[0].Seq, results(), false)
	m.Open(Scope{})
	if strings.Contains(m.View(), "Alice") {
		t.Fatalf("an answer that came while closed shows:\n%s", m.View())
	}
}

// Tab toggles between the person Open was given and all conversations, and asks again.
func TestScopeToggle(t *testing.T) {
	m := newDialog(70, 18)
	m.Open(Scope{User: alice, Name: "Alice"})
	if v := m.View(); !strings.Contains(v, "Search in Alice's messages") || !strings.Contains(v, "tab: all conversations") {
		t.Fatalf("the scope is not shown:\n%s", v)
	}
	msgs, _ := press(t, m, append(runes("meet"), enter)...)
	if qs := queries(msgs); len(qs) != 1 || qs[0].User != alice {
		t.Fatalf("in Alice's messages: %v", msgs)
	}
	msgs, _ = press(t, m, tab)
	if qs := queries(msgs); len(qs) != 1 || qs[0].User != "" || qs[0].Query != "meet" {
		t.Fatalf("tab: %v", msgs)
	}
	if v := m.View(); !strings.Contains(v, "Search all conversations") || !strings.Contains(v, "tab: Alice's messages") {
		t.Fatalf("the scope did not change:\n%s", v)
	}
	msgs, _ = press(t, m, tab)
	if qs := queries(msgs); len(qs) != 1 || qs[0].User != alice {
		t.Fatalf("tab back: %v", msgs)
	}

	// Without a person there is nothing to toggle to.
	m.Open(Scope{})
	msgs, _ = press(t, m, append(runes("meet"), tab, enter)...)
	if qs := queries(msgs); len(qs) != 1 || qs[0].User != "" || len(msgs) != 1 {
		t.Fatalf("without a person: %v", msgs)
	}
	if v := m.View(); strings.Contains(v, "tab:") {
		t.Fatalf("a tab hint without a person:\n%s", v)
	}
}

// Enter searches at once while the results shown are not the query's, and opens the selected
// result when they are; esc closes.
func TestEnterAndEsc(t *testing.T) {
	m := newDialog(70, 18)
	m.Open(Scope{User: alice, Name: "Alice"})
	msgs, later := press(t, m, enter)
	if len(msgs) != 0 {
		t.Fatalf("enter on an empty query: %v", msgs)
	}
	msgs, later = press(t, m, append(runes("meet"), enter)...)
	qs := queries(msgs)
	if len(qs) != 1 || qs[0] != (QueryMsg{Seq: 1, Query: "meet", User: alice}) {
		t.Fatalf("enter: %v", msgs)
	}
	sent := wait(m, later)
	if len(sent) != 0 {
		t.Fatalf("the pause after enter asked again: %v", sent)
	}

	m.setResults(1, results(), false)
	msgs, _ = press(t, m, down, down, up)
	if len(msgs) != 0 {
		t.Fatalf("moving: %v", msgs)
	}
	msgs, _ = press(t, m, enter)
	if len(msgs) != 1 || msgs[0] != (OpenMsg{Result: results()[1]}) || m.Active() {
		t.Fatalf("enter on the second result: %v, active %v", msgs, m.Active())
	}
	if m.View() != "" {
		t.Fatal("a closed dialog draws")
	}

	// An error keeps the query; enter tries again.
	m.Open(Scope{})
	msgs, _ = press(t, m, append(runes("meet\"ing"), enter)...)
	seq := queries(msgs)[0].Seq
	m.setError(seq, "bad query: unbalanced \"")
	v := m.View()
	if !strings.Contains(v, "bad query: unbalanced \"") || !strings.Contains(v, "meet\"ing") {
		t.Fatalf("the error or the query is not shown:\n%s", v)
	}
	msgs, _ = press(t, m, enter)
	if qs := queries(msgs); len(qs) != 1 || qs[0].Seq != seq+1 || qs[0].Query != "meet\"ing" {
		t.Fatalf("enter after an error: %v", msgs)
	}

	// Edited after results came: enter searches for the new text instead of opening.
	m.setResults(seq+1, nil, false)
	if !strings.Contains(m.View(), "no messages match") {
		t.Fatalf("no results:\n%s", m.View())
	}
	msgs, _ = press(t, m, enter)
	if len(msgs) != 0 || !m.Active() {
		t.Fatalf("enter with no results: %v, active %v", msgs, m.Active())
	}

	msgs, _ = press(t, m, esc)
	if len(msgs) != 1 || msgs[0] != (ClosedMsg{}) || m.Active() {
		t.Fatalf("esc: %v, active %v", msgs, m.Active())
	}
}

// Results scroll to keep the selection in view; the count says when there may be more.
func TestScrollAndCount(t *testing.T) {
	m := newDialog(60, 10) // three results in view
	m.Open(Scope{})
	msgs, _ := press(t, m, append(runes("meet"), enter)...)
	var many []Result
	for i := range 50 {
		r := results()[i%4]
		r.Name = strings.Repeat("x", i%7) + r.Name + " #" + string(rune('A'+i%26))
		r.EventID = id.EventID("$" + string(rune('a'+i%26)) + string(rune('a'+i/26)))
		many = append(many, r)
	}
	m.setResults(queries(msgs)[0].Seq, many, true)
	if !strings.Contains(m.View(), "50+ messages") {
		t.Fatalf("no 50+:\n%s", m.View())
	}
	for range 10 {
		press(t, m, down)
	}
	if !strings.Contains(m.View(), "›"+many[10].Name) {
		t.Fatalf("the selected 11th result is not in view:\n%s", m.View())
	}
	press(t, m, tea.KeyPressMsg{Code: tea.KeyPgDown}, tea.KeyPressMsg{Code: 'n', Mod: tea.ModCtrl})
	if !strings.Contains(m.View(), "›"+many[14].Name) {
		t.Fatalf("pgdown and ctrl+n:\n%s", m.View())
	}
	press(t, m, tea.KeyPressMsg{Code: tea.KeyPgUp}, tea.KeyPressMsg{Code: tea.KeyPgUp}, tea.KeyPressMsg{Code: 'p', Mod: tea.ModCtrl})
	if !strings.Contains(m.View(), "›"+many[7].Name) {
		t.Fatalf("pgup and ctrl+p:\n%s", m.View())
	}
	for range 60 {
		press(t, m, down)
	}
	msgs, _ = press(t, m, enter)
	if len(msgs) != 1 || msgs[0] != (OpenMsg{Result: many[49]}) {
		t.Fatalf("enter on the last: %v", msgs)
	}
}

// The markers around the matched words never show, the matches are set apart even without
// colour, and nothing from a message or a name reaches the terminal as an escape.
func TestMarkersAndEscapes(t *testing.T) {
	m := newDialog(100, 12)
	m.Open(Scope{User: alice, Name: "Alice\x1b]0;pwned\x07"})
	msgs, _ := press(t, m, append(runes("meet"), enter)...)
	m.setResults(queries(msgs)[0].Seq, []Result{{
		Person: alice, Name: "Ali\x1b[2Jce\u202e", Sender: alice, Timestamp: now,
		Snippet: "\x1b]52;c;ZXZpbA==\x07 we \x01meet\x02 \x1b[31mhere\x1b[0m \x02 stray \x01 open",
	}}, false)
	v := m.View()
	for _, bad := range []string{"\x1b", "\x07", "\x01", "\x02", "␁", "␂", "\u202e"} {
		if strings.Contains(v, bad) {
			t.Fatalf("%q reached the view:\n%q", bad, v)
		}
	}
	for _, want := range []string{"[meet]", "␛[31mhere", "␛]52;c;", "Ali␛[2Jce", "Search in Alice␛]0;pwned␇'s"} {
		if !strings.Contains(v, want) {
			t.Fatalf("%q is not shown:\n%s", want, v)
		}
	}

	// In colour, the match is styled instead of bracketed.
	m.styles = styles.For(styles.DefaultTheme(), styles.Terminal{Profile: colorprofile.ANSI256}).Search
	v = m.View()
	if strings.Contains(ansi.Strip(v), "[meet]") || !strings.Contains(ansi.Strip(v), " meet ") {
		t.Fatalf("in colour the match is bracketed:\n%s", v)
	}
}

// A match far into a long snippet is brought into view; the line is cut by display width.
func TestLongSnippetShowsMatch(t *testing.T) {
	segs := parseSnippet(results()[2].Snippet)
	for _, w := range []int{20, 40, 63} {
		got := fit(segs, w)
		line := ""
		for _, s := range got {
			line += s.text
		}
		if ansi.StringWidth(line) > w || !strings.Contains(line, "meet") || !strings.HasPrefix(line, "…") || !strings.HasSuffix(line, "…") {
			t.Fatalf("at %d cells: %q (%d wide)", w, line, ansi.StringWidth(line))
		}
	}
	// Wide characters are cut whole.
	line := ""
	for _, s := range fit(parseSnippet("日本語のテキスト"), 7) {
		line += s.text
	}
	if line != "日本語…" {
		t.Fatalf("wide characters: %q", line)
	}
}

func TestStamp(t *testing.T) {
	cases := []struct {
		ts   time.Time
		want string
	}{
		{time.Date(2025, 3, 14, 0, 1, 0, 0, time.UTC), "00:01"},
		{time.Date(2025, 3, 13, 23, 59, 0, 0, time.UTC), "13 Mar"},
		{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), "1 Jan"},
		{time.Date(2024, 12, 31, 23, 0, 0, 0, time.UTC), "31 Dec 2024"},
		{time.Date(2025, 3, 14, 22, 0, 0, 0, time.FixedZone("UTC-8", -8*3600)), "15 Mar"}, // tomorrow here
		{time.Time{}, ""},
	}
	for _, c := range cases {
		if got := stamp(c.ts, now); got != c.want {
			t.Errorf("stamp(%v) = %q, want %q", c.ts, got, c.want)
		}
	}
}

func goldenDialog(t *testing.T, w, h int, scope Scope, toggle, more bool, moves int) *Model {
	t.Helper()
	m := newDialog(w, h)
	m.Open(scope)
	keys := append(runes("meet"), enter)
	if toggle {
		keys = append(runes("meet"), tab) // tab asks at once
	}
	msgs, _ := press(t, m, keys...)
	qs := queries(msgs)
	m.setResults(qs[len(qs)-1].Seq, results(), more)
	for range moves {
		press(t, m, down)
	}
	return m
}

func checkSize(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), h, view)
	}
	for _, l := range lines {
		if lw := lipgloss.Width(l); lw != w {
			t.Fatalf("line %q is %d wide, want %d", l, lw, w)
		}
	}
}

func TestViewGolden70x18(t *testing.T) {
	m := goldenDialog(t, 70, 18, Scope{User: alice, Name: "Alice"}, false, false, 1)
	checkSize(t, m.View(), 70, 18)
	golden.RequireEqual(t, m.View())
}

func TestViewGolden100x24(t *testing.T) {
	m := goldenDialog(t, 100, 24, Scope{User: alice, Name: "Alice"}, true, true, 3)
	checkSize(t, m.View(), 100, 24)
	golden.RequireEqual(t, m.View())
}

// Enter pressed while the search for what is typed is already under way opens the first
// result when it comes; enter that starts the search only shows the results.
func TestEnterWhileSearchingOpensTheFirstResult(t *testing.T) {
	m := New(nil, Options{Keys: DefaultKeyMap(), Styles: styles.Default().Search, Now: func() time.Time { return now }})
	m.SetSize(70, 18)
	m.Open(Scope{})
	for _, r := range "jam" {
		m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	cmd := m.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	q, ok := cmd().(QueryMsg)
	if !ok || q.Query != "jam" {
		t.Fatalf("enter did not search at once: %#v", cmd())
	}
	cmd = m.Update(tea.KeyPressMsg{Code: tea.KeyEnter}) // again, while it is under way
	if cmd != nil {
		t.Fatalf("a second enter asked again: %#v", cmd())
	}
	cmd = m.setResults(q.Seq, []Result{{EventID: "$1", Name: "Alice", Snippet: "\x01jam\x02"}}, false)
	if cmd == nil {
		t.Fatal("the answer did not open the first result")
	}
	if open, ok := cmd().(OpenMsg); !ok || open.Result.EventID != "$1" || m.Active() {
		t.Fatalf("opened %#v, active %v", cmd(), m.Active())
	}
}
