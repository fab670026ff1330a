package contacts

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/styles"
)

// FuzzView: display names, user and room IDs, previews and room names from the server are
// drawn inert and within the pane, every row selected in turn, with and without a filter (a
// paste), at any width and in every colour profile.
func FuzzView(f *testing.F) {
	seeds := hostile()
	for i, s := range seeds {
		other := seeds[(i+1)%len(seeds)]
		f.Add(s, other, "@"+s+":example.org", s, other, "!"+other+":example.org", "", uint8(i*11), uint8(i*3), int64(i*1000), uint8(i))
	}
	f.Add("Alice", "see you", "@alice:example.org", "Book club", "Weekend trip", "!r:example.org", "al", uint8(20), uint8(16), at(time.Hour), uint8(0))
	f.Add("", "", "", "", "", "", "\x1b[2J", uint8(0), uint8(0), int64(0), uint8(1))
	f.Cleanup(func() { lipgloss.SetColorProfile(termenv.Ascii) }) // what the package's tests expect
	f.Fuzz(func(t *testing.T, name, body, user, roomName, groupName, room, query string, w, h uint8, unread int64, profile uint8) {
		ascii := setProfile(profile)
		width, height := 10+int(w)%191, 1+int(h)%30
		uid, rid := id.UserID(user), id.RoomID(room)
		ts := now.UnixMilli() - unread*997
		ov := matrixsvc.Overview{
			Contacts: []matrixsvc.ContactView{
				{Contact: matrixsvc.Contact{UserID: uid, Room: rid, LastActivity: ts, Unread: int(unread)},
					DisplayName: name, Preview: matrixsvc.Preview{Body: body, Sender: uid}},
				{Contact: matrixsvc.Contact{UserID: uid + "2", LastActivity: ts, Unread: int(unread % 1500)},
					DisplayName: "", Preview: matrixsvc.Preview{Body: body, Sender: me}},
				{Contact: matrixsvc.Contact{UserID: uid + "3", Pending: true, InviteRooms: []id.RoomID{rid}, LastActivity: ts},
					DisplayName: name},
			},
			Groups: []matrixsvc.GroupView{
				{GroupDM: matrixsvc.GroupDM{RoomID: rid, Users: []id.UserID{uid, me}, MemberCount: int(unread), LastActivity: ts, Unread: int(unread), Name: groupName},
					Preview: matrixsvc.Preview{Body: body, Sender: uid}},
				{GroupDM: matrixsvc.GroupDM{RoomID: rid + "2", Users: []id.UserID{uid, uid + "2"}, LastActivity: ts}},
			},
			Invites: []matrixsvc.Invite{{RoomID: rid, Inviter: uid, Name: roomName, Timestamp: ts}},
		}
		m := New(DefaultKeyMap(), styles.Default().Contacts, func() time.Time { return now })
		m.SetSize(width, height)
		m.Focus()
		m.SetOverview(ov, me)
		for range len(m.Items()) + 1 {
			checkView(t, m.View(), width, height, ascii)
			m, _ = m.Update(tea.KeyMsg{Type: tea.KeyDown})
		}
		m = press(m, "/")
		m, _ = m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(query), Paste: true})
		checkView(t, m.View(), width, height, ascii)
		m.Blur()
		checkView(t, m.View(), width, height, ascii)
	})
}

// TestViewHugeFields: 100 KB names and previews are drawn inert and within the pane.
func TestViewHugeFields(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 100<<10; i++ {
		s := hostile()
		b.WriteString(s[i%len(s)])
	}
	big := b.String()
	m := New(DefaultKeyMap(), styles.Default().Contacts, func() time.Time { return now })
	m.SetSize(30, 12)
	m.SetOverview(matrixsvc.Overview{
		Contacts: []matrixsvc.ContactView{{Contact: matrixsvc.Contact{UserID: id.UserID(big), Room: "!r"}, DisplayName: big, Preview: matrixsvc.Preview{Body: big}}},
		Groups:   []matrixsvc.GroupView{{GroupDM: matrixsvc.GroupDM{RoomID: id.RoomID(big), Name: big}, Preview: matrixsvc.Preview{Body: big}}},
		Invites:  []matrixsvc.Invite{{RoomID: id.RoomID(big), Inviter: id.UserID(big), Name: big}},
	}, me)
	checkView(t, m.View(), 30, 12, true)
}

// hostile is text a server may send to make a terminal do something other than draw it, or to
// make a line wider than it looks.
func hostile() []string {
	return []string{
		"hello, world",
		"日本語と中文のテキスト、とても長い行になるかもしれません",
		"👩‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 👍🏽, ❤️",
		"e\u0301 combining, Z\u0351\u0352\u0353a\u0300\u0301\u0302lgo",
		"zero\u200bwidth\u200c\u200d\ufeffchars",
		"abc\u202edcba \u2066isolate\u2069 \u202a\u202b\u202c\u202d \u200e\u200f\u061c",
		"\x1b]0;title\x07",
		"\x1b[2J\x1b[H",
		"\x1bPq#0;2;0;0;0\x1b\\",
		"\u009b31mred\u009b0m \u009d0;title\u009c",
		"carriage\rreturn",
		"tab\there\tand\tthere",
		strings.Repeat("supercalifragilistic", 40),
		"\x1b]52;c;ZXZpbA==\x07",
		"\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\",
		"line\nbreaks\r\n\n",
		"\xff\xfe invalid \xc3 utf-8",
		"\x00\x01\x7f\u0080\u009f",
		"",
	}
}

// setProfile draws in one of the colour profiles, chosen by b; it reports whether that is
// plain ASCII (no styling at all). The background is said to be dark so that lipgloss never
// asks the terminal.
func setProfile(b uint8) bool {
	p := [...]termenv.Profile{termenv.Ascii, termenv.ANSI, termenv.ANSI256, termenv.TrueColor}[b%4]
	lipgloss.SetHasDarkBackground(true)
	lipgloss.SetColorProfile(p)
	return p == termenv.Ascii
}

// sgr is the styling lipgloss writes: Select Graphic Rendition, parameters only.
var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// checkView fails unless view is exactly h lines, none wider than w, holding nothing a
// terminal would act on rather than draw other than the renderer's own styling (none at all in
// the ASCII profile).
func checkView(t *testing.T, view string, w, h int, ascii bool) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), h, view)
	}
	for _, l := range lines {
		if err := inert(l, w, ascii); err != nil {
			t.Fatalf("%v in %q", err, l)
		}
	}
}

func inert(line string, w int, ascii bool) error {
	plain := line
	if !ascii {
		plain = sgr.ReplaceAllString(line, "")
	}
	if !utf8.ValidString(plain) {
		return fmt.Errorf("invalid UTF-8")
	}
	for i, r := range plain {
		switch {
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return fmt.Errorf("control character %U at byte %d", r, i)
		}
	}
	if lw := ansi.StringWidth(plain); lw > w {
		return fmt.Errorf("%d cells wide, more than %d", lw, w)
	}
	return nil
}
