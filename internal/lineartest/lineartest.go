// Package lineartest checks that an operation takes time linear (or
// n·log n) in its input, by timing it at a size and at four times that
// size.
package lineartest

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// MaxRatio is the most the time may grow when the input grows fourfold:
// linear work grows 4×, n·log n about 4.5×, quadratic work 16×. The bound
// is generous so that a loaded machine does not make the test flaky.
const MaxRatio = 10.0

// Check times run(setup(n)) and run(setup(4n)) in CPU time, each the
// fastest of three runs, and fails t when the ratio exceeds MaxRatio. setup builds the input
// (untimed) and returns the operation to time.
func Check(t *testing.T, n int, setup func(n int) func()) {
	t.Helper()
	CheckFactor(t, n, 4, setup)
}

// CheckFactor is Check with the larger input factor times the smaller:
// the time may grow MaxRatio/4 times the factor (2.5 per unit). A larger
// factor tells linear work from quadratic work whose square term is still
// small at affordable sizes (8×: linear 8, quadratic up to 64, bound 20).
func CheckFactor(t *testing.T, n, factor int, setup func(n int) func()) {
	t.Helper()
	small := fastest(setup(n))
	large := fastest(setup(factor * n))
	ratio := float64(large) / float64(max(small, time.Microsecond))
	bound := MaxRatio / 4 * float64(factor)
	t.Logf("n=%d: %v, %dn: %v, ratio %.1f (bound %.0f)", n, small, factor, large, ratio, bound)
	if ratio > bound {
		t.Errorf("%d× the input took %.1f× the time (%v → %v): not linear", factor, ratio, small, large)
	}
}

// fastest returns the least CPU time (user and system, of the whole
// process) of three runs: CPU time, unlike the wall clock, does not grow
// when other processes take the machine's cores.
func fastest(run func()) time.Duration {
	best := time.Duration(1<<63 - 1)
	for range 3 {
		runtime.GC()
		start := cpuTime()
		run()
		best = min(best, cpuTime()-start)
	}
	return best
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// CheckAlloc runs run once and fails t when it allocated more than
// maxRatio times size bytes (what a hostile input of size bytes may cost
// in memory on its way to being refused).
func CheckAlloc(t *testing.T, size int, maxRatio float64, run func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	run()
	runtime.ReadMemStats(&after)
	alloc := float64(after.TotalAlloc - before.TotalAlloc)
	ratio := alloc / float64(max(size, 1))
	t.Logf("%.1f MB allocated for %.1f MB (%.0f×, bound %.0f×)", alloc/1e6, float64(size)/1e6, ratio, maxRatio)
	if ratio > maxRatio {
		t.Errorf("allocated %.0f× the input's size, more than %.0f×", ratio, maxRatio)
	}
}
