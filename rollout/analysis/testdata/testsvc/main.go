// Command testsvc is the service the analysis tests put under Prometheus:
// GET / answers after a fixed latency and fails a fixed share of requests
// (deterministically: request i fails when floor((i+1)·rate) > floor(i·rate),
// so a 1 % service fails exactly every 100th request; POST
// /admin?error-rate=R changes the rate); GET /metrics exposes
// http_requests_total{version,code} and the histogram
// http_request_duration_seconds{version} in Prometheus' text format. It
// prints its address on stdout once it listens.
package main

import (
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var buckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

type stats struct {
	mu      sync.Mutex
	n       int64
	codes   map[int]int64
	counts  []int64 // per bucket, cumulative at exposition
	sum     float64
	version string
}

func main() {
	version := flag.String("version", "stable", "the version label")
	rate := flag.Float64("error-rate", 0, "share of requests that fail with 500")
	latency := flag.Duration("latency", 2*time.Millisecond, "time each request takes")
	flag.Parse()
	var errRate atomic.Uint64
	errRate.Store(math.Float64bits(*rate))
	s := &stats{codes: map[int]int64{200: 0, 500: 0}, counts: make([]int64, len(buckets)), version: *version}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		s.mu.Lock()
		i := s.n
		s.n++
		s.mu.Unlock()
		time.Sleep(*latency)
		code := 200
		rate := math.Float64frombits(errRate.Load())
		if math.Floor(float64(i+1)*rate) > math.Floor(float64(i)*rate) {
			code = 500
		}
		w.Header().Set("X-Version", s.version) // counted through nginx
		w.WriteHeader(code)
		d := time.Since(t0).Seconds()
		s.mu.Lock()
		s.codes[code]++
		for b, le := range buckets {
			if d <= le {
				s.counts[b]++
				break
			}
		}
		s.sum += d
		s.mu.Unlock()
	})
	// POST /admin?error-rate=0.05 changes the error rate.
	mux.HandleFunc("/admin", func(w http.ResponseWriter, r *http.Request) {
		v, err := strconv.ParseFloat(r.URL.Query().Get("error-rate"), 64)
		if r.Method != http.MethodPost || err != nil || v < 0 || v > 1 {
			http.Error(w, "POST /admin?error-rate=0.05", http.StatusBadRequest)
			return
		}
		errRate.Store(math.Float64bits(v))
	})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		var b strings.Builder
		b.WriteString("# TYPE http_requests_total counter\n")
		total := int64(0)
		for _, code := range []int{200, 500} {
			fmt.Fprintf(&b, "http_requests_total{version=%q,code=\"%d\"} %d\n", s.version, code, s.codes[code])
			total += s.codes[code]
		}
		b.WriteString("# TYPE http_request_duration_seconds histogram\n")
		cum := int64(0)
		for i, le := range buckets {
			cum += s.counts[i]
			fmt.Fprintf(&b, "http_request_duration_seconds_bucket{version=%q,le=\"%g\"} %d\n", s.version, le, cum)
		}
		fmt.Fprintf(&b, "http_request_duration_seconds_bucket{version=%q,le=\"+Inf\"} %d\n", s.version, total)
		fmt.Fprintf(&b, "http_request_duration_seconds_sum{version=%q} %g\n", s.version, s.sum)
		fmt.Fprintf(&b, "http_request_duration_seconds_count{version=%q} %d\n", s.version, total)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte(b.String()))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Fprintln(os.Stdout, ln.Addr().String())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
