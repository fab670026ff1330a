package sanitize

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"duet/internal/testkit/termtest"
)

func TestOutputKeepsLinesAndTabs(t *testing.T) {
	if got, want := Output("a\tb\x1b]52;c;aGk=\x07\r\nc\u009b"), "a\tb␛]52;c;aGk=␇\nc\uFFFD"; got != want {
		t.Fatalf("Output = %q, want %q", got, want)
	}
}

// FuzzWriter: whatever is written, in whatever pieces (a rune may be cut between two writes),
// what reaches the terminal is inert and is what Output makes of the whole.
func FuzzWriter(f *testing.F) {
	for i, s := range termtest.Hostile() {
		f.Add(s, uint8(i))
	}
	f.Add("ö€😀\x1b", uint8(1))
	f.Fuzz(func(t *testing.T, s string, step uint8) {
		var out bytes.Buffer
		w := NewWriter(&out)
		n := 1 + int(step)%7
		for i := 0; i < len(s); i += n {
			piece := []byte(s[i:min(i+n, len(s))])
			if k, err := w.Write(piece); k != len(piece) || err != nil {
				t.Fatalf("Write(%q) = %d, %v", piece, k, err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := termtest.Output(out.String()); err != nil {
			t.Fatal(err)
		}
		if whole := Output(s); out.String() != whole && utf8.ValidString(s) { // invalid bytes may come out as one U+FFFD or several
			t.Fatalf("written in pieces of %d: %q, whole: %q", n, out.String(), whole)
		}
	})
}

// FuzzJSON: JSON made terminal-safe holds nothing a terminal acts on, and a JSON parser reads
// exactly the values encoding/json wrote.
func FuzzJSON(f *testing.F) {
	for _, s := range termtest.Hostile() {
		f.Add(s, s+"\x7f\u0085\u202e\u2066\u200f\u061c")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		v := map[string]any{"a": a, "list": []string{b, a}, a: b}
		raw, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		safe := JSON(raw)
		if err := termtest.Output(string(safe)); err != nil {
			t.Fatal(err)
		}
		var want, got any
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(safe, &got); err != nil {
			t.Fatalf("not JSON any more: %q: %v", safe, err)
		}
		w, _ := json.Marshal(want)
		g, _ := json.Marshal(got)
		if !bytes.Equal(w, g) {
			t.Fatalf("values changed: %s -> %s", w, g)
		}
		var out bytes.Buffer
		if _, err := NewWriter(&out).Write(safe); err != nil || !bytes.Equal(out.Bytes(), safe) {
			t.Fatalf("the output writer changes JSON: %q -> %q", safe, out.Bytes())
		}
	})
}
