// Package judge is the relative judgement of a canary against the stable
// version measured in the same window: is the canary's error rate, or its
// latency, worse than stable's by more than the plan allows, with enough
// evidence that the difference is not noise?
//
// Two tests, chosen for the traffic a canary sees at 1–25 % weight:
//
// Error rate (ErrorRate): exact binomial tests against the tolerated rate
// max(Floor, stable rate × MaxRatio). The canary fails when its errors are
// significantly above the floor, P(X ≥ e_c | Binomial(n_c, Floor)) <
// Alpha, and significantly above MaxRatio × stable's rate. The second test
// is the exact conditional test for the ratio of two rates: given the
// errors of both versions, e_c + e_s, the canary's share is binomial with
// π0 = n_c·MaxRatio / (n_c·MaxRatio + n_s) when the canary is exactly as
// bad as tolerated, and the canary fails when
// P(X ≥ e_c | Binomial(e_c + e_s, π0)) < Alpha. Conditioning counts
// stable's noise as well as the canary's: holding the canary against
// stable's observed rate as if it were exact failed 1.7 % of equal
// canaries at 25 % weight in simulation, where stable's early windows are
// small. Requiring both tests to reject is an intersection-union test: its
// level is Alpha. Below MinRequests canary requests the verdict is
// Inconclusive with NotEnoughData set ("not enough traffic yet"): the
// judge never passes or fails on a handful of requests. The tails are
// computed exactly with math.Lgamma (no normal approximation), so they
// hold for the small counts of a 1 % canary. Because the null hypothesis
// is "the canary is at the tolerated rate", not "the canary equals
// stable", a canary as good as stable is far inside it and repeated looks
// at a growing window rarely fail it (measured in judge_test.go: see
// TestSimulation*). MaxRate, when set, is an absolute ceiling (Kayenta's
// critical threshold, Flagger's thresholdRange max): an observed canary
// rate above it fails at once, once MinRequests is reached.
//
// Latency (Latency): Kayenta's test. The samples are the values of a
// latency metric over the window (for example a p90 per scrape step, from a
// Prometheus range query) for canary and for stable; the Mann-Whitney U
// test (normal approximation with tie correction and continuity
// correction) asks whether canary values are systematically higher.
// Kayenta runs the two-sided test at a confidence level (0.98 in its
// examples) and then looks at the direction; that is the same as the
// one-sided test "canary higher" at 1 - (1-confidence)/2, which is what
// Latency computes. The default confidence is 0.99 (one-sided 0.995), not
// 0.98: at 0.98 a canary equal to stable failed 1.1 % of simulated
// judgements with 10 samples each, above the 1-in-100 budget. A significant
// difference fails only when its size also matters: the canary's mean is
// above stable's mean × AllowedIncrease (Kayenta's mean-ratio effect size,
// allowedIncrease) and above stable's mean + MinDelta (an absolute slack in
// the metric's unit, for fast services where 20 % is a millisecond). The
// samples of a time series are correlated, which the test ignores (as
// Kayenta does); AllowedIncrease and MinDelta are what keep that from
// failing healthy canaries.
package judge

import (
	"fmt"
	"math"
	"sort"

	"github.com/migsafe/migsafe/rollout/gate"
)

// Counts are the errors and requests one version served in the window.
// They are float64 because Prometheus' increase() extrapolates; they are
// rounded to whole requests before the test.
type Counts struct {
	Errors   float64
	Requests float64
}

// ErrorRateConfig tunes the error-rate test. Zero fields take the defaults
// listed on each.
type ErrorRateConfig struct {
	// MaxRatio: the canary may have up to MaxRatio × stable's error rate.
	// Default 1.5.
	MaxRatio float64
	// Floor: error rates at or below Floor are tolerated whatever stable
	// does (stable at 0 errors would otherwise fail a canary's first
	// error). Default 0.002 (0.2 %).
	Floor float64
	// Alpha: the significance level of the one-sided tests. Default 0.02.
	Alpha float64
	// MinRequests: below this many canary requests the verdict is
	// Inconclusive ("not enough traffic yet"). Default 200.
	MinRequests float64
	// MaxRate: when > 0, an observed canary error rate above it fails
	// without a test (a critical ceiling). Default 0 (off).
	MaxRate float64
	// Subject and Reference name the two sides in messages. Default
	// "canary" and "stable".
	Subject, Reference string
}

// Defaults returns c with its zero fields set to the defaults.
func (c ErrorRateConfig) Defaults() ErrorRateConfig {
	if c.MaxRatio == 0 {
		c.MaxRatio = 1.5
	}
	if c.Floor == 0 {
		c.Floor = 0.002
	}
	if c.Alpha == 0 {
		c.Alpha = 0.02
	}
	if c.MinRequests == 0 {
		c.MinRequests = 200
	}
	if c.Subject == "" {
		c.Subject = "canary"
	}
	if c.Reference == "" {
		c.Reference = "stable"
	}
	return c
}

// Validate reports a configuration that cannot be used.
func (c ErrorRateConfig) Validate() error {
	switch {
	case c.MaxRatio < 1 && c.MaxRatio != 0:
		return fmt.Errorf("maxRatio %g is below 1: the canary would fail for being as good as stable", c.MaxRatio)
	case c.Floor < 0 || c.Floor >= 1:
		return fmt.Errorf("floor %g is not a rate in [0, 1)", c.Floor)
	case c.Alpha < 0 || c.Alpha >= 0.5:
		return fmt.Errorf("alpha %g is not a significance level in (0, 0.5)", c.Alpha)
	case c.MinRequests < 0:
		return fmt.Errorf("minRequests %g is negative", c.MinRequests)
	case c.MaxRate < 0 || c.MaxRate > 1:
		return fmt.Errorf("maxRate %g is not a rate in [0, 1]", c.MaxRate)
	}
	return nil
}

// ErrorRateResult is the verdict of ErrorRate with the numbers behind it.
type ErrorRateResult struct {
	Phase gate.Phase // Successful, Failed or Inconclusive
	// NotEnoughData is set with Inconclusive when the canary has fewer than
	// MinRequests requests, or stable none: more time may decide.
	NotEnoughData bool
	Message       string
	Canary        Counts
	Stable        Counts
	CanaryRate    float64
	StableRate    float64
	Threshold     float64 // max(Floor, StableRate × MaxRatio), for people
	// FloorP is P(X ≥ e_c | Binomial(n_c, Floor)); RatioP is the
	// conditional test's P(X ≥ e_c | Binomial(e_c + e_s, π0)). PValue is
	// the larger: the canary fails when it is below Alpha.
	FloorP, RatioP float64
	PValue         float64 // NaN when not computed
}

// ErrorRate judges the canary's error rate against stable's. Counts that are
// negative or NaN are Inconclusive (the caller should have reported them as
// a measurement error).
func ErrorRate(canary, stable Counts, c ErrorRateConfig) ErrorRateResult {
	c = c.Defaults()
	r := ErrorRateResult{Canary: canary, Stable: stable, PValue: math.NaN(), FloorP: math.NaN(), RatioP: math.NaN(), CanaryRate: math.NaN(), StableRate: math.NaN()}
	for _, v := range []float64{canary.Errors, canary.Requests, stable.Errors, stable.Requests} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			r.Phase = gate.Inconclusive
			r.Message = fmt.Sprintf("error counts are not usable (canary %g/%g, stable %g/%g)", canary.Errors, canary.Requests, stable.Errors, stable.Requests)
			return r
		}
	}
	ne, nn := math.Round(canary.Errors), math.Round(canary.Requests)
	se, sn := math.Round(stable.Errors), math.Round(stable.Requests)
	ne = math.Min(ne, nn)
	se = math.Min(se, sn)
	if sn > 0 {
		r.StableRate = se / sn
	}
	if nn > 0 {
		r.CanaryRate = ne / nn
	}
	if nn < c.MinRequests {
		r.Phase = gate.Inconclusive
		r.NotEnoughData = true
		r.Message = fmt.Sprintf("not enough traffic yet: the %s served %.0f requests, the test needs %.0f", c.Subject, nn, c.MinRequests)
		return r
	}
	if sn == 0 {
		r.Phase = gate.Inconclusive
		r.NotEnoughData = true
		r.Message = fmt.Sprintf("%s served no requests in the window: nothing to compare the %s with", c.Reference, c.Subject)
		return r
	}
	r.Threshold = math.Max(c.Floor, r.StableRate*c.MaxRatio)
	if c.MaxRate > 0 && r.CanaryRate > c.MaxRate {
		r.Phase = gate.Failed
		r.Message = fmt.Sprintf("%s error rate %s (%.0f/%.0f) is above the ceiling maxRate %s", c.Subject, pct(r.CanaryRate), ne, nn, pct(c.MaxRate))
		return r
	}
	// Two exact tests; the canary fails only when both reject (an
	// intersection-union test, of level alpha): above the floor (one
	// sample, against Floor) and above MaxRatio × stable, conditional on
	// the errors of both (given e_c + e_s errors, e_c is binomial with
	// π0 = n_c·MaxRatio / (n_c·MaxRatio + n_s) when the canary's rate is
	// MaxRatio × stable's), which counts stable's noise as well as the
	// canary's.
	r.FloorP = BinomialUpperTail(int(ne), int(nn), c.Floor)
	pi0 := nn * c.MaxRatio / (nn*c.MaxRatio + sn)
	r.RatioP = BinomialUpperTail(int(ne), int(ne+se), pi0)
	r.PValue = math.Max(r.FloorP, r.RatioP)
	if r.PValue < c.Alpha {
		r.Phase = gate.Failed
		r.Message = fmt.Sprintf("%s error rate %s (%.0f/%.0f) is significantly above the tolerated %s = max(floor %s, %s %s × %g) (%s %.0f/%.0f; p = %.2g < alpha %g)",
			c.Subject, pct(r.CanaryRate), ne, nn, pct(r.Threshold), pct(c.Floor), c.Reference, pct(r.StableRate), c.MaxRatio, c.Reference, se, sn, r.PValue, c.Alpha)
		return r
	}
	r.Phase = gate.Successful
	r.Message = fmt.Sprintf("%s error rate %s (%.0f/%.0f) is not significantly above the tolerated %s (%s %s, %.0f/%.0f; p = %.2g)",
		c.Subject, pct(r.CanaryRate), ne, nn, pct(r.Threshold), c.Reference, pct(r.StableRate), se, sn, r.PValue)
	return r
}

func pct(x float64) string { return fmt.Sprintf("%.2f%%", 100*x) }

// BinomialUpperTail is P(X ≥ k) for X ~ Binomial(n, p), computed exactly
// in log space (math.Lgamma) and summed from the smaller tail.
func BinomialUpperTail(k, n int, p float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n:
		return 0
	case p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	lp, lq := math.Log(p), math.Log1p(-p)
	lgn, _ := math.Lgamma(float64(n + 1))
	term := func(i int) float64 {
		a, _ := math.Lgamma(float64(i + 1))
		b, _ := math.Lgamma(float64(n - i + 1))
		return math.Exp(lgn - a - b + float64(i)*lp + float64(n-i)*lq)
	}
	mean := float64(n) * p
	if float64(k) > mean {
		// Sum the upper tail directly: its terms decrease from k on.
		s := 0.0
		for i := k; i <= n; i++ {
			t := term(i)
			s += t
			if t < s*1e-17 {
				break
			}
		}
		return math.Min(1, s)
	}
	// The upper tail is the bulk: 1 - P(X ≤ k-1), summed downwards.
	s := 0.0
	for i := k - 1; i >= 0; i-- {
		t := term(i)
		s += t
		if t < s*1e-17 {
			break
		}
	}
	return math.Max(0, 1-s)
}

// LatencyConfig tunes the latency test. Zero fields take the defaults.
type LatencyConfig struct {
	// Confidence is Kayenta's confidence level of the two-sided
	// Mann-Whitney test; Latency runs the equivalent one-sided test at
	// 1 - (1-Confidence)/2. Default 0.99 (Kayenta's examples use 0.98;
	// see the package documentation).
	Confidence float64
	// AllowedIncrease: the canary's mean may be up to AllowedIncrease ×
	// stable's mean (Kayenta's effectSize.allowedIncrease). Default 1.25.
	AllowedIncrease float64
	// MinDelta: and up to stable's mean + MinDelta, in the metric's unit
	// (seconds for latency). Default 0.
	MinDelta float64
	// MinSamples per version; fewer is Inconclusive. Default 5. Fewer
	// samples than the confidence needs (6 of each at 0.99) are
	// Inconclusive too: with them even a canary slower in every sample
	// could not be significant.
	MinSamples int
}

// Defaults returns c with its zero fields set to the defaults.
func (c LatencyConfig) Defaults() LatencyConfig {
	if c.Confidence == 0 {
		c.Confidence = 0.99
	}
	if c.AllowedIncrease == 0 {
		c.AllowedIncrease = 1.25
	}
	if c.MinSamples == 0 {
		c.MinSamples = 5
	}
	return c
}

// Validate reports a configuration that cannot be used.
func (c LatencyConfig) Validate() error {
	switch {
	case c.Confidence != 0 && (c.Confidence <= 0.5 || c.Confidence >= 1):
		return fmt.Errorf("confidence %g is not in (0.5, 1)", c.Confidence)
	case c.AllowedIncrease != 0 && c.AllowedIncrease < 1:
		return fmt.Errorf("allowedIncrease %g is below 1: the canary would fail for being as fast as stable", c.AllowedIncrease)
	case c.MinDelta < 0:
		return fmt.Errorf("minDelta %g is negative", c.MinDelta)
	case c.MinSamples < 0:
		return fmt.Errorf("minSamples %d is negative", c.MinSamples)
	}
	return nil
}

// LatencyResult is the verdict of Latency with the numbers behind it.
type LatencyResult struct {
	Phase         gate.Phase
	NotEnoughData bool
	Message       string
	CanaryMean    float64
	StableMean    float64
	CanaryN       int
	StableN       int
	U             float64 // the canary's U statistic
	PValue        float64 // one-sided: canary higher
}

// Latency judges whether the canary's values are higher than stable's
// (Kayenta's Mann-Whitney judgement with a mean-ratio effect size). NaN
// and infinite samples are dropped (an idle histogram's quantile is NaN).
func Latency(canary, stable []float64, c LatencyConfig) LatencyResult {
	c = c.Defaults()
	canary, stable = finite(canary), finite(stable)
	r := LatencyResult{CanaryN: len(canary), StableN: len(stable), PValue: math.NaN(), U: math.NaN(),
		CanaryMean: mean(canary), StableMean: mean(stable)}
	if len(canary) < c.MinSamples || len(stable) < c.MinSamples {
		r.Phase = gate.Inconclusive
		r.NotEnoughData = true
		r.Message = fmt.Sprintf("not enough data yet: %d canary and %d stable samples, the test needs %d of each", len(canary), len(stable), c.MinSamples)
		return r
	}
	alpha := (1 - c.Confidence) / 2
	if best := minMannWhitneyP(len(canary), len(stable)); best >= alpha {
		// Even a canary slower in every sample could not be significant:
		// calling that a pass would be passing on too little data.
		r.Phase = gate.Inconclusive
		r.NotEnoughData = true
		r.Message = fmt.Sprintf("not enough data yet: with %d canary and %d stable samples the smallest possible p-value is %.2g, not below %.2g", len(canary), len(stable), best, alpha)
		return r
	}
	r.U, r.PValue = MannWhitneyGreater(canary, stable)
	limit := math.Max(r.StableMean*c.AllowedIncrease, r.StableMean+c.MinDelta)
	if r.PValue < alpha && r.CanaryMean > limit {
		r.Phase = gate.Failed
		r.Message = fmt.Sprintf("canary mean %.4g is above the tolerated %.4g (stable %.4g × %g, + %g) and significantly higher than stable (Mann-Whitney p = %.2g < %.2g; %d vs %d samples)",
			r.CanaryMean, limit, r.StableMean, c.AllowedIncrease, c.MinDelta, r.PValue, alpha, len(canary), len(stable))
		return r
	}
	r.Phase = gate.Successful
	r.Message = fmt.Sprintf("canary mean %.4g vs stable %.4g (tolerated %.4g; Mann-Whitney p = %.2g; %d vs %d samples)",
		r.CanaryMean, r.StableMean, limit, r.PValue, len(canary), len(stable))
	return r
}

// MannWhitneyGreater returns the U statistic of x against y and the
// one-sided p-value of "x tends to be larger than y", from the normal
// approximation with tie and continuity corrections. With every value
// tied the p-value is 1.
func MannWhitneyGreater(x, y []float64) (u, p float64) {
	n1, n2 := float64(len(x)), float64(len(y))
	if n1 == 0 || n2 == 0 {
		return math.NaN(), 1
	}
	type v struct {
		val float64
		x   bool
	}
	all := make([]v, 0, len(x)+len(y))
	for _, a := range x {
		all = append(all, v{a, true})
	}
	for _, b := range y {
		all = append(all, v{b, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].val < all[j].val })
	n := n1 + n2
	rankSum, ties := 0.0, 0.0
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].val == all[i].val {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j averaged
		for k := i; k < j; k++ {
			if all[k].x {
				rankSum += avg
			}
		}
		t := float64(j - i)
		ties += t*t*t - t
		i = j
	}
	u = rankSum - n1*(n1+1)/2
	mu := n1 * n2 / 2
	sigma := math.Sqrt(n1 * n2 / 12 * ((n + 1) - ties/(n*(n-1))))
	if sigma == 0 {
		return u, 1
	}
	z := (u - mu - 0.5) / sigma
	return u, 0.5 * math.Erfc(z/math.Sqrt2)
}

// minMannWhitneyP is the smallest one-sided p-value MannWhitneyGreater can
// return for samples of n1 and n2 values (every x above every y, no ties).
func minMannWhitneyP(n1, n2 int) float64 {
	a, b := float64(n1), float64(n2)
	z := (a*b/2 - 0.5) / math.Sqrt(a*b*(a+b+1)/12)
	return 0.5 * math.Erfc(z/math.Sqrt2)
}

func finite(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	return out
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
