package analysis

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/migsafe/migsafe/rollout/gate"
)

// input is what one measurement is taken for: the window, the time the
// step began and the time of this measurement.
type input struct {
	w     gate.Window
	start time.Time
	at    time.Time
}

// vars are the values a query, URL or argv template can use:
// {{.Canary}}, {{.Stable}}, {{.Weight}}, {{.Range}} (the time since the step
// began as a Prometheus duration, for increase(x[{{.Range}}])) and, in the
// canary-vs-stable checks, {{.Version}} (the version being queried).
type vars struct {
	Version string
	Canary  string
	Stable  string
	Weight  int
	Range   string
}

func varsFor(in input, version string) vars {
	return vars{Version: version, Canary: in.w.Canary, Stable: in.w.Stable, Weight: in.w.Weight, Range: promRange(in.at.Sub(in.start))}
}

// promRange renders d as whole seconds, at least 1s, rounded up.
func promRange(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10) + "s"
}

func parseTemplate(name, text string) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, err
	}
	// Render once with sample values so that a wrong field name is a plan
	// error, not a measurement error.
	if _, err := render(t, vars{Version: "canary", Canary: "canary", Stable: "stable", Weight: 5, Range: "60s"}); err != nil {
		return nil, err
	}
	return t, nil
}

func render(t *template.Template, v vars) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

// failedError is a measurement that was taken and is bad by itself: a
// query that returned no data or NaN (Flagger counts these as failed), a
// health check that answered with the wrong status.
type failedError struct{ msg string }

func (e *failedError) Error() string { return e.msg }

// fetcher takes one measurement for an absolute check. value is the number
// kept for the report (NaN when the result is not a number).
type fetcher interface {
	fetch(ctx context.Context, in input) (result any, value float64, err error)
}

// ---- Prometheus ----

type promClient struct {
	base    *url.URL
	http    *http.Client
	timeout time.Duration
}

func newPromClient(address string, timeout time.Duration, bearerTokenEnv string) (*promClient, error) {
	u, err := url.Parse(address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("address must be an http:// or https:// URL of the Prometheus server")
	}
	rt := http.DefaultTransport
	if bearerTokenEnv != "" {
		rt = &bearer{envVar: bearerTokenEnv, next: rt}
	}
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	return &promClient{base: u, http: &http.Client{Transport: rt}, timeout: timeout}, nil
}

// bearer adds "Authorization: Bearer $VAR" to each request, reading the
// variable when the request is made: the token lives in the environment,
// never in the plan, and never reaches a message.
type bearer struct {
	envVar string
	next   http.RoundTripper
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	tok := os.Getenv(b.envVar)
	if tok == "" {
		return nil, fmt.Errorf("the environment variable %s (bearerTokenEnv) is empty", b.envVar)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	return b.next.RoundTrip(r)
}

// instant runs an instant query at time at and returns its values: one per
// series of a vector, or the scalar.
func (p *promClient) instant(ctx context.Context, q string, at time.Time) ([]float64, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	vs, scalar, typ, err := p.query(ctx, q, at)
	if err != nil {
		return nil, false, fmt.Errorf("prometheus query %q: %w", q, err)
	}
	if typ != "vector" && typ != "scalar" {
		return nil, false, fmt.Errorf("prometheus query %q returned a %s, want a vector or a scalar", q, typ)
	}
	return vs, scalar, nil
}

// one runs an instant query that must return at most one series; ok is
// false when it returned nothing or NaN.
func (p *promClient) one(ctx context.Context, q string, at time.Time) (float64, bool, error) {
	vs, _, err := p.instant(ctx, q, at)
	if err != nil {
		return math.NaN(), false, err
	}
	if len(vs) > 1 {
		return math.NaN(), false, fmt.Errorf("prometheus query %q returned %d series, want one (wrap it in sum())", q, len(vs))
	}
	if len(vs) == 0 || math.IsNaN(vs[0]) {
		return math.NaN(), false, nil
	}
	return vs[0], true, nil
}

// series runs a range query from start to end and returns the values of
// its one series (nil when there is none).
func (p *promClient) series(ctx context.Context, q string, start, end time.Time, step time.Duration) ([]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	if !end.After(start) {
		start = end.Add(-step)
	}
	m, typ, err := p.queryRange(ctx, q, start, end, step)
	if err != nil {
		return nil, fmt.Errorf("prometheus range query %q: %w", q, err)
	}
	if typ != "matrix" {
		return nil, fmt.Errorf("prometheus range query %q returned a %s, want a matrix", q, typ)
	}
	if len(m) > 1 {
		return nil, fmt.Errorf("prometheus range query %q returned %d series, want one (aggregate it, e.g. sum by (le) inside histogram_quantile)", q, len(m))
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m[0], nil
}

type promFetcher struct {
	client *promClient
	query  *template.Template
	step   time.Duration // > 0: range query over the window
}

// fetch returns what Argo's Prometheus provider gives `result`: a list of
// numbers (one per series of a vector, or the points of a range query's
// one series) or a number for a scalar. No data or a NaN is a failed
// measurement.
func (f *promFetcher) fetch(ctx context.Context, in input) (any, float64, error) {
	q, err := render(f.query, varsFor(in, in.w.Canary))
	if err != nil {
		return nil, math.NaN(), err
	}
	if f.step > 0 {
		vs, err := f.client.series(ctx, q, in.start, in.at, f.step)
		if err != nil {
			return nil, math.NaN(), err
		}
		vs = finite(vs)
		if len(vs) == 0 {
			return nil, math.NaN(), &failedError{fmt.Sprintf("prometheus range query %q returned no data", q)}
		}
		return vs, vs[len(vs)-1], nil
	}
	vs, scalar, err := f.client.instant(ctx, q, in.at)
	if err != nil {
		return nil, math.NaN(), err
	}
	if len(vs) == 0 {
		return nil, math.NaN(), &failedError{fmt.Sprintf("prometheus query %q returned no data", q)}
	}
	for _, v := range vs {
		if math.IsNaN(v) {
			return nil, math.NaN(), &failedError{fmt.Sprintf("prometheus query %q returned NaN", q)}
		}
	}
	if scalar {
		return vs[0], vs[0], nil
	}
	return vs, vs[0], nil
}

func finite(xs []float64) []float64 {
	out := xs[:0:0]
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	return out
}

// ---- HTTP health check ----

type webFetcher struct {
	method   string
	url      *template.Template
	headers  map[string]string
	body     string
	timeout  time.Duration
	expect   int
	jsonPath []pathElem
}

type pathElem struct {
	key   string
	index int // >= 0 for [n]
}

func parseJSONPath(p string) ([]pathElem, error) {
	p = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(p), "$"), ".")
	if p == "" {
		return nil, nil
	}
	var out []pathElem
	for _, part := range strings.Split(p, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			out = append(out, pathElem{key: name, index: -1})
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			n, err := strconv.Atoi(idx)
			if !ok || err != nil || n < 0 {
				return nil, fmt.Errorf("jsonPath %q: %q is not an index such as [0]", p, "["+rest)
			}
			out = append(out, pathElem{index: n})
			rest = strings.TrimPrefix(after, "[")
		}
		if name == "" && !strings.Contains(part, "[") {
			return nil, fmt.Errorf("jsonPath %q has an empty element", p)
		}
	}
	return out, nil
}

func (f *webFetcher) fetch(ctx context.Context, in input) (any, float64, error) {
	u, err := render(f.url, varsFor(in, in.w.Canary))
	if err != nil {
		return nil, math.NaN(), err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var body io.Reader
	if f.body != "" {
		body = strings.NewReader(f.body)
	}
	req, err := http.NewRequestWithContext(ctx, f.method, u, body)
	if err != nil {
		return nil, math.NaN(), err
	}
	for k, v := range f.headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, math.NaN(), err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, math.NaN(), fmt.Errorf("reading the response of %s: %w", redactURL(u), err)
	}
	status := resp.StatusCode
	if (f.expect != 0 && status != f.expect) || (f.expect == 0 && (status < 200 || status > 299)) {
		want := "2xx"
		if f.expect != 0 {
			want = strconv.Itoa(f.expect)
		}
		return status, float64(status), &failedError{fmt.Sprintf("%s %s answered %d, want %s", f.method, redactURL(u), status, want)}
	}
	if f.jsonPath == nil {
		return status, float64(status), nil
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, math.NaN(), &failedError{fmt.Sprintf("%s %s: the body is not JSON: %v", f.method, redactURL(u), err)}
	}
	v, err := walkJSON(doc, f.jsonPath)
	if err != nil {
		return nil, math.NaN(), &failedError{fmt.Sprintf("%s %s: %v", f.method, redactURL(u), err)}
	}
	num, nerr := toFloat(v)
	if nerr != nil {
		num = math.NaN()
	}
	return v, num, nil
}

func walkJSON(doc any, path []pathElem) (any, error) {
	cur := doc
	for _, e := range path {
		if e.index >= 0 {
			a, ok := cur.([]any)
			if !ok || e.index >= len(a) {
				return nil, fmt.Errorf("no element [%d] in the JSON body", e.index)
			}
			cur = a[e.index]
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("no field %q in the JSON body", e.key)
		}
		if cur, ok = m[e.key]; !ok {
			return nil, fmt.Errorf("no field %q in the JSON body", e.key)
		}
	}
	return cur, nil
}

// redactURL drops the password and the query string (where tokens travel)
// from a URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.Redacted()
}

// ---- exec ----

type execFetcher struct {
	argv    []*template.Template
	timeout time.Duration
}

// fetch runs the command (argv, no shell) and returns its exit code. A
// command that cannot start or that times out is an Error.
func (f *execFetcher) fetch(ctx context.Context, in input) (any, float64, error) {
	v := varsFor(in, in.w.Canary)
	args := make([]string, len(f.argv))
	for i, t := range f.argv {
		s, err := render(t, v)
		if err != nil {
			return nil, math.NaN(), err
		}
		args[i] = s
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "MIGSAFE_CANARY="+in.w.Canary, "MIGSAFE_STABLE="+in.w.Stable, "MIGSAFE_WEIGHT="+strconv.Itoa(in.w.Weight))
	var out tailBuffer
	var stdout limitBuffer
	cmd.Stdout, cmd.Stderr = io.MultiWriter(&stdout, &out), &out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, math.NaN(), fmt.Errorf("%s did not finish within %s", args[0], f.timeout)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return execResult{code: 0, stdout: strings.TrimSpace(stdout.String())}, 0, nil
	case errors.As(err, &ee) && ee.Exited():
		code := ee.ExitCode()
		return execResult{code: code, stdout: strings.TrimSpace(stdout.String())}, float64(code), nil
	}
	return nil, math.NaN(), fmt.Errorf("running %s: %w (output: %s)", args[0], err, out.String())
}

// execResult is what an exec check gives its conditions: result is the
// exit code and stdout the standard output (its first 64 KiB, trimmed).
type execResult struct {
	code   int
	stdout string
}

// limitBuffer keeps the first 64 KiB written to it.
type limitBuffer struct{ b []byte }

func (l *limitBuffer) Write(p []byte) (int, error) {
	if room := 64<<10 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitBuffer) String() string { return string(l.b) }

// tailBuffer keeps the last 1 KiB written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 1024 {
		t.b = t.b[len(t.b)-1024:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return strings.TrimSpace(string(t.b)) }

// ---- log file ----

type logFetcher struct {
	path    string
	pattern *regexp.Regexp
	layout  string
	fields  int // how many space-separated fields the timestamp spans
}

// fetch counts the lines matching the pattern since the step began and in
// the same length of time just before it, from the timestamps at the start
// of the lines (a line without one, such as a stack trace, belongs to the
// line above it). result is a map:
//
//	count            matching lines since the step began
//	before           matching lines in the same span just before
//	perMinute        count per minute
//	beforePerMinute  before per minute
//	minutes          the span in minutes
func (f *logFetcher) fetch(_ context.Context, in input) (any, float64, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return nil, math.NaN(), err
	}
	defer fh.Close()
	// Only the end of a large log can hold the two windows; read its last
	// logTail bytes, from the first whole line.
	skipFirst := false
	if st, err := fh.Stat(); err == nil && st.Size() > logTail {
		if _, err := fh.Seek(st.Size()-logTail, io.SeekStart); err != nil {
			return nil, math.NaN(), fmt.Errorf("reading %s: %w", f.path, err)
		}
		skipFirst = true
	}
	span := in.at.Sub(in.start)
	if span < time.Second {
		span = time.Second
	}
	from := in.start.Add(-span)
	var now, before int
	var ts time.Time
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if skipFirst {
			skipFirst = false
			continue
		}
		if t, ok := f.stamp(line); ok {
			ts = t
		}
		if ts.IsZero() || ts.Before(from) || ts.After(in.at) || !f.pattern.Match(line) {
			continue
		}
		if ts.Before(in.start) {
			before++
		} else {
			now++
		}
	}
	if err := sc.Err(); err != nil {
		return nil, math.NaN(), fmt.Errorf("reading %s: %w", f.path, err)
	}
	min := span.Minutes()
	per := float64(now) / min
	res := map[string]any{
		"count": now, "before": before, "minutes": min,
		"perMinute": per, "beforePerMinute": float64(before) / min,
	}
	return res, per, nil
}

// logTail is how much of the end of a log file a measurement reads.
var logTail int64 = 64 << 20

func (f *logFetcher) stamp(line []byte) (time.Time, bool) {
	fs := bytes.Fields(line)
	if len(fs) < f.fields {
		return time.Time{}, false
	}
	s := string(bytes.Join(fs[:f.fields], []byte(" ")))
	s = strings.Trim(s, "[]")
	t, err := time.Parse(f.layout, s)
	return t, err == nil
}
