package dendrite

import (
	"errors"
	"strings"
	"testing"
)

func TestRandomLocalpart(t *testing.T) {
	seen := map[string]bool{}
	for _, prefix := range []string{"alice", "Bob Smith", "", "ünï", "a.b_c=d-e"} {
		for range 50 {
			lp := RandomLocalpart(prefix)
			if seen[lp] {
				t.Fatalf("RandomLocalpart(%q) repeated %q", prefix, lp)
			}
			seen[lp] = true
			for _, r := range lp {
				if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("._=-", r)) {
					t.Fatalf("RandomLocalpart(%q) = %q has %q", prefix, lp, r)
				}
			}
		}
	}
	if lp := RandomLocalpart("Bob Smith"); !strings.HasPrefix(lp, "bob_smith-") {
		t.Errorf("RandomLocalpart(\"Bob Smith\") = %q, want prefix bob_smith-", lp)
	}
}

func TestOptOut(t *testing.T) {
	for _, tc := range []struct {
		skip, ci string
		want     bool
	}{
		{"", "", false},
		{"1", "", true},
		{"1", "true", false},
		{"1", "TRUE", false},
		{"0", "", false},
		{"yes", "", false},
	} {
		t.Setenv("DUET_SKIP_HOMESERVER", tc.skip)
		t.Setenv("CI", tc.ci)
		if got := OptedOut(); got != tc.want {
			t.Errorf("DUET_SKIP_HOMESERVER=%q CI=%q: OptedOut = %v, want %v", tc.skip, tc.ci, got, tc.want)
		}
		if tc.want {
			if _, _, err := StartShared(); !errors.Is(err, ErrOptedOut) {
				t.Errorf("StartShared when opted out: %v, want ErrOptedOut", err)
			}
		}
	}
}
