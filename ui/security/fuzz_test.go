package security

import (
	"strings"
	"testing"

	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/termtest"
	"duet/matrixsvc"
)

// FuzzDialog: the other side's name and user ID, their device ID, the emoji and their names,
// and error texts from the server are drawn inert and within the pane at every stage of the
// dialog, at any size and in every colour profile.
func FuzzDialog(f *testing.F) {
	seeds := termtest.Hostile()
	for i, s := range seeds {
		other := seeds[(i+1)%len(seeds)]
		f.Add(s, "@"+other+":example.org", s, other, s, other, uint8(i*11), uint8(i), uint8(i))
	}
	f.Add("Alice (@alice:example.org)", string(alice), "PHONE", "🐶", "Dog", "wrong key", uint8(50), uint8(20), uint8(0))
	f.Cleanup(func() { termtest.Plain() }) // what the package's tests expect
	f.Fuzz(func(t *testing.T, who, user, device, emoji, emojiName, errText string, w, h, profile uint8) {
		ascii := termtest.SetProfile(profile)
		width, height := 10+int(w)%191, 1+int(h)%40
		m := newDialog(width, height)
		uid := id.UserID(user)
		seven := make([]matrixsvc.SASEmoji, 7)
		for i := range seven {
			seven[i] = sas[i]
			if i%2 == 0 {
				seven[i] = matrixsvc.SASEmoji{Emoji: emoji, Name: emojiName}
			}
		}
		check := func(stage string) {
			t.Helper()
			view := m.View()
			lines := strings.Split(view, "\n")
			if len(lines) > height {
				t.Fatalf("%s: %d lines, more than %d:\n%s", stage, len(lines), height, view)
			}
			for _, l := range lines {
				if err := termtest.Inert(l, width, ascii); err != nil {
					t.Fatalf("%s: %v in %q", stage, err, l)
				}
			}
		}
		for _, own := range []bool{false, true} {
			m.Ask(uid, who, own)
			check("asking")
			m.Progress(matrixsvc.Verification{Txn: "t", User: uid, Device: id.DeviceID(device), Stage: matrixsvc.VerifyReady})
			check("waiting")
			m.Incoming(matrixsvc.Verification{Txn: "t", User: uid, Device: id.DeviceID(device)}, who, own)
			check("incoming")
			m.Progress(matrixsvc.Verification{Txn: "t", User: uid, Stage: matrixsvc.VerifyEmoji, Emoji: seven})
			check("compare")
			m, _ = press(t, m, runes("y")...)
			check("confirmed")
		}
		m.OfferSetup(errText)
		check("offer setup")
		m.KeyFailed(errText)
		check("enter key")
		m.SetupFailed(errText)
		check("enter password")
		m.ShowKey("EsTc 1234 ABCD", errText)
		check("show key")
	})
}

// TestDialogHugeName: a 100 KB name is drawn inert and within the pane.
func TestDialogHugeName(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 100<<10; i++ {
		s := termtest.Hostile()
		b.WriteString(s[i%len(s)])
	}
	m := newDialog(40, 12)
	m.Incoming(matrixsvc.Verification{Txn: "t", User: id.UserID(b.String()), Device: id.DeviceID(b.String())}, b.String(), false)
	for _, l := range strings.Split(m.View(), "\n") {
		if err := termtest.Inert(l, 40, true); err != nil {
			t.Fatalf("%v in %q", err, l)
		}
	}
}
