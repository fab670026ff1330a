package security

import (
	"os"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/termtest"
	"duet/matrixsvc"
	"duet/ui/styles"
)

func TestMain(m *testing.M) {
	termtest.Plain()
	os.Exit(m.Run())
}

const alice = id.UserID("@alice:example.org")

// sas is a realistic set: wide emoji and ones the terminal draws one cell wide (mautrix hands
// them over as single runes, without the emoji variation selector), and the longest names.
var sas = []matrixsvc.SASEmoji{
	{Emoji: "🐶", Name: "Dog"}, {Emoji: "☂", Name: "Umbrella"}, {Emoji: "🍓", Name: "Strawberry"},
	{Emoji: "🔧", Name: "Spanner"}, {Emoji: "❤", Name: "Heart"}, {Emoji: "🎧", Name: "Headphones"},
	{Emoji: "✏", Name: "Pencil"},
}

func newDialog(w, h int) Dialog {
	m := NewDialog(DefaultKeyMap(), styles.Default())
	m.SetSize(w, h)
	return m
}

func press(t *testing.T, m Dialog, keys ...tea.KeyPressMsg) (Dialog, []tea.Msg) {
	t.Helper()
	var msgs []tea.Msg
	for _, k := range keys {
		var cmd tea.Cmd
		cmd = m.Update(k)
		if cmd != nil {
			if msg := cmd(); msg != nil {
				msgs = append(msgs, msg)
			}
		}
	}
	return m, msgs
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
)

// Each emoji sits centred above its name, whatever its width, and no row is wider than asked.
func TestEmojiGridAligns(t *testing.T) {
	for _, w := range []int{84, 81, 51, 37, 24, 12, 7} {
		lines := EmojiGrid(sas, w, lipgloss.NewStyle())
		if len(lines)%2 != 0 {
			t.Fatalf("width %d: %d lines, want pairs", w, len(lines))
		}
		seen := 0
		for i := 0; i < len(lines); i += 2 {
			top, bottom := lines[i], lines[i+1]
			for _, l := range []string{top, bottom} {
				if lw := lipgloss.Width(l); lw > w {
					t.Fatalf("width %d: line %q is %d wide", w, l, lw)
				}
			}
			for _, e := range sas {
				ec, ok := centre(top, e.Emoji)
				if !ok {
					continue
				}
				seen++
				if w < lipgloss.Width(e.Name) {
					continue // cut names on a tiny screen
				}
				nc, ok := centre(bottom, e.Name)
				if !ok {
					t.Fatalf("width %d: %s is not under %s:\n%s\n%s", w, e.Name, e.Emoji, top, bottom)
				}
				if d := ec - nc; d < -1 || d > 1 {
					t.Fatalf("width %d: %s centred at %d, its name at %d:\n%s\n%s", w, e.Emoji, ec, nc, top, bottom)
				}
			}
		}
		if seen != len(sas) {
			t.Fatalf("width %d: %d of %d emoji shown:\n%s", w, seen, len(sas), strings.Join(lines, "\n"))
		}
	}
	if got := len(EmojiGrid(sas, 84, lipgloss.NewStyle())); got != 2 {
		t.Fatalf("at 84 cells the seven emoji take %d lines, want one row (2 lines)", got)
	}
	// Three to a row: 3, 2 and 2, not 3, 3 and 1.
	rows := EmojiGrid(sas, 37, lipgloss.NewStyle())
	if len(rows) != 6 || !strings.Contains(rows[4], "🎧") || !strings.Contains(rows[4], "✏") {
		t.Fatalf("at 37 cells:\n%s", strings.Join(rows, "\n"))
	}
}

// centre is the display column of the middle of the first s in line.
func centre(line, s string) (int, bool) {
	i := strings.Index(line, s)
	if i < 0 {
		return 0, false
	}
	return 2*ansi.StringWidth(line[:i]) + ansi.StringWidth(s), true
}

func TestIncomingAcceptAndConfirm(t *testing.T) {
	m := newDialog(55, 20)
	m.Incoming(matrixsvc.Verification{Txn: "t1", User: alice, Device: "ALICEDEV", Stage: matrixsvc.VerifyRequested}, "Alice (@alice:example.org)", false)
	view := m.View()
	for _, want := range []string{"Alice (@alice:example.org) wants to verify", "ALICEDEV", "a: accept", "esc: decline"} {
		if !strings.Contains(view, want) {
			t.Fatalf("request lacks %q:\n%s", want, view)
		}
	}
	m, msgs := press(t, m, runes("xyn")...) // nothing else answers a request
	if len(msgs) != 0 || m.Stage() != Incoming {
		t.Fatalf("stray keys: %v, stage %v", msgs, m.Stage())
	}
	m, msgs = press(t, m, runes("a")...)
	if len(msgs) != 1 || msgs[0] != (AcceptMsg{Txn: "t1"}) || m.Stage() != Waiting {
		t.Fatalf("a: %v, stage %v", msgs, m.Stage())
	}
	m.Progress(matrixsvc.Verification{Txn: "t1", Stage: matrixsvc.VerifyEmoji, Emoji: sas})
	if m.Stage() != Compare || !strings.Contains(m.View(), "Strawberry") || !strings.Contains(m.View(), "y: they match") {
		t.Fatalf("emoji not shown:\n%s", m.View())
	}
	m, msgs = press(t, m, runes("y")...)
	if len(msgs) != 1 || msgs[0] != (ConfirmMsg{Txn: "t1"}) || m.Stage() != Confirmed {
		t.Fatalf("y: %v, stage %v", msgs, m.Stage())
	}
	m.Progress(matrixsvc.Verification{Txn: "t1", Stage: matrixsvc.VerifyEmoji, Emoji: sas})
	if m.Stage() != Confirmed {
		t.Fatal("a repeated emoji event took the dialog back")
	}
}

func TestMismatchAndCancel(t *testing.T) {
	m := newDialog(55, 20)
	m.Ask(alice, "Alice", false)
	m.SetTxn("t2")
	m.Progress(matrixsvc.Verification{Txn: "t2", Stage: matrixsvc.VerifyEmoji, Emoji: sas})
	m, msgs := press(t, m, runes("n")...)
	if len(msgs) != 1 || msgs[0] != (CancelMsg{Txn: "t2", User: alice, Mismatch: true, From: Compare}) || m.Active() {
		t.Fatalf("n: %v, active %v", msgs, m.Active())
	}
	m.Ask(alice, "Alice", false) // esc before the request has a transaction
	_, msgs = press(t, m, esc)
	if len(msgs) != 1 || msgs[0] != (CancelMsg{User: alice, From: Asking}) {
		t.Fatalf("esc: %v", msgs)
	}
}

// The recovery key is masked as it is typed, shown on request, and handed over on enter.
func TestRecoveryKeyInput(t *testing.T) {
	m := newDialog(55, 20)
	m.StartRecovery()
	m.RecoveryChecked(true)
	m, _ = press(t, m, runes("EsTc 1234")...)
	if v := m.View(); strings.Contains(v, "EsTc") || !strings.Contains(v, "•••••••••") {
		t.Fatalf("the key is not masked:\n%s", v)
	}
	m, _ = press(t, m, tea.KeyPressMsg{Code: 't', Mod: tea.ModCtrl})
	if !strings.Contains(m.View(), "EsTc 1234") {
		t.Fatalf("ctrl+t does not show the key:\n%s", m.View())
	}
	m, msgs := press(t, m, enter)
	if len(msgs) != 1 || msgs[0] != (RecoveryKeyMsg{Key: "EsTc 1234"}) || m.Stage() != Verifying {
		t.Fatalf("enter: %v, stage %v", msgs, m.Stage())
	}
	m.KeyFailed(matrixsvc.ErrWrongRecoveryKey.Error())
	if m.Stage() != EnterKey || !strings.Contains(m.View(), "not right") {
		t.Fatalf("a wrong key:\n%s", m.View())
	}
	m, _ = press(t, m, runes("5")...)
	_, msgs = press(t, m, enter)
	if len(msgs) != 1 || msgs[0] != (RecoveryKeyMsg{Key: "EsTc 12345"}) {
		t.Fatalf("what was typed is kept to fix it: %v", msgs)
	}
}

// The new recovery key stays until enter, and is forgotten then.
func TestShowKeyOnce(t *testing.T) {
	m := newDialog(41, 14)
	m.StartRecovery()
	m.RecoveryChecked(false)
	m, _ = press(t, m, enter)
	if m.Stage() != EnterPassword {
		t.Fatalf("enter on the offer: stage %v", m.Stage())
	}
	m, _ = press(t, m, runes("hunter2")...)
	if strings.Contains(m.View(), "hunter2") {
		t.Fatalf("the password shows:\n%s", m.View())
	}
	m, _ = press(t, m, tea.KeyPressMsg{Code: 't', Mod: tea.ModCtrl})
	if strings.Contains(m.View(), "hunter2") {
		t.Fatal("ctrl+t shows the password")
	}
	m, msgs := press(t, m, enter)
	if len(msgs) != 1 || msgs[0] != (SetUpMsg{Password: "hunter2"}) || m.input.Value() != "" {
		t.Fatalf("enter: %v, input keeps %q", msgs, m.input.Value())
	}
	m, _ = press(t, m, esc)
	if m.Stage() != SettingUp {
		t.Fatal("esc while setting up would lose the key")
	}
	const key = "EsTc 1234 abcd EFGH ijkl MNOP qrst UVWX yz12 3456 7890 ABCD"
	m.ShowKey(key, "")
	view := m.View()
	for _, l := range strings.Split(view, "\n") {
		if lipgloss.Width(l) > 41 {
			t.Fatalf("line wider than 41: %q", l)
		}
	}
	if !strings.Contains(view, "EsTc 1234 abcd EFGH ijkl MNOP") || !strings.Contains(view, "qrst UVWX yz12 3456 7890 ABCD") {
		t.Fatalf("the key is not shown in two even lines:\n%s", view)
	}
	m, _ = press(t, m, esc)
	m, _ = press(t, m, runes("q")...)
	if m.Stage() != ShowKey {
		t.Fatal("the key box closed before enter")
	}
	m, _ = press(t, m, enter)
	if m.Active() || m.newKey != "" {
		t.Fatalf("after enter: active %v, key kept %q", m.Active(), m.newKey)
	}
}

// Every stage fits the size it is given, down to a small terminal's pane.
func TestViewFits(t *testing.T) {
	stages := map[string]func(*Dialog){
		"asking": func(m *Dialog) { m.Ask(alice, "Alice (@alice:example.org)", false) },
		"own":    func(m *Dialog) { m.Ask("@me:example.org", "@me:example.org", true) },
		"incoming": func(m *Dialog) {
			m.Incoming(matrixsvc.Verification{Txn: "t", User: alice, Device: "DEV"}, "Alice", false)
		},
		"emoji": func(m *Dialog) {
			m.Ask(alice, "Alice", false)
			m.Progress(matrixsvc.Verification{Stage: matrixsvc.VerifyEmoji, Emoji: sas})
		},
		"key":   func(m *Dialog) { m.StartRecovery(); m.RecoveryChecked(true) },
		"offer": func(m *Dialog) { m.StartRecovery(); m.RecoveryChecked(false) },
		"show": func(m *Dialog) {
			m.ShowKey("EsTc 1234 abcd EFGH ijkl MNOP qrst UVWX yz12 3456 7890 ABCD", "backing up failed")
		},
	}
	for name, set := range stages {
		for _, size := range [][2]int{{120, 40}, {55, 20}, {41, 14}, {30, 8}, {12, 5}, {20, 2}, {1, 1}} {
			m := newDialog(size[0], size[1])
			set(&m)
			lines := strings.Split(m.View(), "\n")
			if len(lines) > size[1] {
				t.Fatalf("%s at %v: %d lines", name, size, len(lines))
			}
			for _, l := range lines {
				if lipgloss.Width(l) > size[0] {
					t.Fatalf("%s at %v: line %q is %d wide", name, size, l, lipgloss.Width(l))
				}
			}
			if size[1] >= 8 && !strings.Contains(lines[len(lines)-2], ":") {
				t.Fatalf("%s at %v: the keys are not on the last line:\n%s", name, size, m.View())
			}
		}
	}
}

func TestViewEmojiGolden(t *testing.T) {
	m := newDialog(55, 20)
	m.Ask(alice, "Alice (@alice:example.org)", false)
	m.Progress(matrixsvc.Verification{Stage: matrixsvc.VerifyEmoji, Emoji: sas})
	golden.RequireEqual(t, m.View())
}
