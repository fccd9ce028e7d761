package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/migsafe/migsafe/rollout/analysis"
	"github.com/migsafe/migsafe/rollout/checklist"
	"github.com/migsafe/migsafe/rollout/engine"
	"github.com/migsafe/migsafe/rollout/flags"
	"github.com/migsafe/migsafe/rollout/gate"
	"github.com/migsafe/migsafe/rollout/journal"
	"github.com/migsafe/migsafe/rollout/notify"
	"github.com/migsafe/migsafe/rollout/plan"
	"github.com/migsafe/migsafe/rollout/report"
)

// NotifyTimeout bounds each notification.
var NotifyTimeout = 10 * time.Second

// NotReadyError is Start refusing a run whose readiness checklist failed.
type NotReadyError struct{ Report checklist.Report }

func (e *NotReadyError) Error() string {
	var failed []string
	for _, o := range e.Report.Outcomes {
		if !o.Passed {
			failed = append(failed, o.Name)
		}
	}
	return fmt.Sprintf("the rollback readiness checklist failed (%s): fix each item, or waive it in the plan's readiness: with waive: and the reason", strings.Join(failed, ", "))
}

func planErr(p *plan.Plan, what string, err error) error {
	var ae *analysis.Error
	if errors.As(err, &ae) {
		return &plan.Error{File: p.File, Line: ae.Line, Col: ae.Column, Msg: what + ": " + ae.Msg}
	}
	return fmt.Errorf("%s: %s: %w", p.File, what, err)
}

func window(p *plan.Plan) gate.Window {
	return gate.Window{Stable: p.Stable, Canary: p.Canary}
}

// Readiness runs the plan's rollback readiness checklist: the items of
// its readiness: section and, when the plan has flag steps, that each
// flag exists and is off (its safe default).
func Readiness(ctx context.Context, o Options) (*plan.Plan, checklist.Report, error) {
	p, err := Load(o)
	if err != nil {
		return nil, checklist.Report{}, err
	}
	if _, err := Sinks(p); err != nil {
		return p, checklist.Report{}, err
	}
	var items []checklist.Item
	if p.Readiness != nil {
		items, err = checklist.CompileWith(p.Readiness, readinessBuiltins(o, p))
		if err != nil {
			return p, checklist.Report{}, planErr(p, "readiness", err)
		}
	}
	var keys []string
	for _, s := range p.Steps {
		if s.Kind == plan.Flag && !contains(keys, s.FlagKey) {
			keys = append(keys, s.FlagKey)
		}
	}
	if len(keys) > 0 {
		svc, err := compileService(p)
		if err != nil {
			return p, checklist.Report{}, err
		}
		if !hasItem(items, "flags") {
			items = append(items, checklist.Item{Name: "flags", Gate: flagsSafe(svc, keys),
				Fix: "create each flag in the flag service, off, and declare safe_default: false (the old behaviour)"})
		}
	}
	return p, checklist.Run(ctx, "Rollback readiness: "+p.Name, items, window(p)), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hasItem(items []checklist.Item, name string) bool {
	for _, it := range items {
		if it.Name == name || it.Gate != nil && it.Gate.Name() == name {
			return true
		}
	}
	return false
}

func compileFlags(p *plan.Plan) (engine.FlagService, error) {
	svc, err := compileService(p)
	if err != nil {
		return nil, err
	}
	return svc.Backend, nil
}

func compileService(p *plan.Plan) (*flags.Service, error) {
	svc, err := flags.CompileService(p.Flags)
	if err != nil {
		var fe *flags.Error
		if errors.As(err, &fe) {
			return nil, &plan.Error{File: p.File, Line: fe.Line, Col: fe.Column, Msg: "flags: " + fe.Msg}
		}
		return nil, fmt.Errorf("%s: flags: %w", p.File, err)
	}
	if o, ok := svc.Backend.(*flags.OFREP); ok && o.SetCmd == nil {
		for _, s := range p.Steps {
			if s.Kind == plan.Flag {
				return nil, &plan.Error{File: p.File, Line: s.Line, Col: s.Col,
					Msg: "a flag step needs a flag service that can change flags, and OFREP only reads them: give ofrep a set: command, or put the service's own driver (unleash: or exec:) beside it"}
			}
		}
	}
	return svc, nil
}

// flagsSafe: the flags exist and are off, and the plan's safe_default is
// false (the old behaviour when the flag service is down).
func flagsSafe(svc *flags.Service, keys []string) gate.Gate {
	g := checklist.FlagsSafe(svc.Backend, keys)
	if !svc.SafeDefault {
		return g
	}
	return checklist.Func(g.Name(), func(context.Context) (gate.Phase, string) {
		return gate.Failed, "the plan declares safe_default: true: with the flag service down every user would get the new code path"
	})
}

// FlagKeys is every flag the plan's steps and rollback use, in order.
func FlagKeys(p *plan.Plan) []string {
	var keys []string
	for _, s := range append(append([]plan.Step{}, p.Steps...), p.Rollback...) {
		if (s.Kind == plan.Flag || s.Kind == plan.FlagOff) && !contains(keys, s.FlagKey) {
			keys = append(keys, s.FlagKey)
		}
	}
	return keys
}

// FlagsCheck is `migsafe flags check`: for each flag the plan uses, that
// it exists in the flag service, that the rollback could turn it off now,
// and that an application falls back to the old behaviour when the flag
// service is down (checklist.FlagChecks). Nothing is changed.
func FlagsCheck(ctx context.Context, o Options) (*plan.Plan, checklist.Report, error) {
	p, err := Load(o)
	if err != nil {
		return nil, checklist.Report{}, err
	}
	if p.Flags == nil {
		return p, checklist.Report{}, fmt.Errorf("%s: the plan has no flags: section (the flag service: unleash:, exec: or ofrep:)", p.File)
	}
	svc, err := compileService(p)
	if err != nil {
		return p, checklist.Report{}, err
	}
	keys := FlagKeys(p)
	if len(keys) == 0 {
		return p, checklist.Report{}, fmt.Errorf("%s: no step uses a flag (flag: {key: K, percent: P} or flag_off: K)", p.File)
	}
	return p, checklist.Run(ctx, "Feature flags: "+p.Name, checklist.FlagChecks(svc, keys), window(p)), nil
}

// Sinks reads the plan's notify: section, a list of
//
//   - webhook: {url_env: SLACK_WEBHOOK_URL}   # or url: (a loopback test server)
//   - exec: [notify-oncall, --team, payments]
//
// A Slack webhook's URL is a secret: url_env names the variable that
// holds it.
func Sinks(p *plan.Plan) ([]notify.Sink, error) {
	if p.Notify == nil {
		return nil, nil
	}
	n := p.Notify
	bad := func(at *yaml.Node, format string, args ...any) error {
		return &plan.Error{File: p.File, Line: at.Line, Col: at.Column, Msg: "notify: " + fmt.Sprintf(format, args...)}
	}
	if n.Kind != yaml.SequenceNode {
		return nil, bad(n, "a list of sinks: - webhook: {url_env: VAR} or - exec: [argv]")
	}
	var out []notify.Sink
	for _, it := range n.Content {
		if it.Kind != yaml.MappingNode || len(it.Content) != 2 {
			return nil, bad(it, "a sink is one key: webhook or exec")
		}
		k, v := it.Content[0], it.Content[1]
		switch k.Value {
		case "webhook":
			var s struct {
				URL    string `yaml:"url"`
				URLEnv string `yaml:"url_env"`
			}
			if err := v.Decode(&s); err != nil || v.Kind != yaml.MappingNode {
				return nil, bad(v, "webhook: {url_env: VAR} (or url: …)")
			}
			url := s.URL
			if s.URLEnv != "" {
				url = os.Getenv(s.URLEnv)
				if url == "" {
					return nil, bad(v, "the environment variable %s (url_env) is empty", s.URLEnv)
				}
			}
			if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
				return nil, bad(v, "webhook needs url_env (or url) with an http:// or https:// address")
			}
			out = append(out, &notify.Webhook{URL: url})
		case "exec":
			var argv []string
			if err := v.Decode(&argv); err != nil || len(argv) == 0 {
				return nil, bad(v, "exec: [argv] (a list of arguments; there is no shell)")
			}
			out = append(out, &notify.Exec{Argv: argv})
		default:
			return nil, bad(k, "unknown sink %q (webhook or exec)", k.Value)
		}
	}
	return out, nil
}

// notifyLater sends in the background: nothing in a rollback waits for
// a notification. Failures go to loud.
func notifyLater(o Options, sinks []notify.Sink, e notify.Event) {
	if len(sinks) == 0 {
		return
	}
	notify.Go(context.Background(), sinks, e, NotifyTimeout, func(errs []error) { warnSinks(o, errs) })
}

func warnSinks(o Options, errs []error) {
	if o.Loud == nil {
		return
	}
	for _, err := range errs {
		fmt.Fprintf(o.Loud, "migsafe: warning: notification failed: %v\n", err)
	}
}

// AfterRollback is what follows a rollback, once per run: the
// post-rollback checklist (written next to the journal as
// ID.post-rollback.json), a notification with its result, and the
// post-mortem draft (ID.postmortem.md). None of it can undo or delay the
// rollback, which is finished.
type AfterRollback struct {
	Checklist  *checklist.Report
	Postmortem string // the draft's path
	SinkErrors []error
}

func afterRollback(ctx context.Context, o Options, p *plan.Plan, st engine.State) (*AfterRollback, error) {
	store, err := journal.Open(o.StateDir, p.Service)
	if err != nil {
		return nil, err
	}
	pm := PostmortemPath(store, st.RunID)
	if _, err := os.Stat(pm); err == nil {
		return nil, nil // done by the process that finished the rollback
	}
	a := &AfterRollback{Postmortem: pm}
	if p.PostRollback != nil {
		items, err := checklist.Compile(p.PostRollback)
		if err != nil {
			return nil, planErr(p, "post_rollback", err)
		}
		w := window(p)
		w.Start = st.StableAt
		r := checklist.Run(ctx, "After the rollback of "+st.RunID, items, w)
		a.Checklist = &r
		data, _ := json.MarshalIndent(r, "", "  ")
		if err := os.WriteFile(postRollbackPath(store, st.RunID), append(data, '\n'), 0o644); err != nil {
			return nil, err
		}
	}
	events, err := store.ReadEvents(st.RunID)
	if err != nil {
		return nil, err
	}
	run := BuildRun(events)
	run.PostRollback = a.Checklist
	sinks, err := Sinks(p)
	if err != nil {
		return nil, err
	}
	if len(sinks) > 0 {
		e := notify.Event{Kind: "post_rollback", Run: st.RunID, Service: p.Service, At: time.Now().UTC(),
			Summary: fmt.Sprintf("%s rolled back to %s: %s", p.Canary, p.Stable, st.Reason)}
		for _, u := range st.Unfinished {
			// traffic is on stable, but a person must finish this
			e.Details = append(e.Details, "FAIL ROLLBACK INCOMPLETE: rollback step "+u+" gave up after its attempts: finish it by hand (the journal has each attempt's output)")
		}
		if a.Checklist != nil {
			for _, oc := range a.Checklist.Outcomes {
				mark := "ok"
				if !oc.Passed {
					mark = "FAIL"
				}
				e.Details = append(e.Details, fmt.Sprintf("%s %s: %s", mark, oc.Name, oc.Message))
			}
		}
		e.Details = append(e.Details, "post-mortem draft: "+pm)
		a.SinkErrors = notify.Send(ctx, sinks, e, NotifyTimeout)
		warnSinks(o, a.SinkErrors)
	}
	var b bytes.Buffer
	if err := report.Postmortem(&b, run); err != nil {
		return nil, err
	}
	if err := os.WriteFile(pm, b.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return a, nil
}

// observe passes events on and, when a rollback starts, tells the
// notification sinks in the background.
func observe(o Options, p *plan.Plan) func(journal.Event) {
	sinks, _ := Sinks(p) // a broken notify: section is reported by Readiness and after the rollback
	return func(e journal.Event) {
		if o.Observe != nil {
			o.Observe(e)
		}
		if e.Kind == journal.RollbackStarted {
			notifyLater(o, sinks, notify.Event{Kind: "rolling_back", Service: p.Service, At: e.At,
				Summary: fmt.Sprintf("rolling %s back to %s: %s", p.Canary, p.Stable, e.Reason)})
		}
	}
}
