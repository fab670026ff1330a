package ui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
	"duet/ui/security"
)

var sas = []matrixsvc.SASEmoji{
	{Emoji: "🐶", Name: "Dog"}, {Emoji: "☂", Name: "Umbrella"}, {Emoji: "🍓", Name: "Strawberry"},
	{Emoji: "🔧", Name: "Spanner"}, {Emoji: "❤", Name: "Heart"}, {Emoji: "🎧", Name: "Headphones"},
	{Emoji: "✏", Name: "Pencil"},
}

func (h *harness) event(evts ...matrixsvc.Event) { h.t.Helper(); h.send(eventsMsg{events: evts}) }

// headerLine is the conversation header as shown (the right pane's first line).
func headerLine(h *harness) string {
	first := strings.Split(h.view(), "\n")[0]
	_, right, _ := strings.Cut(first, "│")
	return strings.TrimRight(right, " ")
}

func (f *fakeSvc) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.verifyCalls...)
}

func requireCalls(t *testing.T, svc *fakeSvc, want ...string) {
	t.Helper()
	if got := svc.calls(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("verification calls %q, want %q", got, want)
	}
}

// undecryptable is the fixture's conversation with Alice, with a message not readable yet
// and one from a device worth a warning.
func undecryptable() *fakeSvc {
	svc := fixture()
	svc.history[aliceRoom] = append(svc.history[aliceRoom],
		matrixsvc.Message{RoomID: aliceRoom, EventID: "$enc", Sender: alice, Timestamp: testNow.Add(-4 * 60e9), Encrypted: true, DecryptError: "waiting for the key"},
		matrixsvc.Message{RoomID: aliceRoom, EventID: "$warn", Sender: alice, Timestamp: testNow.Add(-3 * 60e9), MsgType: "m.text", Body: "new phone, who dis", E2E: true, Trust: "from an unknown device"},
	)
	return svc
}

func TestUndecryptableShownAndReloadedWhenKeysCome(t *testing.T) {
	svc := undecryptable()
	h := newHarness(t, svc, 100, 24)
	openAlice(h)
	requireContains(t, h.view(), "Alice: 🔒 unable to decrypt (waiting for the key)", "new phone, who dis ⚠ from an unknown device")

	// The key arrives; the service decrypts the stored message and says so.
	svc.mu.Lock()
	svc.history[aliceRoom][5] = msg(aliceRoom, "$enc", alice, testNow.Add(-4*60e9), "the secret plan")
	before := len(svc.pages)
	svc.mu.Unlock()
	h.event(matrixsvc.SyncApplied{Redecrypted: []id.RoomID{aliceRoom}})
	view := h.view()
	requireContains(t, view, "Alice: the secret plan")
	requireLacks(t, view, "unable to decrypt")
	if len(svc.pages) != before+1 || svc.pages[before] != string(aliceRoom)+" " {
		t.Fatalf("History calls %v: want one more, of the newest page", svc.pages)
	}
	if n := strings.Count(view, "the secret plan"); n != 1 {
		t.Fatalf("shown %d times", n)
	}
}

// A conversation not shown when its keys came is re-read when it is opened again.
func TestRedecryptedWhileElsewhereReloadsOnOpen(t *testing.T) {
	svc := undecryptable()
	h := newHarness(t, svc, 100, 24)
	openAlice(h)
	h.key(tea.KeyEscape)
	h.m.contacts.Select("u:" + string(bob))
	h.key(tea.KeyEnter)
	svc.mu.Lock()
	svc.history[aliceRoom][5] = msg(aliceRoom, "$enc", alice, testNow.Add(-4*60e9), "the secret plan")
	before := len(svc.pages)
	svc.mu.Unlock()
	h.event(matrixsvc.SyncApplied{Redecrypted: []id.RoomID{aliceRoom}})
	if len(svc.pages) != before {
		t.Fatalf("a conversation not shown was read: %v", svc.pages[before:])
	}
	h.key(tea.KeyEscape)
	openAlice(h)
	requireContains(t, h.view(), "Alice: the secret plan")
	requireLacks(t, h.view(), "unable to decrypt")
}

func TestHeaderTrust(t *testing.T) {
	for _, tc := range []struct {
		name  string
		trust matrixsvc.PeerTrust
		w     int
		want  string
	}{
		{"unverified", matrixsvc.PeerTrust{Devices: 1, Unverified: []id.DeviceID{"PHONE"}}, 100, "Alice · @alice:example.org · encrypted · not verified"},
		{"verified", matrixsvc.PeerTrust{Verified: true, Devices: 2}, 100, "Alice · @alice:example.org · encrypted · verified"},
		{"new device", matrixsvc.PeerTrust{Verified: true, Devices: 2, Unverified: []id.DeviceID{"ABCDEF"}}, 120, "Alice · @alice:example.org · encrypted · verified · ⚠ new device: ABCDEF"},
		{"new devices", matrixsvc.PeerTrust{Verified: true, Devices: 3, Unverified: []id.DeviceID{"ABC", "DEF"}}, 100, "encrypted · verified · ⚠ 2 new devices: ABC, DEF"},
		// Narrower: the user ID goes, then "encrypted", so that the warning stays in view.
		{"narrower", matrixsvc.PeerTrust{Verified: true, Devices: 2, Unverified: []id.DeviceID{"ABCDEF"}}, 100, "Alice · encrypted · verified · ⚠ new device: ABCDEF"},
		{"narrow", matrixsvc.PeerTrust{Verified: true, Devices: 2, Unverified: []id.DeviceID{"ABCDEF"}}, 60, "Alice · verified · ⚠ new device: ABCDEF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := fixture()
			svc.trust[alice] = tc.trust
			h := newHarness(t, svc, tc.w, 20)
			openAlice(h)
			if got := headerLine(h); !strings.Contains(got, tc.want) {
				t.Fatalf("header %q, want %q", got, tc.want)
			}
			requireFits(t, h.view(), tc.w, 20)
		})
	}
	// No trust in a room without encryption.
	svc := fixture()
	h := newHarness(t, svc, 100, 20)
	h.m.contacts.Select("u:" + string(bob))
	h.key(tea.KeyEnter)
	if got := headerLine(h); !strings.Contains(got, "not encrypted") || strings.Contains(got, "verified") {
		t.Fatalf("header %q", got)
	}
	if len(svc.trustCalls) != 0 {
		t.Fatalf("PeerTrust asked for a room without encryption: %v", svc.trustCalls)
	}
}

// Trust is asked again when the conversation is opened again: a device may have come.
func TestHeaderTrustRefreshedOnOpen(t *testing.T) {
	svc := fixture()
	svc.trust[alice] = matrixsvc.PeerTrust{Verified: true, Devices: 1}
	h := newHarness(t, svc, 100, 20)
	openAlice(h)
	requireContains(t, headerLine(h), "· verified")
	svc.mu.Lock()
	svc.trust[alice] = matrixsvc.PeerTrust{Verified: true, Devices: 2, Unverified: []id.DeviceID{"NEWONE"}}
	svc.mu.Unlock()
	h.key(tea.KeyEscape)
	h.m.contacts.Select("u:" + string(bob))
	h.key(tea.KeyEnter)
	h.key(tea.KeyEscape)
	openAlice(h)
	requireContains(t, headerLine(h), "⚠ new device: NEWONE")
}

// v verifies the open contact: the request, the emoji, y, and the header says verified.
func TestVerifyContactConfirm(t *testing.T) {
	svc := fixture()
	svc.trust[alice] = matrixsvc.PeerTrust{Devices: 1, Unverified: []id.DeviceID{"PHONE"}}
	h := newHarness(t, svc, 80, 24)
	openAlice(h)
	h.typeText("a draft")
	h.key(tea.KeyEscape)
	h.typeText("v")
	requireCalls(t, svc, "start "+string(alice))
	requireContains(t, h.view(), "Asked Alice (@alice:example.org) to verify", "esc: cancel")

	h.event(matrixsvc.Verification{Txn: "txn1", User: alice, Device: "PHONE", Stage: matrixsvc.VerifyReady, Ours: true})
	requireContains(t, h.view(), "Waiting for the emoji")
	h.event(matrixsvc.Verification{Txn: "txn1", User: alice, Device: "PHONE", Stage: matrixsvc.VerifyEmoji, Ours: true, Emoji: sas})
	view := h.view()
	requireContains(t, view, "🐶", "Strawberry", "Headphones", "Do these match the other screen", "y: they match", "n: they don't")
	requireFits(t, view, 80, 24)
	requireContains(t, h.m.status.View(), "y they match") // the status bar's hint follows the dialog

	h.typeText("y")
	requireCalls(t, svc, "start "+string(alice), "confirm txn1")
	requireContains(t, h.view(), "Waiting for Alice (@alice:example.org) to confirm")

	svc.mu.Lock()
	svc.trust[alice] = matrixsvc.PeerTrust{Verified: true, Devices: 1}
	svc.mu.Unlock()
	h.event(matrixsvc.Verification{Txn: "txn1", User: alice, Stage: matrixsvc.VerifyDone, Ours: true})
	view = h.view()
	requireLacks(t, view, "Do these match", "Waiting for")
	requireContains(t, view, "✓ verified Alice (@alice:example.org)", "encrypted · verified")
	if h.m.security.Active() || h.m.composer.Value() != "a draft" {
		t.Fatalf("after: dialog %v, composer %q", h.m.security.Active(), h.m.composer.Value())
	}
}

// Someone asks while we type: the draft stays, a accepts, n says the emoji differ.
func TestIncomingVerificationMismatch(t *testing.T) {
	svc := fixture()
	h := newHarness(t, svc, 80, 24)
	openAlice(h)
	h.typeText("half a thought")
	h.event(matrixsvc.Verification{Txn: "in1", User: alice, Device: "ALICEDEV", Stage: matrixsvc.VerifyRequested})
	requireContains(t, h.view(), "Alice (@alice:example.org) wants to verify", "ALICEDEV", "a: accept", "esc: decline")
	if h.m.composer.Focused() {
		t.Fatal("the composer keeps the keyboard under the dialog")
	}
	h.send(tea.KeyPressMsg{Code: tea.KeyExtended, Text: "and so"}) // typed fast: not answers
	requireCalls(t, svc)
	h.typeText("a")
	requireCalls(t, svc, "accept in1")
	requireContains(t, h.view(), "Waiting for the emoji")
	h.event(matrixsvc.Verification{Txn: "in1", User: alice, Device: "ALICEDEV", Stage: matrixsvc.VerifyEmoji, Emoji: sas})
	h.typeText("n")
	requireCalls(t, svc, "accept in1", "cancel in1 mismatch")
	requireContains(t, h.view(), "the emoji did not match")
	if h.m.security.Active() || h.m.focus != focusComposer || !h.m.composer.Focused() {
		t.Fatalf("after: dialog %v, focus %v, composer focused %v", h.m.security.Active(), h.m.focus, h.m.composer.Focused())
	}
	h.typeText("!")
	if got := h.m.composer.Value(); got != "half a thought!" {
		t.Fatalf("composer holds %q", got)
	}
}

func TestVerificationDeclinedAndCancelled(t *testing.T) {
	svc := fixture()
	h := newHarness(t, svc, 80, 24)
	h.event(matrixsvc.Verification{Txn: "in1", User: bob, Stage: matrixsvc.VerifyRequested})
	h.key(tea.KeyEscape)
	requireCalls(t, svc, "cancel in1")
	requireContains(t, h.view(), "declined the verification request")

	h.event(matrixsvc.Verification{Txn: "in2", User: bob, Stage: matrixsvc.VerifyRequested})
	h.typeText("a")
	h.event(matrixsvc.Verification{Txn: "in2", User: bob, Stage: matrixsvc.VerifyCancelled, Reason: "timed out"})
	requireContains(t, h.view(), "verification cancelled: timed out")
	if h.m.security.Active() {
		t.Fatal("the dialog stays after the other side cancelled")
	}
}

// Requests that come while the dialog is busy wait their turn; one cancelled meanwhile goes.
func TestVerificationRequestsQueue(t *testing.T) {
	svc := fixture()
	h := newHarness(t, svc, 80, 24)
	h.event(
		matrixsvc.Verification{Txn: "in1", User: alice, Stage: matrixsvc.VerifyRequested},
		matrixsvc.Verification{Txn: "in2", User: bob, Stage: matrixsvc.VerifyRequested},
		matrixsvc.Verification{Txn: "in3", User: carol, Stage: matrixsvc.VerifyRequested},
	)
	requireContains(t, h.view(), "Alice (@alice:example.org) wants to verify")
	h.event(matrixsvc.Verification{Txn: "in2", User: bob, Stage: matrixsvc.VerifyCancelled, Reason: "cancelled"})
	h.key(tea.KeyEscape)
	requireContains(t, h.view(), "Carol (@carol:example.org) wants to verify")
	requireLacks(t, h.view(), "verification cancelled") // not ours to report
}

// V verifies this device with our others; with none, the recovery key is the way.
func TestVerifyOwnDevices(t *testing.T) {
	svc := fixture()
	h := newHarness(t, svc, 80, 24)
	h.typeText("V")
	requireCalls(t, svc)
	requireContains(t, h.view(), "no other device to verify with: use your recovery key (r)")
	if h.m.security.Active() {
		t.Fatal("the dialog stays open")
	}
	svc.trust[svc.me] = matrixsvc.PeerTrust{Devices: 1, Unverified: []id.DeviceID{"LAPTOP"}}
	h.typeText("V")
	requireCalls(t, svc, "start "+string(svc.me))
	requireContains(t, h.view(), "Verify this device", "Asked your other devices to verify this one")
	h.event(matrixsvc.Verification{Txn: "txn1", User: svc.me, Device: "LAPTOP", Stage: matrixsvc.VerifyEmoji, Ours: true, Emoji: sas})
	h.typeText("y")
	h.event(matrixsvc.Verification{Txn: "txn1", User: svc.me, Stage: matrixsvc.VerifyDone, Ours: true})
	requireContains(t, h.view(), "✓ verified: this device and your other one trust each other")
}

// esc before the request has even gone out: it is cancelled once it has.
func TestCancelBeforeStartReturns(t *testing.T) {
	svc := fixture()
	h := newHarness(t, svc, 80, 24)
	openAlice(h)
	h.key(tea.KeyEscape)
	h.hold = func(msg tea.Msg) bool { return fmt.Sprintf("%T", msg) == "security.verifyStartedMsg" }
	h.typeText("v")
	h.key(tea.KeyEscape)
	requireCalls(t, svc, "start "+string(alice))
	h.release()
	requireCalls(t, svc, "start "+string(alice), "cancel txn1")
	if h.m.security.Active() {
		t.Fatal("the dialog came back")
	}
}

func TestSlashVerifyAndRecovery(t *testing.T) {
	svc := fixture()
	h := newHarness(t, svc, 80, 24)
	openAlice(h)
	h.typeText("/verify")
	h.key(tea.KeyEnter)
	requireCalls(t, svc, "start "+string(alice))
	h.key(tea.KeyEscape)
	h.typeText("/verify bob")
	h.key(tea.KeyEnter)
	requireContains(t, h.view(), "/verify me")
	h.m.composer.SetValue("")
	h.typeText("/recovery")
	h.key(tea.KeyEnter)
	requireContains(t, h.view(), "Set up a recovery key")
}

// r: enter the recovery key (masked), a wrong one is said so, the right one verifies.
func TestRecoveryKey(t *testing.T) {
	svc := fixture()
	svc.hasRecovery, svc.recoveryKey = true, "EsTc 1234 abcd"
	svc.recovered = matrixsvc.RecoveryResult{Restored: 12, Decrypted: 3, BackupFound: true}
	h := newHarness(t, svc, 80, 24)
	openAlice(h)
	h.typeText("a draft")
	h.key(tea.KeyEscape)
	h.typeText("r")
	requireContains(t, h.view(), "Recovery key", "Enter your recovery key")
	h.send(tea.PasteMsg{Content: "EsTc 1234 abce"})
	requireLacks(t, h.view(), "EsTc")
	h.hold = func(msg tea.Msg) bool { return fmt.Sprintf("%T", msg) == "security.recoveredMsg" }
	h.key(tea.KeyEnter)
	requireContains(t, h.view(), "verifying…")
	h.release()
	requireContains(t, h.view(), "that recovery key or passphrase is not right for")
	if h.m.security.Stage() != security.EnterKey {
		t.Fatalf("stage %v after a wrong key", h.m.security.Stage())
	}
	h.key(tea.KeyBackspace)
	h.typeText("d")
	h.key(tea.KeyEnter)
	if got := svc.keyTries; len(got) != 2 || got[1] != "EsTc 1234 abcd" {
		t.Fatalf("keys tried %q", got)
	}
	requireContains(t, h.view(), "✓ verified this device; restored 12 keys, decrypted 3 messages")
	if h.m.security.Active() || h.m.composer.Value() != "a draft" {
		t.Fatalf("after: dialog %v, composer %q", h.m.security.Active(), h.m.composer.Value())
	}
}

// No recovery key yet: r offers to set one up, asks for the password, shows the key once.
func TestRecoverySetUp(t *testing.T) {
	const newKey = "EsTc 1234 abcd EFGH ijkl MNOP qrst UVWX yz12 3456 7890 ABCD"
	svc := fixture()
	svc.password, svc.newKey = "hunter2", newKey
	h := newHarness(t, svc, 60, 15)
	h.typeText("r")
	requireContains(t, h.view(), "This account has no recovery key yet", "enter: set one up")
	h.key(tea.KeyEnter)
	h.typeText("hunter3")
	requireLacks(t, h.view(), "hunter")
	h.key(tea.KeyEnter)
	requireContains(t, h.view(), "the homeserver refused: wrong")
	if h.m.security.Stage() != security.EnterPassword {
		t.Fatalf("stage %v after a wrong password", h.m.security.Stage())
	}
	h.typeText("hunter2")
	h.key(tea.KeyEnter)
	view := h.view()
	requireFits(t, view, 60, 15)
	requireContains(t, view, "Your recovery key", "EsTc 1234 abcd EFGH ijkl MNOP", "qrst UVWX yz12 3456 7890 ABCD", "shown only this once", "enter: done")
	h.typeText("q") // not quitting, not closing: the key is written down first
	h.key(tea.KeyEscape)
	if h.quit || h.m.security.Stage() != security.ShowKey {
		t.Fatalf("quit %v, stage %v", h.quit, h.m.security.Stage())
	}
	h.key(tea.KeyEnter)
	requireLacks(t, h.view(), "EsTc")
	if h.m.security.Active() {
		t.Fatal("the key box stays")
	}
	// Set up now: r asks for the key.
	h.typeText("r")
	requireContains(t, h.view(), "Enter your recovery key")
}

// Setting up worked but backing up failed: the key is still shown, with the warning.
func TestRecoverySetUpBackupFailed(t *testing.T) {
	svc := fixture()
	svc.password, svc.newKey = "pw", "EsTc 9999"
	svc.setUpErr = errRetried
	h := newHarness(t, svc, 80, 24)
	h.typeText("r")
	h.key(tea.KeyEnter)
	h.typeText("pw")
	h.key(tea.KeyEnter)
	requireContains(t, h.view(), "EsTc 9999", "backing up room keys failed")
}

var errRetried = errString("recovery is set up, but backing up room keys failed (it is retried): offline")

type errString string

func (e errString) Error() string { return string(e) }

// The help lists every key of the new features, and still fits.
func TestHelpListsEncryptionKeys(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {60, 15}, {120, 30}} {
		h := newHarness(t, fixture(), size[0], size[1])
		h.typeText("?")
		view := h.view()
		requireFits(t, view, size[0], size[1])
		if size[0] >= 80 {
			requireContains(t, view, "verify open contact", "verify this device", "recovery key", "accept verification", "emoji match", "emoji differ", "show/hide key", "/verify me", "/recovery")
		}
	}
}

// The dialog fits small screens, over the whole pane when the timeline is too short for it.
func TestDialogFits(t *testing.T) {
	for _, size := range [][2]int{{60, 15}, {40, 10}, {100, 40}} {
		h := newHarness(t, fixture(), size[0], size[1])
		openAlice(h)
		h.event(matrixsvc.Verification{Txn: "in1", User: alice, Stage: matrixsvc.VerifyRequested})
		h.typeText("a")
		h.event(matrixsvc.Verification{Txn: "in1", User: alice, Stage: matrixsvc.VerifyEmoji, Emoji: sas})
		view := h.view()
		requireFits(t, view, size[0], size[1])
		for _, e := range sas {
			requireContains(t, view, e.Emoji)
		}
		for _, l := range strings.Split(view, "\n") {
			if strings.Contains(l, "╭") && lipgloss.Width(l) > size[0] {
				t.Fatalf("box wider than the screen: %q", l)
			}
		}
	}
}

// Every action of the keymap is listed in the help of the list or of the composer.
func TestHelpListsEveryAction(t *testing.T) {
	h := newHarness(t, fixture(), 200, 60)
	h.typeText("?")
	screens := h.view()
	h.key(tea.KeyEscape)
	openAlice(h)
	h.typeText("/help")
	h.key(tea.KeyEnter)
	screens += h.view()
	km := h.m.keys
	for name, b := range km.Bindings() {
		if !b.Enabled() {
			continue // one account: contacts.account is off
		}
		if line := b.Help().Key + " "; !strings.Contains(screens, line) || !strings.Contains(screens, b.Help().Desc) {
			t.Errorf("%s (%s %s) is not in the help", name, b.Help().Key, b.Help().Desc)
		}
	}
}

// An upgrade that could not be followed (R23) is said in the conversation's header.
func TestHeaderSaysUpgradeNotFollowed(t *testing.T) {
	svc := fixture()
	svc.ov.Contacts[2].Note = "this conversation moved to a new room you are not invited to yet; duet joins it once you are"
	h := newHarness(t, svc, 200, 20)
	h.m.contacts.Select("u:" + string(bob))
	h.key(tea.KeyEnter)
	if got := headerLine(h); !strings.Contains(got, "⚠ this conversation moved to a new room you are not invited to yet") {
		t.Fatalf("header %q", got)
	}
	requireFits(t, h.view(), 200, 20)
}
