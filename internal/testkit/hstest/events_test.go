package hstest_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/elementfmt"
	"duet/internal/testkit/hstest"
)

// Element's events of other types than m.text go through the encrypted DM like text does: the
// receiving device decrypts them to their own type and content, and the server only ever has
// m.room.encrypted, with the relations in the clear where clients put them.
func TestElementEventsEncryptedInDM(t *testing.T) {
	bob := hstest.NewPerson(t, hs, "bob", "Bob").EnableCrypto(t)
	carol := hstest.NewPerson(t, hs, "carol", "Carol").EnableCrypto(t)
	dm := bob.CreateEncryptedDM(t, carol.ID)
	carol.JoinWhenInvited(t, dm)

	poll, answerIDs := elementfmt.PollStartUnstable("Lunch?", []string{"Pizza", "Soup"}, true, 1)
	pollID := bob.SendEvent(t, dm, elementfmt.TypePollStartUnstable, poll)
	got := carol.WaitEvent(t, dm, receiveTimeout, decryptedEvent(pollID))
	if got.Type != elementfmt.TypePollStartUnstable || got.Sender != bob.ID || !got.Encrypted {
		t.Errorf("carol received the poll as %+v", got)
	}
	if want := normalized(t, poll); !reflect.DeepEqual(got.ContentMap(t), want) {
		t.Errorf("carol decrypted the poll to %s, want %v", got.Content, want)
	}
	answers := got.ContentMap(t)[elementfmt.TypePollStartUnstable].(map[string]any)["answers"].([]any)
	if id0 := answers[0].(map[string]any)["id"]; id0 != answerIDs[0] {
		t.Errorf("first answer has ID %v, the sender made %s", id0, answerIDs[0])
	}

	root := bob.SendText(t, dm, "thread root")
	replyID := bob.SendEvent(t, dm, elementfmt.TypeMessage, elementfmt.ThreadReply(root, root, "first in thread"))
	got = carol.WaitEvent(t, dm, receiveTimeout, decryptedEvent(replyID))
	if got.Type != elementfmt.TypeMessage || got.Sender != bob.ID {
		t.Errorf("carol received the thread reply as %+v", got)
	}
	rel := got.ContentMap(t)["m.relates_to"]
	wantRel := map[string]any{
		"rel_type": "m.thread", "event_id": string(root), "is_falling_back": true,
		"m.in_reply_to": map[string]any{"event_id": string(root)},
	}
	if !reflect.DeepEqual(rel, wantRel) {
		t.Errorf("the thread reply's m.relates_to is %v, want %v", rel, wantRel)
	}
	// The text messages are still recorded as Messages too, thread replies among them.
	if m := carol.WaitMessage(t, dm, "first in thread", receiveTimeout); m.ID != replyID || !m.Decrypted || m.ReplyTo != root {
		t.Errorf("carol's Message for the thread reply is %+v, want %s decrypted, replying to %s", m, replyID, root)
	}

	// mautrix itself would send a reaction in plaintext; SendEvent encrypts whatever the type.
	reaction := map[string]any{"m.relates_to": map[string]any{"rel_type": "m.annotation", "event_id": string(pollID), "key": "👍"}}
	reactionID := bob.SendEvent(t, dm, "m.reaction", reaction)
	if got := carol.WaitEvent(t, dm, receiveTimeout, decryptedEvent(reactionID)); got.Type != "m.reaction" {
		t.Errorf("carol received the reaction as %+v", got)
	}

	assertServerHasOnlyCiphertext(t, bob.Person, dm, []id.EventID{pollID, root, replyID, reactionID},
		"Lunch?", "Pizza", "Soup", "thread root", "first in thread")
	for _, evt := range carol.RawEvents(t, dm) {
		if evt.Type.Type == elementfmt.TypePollStartUnstable || evt.Type.Type == "m.reaction" {
			t.Errorf("the server has a plaintext %s: %s", evt.Type.Type, evt.Content.VeryRaw)
		}
		if evt.ID != replyID {
			continue
		}
		var outer struct {
			RelatesTo *event.RelatesTo `json:"m.relates_to"`
		}
		if err := json.Unmarshal(evt.Content.VeryRaw, &outer); err != nil {
			t.Fatal(err)
		}
		if outer.RelatesTo.GetThreadParent() != root {
			t.Errorf("on the server the encrypted thread reply relates as %+v, want a thread of %s in the clear", outer.RelatesTo, root)
		}
	}
}

// Events sent in plaintext are recorded too, of any type, state in the timeline included, and
// so is a known type whose content mautrix cannot parse.
func TestPlainEventsRecorded(t *testing.T) {
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	carol := hstest.NewPerson(t, hs, "carol", "Carol").EnableCrypto(t)
	room := alice.CreateRoom(t, true, carol.ID)
	carol.JoinWhenInvited(t, room)

	const mystery = "org.example.duet.mystery"
	unknownID := alice.SendEvent(t, room, mystery, elementfmt.UnknownExtensible(mystery, "what is this"))
	infoID := alice.SendState(t, room, elementfmt.TypeBeaconInfo, string(alice.ID),
		elementfmt.BeaconInfo("Alice's live location", 5*time.Minute, true))
	beaconID := alice.SendEvent(t, room, elementfmt.TypeBeacon, elementfmt.Beacon(infoID, "geo:51.5,-0.12", time.Now().UnixMilli()))
	badID := alice.SendEvent(t, room, elementfmt.TypeMessage, map[string]any{"msgtype": "m.text", "body": 42})

	byID := func(evtID id.EventID) func(hstest.Event) bool {
		return func(e hstest.Event) bool { return e.ID == evtID }
	}
	got := carol.WaitEvent(t, room, receiveTimeout, byID(unknownID))
	if got.Type != mystery || got.Encrypted || got.Decrypted || got.Sender != alice.ID ||
		got.ContentMap(t)["org.matrix.msc1767.text"] != "what is this" {
		t.Errorf("carol received the unknown event as %+v", got)
	}
	got = carol.WaitEvent(t, room, receiveTimeout, byID(infoID))
	if got.Type != elementfmt.TypeBeaconInfo || got.StateKey == nil || *got.StateKey != string(alice.ID) ||
		got.ContentMap(t)["live"] != true {
		t.Errorf("carol received the beacon_info as %+v", got)
	}
	got = carol.WaitEvent(t, room, receiveTimeout, byID(beaconID))
	if got.Type != elementfmt.TypeBeacon || got.StateKey != nil {
		t.Errorf("carol received the beacon as %+v", got)
	}
	got = carol.WaitEvent(t, room, receiveTimeout, byID(badID))
	if got.Type != elementfmt.TypeMessage || got.ParseErr == nil {
		t.Errorf("carol received the malformed message as %+v, want it recorded with its parse error", got)
	}

	types := map[id.EventID]string{}
	for _, evt := range alice.RawEvents(t, room) {
		types[evt.ID] = evt.Type.Type
	}
	for evtID, want := range map[id.EventID]string{
		unknownID: mystery, infoID: elementfmt.TypeBeaconInfo, beaconID: elementfmt.TypeBeacon, badID: elementfmt.TypeMessage,
	} {
		if types[evtID] != want {
			t.Errorf("the server has %s as %q, want %q", evtID, types[evtID], want)
		}
	}
}

// decryptedEvent matches the event with this ID once the device has its plaintext.
func decryptedEvent(evtID id.EventID) func(hstest.Event) bool {
	return func(e hstest.Event) bool { return e.ID == evtID && e.Decrypted }
}

// normalized is content as it reads back from JSON.
func normalized(t *testing.T, content map[string]any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(content)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
