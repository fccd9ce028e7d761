// Package analysis compiles the body of a rollout plan's `analysis` step
// into a gate.Gate. The step is written as Argo Rollouts writes an
// AnalysisTemplate: a list of metrics, each with a provider (prometheus,
// web, exec, log), successCondition / failureCondition expressions over
// `result` (github.com/expr-lang/expr, as Argo), count, interval,
// initialDelay, failureLimit (default 0), consecutiveErrorLimit (default 4)
// and inconclusiveLimit (default 0). Two more metric kinds judge the canary
// against stable in the same window instead of against a fixed threshold:
// errorRate (an exact binomial test) and latency (Mann-Whitney U), both
// from package judge.
//
//	metrics:
//	  - name: error-rate
//	    interval: 10s
//	    count: 30
//	    provider:
//	      prometheus: {address: http://127.0.0.1:9090}
//	    errorRate:
//	      requests: sum(increase(http_requests_total{version="{{.Version}}"}[{{.Range}}]))
//	      errors: sum(increase(http_requests_total{version="{{.Version}}",code=~"5.."}[{{.Range}}]))
//	  - name: healthz
//	    interval: 10s
//	    count: 30
//	    provider:
//	      web: {url: http://127.0.0.1:8080/healthz, jsonPath: status}
//	    successCondition: result == "ok"
//
// Evaluate runs the whole analysis, as an Argo AnalysisRun does: every
// metric takes a measurement every interval until it has count of them
// (with count 0: until the window's End, or once when there is no
// interval), and the analysis ends early as soon as one metric is Failed,
// Error or Inconclusive. The result is the worst metric's phase (Failed,
// then Error, then Inconclusive, then Successful), with its reason.
//
// What counts, per metric (Argo's rules, and two deliberate differences):
//   - a Failed measurement counts towards failureLimit: more than
//     failureLimit failures fail the metric;
//   - an Error measurement (the provider did not answer, an expression
//     could not be evaluated) counts towards consecutiveErrorLimit: more
//     than that many in a row fail the metric (Argo ends such a run in
//     Error and aborts the rollout; here the gate says Failed, so that the
//     engine rolls back at once instead of measuring the whole analysis
//     again). A metric without an interval takes one measurement: its
//     Error is returned as Error, for the engine to count and retry.
//     Errors do not count towards count, so a metric never passes on
//     measurements it did not take;
//   - an Inconclusive measurement counts towards inconclusiveLimit, except
//     "not enough traffic yet" from the canary-vs-stable checks, which
//     only counts when it is the last measurement (the window grows, so
//     the next one may decide);
//   - a query that returns no data or NaN is a Failed measurement (as
//     Flagger counts it), never a pass. In the canary-vs-stable checks no
//     canary data is "not enough traffic yet" and no stable data is an
//     Error (the monitoring, not the canary, is broken).
//
// The context bounds everything: if it ends before the metrics are done,
// the result is Inconclusive (the rollout pauses for a person), never
// Successful.
package analysis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/migsafe/migsafe/rollout/gate"
	"github.com/migsafe/migsafe/rollout/judge"
)

// Analysis is a compiled analysis step. It implements gate.Gate.
type Analysis struct {
	name    string
	metrics []*metric
}

var _ gate.Gate = (*Analysis)(nil)

// Name is the step's name, or the metrics' names joined.
func (a *Analysis) Name() string { return a.name }

type metric struct {
	name                  string
	line                  int
	interval, delay       time.Duration
	count                 int
	failureLimit          int
	consecutiveErrorLimit int
	inconclusiveLimit     int
	measure               func(ctx context.Context, in input) outcome
}

// outcome is one measurement's phase and reason.
type outcome struct {
	phase         gate.Phase
	notEnoughData bool
	msg           string
	ms            []gate.Measurement
}

// Compile reads the body of an analysis step (a mapping with `metrics`
// and an optional `name`) and returns the gate. Errors are *Error values
// with the line and column in the plan, and unknown keys come with the
// closest known key.
func Compile(node *yaml.Node) (gate.Gate, error) {
	if node == nil {
		return nil, errors.New("analysis: no body")
	}
	if node.Kind == yaml.DocumentNode && len(node.Content) > 0 {
		node = node.Content[0]
	}
	if err := checkKeys(node, reflect.TypeFor[spec](), "analysis"); err != nil {
		return nil, err
	}
	var s spec
	if err := node.Decode(&s); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, errAt(node, "%v", err)
	}
	mnode := valueOf(node, "metrics")
	if len(s.Metrics) == 0 {
		return nil, errAt(mnode, "analysis needs at least one metric under metrics:")
	}
	a := &Analysis{name: s.Name}
	seen := map[string]bool{}
	var names []string
	for i, ms := range s.Metrics {
		n := mnode.Content[i]
		m, err := compileMetric(ms, n)
		if err != nil {
			return nil, err
		}
		if seen[m.name] {
			return nil, errAt(valueOf(n, "name"), "two metrics are named %q", m.name)
		}
		seen[m.name] = true
		names = append(names, m.name)
		a.metrics = append(a.metrics, m)
	}
	if a.name == "" {
		a.name = strings.Join(names, "+")
	}
	return a, nil
}

func compileMetric(s metricSpec, n *yaml.Node) (*metric, error) {
	if s.Name == "" {
		return nil, errAt(n, "a metric needs a name")
	}
	m := &metric{name: s.Name, line: n.Line, interval: time.Duration(s.Interval), delay: time.Duration(s.InitialDelay),
		count: s.Count, failureLimit: 0, consecutiveErrorLimit: 4, inconclusiveLimit: 0}
	if s.Count < 0 {
		return nil, errAt(valueOf(n, "count"), "count must not be negative")
	}
	if s.Count > 1 && m.interval == 0 {
		return nil, errAt(valueOf(n, "count"), "count %d needs an interval between the measurements", s.Count)
	}
	for _, l := range []struct {
		key string
		p   *int
		dst *int
	}{{"failureLimit", s.FailureLimit, &m.failureLimit}, {"consecutiveErrorLimit", s.ConsecutiveErrorLimit, &m.consecutiveErrorLimit}, {"inconclusiveLimit", s.InconclusiveLimit, &m.inconclusiveLimit}} {
		if l.p == nil {
			continue
		}
		if *l.p < 0 {
			return nil, errAt(valueOf(n, l.key), "%s must not be negative", l.key)
		}
		*l.dst = *l.p
	}
	pn := valueOf(n, "provider")
	kinds := 0
	p := s.Provider
	for _, set := range []bool{p.Prometheus != nil, p.Web != nil, p.Exec != nil, p.Log != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return nil, errAt(pn, "metric %q needs exactly one provider (prometheus, web, exec or log), found %d", s.Name, kinds)
	}
	relative := s.ErrorRate != nil || s.Latency != nil
	if relative {
		if s.ErrorRate != nil && s.Latency != nil {
			return nil, errAt(n, "metric %q has both errorRate and latency: make them two metrics", s.Name)
		}
		if p.Prometheus == nil {
			return nil, errAt(pn, "the errorRate and latency checks read Prometheus: give metric %q a prometheus provider", s.Name)
		}
		if s.SuccessCondition != "" || s.FailureCondition != "" {
			return nil, errAt(n, "metric %q: errorRate and latency judge canary against stable themselves; successCondition and failureCondition are for absolute checks", s.Name)
		}
		if p.Prometheus.Query != "" {
			return nil, errAt(valueOf(pn, "prometheus", "query"), "metric %q: with errorRate or latency the queries go there, not in provider.prometheus.query", s.Name)
		}
		client, err := newPromClient(p.Prometheus.Address, time.Duration(p.Prometheus.Timeout), p.Prometheus.BearerTokenEnv)
		if err != nil {
			return nil, errAt(valueOf(pn, "prometheus", "address"), "%v", err)
		}
		if s.ErrorRate != nil {
			return m, compileErrorRate(m, client, *s.ErrorRate, valueOf(n, "errorRate"))
		}
		return m, compileLatency(m, client, *s.Latency, valueOf(n, "latency"))
	}
	success, err := compileCondition(s.SuccessCondition)
	if err != nil {
		return nil, errAt(valueOf(n, "successCondition"), "successCondition: %v", err)
	}
	failure, err := compileCondition(s.FailureCondition)
	if err != nil {
		return nil, errAt(valueOf(n, "failureCondition"), "failureCondition: %v", err)
	}
	var f fetcher
	switch {
	case p.Prometheus != nil:
		ps := p.Prometheus
		client, err := newPromClient(ps.Address, time.Duration(ps.Timeout), ps.BearerTokenEnv)
		if err != nil {
			return nil, errAt(valueOf(pn, "prometheus", "address"), "%v", err)
		}
		if strings.TrimSpace(ps.Query) == "" {
			return nil, errAt(valueOf(pn, "prometheus"), "metric %q: prometheus needs a query", s.Name)
		}
		t, err := parseTemplate(s.Name, ps.Query)
		if err != nil {
			return nil, errAt(valueOf(pn, "prometheus", "query"), "query: %v", err)
		}
		pf := &promFetcher{client: client, query: t}
		if ps.Range != nil {
			pf.step = time.Duration(ps.Range.Step)
			if pf.step <= 0 {
				return nil, errAt(valueOf(pn, "prometheus", "range"), "a range query needs a step, e.g. range: {step: 15s}")
			}
		}
		f = pf
	case p.Web != nil:
		ws := p.Web
		if ws.URL == "" {
			return nil, errAt(valueOf(pn, "web"), "metric %q: web needs a url", s.Name)
		}
		t, err := parseTemplate(s.Name, ws.URL)
		if err != nil {
			return nil, errAt(valueOf(pn, "web", "url"), "url: %v", err)
		}
		path, err := parseJSONPath(ws.JSONPath)
		if err != nil {
			return nil, errAt(valueOf(pn, "web", "jsonPath"), "%v", err)
		}
		if ws.JSONPath != "" && path == nil {
			path = []pathElem{}
		}
		method := strings.ToUpper(ws.Method)
		if method == "" {
			method = "GET"
		}
		f = &webFetcher{method: method, url: t, headers: ws.Headers, body: ws.Body, timeout: orDefault(time.Duration(ws.Timeout), 10*time.Second), expect: ws.ExpectStatus, jsonPath: path}
	case p.Exec != nil:
		es := p.Exec
		if len(es.Argv) == 0 || es.Argv[0] == "" {
			return nil, errAt(valueOf(pn, "exec"), "metric %q: exec needs argv, the command and its arguments as a list (no shell)", s.Name)
		}
		ef := &execFetcher{timeout: orDefault(time.Duration(es.Timeout), 30*time.Second)}
		for _, a := range es.Argv {
			t, err := parseTemplate(s.Name, a)
			if err != nil {
				return nil, errAt(valueOf(pn, "exec", "argv"), "argv: %v", err)
			}
			ef.argv = append(ef.argv, t)
		}
		if success == nil && failure == nil {
			if success, err = compileCondition(DefaultExecCondition); err != nil {
				return nil, err
			}
		}
		f = ef
	case p.Log != nil:
		ls := p.Log
		if ls.Path == "" || ls.Pattern == "" {
			return nil, errAt(valueOf(pn, "log"), "metric %q: log needs a path and a pattern", s.Name)
		}
		re, err := regexp.Compile(ls.Pattern)
		if err != nil {
			return nil, errAt(valueOf(pn, "log", "pattern"), "pattern: %v", err)
		}
		layout := ls.TimeFormat
		if layout == "" {
			layout = time.RFC3339Nano
		}
		f = &logFetcher{path: ls.Path, pattern: re, layout: layout, fields: len(strings.Fields(layout))}
		if success == nil && failure == nil {
			if success, err = compileCondition(DefaultLogCondition); err != nil {
				return nil, err
			}
		}
	}
	m.measure = func(ctx context.Context, in input) outcome {
		return absolute(ctx, m.name, f, success, failure, in)
	}
	return m, nil
}

// The successCondition a metric gets when it has none: a command passes
// when it exits 0; a log passes while its matching lines per minute since
// the step began are at most twice the rate just before it, or 1 a minute.
const (
	DefaultExecCondition = "result == 0"
	DefaultLogCondition  = "result.perMinute <= max(1.0, 2 * result.beforePerMinute)"
)

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// absolute takes one measurement of an absolute check.
func absolute(ctx context.Context, name string, f fetcher, success, failure *condition, in input) outcome {
	result, value, err := f.fetch(ctx, in)
	ms := []gate.Measurement{{Metric: name, At: in.at, Value: value}}
	var fe *failedError
	switch {
	case errors.As(err, &fe):
		return outcome{phase: gate.Failed, msg: fe.msg, ms: ms}
	case err != nil:
		return outcome{phase: gate.Error, msg: err.Error(), ms: ms}
	}
	e := conditionEnv(result)
	if er, ok := result.(execResult); ok {
		e = env{Result: er.code, Stdout: er.stdout}
		result = er.code
	}
	phase, why := judgeEnv(success, failure, e)
	return outcome{phase: phase, msg: fmt.Sprintf("result %s: %s", show(result), why), ms: ms}
}

func show(v any) string {
	switch x := v.(type) {
	case []float64:
		parts := make([]string, len(x))
		for i, f := range x {
			parts[i] = fmt.Sprintf("%.4g", f)
		}
		if len(parts) > 8 {
			parts = append(parts[:8], fmt.Sprintf("… (%d values)", len(x)))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case float64:
		return fmt.Sprintf("%.4g", x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			if f, ok := x[k].(float64); ok {
				parts[i] = fmt.Sprintf("%s=%.4g", k, f)
			} else {
				parts[i] = fmt.Sprintf("%s=%v", k, x[k])
			}
		}
		return "{" + strings.Join(parts, " ") + "}"
	}
	return fmt.Sprintf("%v", v)
}

func compileErrorRate(m *metric, client *promClient, s errorRateSpec, n *yaml.Node) error {
	if s.Requests == "" || s.Errors == "" {
		return errAt(n, "errorRate needs both requests and errors queries, written with {{.Version}} where the version label goes")
	}
	reqT, err := parseTemplate(m.name, s.Requests)
	if err != nil {
		return errAt(valueOf(n, "requests"), "requests: %v", err)
	}
	errT, err := parseTemplate(m.name, s.Errors)
	if err != nil {
		return errAt(valueOf(n, "errors"), "errors: %v", err)
	}
	cfg := judge.ErrorRateConfig{MaxRatio: s.MaxRatio, Floor: s.Floor, Alpha: s.Alpha, MinRequests: s.MinRequests, MaxRate: s.MaxRate}
	if err := cfg.Validate(); err != nil {
		return errAt(n, "errorRate: %v", err)
	}
	var before bool
	switch s.Against {
	case "", "stable":
	case "before":
		before = true
		cfg.Subject, cfg.Reference = "stable", "the same time before"
	default:
		return errAt(valueOf(n, "against"), "against must be stable (the canary against stable in the same window) or before (stable against the same length of time before the step)")
	}
	m.measure = func(ctx context.Context, in input) outcome {
		counts := func(version string, at time.Time, in input) (judge.Counts, bool, error) {
			v := varsFor(in, version)
			rq, err := render(reqT, v)
			if err != nil {
				return judge.Counts{}, false, err
			}
			eq, err := render(errT, v)
			if err != nil {
				return judge.Counts{}, false, err
			}
			req, ok, err := client.one(ctx, rq, at)
			if err != nil || !ok {
				return judge.Counts{}, false, err
			}
			e, eok, err := client.one(ctx, eq, at)
			if err != nil {
				return judge.Counts{}, false, err
			}
			if !eok {
				e = 0 // no error series yet: no errors
			}
			return judge.Counts{Errors: e, Requests: req}, true, nil
		}
		if before {
			// The stable version since the step began against the
			// same length of time just before it: the same queries,
			// evaluated at the step's start.
			now, nok, err := counts(in.w.Stable, in.at, in)
			if err != nil {
				return outcome{phase: gate.Error, msg: err.Error()}
			}
			earlier := in
			earlier.at = in.start
			earlier.start = in.start.Add(-in.at.Sub(in.start))
			base, bok, err := counts(in.w.Stable, in.start, earlier)
			if err != nil {
				return outcome{phase: gate.Error, msg: err.Error()}
			}
			if !bok {
				return outcome{phase: gate.Error, msg: fmt.Sprintf("the requests query returned no data for %q before the step began: there is no baseline to compare with", in.w.Stable)}
			}
			if !nok {
				now = judge.Counts{}
			}
			r := judge.ErrorRate(now, base, cfg)
			ms := []gate.Measurement{
				{Metric: m.name, Version: "stable", At: in.at, Value: r.CanaryRate, Threshold: ptr(r.Threshold)},
				{Metric: m.name, Version: "baseline", At: in.at, Value: r.StableRate},
			}
			if r.Threshold == 0 || math.IsNaN(r.Threshold) {
				ms[0].Threshold = nil
			}
			return outcome{phase: r.Phase, notEnoughData: r.NotEnoughData, msg: r.Message, ms: ms}
		}
		c, cok, err := counts(in.w.Canary, in.at, in)
		if err != nil {
			return outcome{phase: gate.Error, msg: err.Error()}
		}
		st, sok, err := counts(in.w.Stable, in.at, in)
		if err != nil {
			return outcome{phase: gate.Error, msg: err.Error()}
		}
		if !sok {
			return outcome{phase: gate.Error, msg: fmt.Sprintf("the requests query returned no data for stable (%s=%q): the monitoring or the query is broken, not the canary", "version", in.w.Stable)}
		}
		if !cok {
			c = judge.Counts{}
		}
		r := judge.ErrorRate(c, st, cfg)
		th := r.Threshold
		ms := []gate.Measurement{
			{Metric: m.name, Version: "canary", At: in.at, Value: r.CanaryRate, Threshold: ptr(th)},
			{Metric: m.name, Version: "stable", At: in.at, Value: r.StableRate},
		}
		if r.Threshold == 0 || math.IsNaN(r.Threshold) {
			ms[0].Threshold = nil
		}
		return outcome{phase: r.Phase, notEnoughData: r.NotEnoughData, msg: r.Message, ms: ms}
	}
	return nil
}

func compileLatency(m *metric, client *promClient, s latencySpec, n *yaml.Node) error {
	if s.Query == "" {
		return errAt(n, "latency needs a query, written with {{.Version}} where the version label goes")
	}
	qT, err := parseTemplate(m.name, s.Query)
	if err != nil {
		return errAt(valueOf(n, "query"), "query: %v", err)
	}
	step := time.Duration(s.Step)
	if step <= 0 {
		return errAt(n, "latency needs a step: the spacing of the samples compared (at least the scrape interval), e.g. step: 15s")
	}
	cfg := judge.LatencyConfig{Confidence: s.Confidence, AllowedIncrease: s.AllowedIncrease, MinDelta: s.MinDelta, MinSamples: s.MinSamples}
	if err := cfg.Validate(); err != nil {
		return errAt(n, "latency: %v", err)
	}
	m.measure = func(ctx context.Context, in input) outcome {
		get := func(version string) ([]float64, error) {
			q, err := render(qT, varsFor(in, version))
			if err != nil {
				return nil, err
			}
			return client.series(ctx, q, in.start, in.at, step)
		}
		c, err := get(in.w.Canary)
		if err != nil {
			return outcome{phase: gate.Error, msg: err.Error()}
		}
		st, err := get(in.w.Stable)
		if err != nil {
			return outcome{phase: gate.Error, msg: err.Error()}
		}
		if st == nil && c != nil {
			return outcome{phase: gate.Error, msg: fmt.Sprintf("the latency query returned no data for stable (%q) but some for the canary: the monitoring or the query is broken", in.w.Stable)}
		}
		r := judge.Latency(c, st, cfg)
		lim := math.Max(r.StableMean*cfg.Defaults().AllowedIncrease, r.StableMean+cfg.MinDelta)
		ms := []gate.Measurement{
			{Metric: m.name, Version: "canary", At: in.at, Value: r.CanaryMean, Threshold: ptr(lim)},
			{Metric: m.name, Version: "stable", At: in.at, Value: r.StableMean},
		}
		if math.IsNaN(lim) {
			ms[0].Threshold = nil
		}
		return outcome{phase: r.Phase, notEnoughData: r.NotEnoughData, msg: r.Message, ms: ms}
	}
	return nil
}

func ptr(f float64) *float64 { return &f }

// finiteMeasurements drops the values that are not numbers (a query that
// returned nothing, a rate of zero requests) and thresholds that are not:
// the engine journals results as JSON, which has no NaN.
func finiteMeasurements(ms []gate.Measurement) []gate.Measurement {
	out := ms[:0:0]
	for _, m := range ms {
		if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			continue
		}
		if m.Threshold != nil && (math.IsNaN(*m.Threshold) || math.IsInf(*m.Threshold, 0)) {
			m.Threshold = nil
		}
		out = append(out, m)
	}
	return out
}

// metricRun is one metric's course through an Evaluate.
type metricRun struct {
	phase                                 gate.Phase
	msg                                   string
	ms                                    []gate.Measurement
	taken, failed, errs, inconc, consecEr int
}

var order = map[gate.Phase]int{gate.Successful: 0, gate.Inconclusive: 1, gate.Error: 2, gate.Failed: 3}

// Evaluate runs the analysis over the window (see the package
// documentation). It returns when every metric is done, when one metric
// is not Successful, or when ctx ends.
func (a *Analysis) Evaluate(ctx context.Context, w gate.Window) gate.Result {
	start := w.Start
	if start.IsZero() {
		start = time.Now()
	}
	stop := make(chan struct{})
	var once sync.Once
	runs := make([]metricRun, len(a.metrics))
	var wg sync.WaitGroup
	for i, m := range a.metrics {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i] = m.run(ctx, stop, w, start)
			if runs[i].phase != gate.Successful {
				once.Do(func() { close(stop) })
			}
		}()
	}
	wg.Wait()
	res := gate.Result{Phase: gate.Successful}
	worst := -1
	var msgs []string
	for i, r := range runs {
		res.Measurements = append(res.Measurements, r.ms...)
		if worst < 0 || order[r.phase] > order[runs[worst].phase] {
			worst = i
		}
		msgs = append(msgs, fmt.Sprintf("%s: %s", a.metrics[i].name, r.msg))
	}
	slices.SortStableFunc(res.Measurements, func(x, y gate.Measurement) int { return x.At.Compare(y.At) })
	res.Phase = runs[worst].phase
	if res.Phase == gate.Successful {
		res.Message = strings.Join(msgs, "; ")
	} else {
		res.Message = fmt.Sprintf("%s: %s", a.metrics[worst].name, runs[worst].msg)
	}
	return res
}

// run takes the metric's measurements. stop closes when another metric
// has decided the analysis.
func (m *metric) run(ctx context.Context, stop <-chan struct{}, w gate.Window, start time.Time) metricRun {
	var r metricRun
	interrupted := func() metricRun {
		r.phase = gate.Inconclusive
		r.msg = fmt.Sprintf("the analysis was interrupted (%v) after %d of %s measurements; last: %s", context.Cause(ctx), r.taken, countText(m.count), orNone(r.msg))
		return r
	}
	stopped := func() metricRun {
		r.phase = gate.Successful
		r.msg = fmt.Sprintf("stopped after %d measurements when another metric decided; last: %s", r.taken, orNone(r.msg))
		return r
	}
	wait := func(d time.Duration) int {
		if d <= 0 {
			select {
			case <-ctx.Done():
				return 1
			default:
				return 0
			}
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return 1
		case <-stop:
			return 2
		case <-t.C:
			return 0
		}
	}
	switch wait(m.delay) {
	case 1:
		return interrupted()
	case 2:
		return stopped()
	}
	for {
		at := time.Now()
		o := m.measure(ctx, input{w: w, start: start, at: at})
		if ctx.Err() != nil && o.phase == gate.Error {
			return interrupted()
		}
		r.ms = append(r.ms, finiteMeasurements(o.ms)...)
		r.msg = o.msg
		if o.phase != gate.Error {
			r.taken++
			r.consecEr = 0
		}
		last := (m.count > 0 && r.taken >= m.count) ||
			(m.count == 0 && (m.interval == 0 || (!w.End.IsZero() && !at.Add(m.interval).Before(w.End))))
		switch o.phase {
		case gate.Failed:
			r.failed++
		case gate.Error:
			r.errs++
			r.consecEr++
		case gate.Inconclusive:
			if !o.notEnoughData || last {
				r.inconc++
			}
		}
		switch {
		case r.failed > m.failureLimit:
			r.phase = gate.Failed
			r.msg = fmt.Sprintf("%d failed measurement(s), more than failureLimit %d: %s", r.failed, m.failureLimit, o.msg)
			return r
		case o.phase == gate.Error && m.interval == 0:
			// A one-shot metric: the error is the engine's to count
			// (it measures again after its error interval).
			r.phase = gate.Error
			r.msg = "the measurement failed: " + o.msg
			return r
		case r.consecEr > m.consecutiveErrorLimit:
			r.phase = gate.Failed
			r.msg = fmt.Sprintf("%d measurement errors in a row, more than consecutiveErrorLimit %d: %s", r.consecEr, m.consecutiveErrorLimit, o.msg)
			return r
		case r.inconc > m.inconclusiveLimit:
			r.phase = gate.Inconclusive
			r.msg = fmt.Sprintf("%d inconclusive measurement(s), more than inconclusiveLimit %d: %s", r.inconc, m.inconclusiveLimit, o.msg)
			return r
		case last && o.phase != gate.Error:
			r.phase = gate.Successful
			r.msg = fmt.Sprintf("%d measurement(s), %d failed, %d errors; last: %s", r.taken, r.failed, r.errs, o.msg)
			return r
		}
		switch wait(m.interval) {
		case 1:
			return interrupted()
		case 2:
			return stopped()
		}
	}
}

func countText(n int) string {
	if n == 0 {
		return "unlimited"
	}
	return fmt.Sprint(n)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
