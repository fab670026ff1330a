package matrixsvc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"duet/store"
)

// What people send into a DM besides m.room.message, as Element does: stickers, polls (the
// stable m.poll.* and the unstable org.matrix.msc3381.* that Element sends today), calls, live
// locations, and any other event type that carries a text fallback. Each becomes a Message of
// its Kind; nothing that carries something a person sent is dropped. The content is read with
// gjson from the raw JSON, which is hostile: a field of the wrong type makes the event fall back
// to its text, never fail.

// EventKind is what a timeline line is, beyond a message: "" is an m.room.message.
type EventKind string

// The kinds duet shows as themselves. Their names are those of `messages --json`'s kind field.
const (
	KindMessage      EventKind = ""              // m.room.message (any msgtype but m.location)
	KindSticker      EventKind = "sticker"       // m.sticker: Media is its picture
	KindPoll         EventKind = "poll"          // m.poll.start: Poll
	KindPollEnd      EventKind = "poll_end"      // m.poll.end: Rel is the poll it ends
	KindCallInvite   EventKind = "call_invite"   // m.call.invite: Call
	KindCallHangup   EventKind = "call_hangup"   // m.call.hangup or m.call.reject: Call
	KindLocation     EventKind = "location"      // m.room.message with msgtype m.location: Location
	KindLiveLocation EventKind = "live_location" // m.beacon_info: Location, its latest point from m.beacon
	KindOther        EventKind = "other"         // any other type with a text fallback: OtherType, Body
)

// Name is the kind as `messages --json` prints it: "message" for an m.room.message.
func (k EventKind) Name() string {
	if k == KindMessage {
		return "message"
	}
	return string(k)
}

// Event types, stable and unstable, that duet reads.
const (
	typePollStart         = "m.poll.start"
	typePollResponse      = "m.poll.response"
	typePollEnd           = "m.poll.end"
	typeBeaconInfo        = "m.beacon_info"
	typeBeacon            = "m.beacon"
	typeBeaconInfoMSC3672 = "org.matrix.msc3672.beacon_info"
	typeBeaconMSC3672     = "org.matrix.msc3672.beacon"
)

// Poll is a poll (m.poll.start) with what its responses and end say so far.
type Poll struct {
	Question      string       `json:"question"`
	Answers       []PollAnswer `json:"answers"`
	Disclosed     bool         `json:"disclosed"` // counts show while it is open; else only once it ended
	MaxSelections int          `json:"max_selections"`
	Unstable      bool         `json:"unstable,omitempty"` // sent as org.matrix.msc3381: answered the same way

	// Filled from the votes and the end when the poll is shown (tally), never stored.
	Ended   bool        `json:"-"`
	EndedAt time.Time   `json:"-"`
	Voters  int         `json:"-"` // people whose latest vote counts
	Mine    []string    `json:"-"` // the answers we picked, in the poll's order
	Tallied bool        `json:"-"` // the votes were counted (the poll came from the store)
	EndedBy id.UserID   `json:"-"`
	Votes   []UserVotes `json:"-"`
}

// PollAnswer is one answer of a poll; Count and Voters as tally found them.
type PollAnswer struct {
	ID     string      `json:"id"`
	Text   string      `json:"text"`
	Count  int         `json:"-"`
	Voters []id.UserID `json:"-"`
}

// UserVotes is what one person's counted vote picked.
type UserVotes struct {
	User    id.UserID
	Answers []string
}

// ResultsVisible reports whether the counts may be shown: a disclosed poll's always, an
// undisclosed one's once it ended.
func (p *Poll) ResultsVisible() bool { return p.Disclosed || p.Ended }

// Answer returns the answer picked by number n (1 is the first), ok false when there is none.
func (p *Poll) Answer(n int) (PollAnswer, bool) {
	if n < 1 || n > len(p.Answers) {
		return PollAnswer{}, false
	}
	return p.Answers[n-1], true
}

// Location is a place someone shared: a geo: URI and what they said of it; for a live location
// also until when it is shared, and when its latest point came.
type Location struct {
	URI         string    `json:"uri"`
	Description string    `json:"description,omitempty"`
	Live        bool      `json:"live,omitempty"`
	Until       time.Time `json:"until,omitzero"`
	Updated     time.Time `json:"updated,omitzero"`
}

// LatLon reads the latitude and longitude of a geo: URI (RFC 5870); ok is false when it is not
// one with numbers in range.
func (l *Location) LatLon() (lat, lon float64, ok bool) {
	rest, found := strings.CutPrefix(strings.ToLower(strings.TrimSpace(l.URI)), "geo:")
	if !found {
		return 0, 0, false
	}
	rest, _, _ = strings.Cut(rest, ";")
	parts := strings.Split(rest, ",")
	if len(parts) < 2 {
		return 0, 0, false
	}
	lat, err1 := strconv.ParseFloat(parts[0], 64)
	lon, err2 := strconv.ParseFloat(parts[1], 64)
	if err1 != nil || err2 != nil || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return 0, 0, false
	}
	return lat, lon, true
}

// MapURL is the OpenStreetMap page of the location, "" when its URI is not a usable geo: URI.
// It is built from the numbers alone: nothing of the sender's text goes into it.
func (l *Location) MapURL() string {
	lat, lon, ok := l.LatLon()
	if !ok {
		return ""
	}
	la, lo := strconv.FormatFloat(lat, 'f', -1, 64), strconv.FormatFloat(lon, 'f', -1, 64)
	q := url.Values{"mlat": {la}, "mlon": {lo}}
	return "https://www.openstreetmap.org/?" + q.Encode() + "#map=16/" + la + "/" + lo
}

// Call is a call someone started or ended (duet takes no calls: it says so).
type Call struct {
	ID     string `json:"id,omitempty"`
	Video  bool   `json:"video,omitempty"`
	Reason string `json:"reason,omitempty"` // why it ended, as the hang-up says ("user_hangup", ...)
}

// extra is what the store keeps of a kind (store.Event.Extra).
type extra struct {
	Poll      *Poll     `json:"poll,omitempty"`
	Location  *Location `json:"location,omitempty"`
	Call      *Call     `json:"call,omitempty"`
	OtherType string    `json:"type,omitempty"`
}

func extraJSON(m *Message) string {
	x := extra{Poll: m.Poll, Location: m.Location, Call: m.Call, OtherType: m.OtherType}
	if x == (extra{}) {
		return ""
	}
	raw, err := json.Marshal(x)
	if err != nil {
		return ""
	}
	return string(raw)
}

func (m *Message) setExtra(raw string) {
	if raw == "" {
		return
	}
	var x extra
	if json.Unmarshal([]byte(raw), &x) != nil {
		return
	}
	m.Poll, m.Location, m.Call, m.OtherType = x.Poll, x.Location, x.Call, x.OtherType
}

// threadOf reads the thread an event is in from its raw content: m.relates_to with rel_type
// m.thread. Encrypted events keep m.relates_to in the clear, so this holds for them too.
func threadOf(raw []byte) id.EventID {
	if !bytes.Contains(raw, []byte(`"m.thread"`)) { // most events: no copy of the content for it
		return ""
	}
	f := gjson.GetManyBytes(raw, `m\.relates_to.rel_type`, `m\.relates_to.event_id`)
	if f[0].Str == string(event.RelThread) && f[1].Type == gjson.String && strings.HasPrefix(f[1].Str, "$") {
		return id.EventID(f[1].Str)
	}
	return ""
}

// referenceOf is the event an m.reference relation names, "" when there is none.
func referenceOf(raw []byte) id.EventID {
	f := gjson.GetManyBytes(raw, `m\.relates_to.rel_type`, `m\.relates_to.event_id`)
	if f[0].Str == string(event.RelReference) && f[1].Type == gjson.String && strings.HasPrefix(f[1].Str, "$") {
		return id.EventID(f[1].Str)
	}
	return ""
}

// otherMessage reads an event that is not an m.room.message (nor an encrypted event, a
// reaction or a redaction); ok as toMessage's. msg has the event's room, ID, sender and time.
func otherMessage(evt *event.Event, msg Message) (Message, bool) {
	raw := evt.Content.VeryRaw
	msg.Thread = threadOf(raw)
	if evt.Unsigned.RedactedBecause != nil {
		if shownKind(evt.Type.Type) {
			msg.Redacted = true
			return msg, true
		}
		return msg, false
	}
	switch t := evt.Type.Type; {
	case t == event.EventSticker.Type:
		msg.Kind, msg.MsgType = KindSticker, string(event.MsgImage)
		msg.Body = gjson.GetBytes(raw, "body").Str
		msg.Media = mediaFromJSON(string(event.MsgImage), msg.Body, raw)
		if msg.Media != nil {
			return msg, true
		}
	case t == typePollStart || t == event.EventUnstablePollStart.Type:
		if p := pollOf(raw, t != typePollStart); p != nil {
			msg.Kind, msg.MsgType, msg.Poll, msg.Body = KindPoll, t, p, p.Question
			return msg, true
		}
	case t == typePollResponse || t == event.EventUnstablePollResponse.Type:
		msg.change = voteOf(evt, t != typePollResponse)
		return msg, false
	case t == typePollEnd || t == event.EventUnstablePollEnd.Type:
		if poll := referenceOf(raw); poll != "" {
			msg.Kind, msg.MsgType, msg.Rel = KindPollEnd, t, poll
			msg.Body = fallbackText(raw)
			msg.change = &store.Change{ID: evt.ID, Target: poll, Sender: evt.Sender, TS: evt.Timestamp, Related: true}
			return msg, true
		}
	case t == event.CallInvite.Type:
		f := gjson.GetManyBytes(raw, "call_id", "offer.sdp")
		msg.Kind, msg.MsgType = KindCallInvite, t
		msg.Call = &Call{ID: f[0].Str, Video: strings.Contains(f[1].Str, "m=video")}
		return msg, true
	case t == event.CallHangup.Type || t == event.CallReject.Type:
		f := gjson.GetManyBytes(raw, "call_id", "reason")
		msg.Kind, msg.MsgType = KindCallHangup, t
		msg.Call = &Call{ID: f[0].Str, Reason: f[1].Str}
		if t == event.CallReject.Type {
			msg.Call.Reason = "rejected"
		}
		return msg, true
	case t == typeBeaconInfo || t == typeBeaconInfoMSC3672:
		return liveLocationOf(evt, msg)
	case t == typeBeacon || t == typeBeaconMSC3672:
		msg.change = beaconOf(evt)
		return msg, false
	case evt.StateKey != nil || !shownOther(t):
		return msg, false
	}
	// Anything else that carries a text: shown as that text, marked with its type.
	if text := fallbackText(raw); text != "" {
		msg.Kind, msg.MsgType, msg.OtherType, msg.Body = KindOther, evt.Type.Type, evt.Type.Type, text
		return msg, true
	}
	return msg, false
}

// shownKind reports whether events of type t are shown as lines of their own (a deleted one
// shows as deleted).
func shownKind(t string) bool {
	switch t {
	case event.EventSticker.Type, typePollStart, event.EventUnstablePollStart.Type, typePollEnd, event.EventUnstablePollEnd.Type,
		event.CallInvite.Type, event.CallHangup.Type, event.CallReject.Type:
		return true
	}
	return false
}

// shownOther reports whether an event of an unknown type t may be shown by its fallback text:
// not one of the protocol's own steps (call negotiation, verification, keys), which carry no
// words of a person's and are handled, or ignored, elsewhere.
func shownOther(t string) bool {
	switch {
	case strings.HasPrefix(t, "m.call."), strings.HasPrefix(t, "m.key."), strings.HasPrefix(t, "m.room."),
		strings.HasPrefix(t, "m.room_key"), strings.HasPrefix(t, "m.secret."), strings.HasPrefix(t, "m.dummy"),
		strings.HasPrefix(t, "org.matrix.msc3401.call"), strings.HasPrefix(t, "org.matrix.msc4075."),
		strings.HasPrefix(t, "org.matrix.msc3381."), strings.HasPrefix(t, "m.poll."),
		t == event.EventReaction.Type, t == event.EventRedaction.Type:
		return false
	}
	return true
}

// fallbackText is the text an event carries for clients that do not know its type: body, or
// the extensible events' org.matrix.msc1767.text or m.text (the plain one of its
// representations); "" when it has none.
func fallbackText(raw []byte) string {
	f := gjson.GetManyBytes(raw, "body", `org\.matrix\.msc1767\.text`, `m\.text`, `org\.matrix\.msc1767\.message`)
	for _, r := range f[:2] {
		if r.Type == gjson.String && strings.TrimSpace(r.Str) != "" {
			return r.Str
		}
	}
	for _, r := range f[2:] {
		if t := textBlock(r); t != "" {
			return t
		}
	}
	return ""
}

// textBlock reads an extensible events text block: a list of {body, mimetype}, of which the
// plain text one (no mimetype or text/plain) is taken, else the first.
func textBlock(r gjson.Result) string {
	if r.Type == gjson.String {
		return r.Str
	}
	if !r.IsArray() {
		return ""
	}
	first := ""
	for _, b := range r.Array() {
		body := b.Get("body")
		if body.Type != gjson.String {
			continue
		}
		mime := b.Get("mimetype").Str
		if mime == "" || mime == "text/plain" {
			return body.Str
		}
		if first == "" {
			first = body.Str
		}
	}
	return first
}

// Poll limits: more answers than this, or longer texts, are not a poll anyone made by hand.
const (
	maxPollAnswers = 20
	maxPollText    = 1000
)

// pollOf reads a poll's question and answers, stable (m.poll) or unstable
// (org.matrix.msc3381.poll.start); nil when it is not a well-formed poll.
func pollOf(raw []byte, unstable bool) *Poll {
	block, text, id := `m\.poll`, `m\.text`, `m\.id`
	disclosed := "m.disclosed"
	if unstable {
		block, text, id = `org\.matrix\.msc3381\.poll\.start`, `org\.matrix\.msc1767\.text`, "id"
		disclosed = "org.matrix.msc3381.poll.disclosed"
	}
	b := gjson.GetBytes(raw, block)
	if !b.IsObject() {
		return nil
	}
	f := gjson.GetMany(b.Raw, "question", "answers", "kind", "max_selections")
	p := &Poll{Question: pollText(f[0], text), Disclosed: f[2].Str == disclosed, Unstable: unstable}
	if p.Question == "" || !f[1].IsArray() {
		return nil
	}
	seen := map[string]bool{}
	for _, a := range f[1].Array() {
		aid, atext := a.Get(id), pollText(a, text)
		if aid.Type != gjson.String || aid.Str == "" || seen[aid.Str] || atext == "" || len(aid.Str) > maxPollText {
			return nil
		}
		seen[aid.Str] = true
		p.Answers = append(p.Answers, PollAnswer{ID: aid.Str, Text: atext})
	}
	if len(p.Answers) == 0 || len(p.Answers) > maxPollAnswers {
		return nil
	}
	p.MaxSelections = 1
	if n, ok := number(f[3]); ok && n > 0 {
		p.MaxSelections = int(min(n, int64(len(p.Answers))))
	}
	return p
}

// pollText reads the text of a question or an answer: unstable, a string under key (or in
// body); stable, a text block under key.
func pollText(r gjson.Result, key string) string {
	t := textBlock(r.Get(key))
	if t == "" {
		if b := r.Get("body"); b.Type == gjson.String {
			t = b.Str
		}
	}
	t = strings.TrimSpace(t)
	if len(t) > maxPollText {
		return ""
	}
	return t
}

// voteOf reads a poll response as a change to its poll: the answers it picks (an empty list is
// a spoiled vote, which still replaces the sender's earlier one); nil without a poll.
func voteOf(evt *event.Event, unstable bool) *store.Change {
	raw := evt.Content.VeryRaw
	poll := referenceOf(raw)
	if poll == "" {
		return nil
	}
	list := gjson.GetBytes(raw, `m\.selections`)
	if unstable {
		list = gjson.GetBytes(raw, `org\.matrix\.msc3381\.poll\.response.answers`)
	}
	c := &store.Change{ID: evt.ID, Target: poll, Sender: evt.Sender, TS: evt.Timestamp, Vote: true, Answers: []string{}}
	for _, a := range list.Array() {
		if a.Type == gjson.String && len(c.Answers) < maxPollAnswers {
			c.Answers = append(c.Answers, a.Str)
		}
	}
	return c
}

// liveLocationOf reads an m.beacon_info state event: someone shares (live: true) or stopped
// sharing their location.
func liveLocationOf(evt *event.Event, msg Message) (Message, bool) {
	raw := evt.Content.VeryRaw
	f := gjson.GetManyBytes(raw, "description", "live", "timeout", `org\.matrix\.msc3488\.ts`)
	if evt.GetStateKey() != evt.Sender.String() {
		return msg, false // a beacon is its sender's own
	}
	loc := &Location{Description: f[0].Str, Live: f[1].Bool()}
	if timeout, ok := number(f[2]); ok && timeout > 0 {
		start := evt.Timestamp
		if ts, ok := number(f[3]); ok && ts > 0 {
			start = ts
		}
		loc.Until = time.UnixMilli(start + min(timeout, int64(1)<<40))
	}
	msg.Kind, msg.MsgType, msg.Location, msg.Body = KindLiveLocation, evt.Type.Type, loc, loc.Description
	return msg, true
}

// beaconOf reads a live location's new point (m.beacon) as a change to its m.beacon_info.
func beaconOf(evt *event.Event) *store.Change {
	raw := evt.Content.VeryRaw
	info := referenceOf(raw)
	f := gjson.GetManyBytes(raw, `org\.matrix\.msc3488\.location.uri`, `m\.location.uri`, `org\.matrix\.msc3488\.ts`)
	uri := f[0].Str
	if uri == "" {
		uri = f[1].Str
	}
	if info == "" || !strings.HasPrefix(strings.ToLower(uri), "geo:") || len(uri) > 200 {
		return nil
	}
	ts := evt.Timestamp
	if n, ok := number(f[2]); ok && n > 0 {
		ts = n
	}
	return &store.Change{ID: evt.ID, Target: info, Sender: evt.Sender, TS: ts, Location: uri}
}

// locationOf reads an m.location message's place.
func locationOf(raw []byte, body string) *Location {
	f := gjson.GetManyBytes(raw, "geo_uri", `org\.matrix\.msc3488\.location.uri`, `org\.matrix\.msc3488\.location.description`)
	uri := f[0].Str
	if uri == "" {
		uri = f[1].Str
	}
	if uri == "" {
		return nil
	}
	loc := &Location{URI: uri, Description: f[2].Str}
	if loc.Description == "" && !strings.HasPrefix(body, "Location ") && !strings.HasPrefix(body, "geo:") {
		loc.Description = body // Element's body is "Location geo:... at ..." when no description
	}
	return loc
}

// KindText is the plain words of a line of kind m.Kind other than a message, for previews,
// `messages` and notifications (not sanitized); "" for a message.
func (m *Message) KindText() string {
	switch m.Kind {
	case KindSticker:
		return "Sticker: " + m.Body
	case KindPoll:
		return "Poll: " + m.Body
	case KindPollEnd:
		return "Ended a poll"
	case KindCallInvite:
		if m.Call != nil && m.Call.Video {
			return "Started a video call (duet cannot take calls)"
		}
		return "Started a voice call (duet cannot take calls)"
	case KindCallHangup:
		if m.Call != nil && m.Call.Reason == "rejected" {
			return "Declined the call"
		}
		return "Ended the call"
	case KindLocation:
		if m.Location != nil && m.Location.Description != "" {
			return "Location: " + m.Location.Description
		}
		return "Location"
	case KindLiveLocation:
		if m.Location != nil && !m.Location.Live {
			return "Stopped sharing live location"
		}
		if m.Body != "" {
			return "Live location: " + m.Body
		}
		return "Sharing live location"
	case KindOther:
		return fmt.Sprintf("[%s] %s", m.OtherType, m.Body)
	}
	return ""
}
