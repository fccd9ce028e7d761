// Package notify tells people what a rollout did: a webhook that posts
// JSON in the shape Slack incoming webhooks accept, and a command that
// reads the event as JSON on stdin. A sink that fails or hangs never
// blocks or slows a rollback: Send bounds every sink by a timeout and runs
// them at once, and Go sends in the background.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Event is what happened.
type Event struct {
	// Kind: readiness, gate_failed, paused, rolling_back, rolled_back,
	// rollback_failed, succeeded, post_rollback.
	Kind    string    `json:"event"`
	Run     string    `json:"run"`
	Service string    `json:"service,omitempty"`
	At      time.Time `json:"at"`
	// Summary is one line; Details are more lines (a gate's numbers, a
	// checklist), shown under it.
	Summary string   `json:"summary"`
	Details []string `json:"details,omitempty"`
}

// Text renders the event as the message people read.
func (e Event) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s", e.Kind, e.Summary)
	if e.Service != "" || e.Run != "" {
		fmt.Fprintf(&b, " (service %s, run %s)", orDash(e.Service), orDash(e.Run))
	}
	for _, d := range e.Details {
		b.WriteString("\n• " + d)
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Sink delivers events.
type Sink interface {
	// Name identifies the sink in errors without its secrets (a webhook
	// URL is a credential).
	Name() string
	Send(ctx context.Context, e Event) error
}

// Webhook posts the event to an incoming-webhook URL as Slack expects it:
// {"text": …, "blocks": [{"type": "section", "text": {"type": "mrkdwn", …}}]}.
type Webhook struct {
	URL    string
	Header map[string]string
	Client *http.Client
}

// Name is the webhook's host: the path of a Slack webhook is its secret.
func (w *Webhook) Name() string {
	u, err := url.Parse(w.URL)
	if err != nil || u.Host == "" {
		return "webhook"
	}
	return "webhook " + u.Host
}

// SlackMessage is the body Webhook posts.
type SlackMessage struct {
	Text   string       `json:"text"`
	Blocks []SlackBlock `json:"blocks"`
}

// SlackBlock is a section block.
type SlackBlock struct {
	Type string    `json:"type"`
	Text SlackText `json:"text"`
}

// SlackText is a block's text.
type SlackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Send posts the event. Any status but 2xx is an error.
func (w *Webhook) Send(ctx context.Context, e Event) error {
	msg := SlackMessage{Text: e.Text(), Blocks: []SlackBlock{{Type: "section", Text: SlackText{Type: "mrkdwn", Text: e.Text()}}}}
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: the URL is not valid", w.Name())
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range w.Header {
		req.Header.Set(k, v)
	}
	c := w.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: no answer in time", w.Name())
		}
		// The transport's own error, without the URL that url.Error
		// would print.
		reason := "the request failed"
		var ue *url.Error
		if errors.As(err, &ue) {
			reason = ue.Err.Error()
		}
		return fmt.Errorf("%s: %s", w.Name(), reason)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s: %d %s", w.Name(), resp.StatusCode, strings.TrimSpace(string(data)))
	}
	return nil
}

// Exec runs a command (argv, no shell) with the event as JSON on stdin. A
// non-zero exit is an error.
type Exec struct {
	Argv []string
}

// Name is the command's name.
func (x *Exec) Name() string {
	if len(x.Argv) == 0 {
		return "exec"
	}
	return "exec " + x.Argv[0]
}

// Send runs the command.
func (x *Exec) Send(ctx context.Context, e Event) error {
	if len(x.Argv) == 0 {
		return fmt.Errorf("exec sink: no argv")
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, x.Argv[0], x.Argv[1:]...)
	cmd.Stdin = bytes.NewReader(data)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return fmt.Errorf("%s: did not finish in time", x.Name())
	}
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if len(msg) > 300 {
			msg = msg[len(msg)-300:]
		}
		return fmt.Errorf("%s: %w: %s", x.Name(), err, msg)
	}
	return nil
}

// Send delivers e to every sink at once, each within timeout (default
// 10 s), and returns when all are done: never later than the timeout. It
// returns one error per sink that failed.
func Send(ctx context.Context, sinks []Sink, e Event, timeout time.Duration) []error {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	errs := make([]error, len(sinks))
	var wg sync.WaitGroup
	for i, s := range sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Send(ctx, e)
		}()
	}
	wg.Wait()
	var out []error
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// Go sends in the background and returns at once; done, when not nil,
// receives the errors. For the rollback path, where nothing may wait on a
// notification.
func Go(ctx context.Context, sinks []Sink, e Event, timeout time.Duration, done func([]error)) {
	go func() {
		errs := Send(context.WithoutCancel(ctx), sinks, e, timeout)
		if done != nil {
			done(errs)
		}
	}()
}
