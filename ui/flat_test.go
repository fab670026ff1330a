//go:build !race

package ui

import (
	"testing"
)

// TestKeystrokeCostFlat: a keystroke costs about the same with 10,000 messages loaded as with
// 100, because only the visible window is drawn. The bound is looser than the 10% goal to stay
// clear of timing noise; the benchmarks report the exact numbers.
func TestKeystrokeCostFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	best := func(n int) float64 {
		fastest := 0.0
		for range 2 {
			r := testing.Benchmark(func(b *testing.B) { benchKeystroke(b, n) })
			if ns := float64(r.NsPerOp()); fastest == 0 || ns < fastest {
				fastest = ns
			}
		}
		return fastest
	}
	small, large := best(100), best(10000)
	t.Logf("keystroke: %.0f ns with 100 messages, %.0f ns with 10,000 (%.2fx)", small, large, large/small)
	if large > small*1.3 {
		t.Fatalf("a keystroke with 10,000 messages costs %.2fx one with 100", large/small)
	}
}
