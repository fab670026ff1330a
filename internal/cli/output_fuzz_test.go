package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"duet/internal/testkit/termtest"
	"duet/matrixsvc"
)

// FuzzOutput: whatever the network puts in any field of a message (body, formatted body,
// sender, IDs, the message a reply answers and its quote, why it cannot be decrypted, the
// device warning, a file's kind, name and type, reaction keys and who reacted), of a contact
// or group (user ID, name, rooms) or of a search result, and whatever the server's error text
// says, what `messages`, `dms` and `search` print, in human form and as --json, and the error
// line, hold no control a terminal acts on; --json is valid and gives back every value as
// encoding/json has it.
func FuzzOutput(f *testing.F) {
	hostile := termtest.Hostile()
	for i, s := range hostile {
		f.Add(s, hostile[(i+1)%len(hostile)], termtest.HostileHTML()[i%len(termtest.HostileHTML())], uint8(i))
	}
	f.Add("\x1b]52;c;aGk=\x07", "$x\x1b[2J\n2026-01-01 00:00  @alice:e.org  fake", "\u009b\x7f\u202e", uint8(0))
	f.Fuzz(func(t *testing.T, a, b, c string, n uint8) {
		at := time.UnixMilli(1_700_000_000_000 + int64(n)*61_000).UTC()
		msgs := []matrixsvc.Message{
			{RoomID: id.RoomID(b), EventID: id.EventID(a), Sender: id.UserID(b), Timestamp: at, MsgType: c, Body: a, HTML: c,
				E2E: true, Trust: b, Edited: true, ReplyTo: id.EventID(c), Reply: &matrixsvc.Quote{Sender: id.UserID(a), Body: b},
				Reactions: []matrixsvc.Reaction{{Key: a, Senders: []id.UserID{id.UserID(b), id.UserID(c)}, Mine: id.EventID(c)}, {Key: c}}},
			{EventID: id.EventID(b), Sender: id.UserID(a), Timestamp: at, MsgType: "m.emote", Body: b + "\n" + a},
			{EventID: id.EventID(c), Sender: id.UserID(c), Timestamp: at, Encrypted: true, DecryptError: a, Trust: c, ReplyTo: id.EventID(b)},
			{EventID: "$file", Sender: id.UserID(a), Timestamp: at, MsgType: "m.file", Body: c,
				Media: &matrixsvc.Media{Kind: a, Name: b, MimeType: c, Size: int64(n)}, Reactions: []matrixsvc.Reaction{{Key: b}}},
			{EventID: "$gone", Sender: id.UserID(b), Timestamp: at, Redacted: true, Trust: a},
			{EventID: id.EventID(a), Sender: id.UserID(c), Timestamp: at, Body: b, NotEncrypted: true,
				Reactions: []matrixsvc.Reaction{{Key: c, Senders: []id.UserID{id.UserID(a)}, NotEncrypted: true}}},
			{EventID: "$enc", Sender: id.UserID(b), Timestamp: at, EncryptionChange: &matrixsvc.EncryptionChange{Algorithm: a}},
		}
		moves := []matrixsvc.Move{{Before: int(n) % 4, Room: id.RoomID(c), Upgraded: n%2 == 0}}
		contacts := []contactJSON{
			{UserID: id.UserID(a), DisplayName: b, RoomID: id.RoomID(c), Unread: int(n), Rooms: []id.RoomID{id.RoomID(c)}},
			{UserID: id.UserID(b), DisplayName: c, Pending: true, InviteRooms: []id.RoomID{id.RoomID(a)}},
			{UserID: id.UserID(c), DisplayName: a},
		}
		groups := []groupJSON{{RoomID: id.RoomID(a), Name: b, Users: []id.UserID{id.UserID(c)}, MemberCount: int(n)}}
		results := []matrixsvc.SearchResult{
			{Message: msgs[0], Person: id.UserID(c), Name: b, Snippet: "\x01" + a + "\x02 " + c},
			{Message: msgs[1], Name: a, Snippet: b},
		}
		for _, asJSON := range []bool{false, true} {
			var out, errOut bytes.Buffer
			env, flush := safeOutput(Env{Stdout: &out, Stderr: &errOut})
			check := func(what string, err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				flush()
				if err := termtest.Output(out.String() + errOut.String()); err != nil {
					t.Fatalf("%s (json %v): %v", what, asJSON, err)
				}
			}
			check("messages", printMessages(env.Stdout, id.RoomID(a), msgs, moves, func(id.UserID) string { return c }, asJSON))
			if !asJSON {
				// A field cannot make a line of its own: every line is a message's, its body
				// going on indented, or a move.
				for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
					if !strings.HasPrefix(l, at.Local().Format("2006-01-02 15:04")+"  ") && !strings.HasPrefix(l, "    ") && !strings.HasPrefix(l, "── ") {
						t.Fatalf("a line that is no message's: %q in\n%s", l, out.String())
					}
				}
				out.Reset()
			}
			if asJSON {
				var got struct {
					RoomID   string `json:"room_id"`
					Messages []struct {
						EventID   string                                 `json:"event_id"`
						Sender    string                                 `json:"sender"`
						Body      string                                 `json:"body"`
						ReplyTo   string                                 `json:"reply_to"`
						Why       string                                 `json:"decrypt_error"`
						Trust     string                                 `json:"device_warning"`
						Reactions []struct{ Key string }                 `json:"reactions"`
						File      *struct{ Kind, Name, MimeType string } `json:"file"`
					} `json:"messages"`
				}
				decode(t, out.Bytes(), &got)
				m := got.Messages
				same(t, "room_id", got.RoomID, a)
				same(t, "event_id", m[0].EventID, a)
				same(t, "sender", m[0].Sender, b)
				same(t, "body", m[0].Body, a)
				same(t, "reply_to", m[0].ReplyTo, c)
				same(t, "device_warning", m[0].Trust, b)
				same(t, "reaction key", m[0].Reactions[0].Key, a)
				same(t, "decrypt_error", m[2].Why, a)
				same(t, "file name", m[3].File.Name, b)
				same(t, "file type", m[3].File.MimeType, c)
				out.Reset()
			}
			check("dms", printDMs(env, contacts, groups, []id.RoomID{id.RoomID(b)}, n%3 == 0, n%2 == 0, asJSON))
			if !asJSON {
				// A heading and a row a contact, a blank line, a title, a heading and a row a group.
				if got, want := strings.Count(out.String(), "\n"), 1+len(contacts)+3+len(groups); got != want {
					t.Fatalf("dms printed %d lines, want %d:\n%s", got, want, out.String())
				}
				out.Reset()
			}
			if asJSON {
				var got struct {
					Contacts []struct {
						UserID      string `json:"user_id"`
						DisplayName string `json:"display_name"`
					}
					Groups []struct{ Name string }
				}
				decode(t, out.Bytes(), &got)
				same(t, "user_id", got.Contacts[0].UserID, a)
				same(t, "display_name", got.Contacts[0].DisplayName, b)
				same(t, "group name", got.Groups[0].Name, b)
				out.Reset()
			}
			check("search", printSearch(env, c, results, n%2 == 1, asJSON))
			if !asJSON {
				if got := strings.Count(out.String(), "\n"); got != len(results) {
					t.Fatalf("search printed %d lines for %d results:\n%s", got, len(results), out.String())
				}
			}
			if asJSON {
				var got struct {
					Query   string
					Results []struct{ Name, Body string }
				}
				decode(t, out.Bytes(), &got)
				same(t, "query", got.Query, c)
				same(t, "result name", got.Results[0].Name, b)
				same(t, "result body", got.Results[0].Body, a)
				out.Reset()
			}
			report(env, mautrix.RespError{ErrCode: "M_FORBIDDEN", Err: a, StatusCode: 403})
			report(env, fmt.Errorf("send: %w", usageError{msg: b}))
			check("error line", nil)
			if lines := strings.Count(errOut.String(), "\n"); !asJSON && lines < 3 {
				t.Fatalf("the errors took %d lines: %q", lines, errOut.String())
			}
		}
	})
}

func decode(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("not JSON: %v in %q", err, data)
	}
}

// same fails when a value read from --json is not s as encoding/json gives it back (invalid
// UTF-8 becomes U+FFFD; nothing else changes).
func same(t *testing.T, what, got, s string) {
	t.Helper()
	raw, _ := json.Marshal(s)
	var want string
	_ = json.Unmarshal(raw, &want)
	if got != want {
		t.Fatalf("--json %s: %q, want %q", what, got, want)
	}
}
