package judge

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/migsafe/migsafe/rollout/gate"
)

// Metric results are user input: what a metrics backend answers for a
// canary (huge counts, NaN, infinities, negative numbers, more errors than
// requests). The judges never panic and give one of the three phases; a
// count that cannot be used is Inconclusive, never Successful.
func FuzzErrorRate(f *testing.F) {
	f.Add(1.0, 1000.0, 0.0, 1000.0, 2.0, 0.01)
	f.Add(math.NaN(), 1000.0, 0.0, 1000.0, 2.0, 0.01)
	f.Add(5.0, math.Inf(1), 0.0, 1000.0, 2.0, 0.01)
	f.Add(2000.0, 1000.0, 0.0, 1000.0, 2.0, 0.01)
	f.Add(1e300, 1e308, 1e300, 1e308, 1.0, 0.0)
	f.Add(-1.0, 10.0, 0.0, 10.0, 2.0, 0.01)
	f.Fuzz(func(t *testing.T, ce, cr, se, sr, ratio, floor float64) {
		c := ErrorRateConfig{MaxRatio: ratio, Floor: floor}
		if c.Validate() != nil {
			return
		}
		r := ErrorRate(Counts{Errors: ce, Requests: cr}, Counts{Errors: se, Requests: sr}, c)
		switch r.Phase {
		case gate.Successful, gate.Failed, gate.Inconclusive:
		default:
			t.Fatalf("phase %q", r.Phase)
		}
		bad := false
		for _, v := range []float64{ce, cr, se, sr} {
			bad = bad || math.IsNaN(v) || math.IsInf(v, 0) || v < 0
		}
		if bad && r.Phase == gate.Successful {
			t.Fatalf("unusable counts judged Successful: %+v", r)
		}
	})
}

// FuzzLatency feeds the latency judge samples decoded from bytes (any
// float64 bit pattern: NaN payloads, infinities, subnormals).
func FuzzLatency(f *testing.F) {
	enc := func(xs ...float64) []byte {
		b := make([]byte, 8*len(xs))
		for i, x := range xs {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
		}
		return b
	}
	f.Add(enc(1, 2, 3, 4, 5, 6), enc(1, 1, 1, 1, 1, 1))
	f.Add(enc(math.NaN(), math.Inf(1), math.Copysign(0, -1), 5e-324), enc(math.MaxFloat64, math.MaxFloat64))
	f.Add([]byte{}, enc(1, 2, 3))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		dec := func(p []byte) []float64 {
			out := make([]float64, 0, len(p)/8)
			for i := 0; i+8 <= len(p); i += 8 {
				out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(p[i:])))
			}
			return out
		}
		r := Latency(dec(a), dec(b), LatencyConfig{})
		switch r.Phase {
		case gate.Successful, gate.Failed, gate.Inconclusive:
		default:
			t.Fatalf("phase %q", r.Phase)
		}
	})
}
