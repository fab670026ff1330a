package dmfuzz

import (
	"bytes"
	"encoding/json"
	"maps"
	"testing"

	"duet/matrixsvc"
)

// FuzzIgnored: any bytes as m.ignored_user_list content (R25). Nothing panics; content that
// cannot be understood is never edited (so never written); otherwise AddIgnored and
// RemoveIgnored do what was asked, keep every other top-level key and every other entry as it
// was (for any user ID Block would accept), are fixed points of themselves, and ParseIgnored agrees with the result.
func FuzzIgnored(f *testing.F) {
	for _, raw := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"ignored_users":{}}`, `{"ignored_users":[]}`,
		`{"ignored_users":{"@bob:x":{}},"org.example":1}`,
		`{"ignored_users":{"@bob:x":{"note":"kept"},"not a user":{}}}`,
		`{"ignored_users":null}`, `{"ignored_users":{"@bob:x":{}},"ignored_users":5}`,
		`{"ignored_users":{"@\u0062ob:x":{}}}`, "{\"ignored_users\":{\"@\xff:x\":{}}}",
	} {
		f.Add([]byte(raw), "@bob:x")
	}
	f.Fuzz(func(t *testing.T, raw []byte, user string) {
		users, wellFormed := matrixsvc.ParseIgnored(raw)
		x, err := matrixsvc.ValidateUserID("", user)
		if err != nil {
			return // Block and Unblock check the ID first
		}
		user = string(x)
		added, addChanged, addErr := matrixsvc.AddIgnored(raw, x)
		removed, remChanged, remErr := matrixsvc.RemoveIgnored(raw, x)
		if !wellFormed {
			if addErr == nil || remErr == nil {
				t.Fatalf("edited content it could not understand: %q", raw)
			}
			return
		}
		if addErr != nil || remErr != nil {
			t.Fatalf("refused well-formed content %q: %v, %v", raw, addErr, remErr)
		}
		for _, u := range users {
			if _, err := matrixsvc.ValidateUserID("", string(u)); err != nil {
				t.Fatalf("listed %q, not a user ID", u)
			}
		}
		check := func(what string, out []byte, changed bool, wantIn bool) {
			if !changed {
				if !bytes.Equal(out, raw) {
					t.Fatalf("%s: unchanged but returned %q for %q", what, out, raw)
				}
				return
			}
			var before, after map[string]json.RawMessage
			_ = json.Unmarshal(raw, &before)
			if err := json.Unmarshal(out, &after); err != nil {
				t.Fatalf("%s wrote %q, not an object: %v", what, out, err)
			}
			var bl, al map[string]json.RawMessage
			_ = json.Unmarshal(before["ignored_users"], &bl)
			_ = json.Unmarshal(after["ignored_users"], &al)
			delete(before, "ignored_users")
			delete(after, "ignored_users")
			if !maps.EqualFunc(before, after, func(a, b json.RawMessage) bool { return jsonEqual(a, b) }) {
				t.Fatalf("%s changed other keys: %q -> %q", what, raw, out)
			}
			if _, in := al[user]; in != wantIn {
				t.Fatalf("%s: %q in the list is %v, want %v", what, user, in, wantIn)
			}
			delete(bl, user)
			delete(al, user)
			if !maps.EqualFunc(bl, al, func(a, b json.RawMessage) bool { return jsonEqual(a, b) }) {
				t.Fatalf("%s changed other entries: %q -> %q", what, raw, out)
			}
		}
		check("add", added, addChanged, true)
		check("remove", removed, remChanged, false)
		if again, changed, err := matrixsvc.AddIgnored(added, x); err != nil || changed || !bytes.Equal(again, added) {
			t.Fatalf("adding twice changed %q: %q, %v", added, again, err)
		}
		if again, changed, err := matrixsvc.RemoveIgnored(removed, x); err != nil || changed || !bytes.Equal(again, removed) {
			t.Fatalf("removing twice changed %q: %q, %v", removed, again, err)
		}
	})
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
