package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
)

const (
	workMe   = id.UserID("@me:work.org")
	dana     = id.UserID("@dana:work.org")
	danaRoom = id.RoomID("!dana:work.org")
	// Alice is in both accounts: two rows, two conversations.
	aliceAtWork = id.RoomID("!alice:work.org")
)

// workFake is a second account, on another server: Dana, and Alice again.
func workFake() *fakeSvc {
	f := newFake()
	f.me = workMe
	f.openRoom = "!newwork:work.org"
	f.users = map[id.UserID]string{dana: "Dana", alice: "Alice", "@erin:work.org": "Erin"}
	f.ov = matrixsvc.Overview{
		DirectWellFormed: true,
		Contacts: []matrixsvc.ContactView{
			{Contact: matrixsvc.Contact{UserID: dana, Rooms: []id.RoomID{danaRoom}, Room: danaRoom, LastActivity: ms(testNow.Add(-time.Minute)), Unread: 3},
				DisplayName: "Dana", Preview: matrixsvc.Preview{Body: "standup moved to 10", Sender: dana}},
			{Contact: matrixsvc.Contact{UserID: alice, Rooms: []id.RoomID{aliceAtWork}, Room: aliceAtWork, LastActivity: ms(testNow.Add(-30 * time.Hour))},
				DisplayName: "Alice", Preview: matrixsvc.Preview{Body: "the report is in", Sender: alice}},
		},
	}
	f.history[danaRoom] = []matrixsvc.Message{msg(danaRoom, "$d1", dana, testNow.Add(-time.Minute), "standup moved to 10")}
	f.history[aliceAtWork] = []matrixsvc.Message{msg(aliceAtWork, "$w1", alice, testNow.Add(-30*time.Hour), "the report is in")}
	return f
}

func twoAccounts(t *testing.T) (*harness, *fakeSvc, *fakeSvc) {
	home, work := fixture(), workFake()
	h := newAccountsHarness(t, []Profile{{Name: "default", Tag: "home", Svc: home}, {Name: "work", Svc: work}}, 100, 30)
	return h, home, work
}

// rowOf selects the row of name in account tag (its first line, then the tag on the second).
func selectRow(t *testing.T, h *harness, name, tag string) {
	t.Helper()
	for i, it := range h.m.contacts.Items() {
		if it.Name == name && it.Tag == tag {
			h.m.contacts.Select(it.Key())
			return
		}
		_ = i
	}
	t.Fatalf("no row %s in %s: %+v", name, tag, h.m.contacts.Items())
}

// One list of both accounts, by activity, each row with its account; the same person in both
// is two rows.
func TestTwoAccountsOneList(t *testing.T) {
	h, _, _ := twoAccounts(t)
	var got []string
	for _, it := range h.m.contacts.Items() {
		got = append(got, it.Name+"/"+it.Tag)
	}
	want := "Carol/home Book club/home Dana/work Alice/home Bob/home Alice/work @dave:example.org/home Weekend trip/home"
	if strings.Join(got, " ") != want {
		t.Fatalf("rows %q\nwant %q", strings.Join(got, " "), want)
	}
	view := h.view()
	requireContains(t, view, "work standup moved to 10", "home see you tomorrow", "work the report is in")
	// The status bar names each account's connection; the title sums the unread of both.
	requireContains(t, view, "○ home ○ work")
	if title := h.m.unreadTitle(); title != "duet (10 unread)" {
		t.Fatalf("title %q", title)
	}
}

// A message goes from the account of its conversation, and the composer says which.
func TestTwoAccountsSendFromTheRowsAccount(t *testing.T) {
	h, home, work := twoAccounts(t)
	selectRow(t, h, "Alice", "work")
	h.key(tea.KeyEnter)
	requireContains(t, h.view(), "Message Alice as @me:work.org", "the report is in", " Alice (work) · @alice:example.org")
	h.typeText("from work")
	h.key(tea.KeyEnter)
	if len(work.sends) != 1 || work.sends[0].Room != aliceAtWork || work.sends[0].Body != "from work" {
		t.Fatalf("work sent %+v", work.sends)
	}
	if len(home.sends) != 0 {
		t.Fatalf("home sent %+v", home.sends)
	}
	h.key(tea.KeyEscape)
	selectRow(t, h, "Alice", "home")
	h.key(tea.KeyEnter)
	requireContains(t, h.view(), "Message Alice as @me:example.org", "see you tomorrow")
	h.typeText("from home")
	h.key(tea.KeyEnter)
	if len(home.sends) != 1 || home.sends[0].Room != aliceRoom || len(work.sends) != 1 {
		t.Fatalf("home sent %+v, work %+v", home.sends, work.sends)
	}
}

// 2 narrows the list to the second account, 0 shows both again.
func TestTwoAccountsFilterKey(t *testing.T) {
	h, _, _ := twoAccounts(t)
	h.typeText("2")
	for _, it := range h.m.contacts.Items() {
		if it.Tag != "work" {
			t.Fatalf("%s/%s shown with work only", it.Name, it.Tag)
		}
	}
	requireContains(t, h.view(), "Contacts (2) · work only")
	h.typeText("0")
	if n := len(h.m.contacts.Items()); n != 8 {
		t.Fatalf("%d rows after 0", n)
	}
}

// A new DM asks which account: the server of the ID typed by default, tab for the other.
func TestTwoAccountsNewDMAsksWhichAccount(t *testing.T) {
	h, home, work := twoAccounts(t)
	h.typeText("n")
	h.typeText("@erin:work.org")
	requireContains(t, h.view(), "From: @me:work.org (work)", "tab: another account")
	h.key(tea.KeyTab)
	requireContains(t, h.view(), "From: @me:example.org (home)")
	h.key(tea.KeyTab)
	h.key(tea.KeyEnter)
	if len(work.checked) != 1 || len(home.checked) != 0 {
		t.Fatalf("checked: work %v, home %v", work.checked, home.checked)
	}
	requireContains(t, h.view(), "Message Erin as @me:work.org")
	h.typeText("hi erin")
	h.key(tea.KeyEnter)
	if len(work.sends) != 1 || work.sends[0].Target != "@erin:work.org" || len(home.sends) != 0 {
		t.Fatalf("work sent %+v, home %+v", work.sends, home.sends)
	}
	// An ID on neither server: the account last used.
	h.key(tea.KeyEscape)
	h.key(tea.KeyEscape)
	h.typeText("n")
	h.typeText("@zed:elsewhere.net")
	requireContains(t, h.view(), "From: @me:work.org (work)")
	// The account of the conversation opened last is the last used.
	h.key(tea.KeyEscape)
	selectRow(t, h, "Bob", "home")
	h.key(tea.KeyEnter)
	h.key(tea.KeyEscape)
	h.typeText("n")
	h.typeText("@zed:elsewhere.net")
	requireContains(t, h.view(), "From: @me:example.org (home)")
}

// One account offline does not mark the other so.
func TestTwoAccountsOneOffline(t *testing.T) {
	h, home, work := twoAccounts(t)
	h.send(eventsMsg{acct: 0, events: []matrixsvc.Event{matrixsvc.SyncStateChanged{State: matrixsvc.SyncLive}}})
	h.send(eventsMsg{acct: 1, events: []matrixsvc.Event{matrixsvc.SyncStateChanged{State: matrixsvc.SyncOffline, Err: errString("connection refused"), RetryIn: 5 * time.Second}}})
	view := h.view()
	requireContains(t, view, "● home ✗ work offline, retrying in 5s", "work: connection refused")
	h.typeText("j") // a key retries the account that is offline, not the other
	if work.retryNow != 1 || home.retryNow != 0 {
		t.Fatalf("retries: work %d, home %d", work.retryNow, home.retryNow)
	}
}

// Invites, blocking, verification and the recovery key act on the account of the row.
func TestTwoAccountsActOnTheRowsAccount(t *testing.T) {
	home, work := fixture(), workFake()
	frank := id.UserID("@frank:work.org")
	work.users[frank] = "Frank"
	work.ov.Contacts = append(work.ov.Contacts, matrixsvc.ContactView{
		Contact:     matrixsvc.Contact{UserID: frank, Pending: true, InviteRooms: []id.RoomID{"!frank:work.org"}, LastActivity: ms(testNow.Add(-2 * time.Minute))},
		DisplayName: "Frank"})
	h := newAccountsHarness(t, []Profile{{Name: "default", Tag: "home", Svc: home}, {Name: "work", Svc: work}}, 100, 30)

	selectRow(t, h, "Frank", "work")
	h.typeText("a")
	if len(work.accepted) != 1 || work.accepted[0] != "!frank:work.org" || len(home.accepted) != 0 {
		t.Fatalf("accepted: work %v, home %v", work.accepted, home.accepted)
	}

	selectRow(t, h, "Dana", "work")
	h.typeText("b")
	h.typeText("y")
	if len(work.blocked) != 1 || work.blocked[0] != dana || len(home.blocked) != 0 {
		t.Fatalf("blocked: work %v, home %v", work.blocked, home.blocked)
	}

	selectRow(t, h, "Alice", "work")
	work.trust[workMe] = matrixsvc.PeerTrust{Devices: 1, Unverified: []id.DeviceID{"LAPTOP"}}
	h.typeText("V")
	if len(work.verifyCalls) != 1 || work.verifyCalls[0] != "start "+string(workMe) || len(home.verifyCalls) != 0 {
		t.Fatalf("verification: work %v, home %v", work.verifyCalls, home.verifyCalls)
	}
	requireContains(t, h.view(), "Verify this device · work")
	h.key(tea.KeyEscape)

	selectRow(t, h, "Bob", "home")
	h.typeText("r")
	requireContains(t, h.view(), "· home")
	h.key(tea.KeyEscape)
}

// The conversation open when duet last ran opens again, in its own account, whichever
// account's list comes first.
func TestTwoAccountsReopenTheLastConversation(t *testing.T) {
	home, work := fixture(), workFake()
	home.lastOpen = "work/u:" + string(dana)
	h := newAccountsHarness(t, []Profile{{Name: "default", Tag: "home", Svc: home}, {Name: "work", Svc: work}}, 100, 30)
	requireContains(t, h.view(), "standup moved to 10", "Message Dana as @me:work.org")
	selectRow(t, h, "Alice", "home")
	h.key(tea.KeyEnter)
	if home.lastOpen != "default/u:"+string(alice) || work.lastOpen != "" {
		t.Fatalf("last open: home %q, work %q", home.lastOpen, work.lastOpen)
	}
}

// The quick switcher lists both accounts' rows, each named with its account.
func TestTwoAccountsSwitcher(t *testing.T) {
	h, _, _ := twoAccounts(t)
	h.send(tea.KeyPressMsg{Code: 'k', Mod: tea.ModCtrl})
	h.typeText("alice")
	// The list beside the box shows the tags too: look at the box's rows alone.
	var rows []string
	for _, l := range strings.Split(h.view(), "\n") {
		if strings.Contains(l, "│ ") && strings.Contains(l, string(alice)) {
			rows = append(rows, strings.TrimSpace(l[strings.LastIndex(l, string(alice)):]))
		}
	}
	if len(rows) != 2 || !strings.HasSuffix(strings.TrimSuffix(rows[0], "│"), "home ") || !strings.HasSuffix(strings.TrimSuffix(rows[1], "│"), "work ") {
		t.Fatalf("switcher rows for alice: %q", rows)
	}
	h.key(tea.KeyDown)
	h.key(tea.KeyEnter)
	c := h.m.openChat()
	if c == nil || c.Item().Name != "Alice" || c.Item().Tag != "work" {
		t.Fatalf("opened %+v", c)
	}
}

// A request's server stays in view next to the account's tag: it is what tells
// @bob:example.org from @bob:evil.example.
func TestTwoAccountsRequestKeepsItsServer(t *testing.T) {
	home, work := fixture(), workFake()
	work.ov.Requests = []matrixsvc.ContactView{{Contact: matrixsvc.Contact{UserID: "@bob:evil.example.org", Pending: true,
		InviteRooms: []id.RoomID{"!req:evil.example.org"}, LastActivity: ms(testNow.Add(-time.Minute))}}}
	h := newAccountsHarness(t, []Profile{{Name: "default", Tag: "home", Svc: home}, {Name: "work", Svc: work}}, 80, 40)
	requireContains(t, h.view(), "   :evil.example.org w")
}

// An account logged out elsewhere says so with its profile's login; the other stays live.
func TestTwoAccountsOneLoggedOut(t *testing.T) {
	h, _, _ := twoAccounts(t)
	h.send(eventsMsg{acct: 0, events: []matrixsvc.Event{matrixsvc.SyncStateChanged{State: matrixsvc.SyncLive}}})
	h.send(eventsMsg{acct: 1, events: []matrixsvc.Event{matrixsvc.LoggedOut{}}})
	requireContains(t, h.view(), "● home", "work: logged out: run `duet login --profile work`")
	selectRow(t, h, "Alice", "home")
	h.key(tea.KeyEnter)
	h.typeText("still here")
	h.key(tea.KeyEnter)
	if len(h.svc.sends) != 1 {
		t.Fatalf("home sent %+v", h.svc.sends)
	}
}

// A notification names the account; a message in the other account's conversation with the
// same person is not "on screen" because one with them is open.
func TestTwoAccountsNotifications(t *testing.T) {
	h, _, _ := twoAccounts(t)
	desk := &fakeDesktop{}
	h.m.opts.Desktop = desk
	selectRow(t, h, "Alice", "home")
	h.key(tea.KeyEnter)
	atWork := msg(aliceAtWork, "$w9", alice, testNow, "about the report")
	atWork.Notify = true
	h.send(eventsMsg{acct: 1, events: []matrixsvc.Event{matrixsvc.SyncApplied{Messages: []matrixsvc.Message{atWork}}}})
	if got := desk.got(); len(got) != 1 || got[0] != "Alice (work): about the report" {
		t.Fatalf("desktop notifications: %q", got)
	}
	atHome := msg(aliceRoom, "$a9", alice, testNow, "here!")
	atHome.Notify = true
	h.send(eventsMsg{acct: 0, events: []matrixsvc.Event{matrixsvc.SyncApplied{Messages: []matrixsvc.Message{atHome}}}})
	if got := desk.got(); len(got) != 1 {
		t.Fatalf("notified of the open conversation's message: %q", got)
	}
}

// A verification request names its sender as that account's list does, whichever row is
// selected.
func TestTwoAccountsVerificationNamesFromItsAccount(t *testing.T) {
	h, _, _ := twoAccounts(t)
	selectRow(t, h, "Bob", "home")
	h.send(eventsMsg{acct: 1, events: []matrixsvc.Event{matrixsvc.Verification{Txn: "in1", User: dana, Stage: matrixsvc.VerifyRequested}}})
	view := h.view()
	requireContains(t, view, "Verification request · work", "Dana (")
}
