package store

import (
	"context"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/rs/zerolog"
)

// FuzzQuery: whatever is typed, ParseQuery either says what is wrong or makes a MATCH
// expression SQLite runs; nothing typed reaches the full-text syntax as syntax.
func FuzzQuery(f *testing.F) {
	for _, seed := range []string{"picnic", `"train station"`, `"unbalanced`, "*", "NOT AND OR", "a-b c:d ^e", "NEAR/3", "crème brûlée", `""`, "\x00\xff", "(a OR b)", "-x"} {
		f.Add(seed)
	}
	st, err := Open(context.Background(), filepath.Join(f.TempDir(), "duet.db"), zerolog.Nop())
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	if err := st.AppendEvents(context.Background(), "!a", []Event{say("!a", "$1", "@b:x", "near the train station, not far", 1)}, false, ""); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		match, err := ParseQuery(q)
		if err != nil {
			return
		}
		if !utf8.ValidString(match) && utf8.ValidString(q) {
			t.Fatalf("%q made invalid UTF-8 %q", q, match)
		}
		if _, err := st.Search(context.Background(), q, nil, 5); err != nil {
			t.Fatalf("%q became %q, which SQLite refuses: %v", q, match, err)
		}
	})
}
