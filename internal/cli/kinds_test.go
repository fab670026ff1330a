package cli

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	ef "duet/internal/testkit/elementfmt"
	"duet/internal/testkit/hstest"
)

// kindOut is a line of `messages --json` with what its kind carries.
type kindOut struct {
	EventID       id.EventID `json:"event_id"`
	Kind          string     `json:"kind"`
	Type          string     `json:"type"`
	Body          string     `json:"body"`
	E2E           bool       `json:"end_to_end_encrypted"`
	Undecryptable bool       `json:"undecryptable"`
	Thread        id.EventID `json:"thread"`
	ThreadReplies int        `json:"thread_replies"`
	ReplyTo       id.EventID `json:"reply_to"`
	Ends          id.EventID `json:"ends_poll"`
	File          *struct {
		Kind string `json:"kind"`
	} `json:"file"`
	Poll *struct {
		Question string `json:"question"`
		Ended    bool   `json:"ended"`
		Voters   *int   `json:"voters"`
		Answers  []struct {
			ID     string      `json:"id"`
			Text   string      `json:"text"`
			Count  *int        `json:"count"`
			Voters []id.UserID `json:"voters"`
		} `json:"answers"`
	} `json:"poll"`
	Location *struct {
		URI         string `json:"uri"`
		Map         string `json:"map"`
		Description string `json:"description"`
		Live        bool   `json:"live"`
	} `json:"location"`
	Call *struct {
		Video  bool   `json:"video"`
		Reason string `json:"reason"`
	} `json:"call"`
}

// sent is what the other person sent, by what the test calls it.
type sent map[string]id.EventID

// sendEverything sends, in the formats Element uses, each kind of event a person sends into a
// DM: send sends a message event (encrypted or not), state a state event.
func sendEverything(t *testing.T, bob *hstest.Person, send func(typ string, content map[string]any) id.EventID,
	state func(typ, key string, content map[string]any) id.EventID) sent {
	t.Helper()
	s := sent{}
	s["root"] = send(ef.TypeMessage, map[string]any{"msgtype": "m.text", "body": "what shall we do on saturday?"})
	up, err := bob.Client.UploadBytesWithName(hstest.Ctx(t), []byte("\x89PNG\r\n\x1a\nnot really"), "image/png", "sticker.png")
	if err != nil {
		t.Fatal(err)
	}
	s["sticker"] = send(ef.TypeSticker, ef.Sticker("🔧 Drill time!", up.ContentURI.String(), 48, 48, "image/png"))
	pollU, idsU := ef.PollStartUnstable("Where?", []string{"The park", "The beach"}, true, 1)
	s["pollU"] = send(ef.TypePollStartUnstable, pollU)
	send(ef.TypePollResponseUnstable, ef.PollResponseUnstable(s["pollU"], idsU[0]))
	send(ef.TypePollResponseUnstable, ef.PollResponseUnstable(s["pollU"], idsU[1])) // a change of mind: the latest counts
	pollS, idsS := ef.PollStartStable("When?", []string{"Morning", "Noon", "Evening"}, false, 1)
	s["pollS"] = send(ef.TypePollStart, pollS)
	send(ef.TypePollResponse, ef.PollResponseStable(s["pollS"], idsS[2]))
	s["end"] = send(ef.TypePollEnd, ef.PollEndStable(s["pollS"], ef.PollEndTopAnswer("Evening")))
	s["thread1"] = send(ef.TypeMessage, ef.ThreadReply(s["root"], s["root"], "the park, surely"))
	s["thread2"] = send(ef.TypeMessage, ef.ThreadReply(s["root"], s["thread1"], "or the beach"))
	s["voice"] = send(ef.TypeMessage, ef.Voice(up.ContentURI.String(), "audio/ogg", 4*time.Second, 4900, []int{1, 2, 3}))
	s["location"] = send(ef.TypeMessage, ef.Location("Location geo:51.5,-0.12 at 12:00", "geo:51.5,-0.12;u=10", "The pub"))
	s["call"] = send(ef.TypeCallInvite, ef.CallInvite("call1", true))
	s["hangup"] = send(ef.TypeCallHangup, ef.CallHangup("call1", "user_hangup"))
	s["beacon"] = state(ef.TypeBeaconInfo, string(bob.ID), ef.BeaconInfo("Bob's live location", time.Hour, true))
	send(ef.TypeBeacon, ef.Beacon(s["beacon"], "geo:48.85,2.35", time.Now().UnixMilli()))
	s["other"] = send("org.example.note", ef.Unknown("org.example.note", "a note \x1b]52;c;aGk=\x07from the future"))
	s["otherExt"] = send("org.example.ext", ef.UnknownExtensible("org.example.ext", "extensible text"))
	s["otherMText"] = send("org.example.mtext", ef.UnknownMText("org.example.mtext", "m.text text"))
	s["last"] = send(ef.TypeMessage, map[string]any{"msgtype": "m.text", "body": "that's everything"})
	return s
}

// checkEverything reads `messages --json` until everything sent is there and checks each line
// as Element meant it; e2e says the DM is encrypted.
func checkEverything(t *testing.T, alice *duetUser, bob *hstest.Person, s sent, e2e bool) {
	t.Helper()
	var msgs map[id.EventID]kindOut
	hstest.Eventually(t, time.Minute, func() string {
		var out struct {
			Messages []kindOut `json:"messages"`
		}
		alice.jsonOut(t, &out, "messages", string(bob.ID), "--limit", "100")
		msgs = map[id.EventID]kindOut{}
		for _, m := range out.Messages {
			msgs[m.EventID] = m
		}
		for name, evt := range s {
			if m, ok := msgs[evt]; !ok || m.Undecryptable {
				return fmt.Sprintf("%s (%s) is not shown (yet): %+v", name, evt, m)
			}
		}
		return ""
	})
	for name, evt := range s {
		if m := msgs[evt]; m.E2E != e2e && name != "beacon" { // state is never encrypted
			t.Errorf("%s: end_to_end_encrypted %v, want %v", name, m.E2E, e2e)
		}
	}
	want := map[string]string{"root": "message", "sticker": "sticker", "pollU": "poll", "pollS": "poll", "end": "poll_end",
		"thread1": "message", "voice": "message", "location": "location", "call": "call_invite", "hangup": "call_hangup",
		"beacon": "live_location", "other": "other", "otherExt": "other", "otherMText": "other"}
	for name, kind := range want {
		if got := msgs[s[name]].Kind; got != kind {
			t.Errorf("%s: kind %q, want %q", name, got, kind)
		}
	}
	if m := msgs[s["sticker"]]; m.Body != "🔧 Drill time!" || m.File == nil || m.File.Kind != "m.image" {
		t.Errorf("sticker: %+v", m)
	}
	if p := msgs[s["pollU"]].Poll; p == nil || p.Question != "Where?" || p.Ended || p.Voters == nil || *p.Voters != 1 ||
		*p.Answers[0].Count != 0 || *p.Answers[1].Count != 1 || !slices.Equal(p.Answers[1].Voters, []id.UserID{bob.ID}) {
		t.Errorf("the open disclosed poll: %+v", p)
	}
	if p := msgs[s["pollS"]].Poll; p == nil || !p.Ended || *p.Answers[2].Count != 1 || p.Answers[2].Voters != nil {
		t.Errorf("the ended undisclosed poll shows its counts, not who voted: %+v", p)
	}
	if m := msgs[s["end"]]; m.Ends != s["pollS"] {
		t.Errorf("the poll end: %+v", m)
	}
	if m := msgs[s["root"]]; m.ThreadReplies != 2 {
		t.Errorf("the thread's root: %d replies, want 2", m.ThreadReplies)
	}
	if m := msgs[s["thread2"]]; m.Thread != s["root"] || m.ReplyTo != "" {
		t.Errorf("a thread reply: thread %q, reply to %q (its fallback answers nothing)", m.Thread, m.ReplyTo)
	}
	if m := msgs[s["location"]]; m.Location == nil || m.Location.Description != "The pub" ||
		!strings.HasPrefix(m.Location.Map, "https://www.openstreetmap.org/?mlat=51.5&mlon=-0.12") {
		t.Errorf("location: %+v", m.Location)
	}
	if m := msgs[s["call"]]; m.Call == nil || !m.Call.Video {
		t.Errorf("call: %+v", m.Call)
	}
	if m := msgs[s["beacon"]]; m.Location == nil || !m.Location.Live || m.Location.URI != "geo:48.85,2.35" {
		t.Errorf("live location, with its latest point: %+v", m.Location)
	}
	if m := msgs[s["otherMText"]]; m.Type != "org.example.mtext" || m.Body != "m.text text" {
		t.Errorf("an unknown type: %+v", m)
	}
	// And in the plain output, every line sanitized.
	text := alice.ok(t, "", "messages", string(bob.ID), "--limit", "100")
	for _, w := range []string{"Sticker: 🔧 Drill time!", "[poll] Where?", "2. The beach  1 vote", "[poll] When?  (ended)",
		"(in thread " + string(s["root"]) + ") or the beach", "[thread: 2 replies]", "[location] Location: The pub",
		"Started a video call", "Ended the call", "[live location] Live location: Bob's live location", "[org.example.note] a note",
		"[org.example.ext] extensible text"} {
		if !strings.Contains(text, w) {
			t.Errorf("messages lacks %q:\n%s", w, text)
		}
	}
	if strings.Contains(text, "\x1b") || strings.Contains(text, "\x07") {
		t.Errorf("a control character reached stdout: %q", text)
	}
}

// Issue 25: everything Element sends into a DM shows up in duet, in a plain DM and in an
// encrypted one: stickers, polls (both prefixes) with their votes and ends, thread replies,
// voice, locations, calls, live locations and unknown types with a text fallback.
func TestEverythingElementSendsShows(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		t.Parallel()
		alice := newDuetUser(t, "alice", "Alice")
		alice.login(t)
		bob := hstest.NewPerson(t, hs, "bob", "Bob")
		room := bob.CreateRoom(t, true, alice.ID)
		alice.accept(t, string(room))
		s := sendEverything(t, bob, func(typ string, c map[string]any) id.EventID { return bob.SendEvent(t, room, typ, c) },
			func(typ, key string, c map[string]any) id.EventID { return bob.SendState(t, room, typ, key, c) })
		checkEverything(t, alice, bob, s, false)
	})
	t.Run("encrypted", func(t *testing.T) {
		t.Parallel()
		alice := newDuetUser(t, "alice", "Alice")
		alice.login(t)
		bob := hstest.NewPerson(t, hs, "bob", "Bob").EnableCrypto(t)
		alice.run(t, "", "messages", string(bob.ID)) // a first sync uploads this device's keys
		room := bob.CreateEncryptedDM(t, alice.ID)
		alice.accept(t, string(room))
		s := sendEverything(t, bob.Person, func(typ string, c map[string]any) id.EventID { return bob.SendEvent(t, room, typ, c) },
			func(typ, key string, c map[string]any) id.EventID { return bob.SendState(t, room, typ, key, c) })
		checkEverything(t, alice, bob.Person, s, true)
		onlyCiphertext(t, bob.Person, room)
	})
}
