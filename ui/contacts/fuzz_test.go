package contacts

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/termtest"
	"duet/matrixsvc"
	"duet/ui/styles"
)

// FuzzView: display names, user and room IDs, previews and room names from the server are
// drawn inert and within the pane, every row selected in turn, with and without a filter (a
// paste), at any width and in every colour profile.
func FuzzView(f *testing.F) {
	seeds := termtest.Hostile()
	for i, s := range seeds {
		other := seeds[(i+1)%len(seeds)]
		f.Add(s, other, "@"+s+":example.org", s, other, "!"+other+":example.org", "", uint8(i*11), uint8(i*3), int64(i*1000), uint8(i))
	}
	f.Add("Alice", "see you", "@alice:example.org", "Book club", "Weekend trip", "!r:example.org", "al", uint8(20), uint8(16), at(time.Hour), uint8(0))
	f.Add("", "", "", "", "", "", "\x1b[2J", uint8(0), uint8(0), int64(0), uint8(1))
	f.Cleanup(func() { termtest.Plain() }) // what the package's tests expect
	f.Fuzz(func(t *testing.T, name, body, user, roomName, groupName, room, query string, w, h uint8, unread int64, profile uint8) {
		ascii := termtest.SetProfile(profile)
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
				{Contact: matrixsvc.Contact{UserID: uid + "4", Room: rid, Blocked: true, LastActivity: ts},
					DisplayName: name, Preview: matrixsvc.Preview{Body: body, Sender: uid}},
			},
			// A stranger's user ID is shown in full, hostile bytes included.
			Requests: []matrixsvc.ContactView{
				{Contact: matrixsvc.Contact{UserID: uid, Pending: true, InviteRooms: []id.RoomID{rid}, LastActivity: ts},
					Preview: matrixsvc.Preview{Body: body, Sender: uid}},
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
			_ = m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
		}
		m = press(m, "/")
		_ = m.Update(tea.PasteMsg{Content: query})
		checkView(t, m.View(), width, height, ascii)
		m.Blur()
		checkView(t, m.View(), width, height, ascii)
	})
}

// TestViewHugeFields: 100 KB names and previews are drawn inert and within the pane.
func TestViewHugeFields(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 100<<10; i++ {
		s := termtest.Hostile()
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

// checkView fails unless view is exactly h lines, none wider than w, holding nothing a
// terminal would act on rather than draw other than the renderer's own styling (none at all in
// the ASCII profile).
func checkView(t *testing.T, view string, w, h int, ascii bool) {
	t.Helper()
	if err := termtest.View(view, w, h, ascii); err != nil {
		t.Fatal(err)
	}
}
