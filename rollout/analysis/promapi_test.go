package analysis

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestPromSample: a sample's value is a number written as a string, the
// special values included; anything else is an error.
func TestPromSample(t *testing.T) {
	for raw, want := range map[string]float64{`[1.5,"2"]`: 2, `[1,"-0.25"]`: -0.25, `[1,"+Inf"]`: math.Inf(1), `[1,"-Inf"]`: math.Inf(-1), `[1,"1e-3"]`: 0.001} {
		var pair []json.RawMessage
		if err := json.Unmarshal([]byte(raw), &pair); err != nil {
			t.Fatal(err)
		}
		if got, err := promSample(pair); err != nil || got != want {
			t.Errorf("%s: %v, %v; want %v", raw, got, err, want)
		}
	}
	var pair []json.RawMessage
	_ = json.Unmarshal([]byte(`[1,"NaN"]`), &pair)
	if got, err := promSample(pair); err != nil || !math.IsNaN(got) {
		t.Errorf(`"NaN": %v, %v`, got, err)
	}
	for _, raw := range []string{`[1,2]`, `[1,"x"]`, `[1]`, `[1,"2",3]`} {
		_ = json.Unmarshal([]byte(raw), &pair)
		if _, err := promSample(pair); err == nil {
			t.Errorf("%s: no error", raw)
		}
	}
}

// TestPromNativeHistogram: a native histogram sample (the API's
// "histogram" in place of "value", which Prometheus 2.42 sends only
// behind a feature flag) is refused with a message saying what to query,
// not read as a number it is not.
func TestPromNativeHistogram(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1,{"count":"3","sum":"1.5","buckets":[]}]}]}}`
		if strings.HasSuffix(r.URL.Path, "query_range") {
			body = `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"histograms":[[1,{"count":"3","sum":"1.5"}]]}]}}`
		}
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	p, err := newPromClient(srv.URL, time.Second, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.instant(context.Background(), "h", time.Now()); err == nil || !strings.Contains(err.Error(), "native histogram") {
		t.Errorf("instant: %v", err)
	}
	if _, err := p.series(context.Background(), "h", time.Now().Add(-time.Minute), time.Now(), time.Second); err == nil || !strings.Contains(err.Error(), "native histograms") {
		t.Errorf("range: %v", err)
	}
}

// TestPromResponseBound: an answer larger than maxPromResponse is refused
// with a message, not read whole into memory.
func TestPromResponseBound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]},"pad":"`))
		_, _ = w.Write([]byte(strings.Repeat("x", maxPromResponse)))
		_, _ = w.Write([]byte(`"}`))
	}))
	defer srv.Close()
	p, err := newPromClient(srv.URL, 5*time.Second, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.instant(context.Background(), "up", time.Now()); err == nil || !strings.Contains(err.Error(), "larger than 32 MiB") {
		t.Errorf("an answer over the bound: %v", err)
	}
}
