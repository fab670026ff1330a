package matrixsvc

import (
	"encoding/json"
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"
)

// rawEvent is an event as it comes in a sync: type, sender and raw content only.
func rawEvent(t *testing.T, typ string, content string, stateKey *string) *event.Event {
	t.Helper()
	if !json.Valid([]byte(content)) {
		t.Fatalf("not JSON: %s", content)
	}
	return &event.Event{ID: "$e", RoomID: "!r", Sender: "@bob:x", Timestamp: 1000, StateKey: stateKey,
		Type: event.Type{Type: typ, Class: event.MessageEventType}, Content: event.Content{VeryRaw: json.RawMessage(content)}}
}

// Each event type Element sends into a DM becomes a line of its kind; nothing a person sent is
// dropped, and protocol steps (call candidates, reactions) are not lines.
func TestKindsOfEvents(t *testing.T) {
	bob := "@bob:x"
	cases := []struct {
		name, typ, content string
		state              *string
		kind               EventKind
		shown              bool
		check              func(t *testing.T, m Message)
	}{
		{name: "sticker", typ: "m.sticker", kind: KindSticker, shown: true,
			content: `{"body":"🔧 Drill","url":"mxc://x/abc","info":{"mimetype":"image/png","w":48,"h":48,"size":300}}`,
			check: func(t *testing.T, m Message) {
				if m.Media == nil || m.Media.Kind != "m.image" || m.Media.URL != "mxc://x/abc" || m.Body != "🔧 Drill" {
					t.Errorf("sticker: %+v media %+v", m, m.Media)
				}
			}},
		{name: "sticker without a picture", typ: "m.sticker", kind: KindOther, shown: true, content: `{"body":"a sticker"}`},
		{name: "unstable poll", typ: "org.matrix.msc3381.poll.start", kind: KindPoll, shown: true,
			content: `{"org.matrix.msc3381.poll.start":{"kind":"org.matrix.msc3381.poll.disclosed","max_selections":1,
				"question":{"org.matrix.msc1767.text":"Lunch?"},"answers":[{"id":"a","org.matrix.msc1767.text":"Pizza"},{"id":"b","org.matrix.msc1767.text":"Soup"}]},
				"org.matrix.msc1767.text":"Lunch?\n1. Pizza\n2. Soup"}`,
			check: func(t *testing.T, m Message) {
				p := m.Poll
				if p == nil || p.Question != "Lunch?" || len(p.Answers) != 2 || p.Answers[1].ID != "b" || p.Answers[1].Text != "Soup" ||
					!p.Disclosed || p.MaxSelections != 1 || !p.Unstable {
					t.Errorf("poll: %+v", p)
				}
			}},
		{name: "stable poll", typ: "m.poll.start", kind: KindPoll, shown: true,
			content: `{"m.poll":{"kind":"m.undisclosed","max_selections":5,"question":{"m.text":[{"body":"Lunch?"}]},
				"answers":[{"m.id":"a","m.text":[{"mimetype":"text/html","body":"<b>Pizza</b>"},{"body":"Pizza"}]},{"m.id":"b","m.text":[{"body":"Soup"}]}]},
				"m.text":[{"body":"Lunch?"}]}`,
			check: func(t *testing.T, m Message) {
				p := m.Poll
				if p == nil || p.Answers[0].Text != "Pizza" || p.Disclosed || p.MaxSelections != 2 || p.Unstable {
					t.Errorf("poll: %+v", p)
				}
			}},
		{name: "poll with duplicate answers", typ: "m.poll.start", kind: KindOther, shown: true,
			content: `{"m.poll":{"question":{"m.text":[{"body":"Q"}]},"answers":[{"m.id":"a","m.text":[{"body":"x"}]},{"m.id":"a","m.text":[{"body":"y"}]}]},"m.text":[{"body":"Q fallback"}]}`,
			check: func(t *testing.T, m Message) {
				if m.Body != "Q fallback" || m.OtherType != "m.poll.start" {
					t.Errorf("a malformed poll falls back to its text: %+v", m)
				}
			}},
		{name: "unstable vote", typ: "org.matrix.msc3381.poll.response",
			content: `{"org.matrix.msc3381.poll.response":{"answers":["a",7]},"m.relates_to":{"rel_type":"m.reference","event_id":"$poll"}}`,
			check: func(t *testing.T, m Message) {
				if c := m.change; c == nil || !c.Vote || c.Target != "$poll" || len(c.Answers) != 1 || c.Answers[0] != "a" {
					t.Errorf("vote: %+v", m.change)
				}
			}},
		{name: "stable vote", typ: "m.poll.response",
			content: `{"m.selections":["b"],"m.relates_to":{"rel_type":"m.reference","event_id":"$poll"}}`,
			check: func(t *testing.T, m Message) {
				if c := m.change; c == nil || !c.Vote || c.Answers[0] != "b" {
					t.Errorf("vote: %+v", m.change)
				}
			}},
		{name: "poll end", typ: "org.matrix.msc3381.poll.end", kind: KindPollEnd, shown: true,
			content: `{"org.matrix.msc3381.poll.end":{},"org.matrix.msc1767.text":"Ended poll","m.relates_to":{"rel_type":"m.reference","event_id":"$poll"}}`,
			check: func(t *testing.T, m Message) {
				if m.Rel != "$poll" || m.change == nil || !m.change.Related || m.Body != "Ended poll" {
					t.Errorf("poll end: %+v", m)
				}
			}},
		{name: "video call", typ: "m.call.invite", kind: KindCallInvite, shown: true,
			content: `{"call_id":"c1","version":"1","lifetime":60000,"offer":{"type":"offer","sdp":"v=0\r\nm=audio 9 UDP\r\nm=video 9 UDP\r\n"}}`,
			check: func(t *testing.T, m Message) {
				if m.Call == nil || !m.Call.Video || !strings.Contains(m.KindText(), "video call") {
					t.Errorf("call: %+v", m.Call)
				}
			}},
		{name: "hang-up", typ: "m.call.hangup", kind: KindCallHangup, shown: true, content: `{"call_id":"c1","version":"1","reason":"user_hangup"}`},
		{name: "call candidates", typ: "m.call.candidates", content: `{"call_id":"c1","candidates":[]}`},
		{name: "location", typ: "m.room.message", kind: KindLocation, shown: true,
			content: `{"msgtype":"m.location","body":"Location geo:51.5,-0.12 at 2026-12-07","geo_uri":"geo:51.5,-0.12;u=10",
				"org.matrix.msc3488.location":{"uri":"geo:51.5,-0.12;u=10","description":"The pub"}}`,
			check: func(t *testing.T, m Message) {
				if m.Location == nil || m.Location.Description != "The pub" ||
					m.Location.MapURL() != "https://www.openstreetmap.org/?mlat=51.5&mlon=-0.12#map=16/51.5/-0.12" {
					t.Errorf("location: %+v %q", m.Location, m.Location.MapURL())
				}
			}},
		{name: "live location", typ: "org.matrix.msc3672.beacon_info", kind: KindLiveLocation, shown: true, state: &bob,
			content: `{"description":"Bob's walk","live":true,"timeout":3600000,"org.matrix.msc3488.ts":1000,"org.matrix.msc3488.asset":{"type":"m.self"}}`,
			check: func(t *testing.T, m Message) {
				if m.Location == nil || !m.Location.Live || m.Location.Until.UnixMilli() != 3601000 {
					t.Errorf("live location: %+v", m.Location)
				}
			}},
		{name: "someone else's beacon", typ: "m.beacon_info", state: ptr("@mallory:x"), content: `{"description":"x","live":true}`},
		{name: "beacon", typ: "org.matrix.msc3672.beacon",
			content: `{"m.relates_to":{"rel_type":"m.reference","event_id":"$info"},"org.matrix.msc3488.location":{"uri":"geo:1,2"},"org.matrix.msc3488.ts":5000}`,
			check: func(t *testing.T, m Message) {
				if c := m.change; c == nil || c.Location != "geo:1,2" || c.Target != "$info" || c.TS != 5000 {
					t.Errorf("beacon: %+v", m.change)
				}
			}},
		{name: "unknown with body", typ: "com.example.thing", kind: KindOther, shown: true, content: `{"body":"hello \u001b[31m"}`,
			check: func(t *testing.T, m Message) {
				if m.OtherType != "com.example.thing" || m.Body != "hello \x1b[31m" {
					t.Errorf("other: %+v", m) // sanitized where it is shown, not here
				}
			}},
		{name: "unknown extensible", typ: "org.example.note", kind: KindOther, shown: true, content: `{"org.matrix.msc1767.text":"a note"}`},
		{name: "unknown m.text", typ: "org.example.note", kind: KindOther, shown: true, content: `{"m.text":[{"mimetype":"text/html","body":"<i>x</i>"},{"body":"plain"}]}`,
			check: func(t *testing.T, m Message) {
				if m.Body != "plain" {
					t.Errorf("m.text: the plain representation, got %q", m.Body)
				}
			}},
		{name: "unknown without text", typ: "org.example.nothing", content: `{"x":1}`},
		{name: "body of the wrong type", typ: "org.example.bad", content: `{"body":{"a":1}}`},
		{name: "thread reply", typ: "m.room.message", shown: true,
			content: `{"msgtype":"m.text","body":"in the thread","m.relates_to":{"rel_type":"m.thread","event_id":"$root","is_falling_back":true,"m.in_reply_to":{"event_id":"$latest"}}}`,
			check: func(t *testing.T, m Message) {
				if m.Thread != "$root" || m.ReplyTo != "" {
					t.Errorf("thread reply: thread %q reply to %q", m.Thread, m.ReplyTo)
				}
			}},
		{name: "reply inside a thread", typ: "m.room.message", shown: true,
			content: `{"msgtype":"m.text","body":"answer","m.relates_to":{"rel_type":"m.thread","event_id":"$root","is_falling_back":false,"m.in_reply_to":{"event_id":"$q"}}}`,
			check: func(t *testing.T, m Message) {
				if m.Thread != "$root" || m.ReplyTo != "$q" {
					t.Errorf("reply in thread: thread %q reply to %q", m.Thread, m.ReplyTo)
				}
			}},
		{name: "poll in a thread", typ: "org.matrix.msc3381.poll.start", kind: KindPoll, shown: true,
			content: `{"org.matrix.msc3381.poll.start":{"question":{"org.matrix.msc1767.text":"Q"},"answers":[{"id":"a","org.matrix.msc1767.text":"x"}]},
				"m.relates_to":{"rel_type":"m.thread","event_id":"$root"}}`,
			check: func(t *testing.T, m Message) {
				if m.Thread != "$root" || m.Poll == nil || m.Poll.Disclosed {
					t.Errorf("poll in thread: %+v", m)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evt := rawEvent(t, c.typ, c.content, c.state)
			if c.typ == "m.room.message" {
				evt.Type = event.EventMessage
			}
			m, ok := toMessage(evt)
			if ok != c.shown || ok && m.Kind != c.kind {
				t.Fatalf("%s: shown %v kind %q, want %v %q", c.typ, ok, m.Kind, c.shown, c.kind)
			}
			if c.check != nil {
				c.check(t, m)
			}
			if ok {
				// What is stored comes back the same.
				back := fromStored(toStored([]Message{m})[0])
				if back.Kind != m.Kind || back.Thread != m.Thread || back.OtherType != m.OtherType ||
					(m.Poll != nil) != (back.Poll != nil) || (m.Location != nil) != (back.Location != nil) {
					t.Errorf("stored and read back: %+v, was %+v", back, m)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// A deleted sticker or poll shows as deleted; a deleted vote is no line.
func TestDeletedKinds(t *testing.T) {
	evt := rawEvent(t, "m.sticker", `{}`, nil)
	evt.Unsigned.RedactedBecause = &event.Event{ID: "$r"}
	if m, ok := toMessage(evt); !ok || !m.Redacted {
		t.Errorf("a deleted sticker: %+v shown %v", m, ok)
	}
	evt = rawEvent(t, "m.poll.response", `{}`, nil)
	evt.Unsigned.RedactedBecause = &event.Event{ID: "$r"}
	if _, ok := toMessage(evt); ok {
		t.Error("a deleted vote is a line")
	}
}

// What moves a conversation up the list: a message, a poll, a poll's end; not a vote or a live
// location's next point, which come every few seconds while one is shared.
func TestWhatCountsAsActivity(t *testing.T) {
	bob := "@bob:x"
	for _, c := range []struct {
		typ, content string
		state        *string
		counts       bool
	}{
		{"m.room.message", `{"msgtype":"m.text","body":"hi"}`, nil, true},
		{"org.matrix.msc3381.poll.start", `{}`, nil, true},
		{"org.matrix.msc3381.poll.end", `{"m.relates_to":{"rel_type":"m.reference","event_id":"$p"}}`, nil, true},
		{"org.matrix.msc3381.poll.response", `{"m.relates_to":{"rel_type":"m.reference","event_id":"$p"}}`, nil, false},
		{"m.poll.response", `{"m.relates_to":{"rel_type":"m.reference","event_id":"$p"}}`, nil, false},
		{"org.matrix.msc3672.beacon", `{"m.relates_to":{"rel_type":"m.reference","event_id":"$i"}}`, nil, false},
		{"m.beacon", `{"m.relates_to":{"rel_type":"m.reference","event_id":"$i"}}`, nil, false},
		{"org.matrix.msc3672.beacon_info", `{"live":true}`, &bob, false},
	} {
		if got := countsAsActivity(rawEvent(t, c.typ, c.content, c.state)); got != c.counts {
			t.Errorf("%s counts as activity: %v, want %v", c.typ, got, c.counts)
		}
	}
}
