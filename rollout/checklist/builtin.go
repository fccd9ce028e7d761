package checklist

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/migsafe/migsafe/rollout/flags"
	"github.com/migsafe/migsafe/rollout/gate"
	"github.com/migsafe/migsafe/rollout/notify"
)

// check is a gate built from a function.
type check struct {
	name string
	fn   func(ctx context.Context) (gate.Phase, string)
}

func (c *check) Name() string { return c.name }

func (c *check) Evaluate(ctx context.Context, _ gate.Window) gate.Result {
	p, msg := c.fn(ctx)
	return gate.Result{Phase: p, Message: msg}
}

// RevertCommit checks that commit (the release to go back to) exists in
// the git repository at dir (git cat-file -e COMMIT^{commit}).
func RevertCommit(dir, commit string) gate.Gate {
	return &check{name: "revert-commit", fn: func(ctx context.Context) (gate.Phase, string) {
		if commit == "" {
			return gate.Failed, "no revert commit is identified: the run history has no promoted release and the plan names none"
		}
		if strings.HasPrefix(commit, "-") {
			return gate.Failed, fmt.Sprintf("%q is not a commit", commit)
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--verify", "--quiet", commit+"^{commit}").Output()
		if err != nil {
			if ctx.Err() != nil {
				return gate.Error, "git did not answer within 30 s"
			}
			return gate.Failed, fmt.Sprintf("revert commit %s does not exist in %s (fetch it, or name the last promoted release's commit)", commit, dir)
		}
		return gate.Successful, fmt.Sprintf("revert commit %s is %s", commit, strings.TrimSpace(string(out)))
	}}
}

// FlagsSafe checks that each flag exists in the flag service and is off,
// so that the new functionality starts dark and its safe default (false,
// the old behaviour) is what everyone gets until a flag step turns it on.
func FlagsSafe(b flags.Backend, keys []string) gate.Gate {
	return &check{name: "flags", fn: func(ctx context.Context) (gate.Phase, string) {
		if len(keys) == 0 {
			return gate.Failed, "the plan names no feature flag for the new functionality"
		}
		var bad, good []string
		for _, k := range keys {
			s, err := b.Get(ctx, k)
			switch {
			case err != nil:
				return gate.Error, fmt.Sprintf("reading flag %s: %v", k, err)
			case !s.Exists:
				bad = append(bad, k+" does not exist")
			case s.Enabled:
				bad = append(bad, fmt.Sprintf("%s is already %s", k, s))
			default:
				good = append(good, k)
			}
		}
		if len(bad) > 0 {
			return gate.Failed, strings.Join(bad, "; ")
		}
		return gate.Successful, "flags exist and are off: " + strings.Join(good, ", ")
	}}
}

// AlertRules checks that the Prometheus server at promURL has alerting
// rules on each metric: some alerting rule's expression names it
// (/api/v1/rules?type=alert).
func AlertRules(promURL string, metrics []string) gate.Gate {
	return &check{name: "alerts", fn: func(ctx context.Context) (gate.Phase, string) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(promURL, "/")+"/api/v1/rules?type=alert", nil)
		if err != nil {
			return gate.Error, err.Error()
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return gate.Error, fmt.Sprintf("reading Prometheus' alerting rules: %v", err)
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		if err != nil || resp.StatusCode != 200 {
			return gate.Error, fmt.Sprintf("reading Prometheus' alerting rules: status %d %v", resp.StatusCode, err)
		}
		var body struct {
			Data struct {
				Groups []struct {
					Rules []struct {
						Name  string `json:"name"`
						Query string `json:"query"`
						Type  string `json:"type"`
					} `json:"rules"`
				} `json:"groups"`
			} `json:"data"`
		}
		if err := json.Unmarshal(data, &body); err != nil {
			return gate.Error, fmt.Sprintf("reading Prometheus' alerting rules: %v", err)
		}
		var missing, found []string
		for _, m := range metrics {
			re := regexp.MustCompile(`(^|[^a-zA-Z0-9_:])` + regexp.QuoteMeta(m) + `($|[^a-zA-Z0-9_:])`)
			var alerts []string
			for _, g := range body.Data.Groups {
				for _, r := range g.Rules {
					if r.Type == "alerting" && re.MatchString(r.Query) {
						alerts = append(alerts, r.Name)
					}
				}
			}
			if len(alerts) == 0 {
				missing = append(missing, m)
			} else {
				found = append(found, fmt.Sprintf("%s (%s)", m, strings.Join(alerts, ", ")))
			}
		}
		if len(missing) > 0 {
			return gate.Failed, "no alerting rule watches " + strings.Join(missing, ", ")
		}
		return gate.Successful, "alerting rules watch " + strings.Join(found, "; ")
	}}
}

// OnCallNotified checks that the on-call person is named and that a
// notification sink accepted the message telling them about the rollout
// (one accepting sink is enough; the failures are listed).
func OnCallNotified(person string, sinks []notify.Sink, e notify.Event, timeout time.Duration) gate.Gate {
	return &check{name: "on-call", fn: func(ctx context.Context) (gate.Phase, string) {
		if strings.TrimSpace(person) == "" {
			return gate.Failed, "no on-call person is named in the plan"
		}
		if len(sinks) == 0 {
			return gate.Failed, "no notification sink is configured to tell " + person
		}
		if e.Summary == "" {
			e.Summary = "you are on call for this rollout"
		}
		e.Details = append(e.Details, "on call: "+person)
		errs := notify.Send(ctx, sinks, e, timeout)
		if len(errs) == len(sinks) {
			msgs := make([]string, len(errs))
			for i, err := range errs {
				msgs[i] = err.Error()
			}
			return gate.Failed, fmt.Sprintf("no sink accepted the message for %s: %s", person, strings.Join(msgs, "; "))
		}
		msg := fmt.Sprintf("%s was notified through %d of %d sinks", person, len(sinks)-len(errs), len(sinks))
		return gate.Successful, msg
	}}
}

// Func is a check built from a function: the phase and the message.
func Func(name string, fn func(ctx context.Context) (gate.Phase, string)) gate.Gate {
	return &check{name: name, fn: fn}
}
