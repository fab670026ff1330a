// Package dmfuzz fuzzes matrixsvc's m.direct parsing and edits and its DM rules. It is a
// package of its own because matrixsvc's TestMain starts a real homeserver, and a fuzz run
// starts that TestMain in every worker process: these pure functions need none.
package dmfuzz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"maunium.net/go/mautrix/id"

	"duet/matrixsvc"
)

const me = id.UserID("@me:x")

// FuzzDirect: any bytes as m.direct content. ParseDirect never panics and agrees with
// encoding/json; the edits refuse content that is not a JSON object, and otherwise return a
// JSON object that keeps every entry they had no reason to touch byte for byte, does what was
// asked, and is a fixed point of the same edit. The user ID is also checked the way the
// new-conversation prompt checks one typed in.
func FuzzDirect(f *testing.F) {
	for _, raw := range []string{
		``, ` `, `{}`, `null`, `[]`, `"x"`, `7`, `{"@bob:x":[`, `{}{}`, "\v{}", "{}\f", "\u00a0{}",
		`{"@alice:x":["!r:x","!s:x"],"@bob:x":["!t:x"]}`,
		`{"@alice:x":["!r:x"],"@carol:x":[]}`,
		`{ "@bob:x": [ "!t:x", "!r:x" ] }`,
		`{"@x:x": "notalist", "@z:x": [1, "!q:x"], "odd": {"a": [ 1 ]}}`,
		`{"@\u0061lice:x":["!\u0073:x", "!r:x"]}`,
		`{"@bob:x":[5,"!r:x"]}`, `{"@bob:x":"notalist"}`, `{"@bob:x":["!a:x",5]}`, `{"@alice:x":["!r:x",null]}`,
		`{"@alice:x":["!a:x"],"@alice:x":["!b:x"]}`, `{"@alice:x":["!r:x"],"@alice:x":"bad"}`,
		`{"@bob:x":{"k":"]}\"[{"},"@\u0061lice:x":["!a\"]:x"]}`,
		`{"not a user":["!a:x"],"":["!b:x"]}`,
		"{\"@\xff:x\":[\"!\xfe:x\"],\"@\\ud800:x\":[\"!r:x\"]}",
		`{"@alice:x":["!r:x","!r:x",""],"@bob:x":[["!r:x"]]}`,
		"{\"@a:x\"\t:\n[\r\"!r:x\" ] , \"@b:x\":1e5 }",
	} {
		f.Add([]byte(raw), "!r:x", "!new:x", "@bob:x")
	}
	f.Add([]byte(`{"@alice:x":["!old:x"]}`), "!old:x", "!old:x", "@alice:x")
	f.Add([]byte(`{"@alice:x":["!r:x"]}`), "", "", "")
	f.Add([]byte(`{"@me:x":["!r:x"]}`), "!a<&>:x", "!r:x", " @me:x ")
	f.Add([]byte(`{}`), "!r:x", "!s:x", "@\x1b]0;t\x07:x")
	f.Fuzz(func(t *testing.T, raw []byte, room, other, user string) {
		d, wellFormed := matrixsvc.ParseDirect(raw)
		checkParse(t, raw, d, wellFormed)

		// IDs reach the edits decoded from JSON, so they are valid UTF-8 (encoding/json
		// replaces the rest): an ID that is not could not be written back as itself.
		r, o := id.RoomID(strings.ToValidUTF8(room, "\uFFFD")), id.RoomID(strings.ToValidUTF8(other, "\uFFFD"))
		u := id.UserID(strings.ToValidUTF8(user, "\uFFFD"))
		out, changed, err := matrixsvc.AssignDirectRoom(raw, r, u)
		checkEdit(t, "assign", raw, out, changed, err, r == "" || u == "", expectAssign(raw, r, u))
		if err == nil {
			again, changedAgain, errAgain := matrixsvc.AssignDirectRoom(out, r, u)
			if errAgain != nil || changedAgain || !bytes.Equal(again, out) {
				t.Fatalf("assign is not a fixed point on %q: %q, %v, %v", out, again, changedAgain, errAgain)
			}
			pd, _ := matrixsvc.ParseDirect(out)
			for k, list := range pd {
				if k != u && slices.Contains(list, r) {
					t.Fatalf("assigned %s to %s, but %s still has it: %q", r, u, k, out)
				}
			}
			if !slices.Contains(pd[u], r) {
				t.Fatalf("assigned %s to %s, but it is not there: %q", r, u, out)
			}
		}

		out, changed, err = matrixsvc.UnmarkDirectRoom(raw, r)
		checkEdit(t, "unmark", raw, out, changed, err, r == "", expectUnmark(raw, r))
		if err == nil {
			again, changedAgain, errAgain := matrixsvc.UnmarkDirectRoom(out, r)
			if errAgain != nil || changedAgain || !bytes.Equal(again, out) {
				t.Fatalf("unmark is not a fixed point on %q: %q, %v, %v", out, again, changedAgain, errAgain)
			}
			pd, _ := matrixsvc.ParseDirect(out)
			for k, list := range pd {
				if slices.Contains(list, r) {
					t.Fatalf("unmarked %s, but %s still has it: %q", r, k, out)
				}
			}
		}

		out, changed, err = matrixsvc.ReplaceDirectRoom(raw, r, o)
		checkEdit(t, "replace", raw, out, changed, err, r == "" || o == "", expectReplace(raw, r, o))

		checkUserID(t, user)
	})
}

// checkParse compares ParseDirect with what encoding/json makes of the same bytes.
func checkParse(t *testing.T, raw []byte, d matrixsvc.Direct, wellFormed bool) {
	t.Helper()
	if d == nil {
		t.Fatal("ParseDirect returned a nil map")
	}
	switch kind(raw) {
	case absent:
		if !wellFormed || len(d) != 0 {
			t.Fatalf("absent content %q: %v, wellFormed %v", raw, d, wellFormed)
		}
		return
	case notObject:
		if wellFormed || len(d) != 0 {
			t.Fatalf("%q is not a JSON object, yet parsed as %v, wellFormed %v", raw, d, wellFormed)
		}
		return
	}
	if !wellFormed {
		t.Fatalf("%q is a JSON object, yet not well formed", raw)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(raw), &m); err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	want := matrixsvc.Direct{}
	for k, v := range m {
		var elems []json.RawMessage
		if json.Unmarshal(v, &elems) != nil {
			continue
		}
		var list []id.RoomID
		for _, el := range elems {
			var s string
			if json.Unmarshal(el, &s) == nil && s != "" && !slices.Contains(list, id.RoomID(s)) {
				list = append(list, id.RoomID(s))
			}
		}
		if len(list) > 0 {
			want[id.UserID(k)] = list
		}
	}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("ParseDirect(%q) = %v, encoding/json says %v", raw, d, want)
	}
}

// checkEdit checks one edit's result against what it was expected to do (want is nil when it
// must refuse the content).
func checkEdit(t *testing.T, what string, raw, out []byte, changed bool, err error, badArgs bool, want []entry) {
	t.Helper()
	if badArgs {
		if err == nil {
			t.Fatalf("%s with an empty ID: no error", what)
		}
		return
	}
	if want == nil {
		if err == nil || !errors.Is(err, matrixsvc.ErrMalformedDirect) {
			t.Fatalf("%s on %q: want ErrMalformedDirect, got %v (out %q)", what, raw, err, out)
		}
		if out != nil || changed {
			t.Fatalf("%s refused %q but returned %q, changed %v", what, raw, out, changed)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s on %q: %v", what, raw, err)
	}
	in, _ := entries(raw)
	if !changed { // the caller writes nothing
		wantOut := raw
		if kind(raw) == absent {
			wantOut = []byte("{}")
		}
		if !bytes.Equal(out, wantOut) {
			t.Fatalf("%s on %q: unchanged, yet returned %q", what, raw, out)
		}
		if !sameEntries(in, want) {
			t.Fatalf("%s on %q: unchanged, yet it should be %s", what, raw, show(want))
		}
		return
	}
	if !json.Valid(out) || out[0] != '{' {
		t.Fatalf("%s on %q would write %q: not a JSON object", what, raw, out)
	}
	if sameEntries(in, want) {
		t.Fatalf("%s on %q: changed to %q, yet nothing needed to change", what, raw, out)
	}
	if got, _ := entries(out); !sameEntries(got, want) {
		t.Fatalf("%s on %q:\n got %s\nwant %s", what, raw, show(got), show(want))
	}
}

// checkUserID: an accepted user ID is one line of printable ASCII in its localpart, of the form
// @localpart:server, and not me; every error is one line a terminal can show as it is.
func checkUserID(t *testing.T, raw string) {
	t.Helper()
	u, err := matrixsvc.ValidateUserID(me, raw)
	if err != nil {
		msg := err.Error()
		for _, r := range msg {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("ValidateUserID(%q) error has %U: %q", raw, r, msg)
			}
		}
		return
	}
	s := string(u)
	local, server, ok := strings.Cut(strings.TrimPrefix(s, "@"), ":")
	if !strings.HasPrefix(s, "@") || !ok || local == "" || server == "" || len(s) > 255 || u == me || s != strings.TrimSpace(raw) {
		t.Fatalf("ValidateUserID(%q) accepted %q", raw, u)
	}
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			t.Fatalf("ValidateUserID(%q) accepted %q with %U", raw, u, r)
		}
	}
}

// entry is one top-level member of a JSON object: its key decoded, its exact key bytes, and its
// value (exact bytes for members an edit keeps as they are; for lists it rewrote, the items).
type entry struct {
	key    string
	rawKey []byte
	rawVal []byte
	items  [][]byte // a rewritten list: the exact bytes of its items, nil otherwise
}

func show(es []entry) string {
	var b strings.Builder
	for _, e := range es {
		if e.items != nil {
			fmt.Fprintf(&b, "%s:%s ", e.rawKey, bytes.Join(e.items, []byte("|")))
		} else {
			fmt.Fprintf(&b, "%s:%s ", e.rawKey, e.rawVal)
		}
	}
	return b.String()
}

// sameEntries compares entries in order: keys byte for byte, kept values byte for byte,
// rewritten lists item by item (their separators are the edit's business).
func sameEntries(got, want []entry) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, w := got[i], want[i]
		if !bytes.Equal(g.rawKey, w.rawKey) {
			return false
		}
		if w.items == nil {
			if !bytes.Equal(g.rawVal, w.rawVal) {
				return false
			}
			continue
		}
		items, ok := listItems(g.rawVal)
		if !ok || len(items) != len(w.items) {
			return false
		}
		for j := range items {
			if !bytes.Equal(items[j], w.items[j]) && !sameString(items[j], w.items[j]) {
				return false
			}
		}
	}
	return true
}

// sameString: an item the edit wrote itself may be encoded differently from the oracle's.
func sameString(a, b []byte) bool {
	var sa, sb string
	return json.Unmarshal(a, &sa) == nil && json.Unmarshal(b, &sb) == nil && sa == sb
}

type contentKind int

const (
	absent contentKind = iota
	object
	notObject
)

// kind classifies content. Around the content JSON allows only space, tab, CR and LF, and so
// does ParseDirect: "\v{}" is not an object.
func kind(raw []byte) contentKind {
	trimmed := bytes.Trim(raw, " \t\r\n") // the whitespace JSON allows, and no other
	switch {
	case len(trimmed) == 0:
		return absent
	case trimmed[0] == '{' && json.Valid(trimmed):
		return object
	}
	return notObject
}

// entries splits a JSON object into its members with encoding/json's decoder, independently of
// matrixsvc's own scanner. ok is false when raw is not a JSON object.
func entries(raw []byte) (es []entry, ok bool) {
	if kind(raw) != object {
		return []entry{}, kind(raw) == absent
	}
	raw = bytes.TrimSpace(raw)
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	es = []entry{}
	for dec.More() {
		start := int(dec.InputOffset())
		for start < len(raw) && strings.IndexByte(" \t\r\n,", raw[start]) >= 0 {
			start++
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		e := entry{key: tok.(string), rawKey: raw[start:dec.InputOffset()]}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		e.rawVal = v
		es = append(es, e)
	}
	return es, true
}

// listItems returns the exact bytes of a JSON array's items; ok is false when v is not one.
func listItems(v []byte) (items [][]byte, ok bool) {
	var elems []json.RawMessage
	if len(v) == 0 || v[0] != '[' || json.Unmarshal(v, &elems) != nil {
		return nil, false
	}
	items = make([][]byte, len(elems))
	for i, el := range elems {
		items[i] = bytes.TrimSpace(el)
	}
	return items, true
}

// roomItem reports whether an item is the JSON string room, and whether it is a string at all.
func roomItem(item []byte, room id.RoomID) (is, isString bool) {
	var s string
	if len(item) == 0 || item[0] != '"' || json.Unmarshal(item, &s) != nil {
		return false, false
	}
	return s == string(room), true
}

// holds reports whether a value is a list with room in it, and whether all its items are
// strings.
func holds(v []byte, room id.RoomID) (has, allStrings, isList bool) {
	items, ok := listItems(v)
	if !ok {
		return false, false, false
	}
	allStrings = true
	for _, it := range items {
		is, isString := roomItem(it, room)
		has = has || is
		allStrings = allStrings && isString
	}
	return has, allStrings, true
}

// without is a list's items with room taken out.
func without(v []byte, room id.RoomID) [][]byte {
	items, _ := listItems(v)
	out := [][]byte{}
	for _, it := range items {
		if is, _ := roomItem(it, room); !is {
			out = append(out, it)
		}
	}
	return out
}

// quote encodes s as the edits write IDs: a JSON string without HTML escaping.
func quote(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// expectAssign is what AssignDirectRoom should make of raw, nil when it must refuse.
func expectAssign(raw []byte, room id.RoomID, user id.UserID) []entry {
	in, ok := entries(raw)
	if !ok {
		return nil
	}
	out := []entry{}
	found := false
	for _, e := range in {
		has, allStrings, isList := holds(e.rawVal, room)
		if e.key == string(user) {
			found = true
			if !has {
				if !isList || !allStrings {
					return nil
				}
				items, _ := listItems(e.rawVal)
				e.items = append(items, quote(string(room)))
			}
			out = append(out, e)
			continue
		}
		if !has {
			out = append(out, e)
			continue
		}
		if !allStrings {
			return nil
		}
		if e.items = without(e.rawVal, room); len(e.items) > 0 {
			out = append(out, e)
		}
	}
	if !found {
		out = append(out, entry{key: string(user), rawKey: quote(string(user)), items: [][]byte{quote(string(room))}})
	}
	return out
}

// expectUnmark is what UnmarkDirectRoom should make of raw, nil when it must refuse.
func expectUnmark(raw []byte, room id.RoomID) []entry {
	in, ok := entries(raw)
	if !ok {
		return nil
	}
	out := []entry{}
	for _, e := range in {
		has, allStrings, _ := holds(e.rawVal, room)
		if !has {
			out = append(out, e)
			continue
		}
		if !allStrings {
			return nil
		}
		if e.items = without(e.rawVal, room); len(e.items) > 0 {
			out = append(out, e)
		}
	}
	return out
}

// expectReplace is what ReplaceDirectRoom should make of raw, nil when it must refuse.
func expectReplace(raw []byte, oldRoom, newRoom id.RoomID) []entry {
	in, ok := entries(raw)
	if !ok {
		return nil
	}
	if oldRoom == newRoom {
		return in
	}
	out := []entry{}
	for _, e := range in {
		has, allStrings, _ := holds(e.rawVal, oldRoom)
		if !has {
			out = append(out, e)
			continue
		}
		if !allStrings {
			return nil
		}
		items, _ := listItems(e.rawVal)
		hasNew := false
		for _, it := range items {
			if is, _ := roomItem(it, newRoom); is {
				hasNew = true
			}
		}
		e.items = [][]byte{}
		for _, it := range items {
			if is, _ := roomItem(it, oldRoom); !is {
				e.items = append(e.items, it)
			} else if !hasNew {
				e.items = append(e.items, quote(string(newRoom)))
				hasNew = true
			}
		}
		out = append(out, e)
	}
	return out
}
