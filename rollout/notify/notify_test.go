package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// slackLike is a webhook receiver that validates the body as Slack's
// incoming webhooks do: JSON with a non-empty text, and blocks (when
// present) of known types with mrkdwn or plain_text texts; anything else is
// 400 invalid_payload.
func slackLike(t *testing.T) (*httptest.Server, func() []SlackMessage) {
	var mu sync.Mutex
	var got []SlackMessage
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m SlackMessage
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || dec.Decode(&m) != nil || m.Text == "" {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		for _, b := range m.Blocks {
			if b.Type != "section" || (b.Text.Type != "mrkdwn" && b.Text.Type != "plain_text") || b.Text.Text == "" {
				http.Error(w, "invalid_blocks", http.StatusBadRequest)
				return
			}
		}
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []SlackMessage { mu.Lock(); defer mu.Unlock(); return append([]SlackMessage(nil), got...) }
}

var ev = Event{Kind: "rolled_back", Run: "r-42", Service: "checkout", At: time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC),
	Summary: "gate error-rate failed at 5%: rolled back", Details: []string{"canary 4.8% vs tolerated 1.5%"}}

func TestWebhookAndExec(t *testing.T) {
	srv, got := slackLike(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "event.json")
	// The test's stand-in for a user's notify script: it saves its stdin.
	script := filepath.Join(dir, "notify")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ncat > \""+out+"\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	errs := Send(context.Background(), []Sink{&Webhook{URL: srv.URL + "/services/T000/B000/XXXX"}, &Exec{Argv: []string{script}}}, ev, time.Second)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	msgs := got()
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0].Text, "[rolled_back] gate error-rate failed at 5%: rolled back (service checkout, run r-42)\n• canary 4.8%") {
		t.Errorf("webhook got %+v", msgs)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var back Event
	if err := json.Unmarshal(data, &back); err != nil || back.Kind != "rolled_back" || back.Run != "r-42" || !back.At.Equal(ev.At) {
		t.Errorf("exec sink got %s (%v)", data, err)
	}
}

// A failing or hanging sink costs at most the timeout, does not stop the
// others, and its error does not show the webhook's secret path.
func TestFailingSinks(t *testing.T) {
	good, got := slackLike(t)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
	}))
	defer hang.Close()
	defer close(release)
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	sinks := []Sink{
		&Webhook{URL: hang.URL + "/services/SECRET"},
		&Webhook{URL: downURL + "/services/SECRET"},
		&Webhook{URL: good.URL + "/x"},
		&Exec{Argv: []string{"false"}},
		&Exec{Argv: []string{"sleep", "10"}},
	}
	t0 := time.Now()
	errs := Send(context.Background(), sinks, ev, 300*time.Millisecond)
	took := time.Since(t0)
	if took > 2*time.Second {
		t.Errorf("Send took %s with a 300ms timeout", took)
	}
	if len(errs) != 4 || len(got()) != 1 {
		t.Errorf("%d errors (%v), %d delivered", len(errs), errs, len(got()))
	}
	refused := false
	for _, err := range errs {
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("secret in %v", err)
		}
		refused = refused || strings.Contains(err.Error(), "connection refused")
	}
	if !refused {
		t.Errorf("no error says why the down webhook failed: %v", errs)
	}
	// Go returns at once.
	t0 = time.Now()
	done := make(chan []error, 1)
	Go(context.Background(), sinks[:1], ev, 300*time.Millisecond, func(e []error) { done <- e })
	if d := time.Since(t0); d > 50*time.Millisecond {
		t.Errorf("Go blocked for %s", d)
	}
	if e := <-done; len(e) != 1 {
		t.Errorf("Go: %v", e)
	}
}
