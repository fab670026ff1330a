package ui

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
)

// FuzzScreen: a contact whose user ID, display name, messages, device IDs and room names come
// from a hostile server, seen through the whole screen: the list, the conversation header
// with its trust warnings, the timeline, the verification dialog over it, a room invite and
// the status bar with a server error. Nothing reaches the terminal that it would act on other
// than duet's own styling, and the screen is exactly its size. The root draws at least 20x6
// (computeLayout), so sizes start there.
func FuzzScreen(f *testing.F) {
	seeds := hostile()
	for i, s := range seeds {
		other := seeds[(i+1)%len(seeds)]
		f.Add(s, "@"+other+":example.org", other, s, other, s, uint8(i*11), uint8(i*5), i%2 == 0, uint8(i))
	}
	f.Add("Alice", string(alice), "hello", "PHONE", "Book club", "connection refused", uint8(60), uint8(4), true, uint8(0))
	f.Add("", "", "", "", "", "", uint8(0), uint8(0), false, uint8(2))
	f.Cleanup(func() { lipgloss.SetColorProfile(termenv.Ascii) }) // what the package's tests expect
	f.Fuzz(func(t *testing.T, name, user, body, device, roomName, serverErr string, w, h uint8, verified bool, profile uint8) {
		ascii := setProfile(profile)
		width, height := 20+int(w)%181, 6+int(h)%55
		uid := id.UserID(user)
		svc := fixture()
		svc.users[uid] = name
		c := &svc.ov.Contacts[0]
		c.UserID, c.DisplayName, c.Preview = uid, name, matrixsvc.Preview{Body: body, Sender: uid}
		svc.ov.Groups[0].Name = roomName
		svc.ov.Invites[0].Name, svc.ov.Invites[0].Inviter = roomName, uid
		svc.history[aliceRoom] = append(svc.history[aliceRoom],
			msg(aliceRoom, "$body", uid, testNow, body),
			matrixsvc.Message{RoomID: aliceRoom, EventID: "$enc", Sender: uid, Timestamp: testNow, Encrypted: true, DecryptError: serverErr},
			matrixsvc.Message{RoomID: aliceRoom, EventID: "$warn", Sender: uid, Timestamp: testNow, MsgType: "m.text", Body: body, E2E: true, Trust: device},
		)
		svc.trust[uid] = matrixsvc.PeerTrust{Verified: verified, Devices: 2, Unverified: []id.DeviceID{id.DeviceID(device), "OTHER" + id.DeviceID(device)}[:1+int(w)%2]}

		hs := newHarness(t, svc, width, height)
		check := func(what string) {
			t.Helper()
			if err := screenOK(hs.view(), width, height, ascii); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		check("contacts")
		hs.m.contacts.Select("u:" + string(uid))
		hs.key(tea.KeyEnter)
		check("conversation")
		hs.typeText("/verify")
		hs.key(tea.KeyEnter)
		check("verification dialog")
		hs.key(tea.KeyEsc)
		// Straight to the bar: through Update, going offline arms a one-second countdown tick
		// that the harness would wait for.
		hs.m.status.SetSync(matrixsvc.SyncStateChanged{State: matrixsvc.SyncOffline, Err: errors.New(serverErr)})
		check("offline")
		hs.event(matrixsvc.SyncFailed{Err: errors.New(serverErr)})
		check("sync failed")
		hs.key(tea.KeyEsc)
		for _, key := range []string{"r:!grp:example.org", "r:!club:example.org"} {
			hs.m.contacts.Select(key)
			hs.key(tea.KeyEnter)
			check(key)
			hs.key(tea.KeyEsc)
		}
	})
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

// screenOK reports a screen that is not exactly h lines, has a line wider than w, or holds
// anything a terminal would act on rather than draw, other than the renderer's own styling
// (none at all in the ASCII profile).
func screenOK(view string, w, h int, ascii bool) error {
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		return fmt.Errorf("%d lines, want %d:\n%s", len(lines), h, view)
	}
	for i, line := range lines {
		plain := line
		if !ascii {
			plain = sgr.ReplaceAllString(line, "")
		}
		if !utf8.ValidString(plain) {
			return fmt.Errorf("line %d: invalid UTF-8 in %q", i, line)
		}
		for j, r := range plain {
			switch {
			case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
				return fmt.Errorf("line %d: control character %U at byte %d of %q", i, r, j, line)
			}
		}
		if lw := ansi.StringWidth(plain); lw > w {
			return fmt.Errorf("line %d: %d cells wide, more than %d: %q", i, lw, w, line)
		}
	}
	return nil
}
