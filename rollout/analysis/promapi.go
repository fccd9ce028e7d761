package analysis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The client of Prometheus's HTTP query API (/api/v1/query and
// /api/v1/query_range, https://prometheus.io/docs/prometheus/latest/querying/api/):
// the two calls the gates make, written here rather than taken from
// client_golang, whose packages register protobuf descriptors and JSON
// codecs at every start of migsafe, a pre-commit lint included (package
// initialisation took 5.5 ms with it and 4.1 ms without, measured with
// GODEBUG=inittrace=1).

// maxPromResponse bounds the body read from Prometheus: a gate's query
// returns a few series, not megabytes.
const maxPromResponse = 32 << 20

// promResponse is the API's envelope.
type promResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

// promData is the data of a query's answer: resultType says how to read
// result.
type promData struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

// promSeries is a series of a vector (value) or a matrix (values); a
// native histogram sample comes as histogram(s) instead.
type promSeries struct {
	Value      []json.RawMessage   `json:"value"`
	Values     [][]json.RawMessage `json:"values"`
	Histogram  json.RawMessage     `json:"histogram"`
	Histograms json.RawMessage     `json:"histograms"`
}

// call sends a request to an API endpoint as a form (POST), again as a
// query string (GET) when the server refuses POST (a read-only proxy
// answers 405 Method Not Allowed or 501 Not Implemented), and returns the
// data of a success.
func (p *promClient) call(ctx context.Context, endpoint string, args url.Values) (promData, error) {
	u := *p.base
	u.Path = strings.TrimSuffix(u.Path, "/") + endpoint
	body := args.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(body))
	if err != nil {
		return promData{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	data, code, err := p.do(req)
	if code == http.StatusMethodNotAllowed || code == http.StatusNotImplemented {
		u.RawQuery = body
		if req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil); err != nil {
			return promData{}, err
		}
		data, _, err = p.do(req)
	}
	return data, err
}

// do sends req and reads the envelope: the data of a success, else an
// error with the API's type and message, or the HTTP status when the
// answer is not the API's (a proxy's 401).
func (p *promClient) do(req *http.Request) (promData, int, error) {
	resp, err := p.http.Do(req)
	if err != nil {
		return promData{}, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxPromResponse+1))
	if err != nil {
		return promData{}, resp.StatusCode, fmt.Errorf("reading the answer: %w", err)
	}
	if len(b) > maxPromResponse {
		return promData{}, resp.StatusCode, fmt.Errorf("the answer is larger than %d MiB", maxPromResponse>>20)
	}
	var env promResponse
	jsonErr := json.Unmarshal(b, &env)
	switch {
	case jsonErr == nil && env.Status == "error":
		// the API's own error (400 bad_data, 422 execution, 503 timeout)
		msg := env.Error
		if msg == "" {
			msg = "HTTP " + resp.Status
		}
		if env.ErrorType != "" {
			msg = env.ErrorType + ": " + msg
		}
		return promData{}, resp.StatusCode, errors.New(msg)
	case resp.StatusCode/100 != 2:
		return promData{}, resp.StatusCode, fmt.Errorf("HTTP %s", resp.Status)
	case jsonErr != nil:
		return promData{}, resp.StatusCode, fmt.Errorf("the answer is not the query API's JSON: %w", jsonErr)
	case env.Status != "success":
		return promData{}, resp.StatusCode, fmt.Errorf("the answer's status is %q, want success", env.Status)
	}
	var data promData
	if err := json.Unmarshal(env.Data, &data); err != nil {
		return promData{}, resp.StatusCode, fmt.Errorf("the answer's data: %w", err)
	}
	return data, resp.StatusCode, nil
}

// promSample reads a sample, [time, "value"], as its value: a number
// written as a string, "NaN", "+Inf" or "-Inf" included.
func promSample(pair []json.RawMessage) (float64, error) {
	if len(pair) != 2 {
		return 0, fmt.Errorf("a sample of %d items, want [time, value]", len(pair))
	}
	var s string
	if err := json.Unmarshal(pair[1], &s); err != nil {
		return 0, fmt.Errorf("a sample value %s is not a string", pair[1])
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("a sample value %q is not a number", s)
	}
	return v, nil
}

// promTime is t as the API takes it: Unix seconds.
func promTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', -1, 64)
}

// promSeconds is d as the API takes a duration: seconds.
func promSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// query runs an instant query at time at: the values of a vector's series,
// in the order given, or of a scalar (scalar true).
func (p *promClient) query(ctx context.Context, q string, at time.Time) (vs []float64, scalar bool, resultType string, err error) {
	data, err := p.call(ctx, "/api/v1/query", url.Values{"query": {q}, "time": {promTime(at)}, "timeout": {promSeconds(p.timeout)}})
	if err != nil {
		return nil, false, "", err
	}
	switch data.ResultType {
	case "vector":
		var series []promSeries
		if err := json.Unmarshal(data.Result, &series); err != nil {
			return nil, false, "", fmt.Errorf("the vector: %w", err)
		}
		vs = make([]float64, len(series))
		for i, s := range series {
			if s.Value == nil && s.Histogram != nil {
				return nil, false, "", errors.New("it returned a native histogram; query a number of it (histogram_quantile, histogram_count)")
			}
			if vs[i], err = promSample(s.Value); err != nil {
				return nil, false, "", err
			}
		}
		return vs, false, "vector", nil
	case "scalar":
		var pair []json.RawMessage
		if err := json.Unmarshal(data.Result, &pair); err != nil {
			return nil, false, "", fmt.Errorf("the scalar: %w", err)
		}
		v, err := promSample(pair)
		if err != nil {
			return nil, false, "", err
		}
		return []float64{v}, true, "scalar", nil
	}
	return nil, false, data.ResultType, nil
}

// queryRange runs a range query: the values of each series of the matrix.
func (p *promClient) queryRange(ctx context.Context, q string, start, end time.Time, step time.Duration) (series [][]float64, resultType string, err error) {
	data, err := p.call(ctx, "/api/v1/query_range", url.Values{
		"query": {q}, "start": {promTime(start)}, "end": {promTime(end)},
		"step": {promSeconds(step)}, "timeout": {promSeconds(p.timeout)},
	})
	if err != nil {
		return nil, "", err
	}
	if data.ResultType != "matrix" {
		return nil, data.ResultType, nil
	}
	var ss []promSeries
	if err := json.Unmarshal(data.Result, &ss); err != nil {
		return nil, "", fmt.Errorf("the matrix: %w", err)
	}
	series = make([][]float64, len(ss))
	for i, s := range ss {
		if s.Values == nil && s.Histograms != nil {
			return nil, "", errors.New("it returned native histograms; query a number of them (histogram_quantile, histogram_count)")
		}
		series[i] = make([]float64, len(s.Values))
		for j, pair := range s.Values {
			if series[i][j], err = promSample(pair); err != nil {
				return nil, "", err
			}
		}
	}
	return series, "matrix", nil
}
