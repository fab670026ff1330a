package elementfmt_test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/elementfmt"
)

const (
	pollID   = id.EventID("$poll:example.org")
	rootID   = id.EventID("$root:example.org")
	latestID = id.EventID("$latest:example.org")
)

// wire returns content as a receiver gets it: marshalled, then decoded into generic JSON values.
// Marshalling it again gives the same bytes, and no field is null (Element leaves undefined
// fields out rather than sending null).
func wire(t *testing.T, content map[string]any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(content)
	if err != nil {
		t.Fatalf("marshal %v: %v", content, err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("unmarshal %s: %v", raw, err)
	}
	again, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(raw) {
		t.Errorf("content changes on a JSON round trip:\n%s\n%s", raw, again)
	}
	if strings.Contains(string(raw), "null") {
		t.Errorf("content has a null: %s", raw)
	}
	return out
}

// parse decodes content into mautrix's type for it, as duet's receiving side does.
func parse[T any](t *testing.T, content map[string]any) *T {
	t.Helper()
	raw, err := json.Marshal(content)
	if err != nil {
		t.Fatal(err)
	}
	out := new(T)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s does not parse as %T: %v", raw, out, err)
	}
	return out
}

// at follows keys (which may contain dots) into nested objects; a missing key fails the test.
func at(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for i, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%q is %T, not an object", strings.Join(keys[:i], " > "), v)
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("no key %q in %v", strings.Join(keys[:i+1], " > "), m)
		}
	}
	return v
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func assertKeys(t *testing.T, what string, v any, want ...string) {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is %T, not an object", what, v)
	}
	got := keys(m)
	if len(got) != len(want) {
		t.Errorf("%s has keys %q, want exactly %q", what, got, want)
		return
	}
	for _, k := range want {
		if _, ok := m[k]; !ok {
			t.Errorf("%s has keys %q, want exactly %q", what, got, want)
			return
		}
	}
}

var answerIDForm = regexp.MustCompile(`^[A-Za-z0-9]{16}$`)

func assertAnswerIDs(t *testing.T, ids []string, n int) {
	t.Helper()
	if len(ids) != n {
		t.Fatalf("%d answer IDs for %d answers", len(ids), n)
	}
	seen := map[string]bool{}
	for _, a := range ids {
		if !answerIDForm.MatchString(a) {
			t.Errorf("answer ID %q is not 16 letters and digits, as Element makes them", a)
		}
		if seen[a] {
			t.Errorf("answer ID %q is used twice in %q", a, ids)
		}
		seen[a] = true
	}
}

func TestPollStartUnstable(t *testing.T) {
	answers := []string{"Pizza", "Poutine", "Wings"}
	content, ids := elementfmt.PollStartUnstable("What for lunch?", answers, true, 1)
	assertAnswerIDs(t, ids, len(answers))
	c := wire(t, content)
	assertKeys(t, "poll start", c, "org.matrix.msc3381.poll.start", "org.matrix.msc1767.text")
	if got, want := at(t, c, "org.matrix.msc1767.text"), "What for lunch?\n1. Pizza\n2. Poutine\n3. Wings"; got != want {
		t.Errorf("fallback = %q, want %q", got, want)
	}
	poll := at(t, c, "org.matrix.msc3381.poll.start")
	assertKeys(t, "poll block", poll, "kind", "max_selections", "question", "answers")
	assertKeys(t, "question", at(t, poll, "question"), "org.matrix.msc1767.text", "body", "msgtype")
	list := at(t, poll, "answers").([]any)
	for i, a := range list {
		assertKeys(t, "answer", a, "id", "org.matrix.msc1767.text")
		if at(t, a, "id") != ids[i] || at(t, a, "org.matrix.msc1767.text") != answers[i] {
			t.Errorf("answer %d = %v, want id %s text %q", i, a, ids[i], answers[i])
		}
	}

	parsed := parse[event.PollStartEventContent](t, content)
	if p := parsed.PollStart; p.Kind != elementfmt.PollDisclosedUnstable || p.MaxSelections != 1 ||
		p.Question.GetText() != "What for lunch?" || len(p.Answers) != 3 || p.Answers[2].ID != ids[2] ||
		p.Answers[2].GetText() != "Wings" {
		t.Errorf("mautrix reads the poll as %+v", p)
	}

	undisclosed, _ := elementfmt.PollStartUnstable("Q", []string{"a", "b"}, false, 2)
	if p := parse[event.PollStartEventContent](t, undisclosed).PollStart; p.Kind != elementfmt.PollUndisclosedUnstable || p.MaxSelections != 2 {
		t.Errorf("undisclosed poll for two reads as kind %q max %d", p.Kind, p.MaxSelections)
	}
}

func TestPollStartStable(t *testing.T) {
	answers := []string{"Red", "Blue"}
	content, ids := elementfmt.PollStartStable("Colour?", answers, false, 1)
	assertAnswerIDs(t, ids, len(answers))
	c := wire(t, content)
	assertKeys(t, "poll start", c, "m.poll", "m.text")
	if got := at(t, c, "m.text").([]any); len(got) != 1 || at(t, got[0], "body") != "Colour?\n1. Red\n2. Blue" {
		t.Errorf("fallback = %v", got)
	}
	poll := at(t, c, "m.poll")
	assertKeys(t, "m.poll", poll, "kind", "max_selections", "question", "answers")
	if at(t, poll, "kind") != elementfmt.PollUndisclosed || at(t, poll, "max_selections") != 1.0 {
		t.Errorf("m.poll = %v", poll)
	}
	if q := at(t, poll, "question", "m.text").([]any); len(q) != 1 || at(t, q[0], "body") != "Colour?" {
		t.Errorf("question = %v", q)
	}
	for i, a := range at(t, poll, "answers").([]any) {
		assertKeys(t, "answer", a, "m.id", "m.text")
		text := at(t, a, "m.text").([]any)
		if at(t, a, "m.id") != ids[i] || len(text) != 1 || at(t, text[0], "body") != answers[i] {
			t.Errorf("answer %d = %v", i, a)
		}
	}
	disclosed, _ := elementfmt.PollStartStable("Q", []string{"a"}, true, 1)
	if got := at(t, wire(t, disclosed), "m.poll", "kind"); got != elementfmt.PollDisclosed {
		t.Errorf("disclosed kind = %v", got)
	}
}

func TestAnswerIDsDifferBetweenPolls(t *testing.T) {
	_, a := elementfmt.PollStartUnstable("Q", make([]string, 20), true, 1)
	_, b := elementfmt.PollStartStable("Q", make([]string, 20), true, 1)
	assertAnswerIDs(t, append(a, b...), 40)
}

func TestPollResponses(t *testing.T) {
	c := wire(t, elementfmt.PollResponseUnstable(pollID, "abc"))
	assertKeys(t, "response", c, "m.relates_to", "org.matrix.msc3381.poll.response")
	assertReference(t, c, pollID)
	parsed := parse[event.PollResponseEventContent](t, elementfmt.PollResponseUnstable(pollID, "abc", "def"))
	if !reflect.DeepEqual(parsed.Response.Answers, []string{"abc", "def"}) || parsed.RelatesTo.EventID != pollID ||
		parsed.RelatesTo.Type != event.RelReference {
		t.Errorf("mautrix reads the vote as %+v", parsed)
	}

	stable := wire(t, elementfmt.PollResponseStable(pollID, "abc"))
	assertKeys(t, "stable response", stable, "m.relates_to", "m.selections")
	assertReference(t, stable, pollID)
	if got := at(t, stable, "m.selections"); !reflect.DeepEqual(got, []any{"abc"}) {
		t.Errorf("m.selections = %v", got)
	}

	// Withdrawing a vote is an empty list, never null.
	if got := at(t, wire(t, elementfmt.PollResponseUnstable(pollID)), "org.matrix.msc3381.poll.response", "answers"); !reflect.DeepEqual(got, []any{}) {
		t.Errorf("no answers = %#v, want []", got)
	}
	if got := at(t, wire(t, elementfmt.PollResponseStable(pollID)), "m.selections"); !reflect.DeepEqual(got, []any{}) {
		t.Errorf("no selections = %#v, want []", got)
	}
}

func TestPollEnds(t *testing.T) {
	text := elementfmt.PollEndTopAnswer("Pizza")
	if text != "The poll has ended. Top answer: Pizza" {
		t.Errorf("closing text = %q", text)
	}
	c := wire(t, elementfmt.PollEndUnstable(pollID, text))
	assertKeys(t, "poll end", c, "m.relates_to", "org.matrix.msc3381.poll.end", "org.matrix.msc1767.text", "body", "msgtype")
	assertReference(t, c, pollID)
	assertKeys(t, "end block", at(t, c, "org.matrix.msc3381.poll.end"))
	if at(t, c, "body") != text || at(t, c, "org.matrix.msc1767.text") != text || at(t, c, "msgtype") != "m.text" {
		t.Errorf("poll end = %v", c)
	}

	stable := wire(t, elementfmt.PollEndStable(pollID, elementfmt.PollEndNoVotes))
	assertKeys(t, "stable poll end", stable, "m.relates_to", "m.text")
	assertReference(t, stable, pollID)
	if got := at(t, stable, "m.text").([]any); len(got) != 1 || at(t, got[0], "body") != elementfmt.PollEndNoVotes {
		t.Errorf("m.text = %v", got)
	}
}

func assertReference(t *testing.T, c map[string]any, to id.EventID) {
	t.Helper()
	rel := at(t, c, "m.relates_to")
	assertKeys(t, "m.relates_to", rel, "rel_type", "event_id")
	if at(t, rel, "rel_type") != "m.reference" || at(t, rel, "event_id") != string(to) {
		t.Errorf("m.relates_to = %v, want a reference to %s", rel, to)
	}
}

func TestThreadReplies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content map[string]any
		replyTo id.EventID
		falling bool
	}{
		{"plain", elementfmt.ThreadReply(rootID, latestID, "in the thread"), latestID, true},
		{"explicit reply", elementfmt.ThreadReplyToMessage(rootID, latestID, "in the thread"), latestID, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := wire(t, tc.content)
			assertKeys(t, "thread reply", c, "msgtype", "body", "m.mentions", "m.relates_to")
			// is_falling_back is always there, false included, as Element sends it.
			assertKeys(t, "m.relates_to", at(t, c, "m.relates_to"), "rel_type", "event_id", "is_falling_back", "m.in_reply_to")
			if got := at(t, c, "m.relates_to", "is_falling_back"); got != tc.falling {
				t.Errorf("is_falling_back = %v, want %v", got, tc.falling)
			}
			msg := parse[event.MessageEventContent](t, tc.content)
			rel := msg.RelatesTo
			if msg.MsgType != event.MsgText || msg.Body != "in the thread" || rel == nil ||
				rel.GetThreadParent() != rootID || rel.InReplyTo == nil || rel.InReplyTo.EventID != tc.replyTo ||
				rel.IsFallingBack != tc.falling {
				t.Errorf("mautrix reads %+v with relation %+v", msg, rel)
			}
		})
	}
}

func TestSticker(t *testing.T) {
	content := elementfmt.Sticker("a cat", "mxc://example.org/cat", 256, 200, "image/png")
	c := wire(t, content)
	assertKeys(t, "sticker", c, "body", "url", "info")
	assertKeys(t, "info", at(t, c, "info"), "w", "h", "mimetype")
	msg := parse[event.MessageEventContent](t, content)
	if msg.Body != "a cat" || msg.URL != "mxc://example.org/cat" || msg.Info.Width != 256 || msg.Info.Height != 200 ||
		msg.Info.MimeType != "image/png" || msg.MsgType != "" {
		t.Errorf("mautrix reads the sticker as %+v, info %+v", msg, msg.Info)
	}
}

func TestVoice(t *testing.T) {
	content := elementfmt.Voice("mxc://example.org/voice", "audio/ogg", 2500*time.Millisecond, 12345, []int{0, 512, 1024})
	c := wire(t, content)
	assertKeys(t, "voice", c, "body", "msgtype", "url", "info", "org.matrix.msc1767.text", "org.matrix.msc1767.file",
		"org.matrix.msc1767.audio", "org.matrix.msc3245.voice", "m.mentions")
	assertKeys(t, "voice flag", at(t, c, "org.matrix.msc3245.voice"))
	if got := at(t, c, "org.matrix.msc1767.file", "name"); got != "Voice message.ogg" {
		t.Errorf("file name = %v", got)
	}
	msg := parse[event.MessageEventContent](t, content)
	if msg.MsgType != event.MsgAudio || msg.Body != elementfmt.VoiceBody || msg.MSC3245Voice == nil || msg.MSC1767Audio == nil ||
		msg.MSC1767Audio.Duration != 2500 || !reflect.DeepEqual(msg.MSC1767Audio.Waveform, []int{0, 512, 1024}) ||
		msg.Info.Duration != 2500 || msg.Info.Size != 12345 || msg.Info.MimeType != "audio/ogg" {
		t.Errorf("mautrix reads the voice message as %+v, info %+v, audio %+v", msg, msg.Info, msg.MSC1767Audio)
	}
}

func TestLocation(t *testing.T) {
	before := time.Now().UnixMilli()
	content := elementfmt.Location("User Location geo:51.5,-0.12;u=20 at 2026-01-02T03:04:05.000Z", "geo:51.5,-0.12;u=20", "")
	c := wire(t, content)
	assertKeys(t, "location", c, "msgtype", "body", "geo_uri", "org.matrix.msc3488.location", "org.matrix.msc3488.asset",
		"org.matrix.msc1767.text", "org.matrix.msc3488.ts")
	assertKeys(t, "location block", at(t, c, "org.matrix.msc3488.location"), "uri")
	if at(t, c, "org.matrix.msc3488.asset", "type") != "m.self" || at(t, c, "org.matrix.msc1767.text") != at(t, c, "body") {
		t.Errorf("location = %v", c)
	}
	if ts := at(t, c, "org.matrix.msc3488.ts").(float64); int64(ts) < before || int64(ts) > time.Now().UnixMilli() {
		t.Errorf("ts %v is not now", ts)
	}
	msg := parse[event.MessageEventContent](t, content)
	if msg.MsgType != event.MsgLocation || msg.GeoURI != "geo:51.5,-0.12;u=20" {
		t.Errorf("mautrix reads the location as %+v", msg)
	}

	described := wire(t, elementfmt.Location("b", "geo:1,2", "the pub"))
	if got := at(t, described, "org.matrix.msc3488.location", "description"); got != "the pub" {
		t.Errorf("description = %v", got)
	}
}

func TestBeacons(t *testing.T) {
	info := wire(t, elementfmt.BeaconInfo("Alice's live location", 5*time.Minute, true))
	assertKeys(t, "beacon_info", info, "description", "timeout", "live", "org.matrix.msc3488.ts", "org.matrix.msc3488.asset")
	if at(t, info, "timeout") != 300000.0 || at(t, info, "live") != true || at(t, info, "description") != "Alice's live location" ||
		at(t, info, "org.matrix.msc3488.asset", "type") != "m.self" {
		t.Errorf("beacon_info = %v", info)
	}

	b := wire(t, elementfmt.Beacon("$info:example.org", "geo:51.5,-0.12", 1700000000123))
	assertKeys(t, "beacon", b, "m.relates_to", "org.matrix.msc3488.location", "org.matrix.msc3488.ts")
	assertReference(t, b, "$info:example.org")
	if at(t, b, "org.matrix.msc3488.location", "uri") != "geo:51.5,-0.12" || at(t, b, "org.matrix.msc3488.ts") != 1700000000123.0 {
		t.Errorf("beacon = %v", b)
	}
}

func TestCalls(t *testing.T) {
	for _, video := range []bool{false, true} {
		content := elementfmt.CallInvite("1700000000000abcdefghijklmnop", video)
		c := wire(t, content)
		assertKeys(t, "invite", c, "call_id", "party_id", "version", "lifetime", "offer", "capabilities", "sdp_stream_metadata")
		inv := parse[event.CallInviteEventContent](t, content)
		if inv.CallID != "1700000000000abcdefghijklmnop" || inv.PartyID != elementfmt.PartyID || inv.Version != "1" ||
			inv.Lifetime != 60000 || inv.Offer.Type != event.CallDataTypeOffer {
			t.Errorf("mautrix reads the invite as %+v", inv)
		}
		sdp := inv.Offer.SDP
		if !strings.HasPrefix(sdp, "v=0\r\n") || !strings.HasSuffix(sdp, "\r\n") || strings.Contains(strings.ReplaceAll(sdp, "\r\n", ""), "\n") {
			t.Errorf("SDP lines do not end in CRLF: %q", sdp)
		}
		if !strings.Contains(sdp, "\r\nm=audio ") {
			t.Errorf("video %v: SDP has no audio section:\n%s", video, sdp)
		}
		if got := strings.Contains(sdp, "\r\nm=video "); got != video {
			t.Errorf("video %v: SDP has a video section: %v\n%s", video, got, sdp)
		}
		for _, stream := range at(t, c, "sdp_stream_metadata").(map[string]any) {
			if at(t, stream, "video_muted") != !video || at(t, stream, "purpose") != "m.usermedia" {
				t.Errorf("video %v: stream metadata %v", video, stream)
			}
		}
	}

	hangup := elementfmt.CallHangup("c1", "user_hangup")
	assertKeys(t, "hangup", wire(t, hangup), "call_id", "party_id", "version", "reason")
	h := parse[event.CallHangupEventContent](t, hangup)
	if h.CallID != "c1" || h.PartyID != elementfmt.PartyID || h.Version != "1" || h.Reason != event.CallHangupUserHangup {
		t.Errorf("mautrix reads the hangup as %+v", h)
	}
	assertKeys(t, "hangup without reason", wire(t, elementfmt.CallHangup("c1", "")), "call_id", "party_id", "version")
}

func TestUnknown(t *testing.T) {
	const typ = "org.example.duet.mystery"
	c := wire(t, elementfmt.Unknown(typ, "what is this"))
	assertKeys(t, "unknown", c, "body")
	if at(t, c, "body") != "what is this" {
		t.Errorf("unknown = %v", c)
	}
	ext := wire(t, elementfmt.UnknownExtensible(typ, "extensible text"))
	assertKeys(t, "extensible", ext, "org.matrix.msc1767.text")
	if at(t, ext, "org.matrix.msc1767.text") != "extensible text" {
		t.Errorf("extensible = %v", ext)
	}
	mt := wire(t, elementfmt.UnknownMText(typ, "stable text"))
	assertKeys(t, "m.text", mt, "m.text")
	if got := at(t, mt, "m.text").([]any); len(got) != 1 || at(t, got[0], "body") != "stable text" {
		t.Errorf("m.text = %v", got)
	}

	for _, known := range []string{elementfmt.TypeMessage, elementfmt.TypePollStartUnstable, elementfmt.TypeSticker, ""} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Unknown(%q) did not panic", known)
				}
			}()
			elementfmt.Unknown(known, "x")
		}()
	}
}
