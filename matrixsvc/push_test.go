package matrixsvc

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/pushrules"

	"duet/internal/testkit/hstest"
)

// serverRules is m.push_rules as Dendrite 0.13 keeps it for a new account @alice:hs (its
// defaults: no rules for m.mentions), with room for a test's own override and room rules.
const serverRules = `{"global": {
 "override": [%s
  {"rule_id": ".m.rule.master", "default": true, "enabled": %t, "actions": []},
  {"rule_id": ".m.rule.suppress_notices", "default": true, "enabled": true,
   "conditions": [{"kind": "event_match", "key": "content.msgtype", "pattern": "m.notice"}], "actions": []},
  {"rule_id": ".m.rule.member_event", "default": true, "enabled": true,
   "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.room.member"}], "actions": []},
  {"rule_id": ".m.rule.contains_display_name", "default": true, "enabled": true,
   "conditions": [{"kind": "contains_display_name"}],
   "actions": ["notify", {"set_tweak": "sound", "value": "default"}, {"set_tweak": "highlight"}]},
  {"rule_id": ".m.rule.roomnotif", "default": true, "enabled": true,
   "conditions": [{"kind": "event_match", "key": "content.body", "pattern": "@room"},
                  {"kind": "sender_notification_permission", "key": "room"}],
   "actions": ["notify", {"set_tweak": "highlight"}]},
  {"rule_id": ".m.rule.tombstone", "default": true, "enabled": true,
   "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.room.tombstone"}],
   "actions": ["notify", {"set_tweak": "highlight"}]},
  {"rule_id": ".m.rule.reaction", "default": true, "enabled": true,
   "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.reaction"}], "actions": []}
 ],
 "content": [
  {"rule_id": ".m.rule.contains_user_name", "default": true, "enabled": true, "pattern": "alice",
   "actions": ["notify", {"set_tweak": "sound", "value": "default"}, {"set_tweak": "highlight"}]}
 ],
 "room": [%s],
 "underride": [
  {"rule_id": ".m.rule.room_one_to_one", "default": true, "enabled": true,
   "conditions": [{"kind": "room_member_count", "is": "2"}, {"kind": "event_match", "key": "type", "pattern": "m.room.message"}],
   "actions": ["notify", {"set_tweak": "sound", "value": "default"}]},
  {"rule_id": ".m.rule.encrypted_room_one_to_one", "default": true, "enabled": true,
   "conditions": [{"kind": "room_member_count", "is": "2"}, {"kind": "event_match", "key": "type", "pattern": "m.room.encrypted"}],
   "actions": ["notify", {"set_tweak": "sound", "value": "default"}]},
  {"rule_id": ".m.rule.message", "default": true, "enabled": true,
   "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.room.message"}], "actions": ["notify"]},
  {"rule_id": ".m.rule.encrypted", "default": true, "enabled": true,
   "conditions": [{"kind": "event_match", "key": "type", "pattern": "m.room.encrypted"}], "actions": ["notify"]}
 ]
}}`

// Element's "mute" for !dm:hs: an override rule named after the room.
const muteRule = `{"rule_id": "!dm:hs", "default": false, "enabled": true,
  "conditions": [{"kind": "event_match", "key": "room_id", "pattern": "!dm:hs"}], "actions": %s},`

// Element's "mentions and keywords only" for !dm:hs: a room rule without actions.
const mentionsOnlyRule = `{"rule_id": "!dm:hs", "default": false, "enabled": true, "actions": []}`

// fakeRoom answers the rules' questions about a room (pure logic: no store).
type fakeRoom struct {
	name    string
	members int
	levels  *event.PowerLevelsEventContent
}

func (r fakeRoom) GetOwnDisplayname() string                      { return r.name }
func (r fakeRoom) GetMemberCount() int                            { return r.members }
func (r fakeRoom) GetPowerLevels() *event.PowerLevelsEventContent { return r.levels }

func testEvent(t *testing.T, room, sender, typ, content string) *event.Event {
	t.Helper()
	var evt event.Event
	raw := fmt.Sprintf(`{"type": %q, "sender": %q, "room_id": %q, "event_id": "$e", "origin_server_ts": 1, "content": %s}`,
		typ, sender, room, content)
	if err := json.Unmarshal([]byte(raw), &evt); err != nil {
		t.Fatalf("test event %s: %v", raw, err)
	}
	return &evt
}

func TestPushDecision(t *testing.T) {
	const me = id.UserID("@alice:hs")
	dm := fakeRoom{name: "Alice", members: 2}
	group := fakeRoom{name: "Alice", members: 3, levels: &event.PowerLevelsEventContent{
		Users: map[id.UserID]int{"@boss:hs": 100},
	}}
	plain := `{"msgtype": "m.text", "body": "how are you?"}`
	byName := `{"msgtype": "m.text", "body": "Alice, how are you?"}`
	byLocalpart := `{"msgtype": "m.text", "body": "ask alice"}`
	mention := `{"msgtype": "m.text", "body": "look at this", "m.mentions": {"user_ids": ["@alice:hs"]}}`
	mentionOther := `{"msgtype": "m.text", "body": "Alice, ask carol", "m.mentions": {"user_ids": ["@carol:hs"]}}`
	atRoom := `{"msgtype": "m.text", "body": "everyone!", "m.mentions": {"room": true}}`
	notice := `{"msgtype": "m.notice", "body": "a bot says Alice"}`
	encrypted := `{"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgA", "session_id": "s", "device_id": "D", "sender_key": "k"}`
	rules := func(override, room string, master bool) string {
		return fmt.Sprintf(serverRules, override, master, room)
	}
	for _, tc := range []struct {
		name          string
		rules         string // m.push_rules content; "" for none
		room          fakeRoom
		sender, typ   string
		content       string
		notify, light bool
	}{
		{"no push rules seen: notify", "", dm, "@bob:hs", "m.room.message", plain, true, false},
		{"a DM", rules("", "", false), dm, "@bob:hs", "m.room.message", plain, true, false},
		{"a group", rules("", "", false), group, "@bob:hs", "m.room.message", plain, true, false},
		{"a notice", rules("", "", false), dm, "@bob:hs", "m.room.message", notice, false, false},
		{"our display name", rules("", "", false), group, "@bob:hs", "m.room.message", byName, true, true},
		{"our user name", rules("", "", false), group, "@bob:hs", "m.room.message", byLocalpart, true, true},
		{"a mention by user ID", rules("", "", false), group, "@bob:hs", "m.room.message", mention, true, true},
		{"a mention of someone else names us in passing", rules("", "", false), group, "@bob:hs", "m.room.message", mentionOther, true, false},
		{"@room from someone allowed to", rules("", "", false), group, "@boss:hs", "m.room.message", atRoom, true, true},
		{"@room from someone who is not", rules("", "", false), group, "@bob:hs", "m.room.message", atRoom, true, false},
		{"undecryptable in a DM", rules("", "", false), dm, "@bob:hs", "m.room.encrypted", encrypted, true, false},
		{"muted", rules(fmt.Sprintf(muteRule, `[]`), "", false), dm, "@bob:hs", "m.room.message", plain, false, false},
		{"muted, the old way", rules(fmt.Sprintf(muteRule, `["dont_notify"]`), "", false), dm, "@bob:hs", "m.room.message", plain, false, false},
		{"muted, even a mention", rules(fmt.Sprintf(muteRule, `[]`), "", false), dm, "@bob:hs", "m.room.message", mention, false, false},
		{"muted, undecryptable", rules(fmt.Sprintf(muteRule, `[]`), "", false), dm, "@bob:hs", "m.room.encrypted", encrypted, false, false},
		{"mentions only: a message", rules("", mentionsOnlyRule, false), dm, "@bob:hs", "m.room.message", plain, false, false},
		{"mentions only: a mention", rules("", mentionsOnlyRule, false), dm, "@bob:hs", "m.room.message", mention, true, true},
		{"mentions only: our name", rules("", mentionsOnlyRule, false), dm, "@bob:hs", "m.room.message", byName, true, true},
		{"everything muted", rules("", "", true), dm, "@bob:hs", "m.room.message", mention, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var content []byte
			if tc.rules != "" {
				content = []byte(tc.rules)
			}
			rs, err := parsePushRules(content, me)
			if err != nil {
				t.Fatal(err)
			}
			evt := testEvent(t, "!dm:hs", tc.sender, tc.typ, tc.content)
			notify, light := pushDecision(rs, tc.room, evt)
			if notify != tc.notify || light != tc.light {
				t.Fatalf("notify, highlight = %v, %v; want %v, %v", notify, light, tc.notify, tc.light)
			}
		})
	}
}

// The mention rules a server lacks are added where the spec puts them; a server's own are kept.
func TestWithMentionRules(t *testing.T) {
	rs, err := parsePushRules(fmt.Appendf(nil, serverRules, "", false, ""), "@alice:hs")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rs.Override {
		ids = append(ids, r.RuleID)
	}
	want := []string{".m.rule.master", ".m.rule.suppress_notices", ".m.rule.member_event", ruleIsUserMention,
		".m.rule.contains_display_name", ruleIsRoomMention, ".m.rule.roomnotif", ".m.rule.tombstone", ".m.rule.reaction"}
	if !slices.Equal(ids, want) {
		t.Fatalf("override rules:\n%v\nwant\n%v", ids, want)
	}

	// A server that has the rule, turned off by the user: mentions by user ID do not highlight.
	own := `{"rule_id": ".m.rule.is_user_mention", "default": true, "enabled": false,
	  "conditions": [{"kind": "event_property_contains", "key": "content.m\\.mentions.user_ids", "value": "@alice:hs"}],
	  "actions": ["notify", {"set_tweak": "highlight"}]},`
	rs, err = parsePushRules(fmt.Appendf(nil, serverRules, own, false, ""), "@alice:hs")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rs.Override {
		if r.RuleID == ruleIsUserMention {
			n++
		}
	}
	evt := testEvent(t, "!dm:hs", "@bob:hs", "m.room.message", `{"msgtype": "m.text", "body": "look", "m.mentions": {"user_ids": ["@alice:hs"]}}`)
	if _, light := pushDecision(rs, fakeRoom{members: 3}, evt); n != 1 || light {
		t.Fatalf("the server's disabled rule: %d rules, highlight %v", n, light)
	}

	for _, bad := range []string{`[]`, `{"global": null}`, `{"global": {"override": 5}}`} {
		if rs, err := parsePushRules([]byte(bad), "@alice:hs"); err == nil || rs != nil {
			t.Errorf("m.push_rules %s: %v, %v", bad, rs, err)
		}
	}
}

// newMessage syncs svc until a message with body arrives in room, and returns it as the sync
// brought it.
func newMessage(t *testing.T, svc *Service, room id.RoomID, body string) Message {
	t.Helper()
	var got Message
	hstest.Eventually(t, 20*time.Second, func() string {
		applied, err := svc.CatchUp(hstest.Ctx(t))
		if err != nil {
			return err.Error()
		}
		for _, m := range applied.Messages {
			if m.RoomID == room && m.Body == body {
				got = m
				return ""
			}
		}
		return fmt.Sprintf("no %q yet", body)
	})
	return got
}

// pushRulesSeen syncs svc until its stored push rules satisfy ok.
func pushRulesSeen(t *testing.T, svc *Service, what string, ok func(string) bool) {
	t.Helper()
	hstest.Eventually(t, 20*time.Second, func() string {
		if _, err := svc.CatchUp(hstest.Ctx(t)); err != nil {
			return err.Error()
		}
		raw, err := svc.store.AccountData(hstest.Ctx(t), event.AccountDataPushRules.Type)
		if err != nil {
			return err.Error()
		}
		if !ok(string(raw)) {
			return "the push rules do not show " + what
		}
		return ""
	})
}

// Against Dendrite, with the push rules it gives a new account: bob's messages to alice notify
// once she is past her first sync; a mention highlights; her own never notify, even from her
// other device and naming herself; a muted room is quiet; "mentions only" lets only mentions
// through.
func TestPushRulesDecideWhatNotifies(t *testing.T) {
	t.Parallel()
	svc, alice, bob, room := acceptedDM(t)
	ctx := hstest.Ctx(t)
	first := newMessage(t, svc, room, "before the upgrade") // acceptedDM's, after alice's first sync
	if !first.Notify || first.Highlight {
		t.Fatalf("bob's DM message: notify %v, highlight %v", first.Notify, first.Highlight)
	}
	if raw, _ := svc.store.AccountData(ctx, event.AccountDataPushRules.Type); len(raw) == 0 {
		t.Fatal("the push rules from the server were not kept")
	}
	bob.Say(t, room, "Alice, are you there?")
	if m := newMessage(t, svc, room, "Alice, are you there?"); !m.Notify || !m.Highlight {
		t.Fatalf("bob names alice: notify %v, highlight %v", m.Notify, m.Highlight)
	}

	// (d) Her own messages, from duet and from another device, never notify.
	if _, err := svc.SendText(ctx, room, "Alice writes", false, ""); err != nil {
		t.Fatal(err)
	}
	if m := newMessage(t, svc, room, "Alice writes"); m.Notify || m.Highlight {
		t.Fatalf("alice's own message: %+v", m)
	}
	alice.Say(t, room, "Alice again, from her phone")
	if m := newMessage(t, svc, room, "Alice again, from her phone"); m.Notify || m.Highlight {
		t.Fatalf("alice's message from another device: %+v", m)
	}

	// (b) Muted as Element mutes a room.
	err := alice.Client.PutPushRule(ctx, "global", pushrules.OverrideRule, string(room), &mautrix.ReqPutPushRule{
		Actions:    []*pushrules.PushAction{},
		Conditions: []*pushrules.PushCondition{{Kind: pushrules.KindEventMatch, Key: "room_id", Pattern: string(room)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	pushRulesSeen(t, svc, "the mute", func(raw string) bool { return strings.Contains(raw, string(room)) })
	bob.Say(t, room, "Alice, hello in a muted room")
	if m := newMessage(t, svc, room, "Alice, hello in a muted room"); m.Notify || m.Highlight {
		t.Fatalf("a muted room notifies: %+v", m)
	}

	// "Mentions and keywords only": a room rule without actions.
	if err := alice.Client.DeletePushRule(ctx, "global", pushrules.OverrideRule, string(room)); err != nil {
		t.Fatal(err)
	}
	if err := alice.Client.PutPushRule(ctx, "global", pushrules.RoomRule, string(room), &mautrix.ReqPutPushRule{
		Actions: []*pushrules.PushAction{},
	}); err != nil {
		t.Fatal(err)
	}
	pushRulesSeen(t, svc, "mentions only", func(raw string) bool {
		var c pushrules.EventContent
		return json.Unmarshal([]byte(raw), &c) == nil && c.Ruleset != nil && c.Ruleset.Room.Map[string(room)] != nil &&
			!hasRule(c.Ruleset.Override, string(room))
	})
	bob.Say(t, room, "just chatting")
	if m := newMessage(t, svc, room, "just chatting"); m.Notify {
		t.Fatalf("a plain message in a mentions-only room notifies: %+v", m)
	}
	_, err = bob.Client.SendMessageEvent(ctx, room, event.EventMessage, &event.MessageEventContent{
		MsgType: event.MsgText, Body: "look at this", Mentions: &event.Mentions{UserIDs: []id.UserID{alice.ID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if m := newMessage(t, svc, room, "look at this"); !m.Notify || !m.Highlight {
		t.Fatalf("a mention in a mentions-only room: notify %v, highlight %v", m.Notify, m.Highlight)
	}
}

// History caught up at start never notifies: what bob wrote before alice's first sync, and
// while duet was closed, comes without Notify; what comes after does notify.
func TestPushRulesSkipHistory(t *testing.T) {
	t.Parallel()
	ctx := hstest.Ctx(t)
	alice := hstest.NewPerson(t, hs, "alice", "Alice")
	bob := hstest.NewPerson(t, hs, "bob", "Bob")
	room := bob.CreateRoom(t, true, alice.ID)
	alice.Join(t, room)
	// waitSynced waits until alice's account's own /sync has body, so that duet's next
	// request surely brings it.
	waitSynced := func(body string) {
		t.Helper()
		hstest.Eventually(t, 20*time.Second, func() string {
			resp, err := alice.Client.SyncRequest(ctx, 0, "", "", false, "")
			if err != nil {
				return err.Error()
			}
			if r := resp.Rooms.Join[room]; r != nil {
				for _, evt := range r.Timeline.Events {
					if strings.Contains(string(evt.Content.VeryRaw), body) {
						return ""
					}
				}
			}
			return fmt.Sprintf("alice's sync does not have %q yet", body)
		})
	}
	caughtUp := func(svc *Service, body string) {
		t.Helper()
		applied, err := svc.CatchUp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(applied.Messages, func(m Message) bool { return m.Body == body })
		if i < 0 {
			t.Fatalf("the first sync does not bring %q: %+v", body, applied.Messages)
		}
		if m := applied.Messages[i]; m.Notify || m.Highlight {
			t.Fatalf("history notifies: %+v", m)
		}
	}
	bob.Say(t, room, "Alice, before duet started")
	waitSynced("Alice, before duet started")
	sess, err := Login(ctx, LoginParams{Homeserver: hs.URL, User: string(alice.ID), Password: alice.Password}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	svc := openService(t, sess, dir)
	caughtUp(svc, "Alice, before duet started")
	svc.Close()
	svc.store.Close()

	bob.Say(t, room, "Alice, while duet was closed")
	waitSynced("Alice, while duet was closed")
	again := openService(t, sess, dir)
	caughtUp(again, "Alice, while duet was closed")
	bob.Say(t, room, "after the restart")
	if m := newMessage(t, again, room, "after the restart"); !m.Notify {
		t.Fatalf("a live message after the restart: %+v", m)
	}
}

// (c) Encrypted DMs: the rules are evaluated on the decrypted message, whose content the server
// never saw: a mention by user ID inside it highlights.
func TestPushRulesOnDecryptedMessages(t *testing.T) {
	t.Parallel()
	alice := newService(t, hstest.NewPerson(t, hs, "alice", "Alice"), "")
	bob, room := encryptedDMWithBob(t, alice)
	ctx := hstest.Ctx(t)
	bob.SendText(t, room, "a secret hello")
	m := newMessage(t, alice, room, "a secret hello")
	if !m.E2E || !m.Notify || m.Highlight {
		t.Fatalf("bob's encrypted message: %+v", m)
	}
	_, err := bob.CryptoClient.SendMessageEvent(ctx, room, event.EventMessage, &event.MessageEventContent{
		MsgType: event.MsgText, Body: "a secret look", Mentions: &event.Mentions{UserIDs: []id.UserID{alice.Me()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m = newMessage(t, alice, room, "a secret look")
	if !m.E2E || !m.Notify || !m.Highlight {
		t.Fatalf("an encrypted mention: %+v", m)
	}
	if types := serverEventTypes(t, bob.Client, room); slices.Contains(types, event.EventMessage.Type) {
		t.Fatalf("the mention went out in plain text: %v", types)
	}
}
