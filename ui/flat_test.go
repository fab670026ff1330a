package ui

import (
	"testing"

	tea "charm.land/bubbletea/v2"
)

// TestKeystrokeWorkFlat: a keystroke does the same work with 10,000 messages loaded as with
// 100, because only the visible window is drawn from cached lines. Allocations are counted
// instead of time, so the test is exact on a busy machine (and under -race); the benchmarks
// BenchmarkKeystroke100/10000 report the times.
func TestKeystrokeWorkFlat(t *testing.T) {
	allocs := func(n int) float64 {
		var m tea.Model = keystrokeModel(t, n)
		keys := []tea.KeyPressMsg{{Code: 'x', Text: "x"}, {Code: tea.KeyBackspace}}
		i := 0
		return testing.AllocsPerRun(50, func() {
			m, _ = m.Update(keys[i%2])
			_ = m.View()
			i++
		})
	}
	small, large := allocs(100), allocs(10000)
	t.Logf("allocations per keystroke: %.0f with 100 messages, %.0f with 10,000", small, large)
	if large > small*1.02+2 {
		t.Fatalf("a keystroke with 10,000 messages allocates %.0f times, with 100 %.0f: work grows with history", large, small)
	}
}
