package ui

import (
	"testing"

	tea "charm.land/bubbletea/v2"
)

// keystrokeModel is an open conversation with n messages loaded and the composer focused.
func keystrokeModel(b testing.TB, n int) *Model {
	svc := fixture()
	svc.history[aliceRoom] = longHistory(n)
	h := newHarness(b, svc, 120, 40)
	openAlice(h)
	c := h.m.openChat()
	all := longHistory(n)
	c.Timeline().AddPage(all[:n-c.Timeline().Len()], false)
	if c.Timeline().Len() != n {
		b.Fatalf("loaded %d messages, want %d", c.Timeline().Len(), n)
	}
	_ = h.m.View()
	return h.m
}

func benchKeystroke(b *testing.B, n int) {
	m := keystrokeModel(b, n)
	keys := []tea.KeyPressMsg{{Code: 'x', Text: "x"}, {Code: tea.KeyBackspace}}
	b.ReportAllocs()
	b.ResetTimer()
	var tm tea.Model = m
	for i := 0; i < b.N; i++ {
		tm, _ = tm.Update(keys[i%2])
		_ = tm.View()
	}
}

func BenchmarkKeystroke100(b *testing.B)   { benchKeystroke(b, 100) }
func BenchmarkKeystroke10000(b *testing.B) { benchKeystroke(b, 10000) }
