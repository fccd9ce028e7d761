package flags

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// roundTrip answers every request with a fixed status and body.
type roundTrip struct {
	status int
	body   []byte
}

func (r roundTrip) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: r.status, Body: io.NopCloser(bytes.NewReader(r.body)), Header: http.Header{}, Request: req}, nil
}

// A flag service's answer is input migsafe does not control. FuzzOFREPAnswer
// gives the OFREP driver any status and body: Get returns a state or an
// error, never panics; a flag is only on when the answer said true; the
// token never appears in an error.
func FuzzOFREPAnswer(f *testing.F) {
	f.Add(200, []byte(`{"key":"new-checkout","value":true,"reason":"STATIC","variant":"on"}`))
	f.Add(200, []byte(`{"key":"new-checkout","value":false}`))
	f.Add(200, []byte(`{"key":"new-checkout","value":"yes"}`))
	f.Add(200, []byte(`{"value":null}`))
	f.Add(404, []byte(`{"key":"x","errorCode":"FLAG_NOT_FOUND","errorDetails":"no such flag"}`))
	f.Add(400, []byte(`{"errorCode":"PARSE_ERROR","errorDetails":"\u001b]0;x\u0007\n::error::injected"}`))
	f.Add(500, []byte(strings.Repeat("é", 400)))
	f.Add(429, []byte(`<html>rate limited</html>`))
	f.Add(200, []byte(strings.Repeat(`{"value":`, 5000)))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		o := &OFREP{URL: "http://127.0.0.1:1", Token: "tok-s3cret", Client: &http.Client{Transport: roundTrip{status, body}}}
		st, err := o.Get(context.Background(), "new-checkout")
		if err != nil {
			if strings.Contains(err.Error(), "tok-s3cret") {
				t.Fatalf("the token is in the error: %v", err)
			}
			return
		}
		if st.Enabled && (status != 200 || !bytes.Contains(body, []byte("true"))) {
			t.Fatalf("on without a true answer (status %d): %q", status, body)
		}
	})
}
