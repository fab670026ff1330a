package ui

import (
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/termtest"
	"duet/matrixsvc"
)

// FuzzScreen: a contact whose user ID, display name, messages, device IDs and room names come
// from a hostile server, seen through the whole screen: the list, the conversation header
// with its trust warnings, the timeline, the verification dialog over it, a room invite and
// the status bar with a server error. Nothing reaches the terminal that it would act on other
// than duet's own styling, and the screen is exactly its size. The root draws at least 20x6
// (computeLayout), so sizes start there.
func FuzzScreen(f *testing.F) {
	seeds := termtest.Hostile()
	for i, s := range seeds {
		other := seeds[(i+1)%len(seeds)]
		f.Add(s, "@"+other+":example.org", other, s, other, s, uint8(i*11), uint8(i*5), i%2 == 0, uint8(i))
	}
	f.Add("Alice", string(alice), "hello", "PHONE", "Book club", "connection refused", uint8(60), uint8(4), true, uint8(0))
	f.Add("", "", "", "", "", "", uint8(0), uint8(0), false, uint8(2))
	f.Cleanup(func() { termtest.Plain() }) // what the package's tests expect
	f.Fuzz(func(t *testing.T, name, user, body, device, roomName, serverErr string, w, h uint8, verified bool, profile uint8) {
		ascii := termtest.SetProfile(profile)
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
			matrixsvc.Message{RoomID: aliceRoom, EventID: "$file", Sender: uid, Timestamp: testNow, MsgType: "m.file", Body: roomName,
				Media: &matrixsvc.Media{Kind: "m.file", Name: name, MimeType: device, Size: int64(w)}},
			// Formatted, a reply, reacted to: the last message, so picking it quotes its HTML.
			matrixsvc.Message{RoomID: aliceRoom, EventID: id.EventID(device), Sender: uid, Timestamp: testNow, MsgType: "m.text", Body: body,
				HTML: body + termtest.HostileHTML()[int(h)%len(termtest.HostileHTML())], ReplyTo: id.EventID(serverErr),
				Reply:     &matrixsvc.Quote{Sender: id.UserID(roomName), Body: serverErr},
				Reactions: []matrixsvc.Reaction{{Key: name, Senders: []id.UserID{uid, id.UserID(device)}}, {Key: serverErr, Senders: []id.UserID{alice}}}},
		)
		svc.trust[uid] = matrixsvc.PeerTrust{Verified: verified, Devices: 2, Unverified: []id.DeviceID{id.DeviceID(device), "OTHER" + id.DeviceID(device)}[:1+int(w)%2]}

		hs := newHarness(t, svc, width, height)
		check := func(what string) {
			t.Helper()
			if err := termtest.View(hs.view(), width, height, ascii); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		check("contacts")
		hs.m.contacts.Select("u:" + string(uid))
		hs.key(tea.KeyEnter)
		check("conversation")
		hs.send(tea.KeyPressMsg{Code: tea.KeyUp, Mod: tea.ModShift})
		hs.typeText("r")
		check("replying to a formatted message")
		if height >= 20 && width >= 60 && !strings.Contains(hs.view(), "↳ repl") {
			t.Fatalf("no reply line:\n%s", hs.view())
		}
		hs.key(tea.KeyEscape)
		hs.typeText("/verify")
		hs.key(tea.KeyEnter)
		check("verification dialog")
		hs.key(tea.KeyEscape)
		// Straight to the bar: through Update, going offline arms a one-second countdown tick
		// that the harness would wait for.
		hs.m.status.SetSync(matrixsvc.SyncStateChanged{State: matrixsvc.SyncOffline, Err: errors.New(serverErr)})
		check("offline")
		hs.event(matrixsvc.SyncFailed{Err: errors.New(serverErr)})
		check("sync failed")
		hs.key(tea.KeyEscape)
		for _, key := range []string{"r:!grp:example.org", "r:!club:example.org"} {
			hs.m.contacts.Select(key)
			hs.key(tea.KeyEnter)
			check(key)
			hs.key(tea.KeyEscape)
		}
	})
}
