package judge

import (
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/migsafe/migsafe/rollout/gate"
)

// exactTail sums the binomial upper tail with big.Float, term by term, as
// an independent reference for BinomialUpperTail.
func exactTail(k, n int, p float64) float64 {
	const prec = 256
	sum := new(big.Float).SetPrec(prec)
	bp := new(big.Float).SetPrec(prec).SetFloat64(p)
	bq := new(big.Float).SetPrec(prec).SetFloat64(1 - p)
	for i := k; i <= n; i++ {
		c := new(big.Float).SetPrec(prec).SetInt(new(big.Int).Binomial(int64(n), int64(i)))
		t := new(big.Float).SetPrec(prec).Set(c)
		for j := 0; j < i; j++ {
			t.Mul(t, bp)
		}
		for j := 0; j < n-i; j++ {
			t.Mul(t, bq)
		}
		sum.Add(sum, t)
	}
	f, _ := sum.Float64()
	return f
}

func TestBinomialUpperTail(t *testing.T) {
	for _, c := range []struct {
		k, n int
		p    float64
	}{
		{0, 10, 0.1}, {1, 10, 0.1}, {3, 10, 0.1}, {10, 10, 0.5}, {11, 10, 0.5},
		{7, 100, 0.02}, {6, 100, 0.02}, {2, 100, 0.02}, {38, 750, 0.02}, {15, 750, 0.02},
		{150, 300, 0.5}, {1, 1, 0.3}, {0, 0, 0.3}, {40, 400, 0.001},
	} {
		got := BinomialUpperTail(c.k, c.n, c.p)
		want := 1.0
		if c.k > 0 {
			want = exactTail(c.k, c.n, c.p)
		}
		if math.Abs(got-want) > 1e-12+1e-9*want {
			t.Errorf("P(X >= %d | n=%d, p=%g) = %.17g, want %.17g", c.k, c.n, c.p, got, want)
		}
	}
}

func TestErrorRateVerdicts(t *testing.T) {
	cfg := ErrorRateConfig{}
	for _, c := range []struct {
		name           string
		canary, stable Counts
		cfg            ErrorRateConfig
		want           gate.Phase
		notEnough      bool
	}{
		{"too few canary requests", Counts{10, 50}, Counts{10, 1000}, cfg, gate.Inconclusive, true},
		{"no stable traffic", Counts{1, 500}, Counts{0, 0}, cfg, gate.Inconclusive, true},
		{"NaN counts", Counts{math.NaN(), 500}, Counts{1, 1000}, cfg, gate.Inconclusive, false},
		{"equal rates pass", Counts{5, 500}, Counts{100, 10000}, cfg, gate.Successful, false},
		{"five times stable fails", Counts{25, 500}, Counts{100, 10000}, cfg, gate.Failed, false},
		{"zero stable errors: floor", Counts{0, 500}, Counts{0, 10000}, cfg, gate.Successful, false},
		{"zero stable errors: above floor fails", Counts{5, 500}, Counts{0, 10000}, cfg, gate.Failed, false},
		{"generous floor", Counts{5, 500}, Counts{0, 10000}, ErrorRateConfig{Floor: 0.02}, gate.Successful, false},
		// Stable's 3/750 (0.4 %) is a noisy estimate of a 1 % version: held
		// against 1.5 × 0.4 % as if it were exact, the canary's 6/250
		// would fail (p = 0.004); the conditional test counts stable's
		// noise (p = 0.04).
		{"stable's noise counted", Counts{6, 250}, Counts{3, 750}, cfg, gate.Successful, false},
		{"critical ceiling", Counts{9, 300}, Counts{200, 10000}, ErrorRateConfig{MaxRate: 0.02}, gate.Failed, false},
	} {
		r := ErrorRate(c.canary, c.stable, c.cfg)
		if r.Phase != c.want || r.NotEnoughData != c.notEnough {
			t.Errorf("%s: %s (notEnough %v), want %s (%v): %s", c.name, r.Phase, r.NotEnoughData, c.want, c.notEnough, r.Message)
		}
		if r.Message == "" {
			t.Errorf("%s: no message", c.name)
		}
	}
}

func TestMannWhitney(t *testing.T) {
	// A hand-checked case: x = {4,5,6}, y = {1,2,3}: every x beats every
	// y, U = 9, mu = 4.5, sigma = sqrt(9*7/12) = 2.2913; z = (9-4.5-0.5)/sigma.
	u, p := MannWhitneyGreater([]float64{4, 5, 6}, []float64{1, 2, 3})
	wantP := 0.5 * math.Erfc((4/math.Sqrt(63.0/12))/math.Sqrt2)
	if u != 9 || math.Abs(p-wantP) > 1e-12 {
		t.Errorf("U = %g p = %g, want 9 and %g", u, p, wantP)
	}
	// Ties: all equal gives p = 1.
	if _, p := MannWhitneyGreater([]float64{1, 1, 1}, []float64{1, 1}); p != 1 {
		t.Errorf("all tied: p = %g, want 1", p)
	}
	// Reversed: x below y is not "greater".
	if _, p := MannWhitneyGreater([]float64{1, 2, 3}, []float64{4, 5, 6}); p < 0.9 {
		t.Errorf("x below y: p = %g, want close to 1", p)
	}
}

func TestLatencyVerdicts(t *testing.T) {
	stable := []float64{0.010, 0.011, 0.012, 0.010, 0.013, 0.011, 0.012, 0.010}
	slow := []float64{0.210, 0.212, 0.209, 0.215, 0.211, 0.210, 0.213, 0.212}
	slightly := []float64{0.011, 0.012, 0.013, 0.011, 0.014, 0.012, 0.013, 0.011}
	cases := []struct {
		name   string
		canary []float64
		cfg    LatencyConfig
		want   gate.Phase
		stable []float64 // nil: the 8 stable samples
	}{
		{"same", stable, LatencyConfig{}, gate.Successful, nil},
		{"200ms slower", slow, LatencyConfig{}, gate.Failed, nil},
		{"a little slower, within allowedIncrease", slightly, LatencyConfig{}, gate.Successful, nil},
		{"200ms slower but minDelta 0.5s", slow, LatencyConfig{MinDelta: 0.5}, gate.Successful, nil},
		{"too few samples", slow[:3], LatencyConfig{}, gate.Inconclusive, nil},
		{"too few samples for the confidence", slow[:5], LatencyConfig{}, gate.Inconclusive, stable[:5]},
		{"enough at a lower confidence", slow[:5], LatencyConfig{Confidence: 0.95}, gate.Failed, stable[:5]},
		{"NaN samples dropped", []float64{math.NaN(), math.NaN(), 0.2, 0.2, 0.2, 0.2}, LatencyConfig{}, gate.Inconclusive, nil},
	}
	for _, c := range cases {
		st := stable
		if c.stable != nil {
			st = c.stable
		}
		r := Latency(c.canary, st, c.cfg)
		if r.Phase != c.want {
			t.Errorf("%s: %s, want %s: %s", c.name, r.Phase, c.want, r.Message)
		}
	}
}

// bake simulates one canary bake: total requests per second are split at
// random between canary (share weight) and stable, each request failing with
// its version's error rate. Every look seconds the judge sees the counts
// accumulated since the bake began; the first Failed ends the bake. It
// returns the time of the first Failed, or 0 when the bake passed.
func bake(rng *rand.Rand, rps int, weight, canaryRate, stableRate float64, dur, look time.Duration, cfg ErrorRateConfig) time.Duration {
	var c, s Counts
	for sec := 1; sec <= int(dur/time.Second); sec++ {
		for range rps {
			if rng.Float64() < weight {
				c.Requests++
				if rng.Float64() < canaryRate {
					c.Errors++
				}
			} else {
				s.Requests++
				if rng.Float64() < stableRate {
					s.Errors++
				}
			}
		}
		if sec%int(look/time.Second) == 0 {
			if ErrorRate(c, s, cfg).Phase == gate.Failed {
				return time.Duration(sec) * time.Second
			}
		}
	}
	return 0
}

// The claim (a): a canary at 5 % errors against 1 % stable is caught
// within a 5-minute bake at 5 % of 50 requests/s, with the default
// configuration and a look every 10 s at the cumulative counts.
func TestSimulationDetectsBadCanary(t *testing.T) {
	rng := rand.New(rand.NewPCG(20261202, 1))
	const runs = 1000
	var times []time.Duration
	missed := 0
	for range runs {
		d := bake(rng, 50, 0.05, 0.05, 0.01, 5*time.Minute, 10*time.Second, ErrorRateConfig{})
		if d == 0 {
			missed++
			continue
		}
		times = append(times, d)
	}
	slices.Sort(times)
	if missed > 0 {
		t.Errorf("%d of %d bad canaries passed a 5-minute bake", missed, runs)
	}
	if len(times) > 0 {
		t.Logf("5%% vs 1%% at 5%% of 50 req/s, look every 10 s: caught %d/%d; detection time median %s, p95 %s, max %s",
			len(times), runs, times[len(times)/2], times[len(times)*95/100], times[len(times)-1])
	}
}

// The claim (b): a canary equal to stable fails at most 1 time in
// 100 over a whole 5-minute bake with a look every 10 s (30 looks), at
// several base error rates.
func TestSimulationRarelyFailsEqualCanary(t *testing.T) {
	rng := rand.New(rand.NewPCG(20261202, 2))
	const runs = 1000
	for _, rate := range []float64{0, 0.001, 0.002, 0.005, 0.01, 0.05} {
		failed := 0
		for range runs {
			if bake(rng, 50, 0.05, rate, rate, 5*time.Minute, 10*time.Second, ErrorRateConfig{}) != 0 {
				failed++
			}
		}
		share := float64(failed) / runs
		t.Logf("canary = stable = %.1f%% errors: %d of %d bakes failed (%.2f%%)", 100*rate, failed, runs, 100*share)
		if share > 0.01 {
			t.Errorf("canary = stable = %g: false failures %d/%d > 1%%", rate, failed, runs)
		}
	}
}

// Latency by simulation: samples are per-step p90 values with noise. A
// canary equal to stable fails at most 1 time in 100; a canary 200 ms
// slower is always caught with 10 samples of each.
func TestSimulationLatency(t *testing.T) {
	rng := rand.New(rand.NewPCG(20261202, 3))
	sample := func(n int, base float64) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = base * math.Exp(0.3*rng.NormFloat64())
		}
		return xs
	}
	const runs = 2000
	falseFail, caught := 0, 0
	for range runs {
		if Latency(sample(10, 0.05), sample(10, 0.05), LatencyConfig{}).Phase == gate.Failed {
			falseFail++
		}
		if Latency(sample(10, 0.25), sample(10, 0.05), LatencyConfig{}).Phase == gate.Failed {
			caught++
		}
	}
	t.Logf("latency, 10 samples each: equal canary failed %d/%d; +200 ms caught %d/%d", falseFail, runs, caught, runs)
	if falseFail > runs/100 {
		t.Errorf("equal latency failed %d/%d > 1%%", falseFail, runs)
	}
	if caught != runs {
		t.Errorf("+200 ms caught only %d/%d", caught, runs)
	}
}

// At other weights of the same 50 req/s over a 5-minute bake: at 1 % the
// canary serves about 150 requests, below minRequests, so every bake ends
// "not enough traffic yet" (Inconclusive: the rollout pauses) and none
// fails or passes on noise; at 25 % and 50 %, where stable's windows are
// small and noisy, equal canaries still fail at most 1 time in 100.
func TestSimulationWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(20261202, 4))
	const runs = 300
	for _, weight := range []float64{0.01, 0.05, 0.25, 0.5} {
		caught, notEnough, falseFail := 0, 0, 0
		var times []time.Duration
		for range runs {
			if d := bake(rng, 50, weight, 0.05, 0.01, 5*time.Minute, 10*time.Second, ErrorRateConfig{}); d > 0 {
				caught++
				times = append(times, d)
			}
			if bake(rng, 50, weight, 0.01, 0.01, 5*time.Minute, 10*time.Second, ErrorRateConfig{}) > 0 {
				falseFail++
			}
			// The last look of an equal canary's bake.
			var c, s Counts
			for range 5 * 60 * 50 {
				if rng.Float64() < weight {
					c.Requests++
					if rng.Float64() < 0.01 {
						c.Errors++
					}
				} else {
					s.Requests++
					if rng.Float64() < 0.01 {
						s.Errors++
					}
				}
			}
			if ErrorRate(c, s, ErrorRateConfig{}).NotEnoughData {
				notEnough++
			}
		}
		slices.Sort(times)
		median := time.Duration(0)
		if len(times) > 0 {
			median = times[len(times)/2]
		}
		t.Logf("weight %2.0f%%: bad canary caught %d/%d (median %s); equal canary failed %d/%d, not enough traffic at the end %d/%d",
			100*weight, caught, runs, median, falseFail, runs, notEnough, runs)
		switch weight {
		case 0.01:
			if caught != 0 || falseFail != 0 || notEnough != runs {
				t.Errorf("at 1%% the judge decided on too little traffic")
			}
		default:
			if caught != runs || falseFail > runs/100 {
				t.Errorf("at %g%% the bad canary was caught %d/%d and an equal one failed %d/%d", 100*weight, caught, runs, falseFail, runs)
			}
		}
	}
}
