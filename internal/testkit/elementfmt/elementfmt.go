// Package elementfmt builds event contents the way Element sends them into a DM: polls, thread
// replies, stickers, voice messages, locations, live-location beacons and 1:1 call signalling,
// plus events of types no client knows. Tests send them with hstest's SendEvent and SendState
// (plain or end-to-end encrypted) and check what duet makes of them. Only tests import it.
//
// Each function returns a fresh content map and says which client sends that shape and where
// the shape was checked. "Element Web" means matrix-react-sdk (now element-web) on
// matrix-js-sdk; JSON drops the fields those leave undefined, and so do these maps.
package elementfmt

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"
)

// Event types. Element sends the unstable (MSC) names for polls and beacons; the stable poll
// names are MSC3381's final text, which no Element release sends yet.
const (
	TypeMessage              = "m.room.message"
	TypeSticker              = "m.sticker"
	TypePollStartUnstable    = "org.matrix.msc3381.poll.start"
	TypePollResponseUnstable = "org.matrix.msc3381.poll.response"
	TypePollEndUnstable      = "org.matrix.msc3381.poll.end"
	TypePollStart            = "m.poll.start"
	TypePollResponse         = "m.poll.response"
	TypePollEnd              = "m.poll.end"
	TypeBeaconInfo           = "org.matrix.msc3672.beacon_info" // a state event; state_key = sender
	TypeBeacon               = "org.matrix.msc3672.beacon"
	TypeCallInvite           = "m.call.invite"
	TypeCallHangup           = "m.call.hangup"
)

// Poll kinds.
const (
	PollDisclosedUnstable   = "org.matrix.msc3381.poll.disclosed"
	PollUndisclosedUnstable = "org.matrix.msc3381.poll.undisclosed"
	PollDisclosed           = "m.disclosed"
	PollUndisclosed         = "m.undisclosed"
)

// PartyID is the party_id of the calls built here. Element Web uses the sending device's ID;
// an invite and a hangup of one call must carry the same one.
const PartyID = "ELEMENTFMTDEVICE"

// callLifetime is how long an invite stays valid: Element Web's CALL_TIMEOUT_MS, 60 s.
const callLifetime = 60 * time.Second

// callStreamID names the one local media stream of a call, in the SDP (msid) and in
// sdp_stream_metadata.
const callStreamID = "elementfmt-usermedia"

// PollEndNoVotes is Element Web's closing text for a poll nobody voted in (en_EN string
// poll|end_message_no_votes).
const PollEndNoVotes = "The poll has ended. No votes were cast."

// PollEndTopAnswer returns Element Web's closing text naming the winning answer (en_EN string
// poll|end_message).
func PollEndTopAnswer(answer string) string {
	return "The poll has ended. Top answer: " + answer
}

// VoiceBody is the body and fallback text of every voice message Element Web sends.
const VoiceBody = "Voice message"

// Sticker is an m.sticker as Element Web sends it from the sticker picker widget
// (RoomView.injectSticker -> MatrixClient.sendStickerMessage): body, url and the image info the
// widget supplies, here width, height and mimetype without a thumbnail. There is no msgtype and
// no m.mentions. (Element X shows stickers but has no picker to send them.)
func Sticker(body, mxcURL string, w, h int, mimetype string) map[string]any {
	return map[string]any{
		"body": body,
		"url":  mxcURL,
		"info": map[string]any{"w": w, "h": h, "mimetype": mimetype},
	}
}

// PollStartUnstable is an org.matrix.msc3381.poll.start as Element Web's poll dialog sends it
// (PollCreateDialog -> matrix-js-sdk PollStartEvent.from(...).serialize()). The question is a
// whole text message (org.matrix.msc1767.text, body, msgtype m.text); each answer has a random
// 16-character id and org.matrix.msc1767.text; the top-level org.matrix.msc1767.text is
// "question\n1. first\n2. second". Element Web always sends max_selections 1; Element X
// (ruma) sends the same keys but a question with org.matrix.msc1767.text only. The answer IDs
// are returned in answer order, for votes.
func PollStartUnstable(question string, answers []string, disclosed bool, maxSelections int) (content map[string]any, answerIDs []string) {
	kind := PollUndisclosedUnstable
	if disclosed {
		kind = PollDisclosedUnstable
	}
	answerIDs = newAnswerIDs(len(answers))
	list := make([]any, len(answers))
	for i, a := range answers {
		list[i] = map[string]any{"id": answerIDs[i], "org.matrix.msc1767.text": a}
	}
	content = map[string]any{
		TypePollStartUnstable: map[string]any{
			"kind":           kind,
			"max_selections": maxSelections,
			"question": map[string]any{
				"org.matrix.msc1767.text": question,
				"body":                    question,
				"msgtype":                 "m.text",
			},
			"answers": list,
		},
		"org.matrix.msc1767.text": pollFallback(question, answers),
	}
	return content, answerIDs
}

// PollStartStable is an m.poll.start in the stable shape of MSC3381 (the proposal's example;
// no Element release sends it yet): an m.poll block with kind m.disclosed or m.undisclosed,
// max_selections, a question and answers that carry m.text arrays (answers with m.id), and a
// top-level m.text fallback in the same "question\n1. first" form as Element's.
func PollStartStable(question string, answers []string, disclosed bool, maxSelections int) (content map[string]any, answerIDs []string) {
	kind := PollUndisclosed
	if disclosed {
		kind = PollDisclosed
	}
	answerIDs = newAnswerIDs(len(answers))
	list := make([]any, len(answers))
	for i, a := range answers {
		list[i] = map[string]any{"m.id": answerIDs[i], "m.text": mText(a)}
	}
	content = map[string]any{
		"m.poll": map[string]any{
			"kind":           kind,
			"max_selections": maxSelections,
			"question":       map[string]any{"m.text": mText(question)},
			"answers":        list,
		},
		"m.text": []any{map[string]any{"mimetype": "text/plain", "body": pollFallback(question, answers)}},
	}
	return content, answerIDs
}

// PollResponseUnstable is a vote as Element Web sends it (MPollBody ->
// PollResponseEvent.from(...).serialize()): a reference to the poll and
// org.matrix.msc3381.poll.response {answers}. Element Web votes for one answer at a time; no
// answers at all is how MSC3381 withdraws a vote.
func PollResponseUnstable(pollID id.EventID, answerIDs ...string) map[string]any {
	return map[string]any{
		"m.relates_to":           reference(pollID),
		TypePollResponseUnstable: map[string]any{"answers": stringList(answerIDs)},
	}
}

// PollResponseStable is a vote in MSC3381's stable shape: a reference to the poll and
// m.selections.
func PollResponseStable(pollID id.EventID, answerIDs ...string) map[string]any {
	return map[string]any{
		"m.relates_to": reference(pollID),
		"m.selections": stringList(answerIDs),
	}
}

// PollEndUnstable closes a poll as Element Web's "End poll" does (EndPollDialog ->
// PollEndEvent.from(...).serialize()): a reference to the poll, an empty
// org.matrix.msc3381.poll.end and the closing text as a whole text message
// (org.matrix.msc1767.text, body, msgtype m.text). Element's texts are PollEndTopAnswer and
// PollEndNoVotes.
func PollEndUnstable(pollID id.EventID, text string) map[string]any {
	return map[string]any{
		"m.relates_to":            reference(pollID),
		TypePollEndUnstable:       map[string]any{},
		"org.matrix.msc1767.text": text,
		"body":                    text,
		"msgtype":                 "m.text",
	}
}

// PollEndStable closes a poll in MSC3381's stable shape: a reference to the poll and an m.text
// fallback (the optional m.poll.results is left out).
func PollEndStable(pollID id.EventID, text string) map[string]any {
	return map[string]any{
		"m.relates_to": reference(pollID),
		"m.text":       mText(text),
	}
}

// ThreadReply is a plain message typed into a thread, as Element Web sends it
// (SendMessageComposer, then matrix-js-sdk's addThreadRelationIfNeeded): rel_type m.thread to the
// root, is_falling_back true, and m.in_reply_to the latest event in the thread (the root while
// the thread is empty) so that clients without threads show it as a reply. Element always sets
// m.mentions, empty when nobody is mentioned.
func ThreadReply(root, latestInThread id.EventID, body string) map[string]any {
	return threadMessage(root, latestInThread, true, body)
}

// ThreadReplyToMessage is an explicit reply to replyTo inside the thread of root, as Element
// Web sends it (Reply.makeReplyMixIn sets is_falling_back false for an event in a thread).
// Element also lists replyTo's sender in m.mentions.user_ids and, before it dropped reply
// fallbacks (MSC2781), quoted replyTo in body and formatted_body; this helper knows neither the
// sender nor the text, so m.mentions is empty and body is only the new text.
func ThreadReplyToMessage(root, replyTo id.EventID, body string) map[string]any {
	return threadMessage(root, replyTo, false, body)
}

// threadMessage is a text message in the thread on root answering inReplyTo, its reply a
// fallback or not.
func threadMessage(root, inReplyTo id.EventID, fallingBack bool, body string) map[string]any {
	return map[string]any{
		"msgtype":    "m.text",
		"body":       body,
		"m.mentions": map[string]any{},
		"m.relates_to": map[string]any{
			"rel_type":        "m.thread",
			"event_id":        root,
			"is_falling_back": fallingBack,
			"m.in_reply_to":   map[string]any{"event_id": inReplyTo},
		},
	}
}

// Voice is a voice message as Element Web records and sends it (VoiceRecordComposerTile ->
// createVoiceMessageContent): m.audio with body "Voice message", url and info {duration ms,
// mimetype, size}, the MSC1767 text/file/audio blocks (org.matrix.msc1767.audio carries the
// duration and the waveform, values 0-1024), an empty org.matrix.msc3245.voice, and m.mentions.
// This is the unencrypted-upload form; in an encrypted room Element puts an encrypted "file"
// where "url" is. Element Web records audio/ogg (Opus).
func Voice(mxcURL, mimetype string, duration time.Duration, size int, waveform []int) map[string]any {
	ms := int(duration.Milliseconds())
	wave := make([]any, len(waveform))
	for i, v := range waveform {
		wave[i] = v
	}
	return map[string]any{
		"body":                    VoiceBody,
		"msgtype":                 "m.audio",
		"url":                     mxcURL,
		"info":                    map[string]any{"duration": ms, "mimetype": mimetype, "size": size},
		"org.matrix.msc1767.text": VoiceBody,
		"org.matrix.msc1767.file": map[string]any{
			"url":      mxcURL,
			"name":     VoiceBody + ".ogg",
			"mimetype": mimetype,
			"size":     size,
		},
		"org.matrix.msc1767.audio": map[string]any{"duration": ms, "waveform": wave},
		"org.matrix.msc3245.voice": map[string]any{},
		"m.mentions":               map[string]any{},
	}
}

// Location is a one-off location share as Element Web sends it (shareLocation ->
// matrix-js-sdk makeLocationContent): m.location with body and geo_uri, and the MSC3488 blocks
// org.matrix.msc3488.location {uri, description}, org.matrix.msc3488.asset {type m.self} ("my
// location"; a dropped pin is m.pin), org.matrix.msc3488.ts (now, in ms) and
// org.matrix.msc1767.text = body. Element's own body reads "User Location <geo_uri> at
// <ISO time>"; an empty description is left out, as Element leaves it.
func Location(body, geoURI, description string) map[string]any {
	loc := map[string]any{"uri": geoURI}
	if description != "" {
		loc["description"] = description
	}
	return map[string]any{
		"msgtype":                     "m.location",
		"body":                        body,
		"geo_uri":                     geoURI,
		"org.matrix.msc3488.location": loc,
		"org.matrix.msc3488.asset":    map[string]any{"type": "m.self"},
		"org.matrix.msc1767.text":     body,
		"org.matrix.msc3488.ts":       time.Now().UnixMilli(),
	}
}

// BeaconInfo is the content of the state event that starts (live true) or stops (live false)
// a live location share, as Element Web sends it (shareLiveLocation -> matrix-js-sdk
// makeBeaconInfoContent): description, timeout in ms, live, org.matrix.msc3488.ts (now) and
// org.matrix.msc3488.asset {type m.self}. Send it as state of type TypeBeaconInfo with the
// sender's user ID as state_key. Element's description is "<display name>'s live location"
// and its default timeout 5 minutes.
func BeaconInfo(description string, timeout time.Duration, live bool) map[string]any {
	return map[string]any{
		"description":              description,
		"timeout":                  timeout.Milliseconds(),
		"live":                     live,
		"org.matrix.msc3488.ts":    time.Now().UnixMilli(),
		"org.matrix.msc3488.asset": map[string]any{"type": "m.self"},
	}
}

// Beacon is one position of a live location share, as Element Web sends it (OwnBeaconStore ->
// matrix-js-sdk makeBeaconContent): a reference to the beacon_info state event,
// org.matrix.msc3488.location {uri} and org.matrix.msc3488.ts, the time of the position in ms.
func Beacon(beaconInfoID id.EventID, geoURI string, ts int64) map[string]any {
	return map[string]any{
		"m.relates_to":                reference(beaconInfoID),
		"org.matrix.msc3488.location": map[string]any{"uri": geoURI},
		"org.matrix.msc3488.ts":       ts,
	}
}

// CallInvite is a legacy 1:1 call invite as Element Web places it (LegacyCallHandler ->
// matrix-js-sdk MatrixCall.sendVoipEvent): version "1", call_id, party_id (PartyID), lifetime
// 60000, offer {type offer, sdp} with an m=audio line and, for video, an m=video line,
// capabilities, and sdp_stream_metadata describing the one user-media stream (video muted on a
// voice call). matrix-js-sdk writes the stream metadata under the stable key since February
// 2026, under org.matrix.msc3077.sdp_stream_metadata before. Element X calls through Element
// Call instead and sends none of this. Element's call_id is the time in ms followed by 16
// random characters.
func CallInvite(callID string, video bool) map[string]any {
	return map[string]any{
		"call_id":  callID,
		"party_id": PartyID,
		"version":  "1",
		"lifetime": callLifetime.Milliseconds(),
		"offer":    map[string]any{"type": "offer", "sdp": offerSDP(video)},
		"capabilities": map[string]any{
			"m.call.transferee": false,
			"m.call.dtmf":       false,
		},
		"sdp_stream_metadata": map[string]any{
			callStreamID: map[string]any{
				"purpose":     "m.usermedia",
				"audio_muted": false,
				"video_muted": !video,
			},
		},
	}
}

// CallHangup ends a call as Element Web does: version "1", call_id, party_id and the reason
// (user_hangup when the user hangs up, invite_timeout when nobody answered within the
// lifetime). An empty reason is left out, as Element does towards version 0 clients.
func CallHangup(callID, reason string) map[string]any {
	c := map[string]any{"call_id": callID, "party_id": PartyID, "version": "1"}
	if reason != "" {
		c["reason"] = reason
	}
	return c
}

// Unknown is the content of an event of a type no client renders, carrying only a body. It
// panics when eventType is one this package builds or m.room.message: such an event would not
// be unknown. So do UnknownExtensible and UnknownMText.
func Unknown(eventType, body string) map[string]any {
	mustBeUnknown(eventType)
	return map[string]any{"body": body}
}

// UnknownExtensible is an event of an unknown type whose only text is the MSC1767 fallback
// org.matrix.msc1767.text, as Element's extensible events carry it: what a client may show for
// a type it does not know.
func UnknownExtensible(eventType, text string) map[string]any {
	mustBeUnknown(eventType)
	return map[string]any{"org.matrix.msc1767.text": text}
}

// UnknownMText is an event of an unknown type whose only text is a stable extensible-events
// m.text block, [{body}].
func UnknownMText(eventType, text string) map[string]any {
	mustBeUnknown(eventType)
	return map[string]any{"m.text": mText(text)}
}

func mustBeUnknown(eventType string) {
	switch eventType {
	case "":
		panic("elementfmt: empty event type")
	case TypeMessage, TypeSticker, TypePollStartUnstable, TypePollResponseUnstable, TypePollEndUnstable,
		TypePollStart, TypePollResponse, TypePollEnd, TypeBeaconInfo, TypeBeacon, TypeCallInvite,
		TypeCallHangup, "m.room.encrypted", "m.reaction":
		panic(fmt.Sprintf("elementfmt: %q is a known event type", eventType))
	}
}

// pollFallback is Element's text for clients without polls: the question, then the answers
// numbered from 1, one a line.
func pollFallback(question string, answers []string) string {
	var b strings.Builder
	b.WriteString(question)
	for i, a := range answers {
		fmt.Fprintf(&b, "\n%d. %s", i+1, a)
	}
	return b.String()
}

// answerIDAlphabet and answerIDLen are those of matrix-js-sdk's poll answer IDs.
const (
	answerIDAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	answerIDLen      = 16
)

// newAnswerIDs returns n distinct random answer IDs.
func newAnswerIDs(n int) []string {
	ids := make([]string, 0, n)
	seen := map[string]bool{}
	for len(ids) < n {
		b := make([]byte, answerIDLen)
		for i := range b {
			b[i] = answerIDAlphabet[rand.IntN(len(answerIDAlphabet))]
		}
		if s := string(b); !seen[s] {
			seen[s] = true
			ids = append(ids, s)
		}
	}
	return ids
}

func reference(evt id.EventID) map[string]any {
	return map[string]any{"rel_type": "m.reference", "event_id": evt}
}

func mText(body string) []any {
	return []any{map[string]any{"body": body}}
}

// stringList keeps an empty selection an empty JSON array rather than null.
func stringList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// offerSDP is a minimal WebRTC offer: one audio section and, for video, one video section, in
// one BUNDLE with the local stream's msid. Nobody answers it in tests; it only has to look like
// what a browser produces.
func offerSDP(video bool) string {
	lines := []string{
		"v=0",
		"o=- 7304510298813926371 2 IN IP4 127.0.0.1",
		"s=-",
		"t=0 0",
	}
	if video {
		lines = append(lines, "a=group:BUNDLE 0 1")
	} else {
		lines = append(lines, "a=group:BUNDLE 0")
	}
	lines = append(lines, "a=msid-semantic: WMS "+callStreamID)
	lines = append(lines, mediaSection("audio", 0, "111", "opus/48000/2")...)
	if video {
		lines = append(lines, mediaSection("video", 1, "96", "VP8/90000")...)
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}

func mediaSection(kind string, mid int, payload, codec string) []string {
	return []string{
		fmt.Sprintf("m=%s 9 UDP/TLS/RTP/SAVPF %s", kind, payload),
		"c=IN IP4 0.0.0.0",
		"a=rtcp:9 IN IP4 0.0.0.0",
		"a=ice-ufrag:dUeT",
		"a=ice-pwd:elementfmtelementfmtpw0",
		"a=ice-options:trickle",
		"a=fingerprint:sha-256 " + strings.Repeat("AB:", 31) + "AB",
		"a=setup:actpass",
		fmt.Sprintf("a=mid:%d", mid),
		"a=sendrecv",
		fmt.Sprintf("a=msid:%s %s-%s", callStreamID, callStreamID, kind),
		"a=rtcp-mux",
		fmt.Sprintf("a=rtpmap:%s %s", payload, codec),
	}
}
