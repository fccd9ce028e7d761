package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/migrate"
	"github.com/migsafe/migsafe/rollout/analysis"
	"github.com/migsafe/migsafe/rollout/checklist"
	"github.com/migsafe/migsafe/rollout/dbstep"
	"github.com/migsafe/migsafe/rollout/gate"
	"github.com/migsafe/migsafe/rollout/journal"
	"github.com/migsafe/migsafe/rollout/notify"
	"github.com/migsafe/migsafe/rollout/plan"
)

// readinessBuiltins are the checks a readiness item may name instead of
// writing one, each built from the plan and the records around it:
//
//	revert_commit: {commit: v1.41.0, dir: .}      # both optional
//	alert_rules: {prometheus: http://…, metrics: [http_requests_total]}   # both optional
//	on_call: {person: ana}                         # through the plan's notify: sinks
//	flags_safe: {}                                 # the plan's flags exist and are off
//	migrations: {}                                 # the pending migrations pass the lint gate
//	rollback_tested: {database_env: VERIFY_DATABASE_URL}   # or {report: verify.json}
func readinessBuiltins(o Options, p *plan.Plan) checklist.Builtins {
	return checklist.Builtins{
		"revert_commit": func(v *yaml.Node) (gate.Gate, error) {
			var s struct{ Commit, Dir string }
			if err := body(v, "revert_commit", &s, "commit", "dir"); err != nil {
				return nil, err
			}
			return revertCommit(o, p, s.Commit, s.Dir), nil
		},
		"alert_rules": func(v *yaml.Node) (gate.Gate, error) {
			var s struct {
				Prometheus string
				Metrics    []string
			}
			if err := body(v, "alert_rules", &s, "prometheus", "metrics"); err != nil {
				return nil, err
			}
			queries, addr := planQueries(p)
			if s.Prometheus == "" {
				s.Prometheus = addr
			}
			if s.Prometheus == "" {
				return nil, at(v, "alert_rules needs prometheus: the server's address (no analysis step of the plan names one)")
			}
			if len(s.Metrics) == 0 {
				s.Metrics = metricNames(queries)
			}
			if len(s.Metrics) == 0 {
				return nil, at(v, "alert_rules needs metrics: the plan's gates query no Prometheus metric")
			}
			return checklist.AlertRules(s.Prometheus, s.Metrics), nil
		},
		"on_call": func(v *yaml.Node) (gate.Gate, error) {
			var s struct{ Person string }
			if err := body(v, "on_call", &s, "person"); err != nil {
				return nil, err
			}
			sinks, err := Sinks(p)
			if err != nil {
				return nil, err
			}
			e := notify.Event{Kind: "readiness", Service: p.Service, At: time.Now().UTC(),
				Summary: fmt.Sprintf("%s is about to roll %s out (stable %s): you are on call", p.Service, p.Canary, p.Stable)}
			return checklist.OnCallNotified(s.Person, sinks, e, NotifyTimeout), nil
		},
		"flags_safe": func(v *yaml.Node) (gate.Gate, error) {
			if err := body(v, "flags_safe", &struct{}{}); err != nil {
				return nil, err
			}
			if p.Flags == nil {
				return nil, at(v, "flags_safe needs the plan's flags: section")
			}
			svc, err := compileService(p)
			if err != nil {
				return nil, err
			}
			return flagsSafe(svc, stepFlags(p)), nil
		},
		"migrations": func(v *yaml.Node) (gate.Gate, error) {
			if err := body(v, "migrations", &struct{}{}); err != nil {
				return nil, err
			}
			if p.Migrations == nil {
				return nil, at(v, "migrations needs the plan's migrations: section")
			}
			return pendingLinted(o, p), nil
		},
		"rollback_tested": func(v *yaml.Node) (gate.Gate, error) {
			var s struct {
				DatabaseEnv string `yaml:"database_env"`
				Report      string
			}
			if err := body(v, "rollback_tested", &s, "database_env", "report"); err != nil {
				return nil, err
			}
			if p.Migrations == nil {
				return nil, at(v, "rollback_tested needs the plan's migrations: section")
			}
			if (s.DatabaseEnv == "") == (s.Report == "") {
				return nil, at(v, "rollback_tested reads verify-rollback's records: database_env: (the variable with the scratch database's URL) or report: (its --output file), one of them")
			}
			if s.Report != "" && !filepath.IsAbs(s.Report) {
				s.Report = filepath.Join(filepath.Dir(p.File), s.Report)
			}
			return rollbackTested(o, p, s.DatabaseEnv, s.Report), nil
		},
	}
}

func at(n *yaml.Node, format string, args ...any) error {
	return &analysis.Error{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)}
}

// body decodes a built-in's settings: a mapping with the known keys, or
// nothing ({} or no value).
func body(v *yaml.Node, what string, out any, known ...string) error {
	if v.Kind == yaml.ScalarNode && (v.Tag == "!!null" || v.Value == "") {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		if len(known) == 0 {
			return at(v, "%s takes no settings: write %s: {}", what, what)
		}
		return at(v, "%s is a mapping (keys: %s)", what, strings.Join(known, ", "))
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k := v.Content[i]
		if contains(known, k.Value) {
			continue
		}
		msg := fmt.Sprintf("unknown key %q in %s", k.Value, what)
		switch sug := analyzer.Suggest(k.Value, known); {
		case len(known) == 0:
			msg += " (it takes no settings)"
		case sug != "":
			msg += fmt.Sprintf("; did you mean %q?", sug)
		default:
			msg += " (known keys: " + strings.Join(known, ", ") + ")"
		}
		return at(k, "%s", msg)
	}
	if err := v.Decode(out); err != nil {
		return at(v, "%s: %v", what, err)
	}
	return nil
}

// stepFlags are the flags the plan's steps turn on.
func stepFlags(p *plan.Plan) []string {
	var keys []string
	for _, s := range p.Steps {
		if s.Kind == plan.Flag && !contains(keys, s.FlagKey) {
			keys = append(keys, s.FlagKey)
		}
	}
	return keys
}

// revertCommit: the commit to go back to is the plan's, else the release
// of the service's last promoted run (the run history), else the plan's
// stable release, as a git tag or commit; it must exist in git.
func revertCommit(o Options, p *plan.Plan, commit, dir string) gate.Gate {
	if dir == "" {
		dir = filepath.Dir(p.File)
	} else if !filepath.IsAbs(dir) {
		dir = filepath.Join(filepath.Dir(p.File), dir)
	}
	from := "named in the plan"
	if commit == "" {
		if run, canary := lastPromoted(o, p.Service); canary != "" {
			commit, from = canary, "the release of "+run+", the last promoted run"
		} else {
			commit, from = p.Stable, "the plan's stable release (no promoted run in the history)"
		}
	}
	g := checklist.RevertCommit(dir, commit)
	return checklist.Func("revert-commit", func(ctx context.Context) (gate.Phase, string) {
		r := g.Evaluate(ctx, gate.Window{})
		return r.Phase, r.Message + " (" + from + ")"
	})
}

// lastPromoted is the newest run of the service that was promoted, and
// its canary release.
func lastPromoted(o Options, service string) (run, canary string) {
	names, _ := filepath.Glob(filepath.Join(o.StateDir, service, "runs", "*.jsonl"))
	sort.Strings(names) // run ids sort by time
	store := &journal.Store{Dir: filepath.Join(o.StateDir, service), Service: service}
	for i := len(names) - 1; i >= 0; i-- {
		if strings.HasSuffix(names[i], ".control.jsonl") {
			continue
		}
		id := strings.TrimSuffix(filepath.Base(names[i]), ".jsonl")
		events, err := store.ReadEvents(id)
		if err != nil {
			continue
		}
		var c string
		promoted := false
		for _, e := range events {
			if e.Kind == journal.RunStarted {
				c = e.Canary
			}
			promoted = promoted || e.Kind == journal.Promoted
		}
		if promoted && c != "" {
			return id, c
		}
	}
	return "", ""
}

// planQueries are the Prometheus queries of the plan's analysis steps
// (and of its default gate), and the first Prometheus address they name.
func planQueries(p *plan.Plan) (queries []string, address string) {
	var walk func(n *yaml.Node, inProm bool)
	walk = func(n *yaml.Node, inProm bool) {
		if n == nil {
			return
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i].Value, n.Content[i+1]
				switch {
				case k == "address" && inProm && address == "":
					address = v.Value
				case (k == "query" || k == "requests" || k == "errors") && v.Kind == yaml.ScalarNode:
					queries = append(queries, v.Value)
				}
				walk(v, inProm || k == "prometheus")
			}
			return
		}
		for _, c := range n.Content {
			walk(c, inProm)
		}
	}
	walk(p.DefaultGate, false)
	for _, s := range p.Steps {
		walk(s.GateNode, false)
	}
	return queries, address
}

var selector = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{`) })

// metricNames are the metric names the queries select (name{…}), in
// order, once each.
func metricNames(queries []string) []string {
	var out []string
	for _, q := range queries {
		for _, m := range selector().FindAllStringSubmatch(q, -1) {
			if !contains(out, m[1]) {
				out = append(out, m[1])
			}
		}
	}
	return out
}

func dbSteps(o Options) *dbstep.Runner {
	if r, ok := o.DB.(*dbstep.Runner); ok {
		return r
	}
	return &dbstep.Runner{Getenv: o.Getenv}
}

// pendingLinted: what the next migrate would apply, read from the
// database's records (its version and migsafe_history), passes the lint
// gate; contract steps are listed (the expand phase stops before them).
func pendingLinted(o Options, p *plan.Plan) gate.Gate {
	return checklist.Func("migrations", func(ctx context.Context) (gate.Phase, string) {
		var notes []string
		sum, err := dbSteps(o).Check(ctx, p.Migrations, func(s string) { notes = append(notes, s) })
		if err != nil {
			return gate.Failed, err.Error()
		}
		if len(notes) > 0 {
			sum += "; " + strings.Join(notes, "; ")
		}
		return gate.Successful, sum
	})
}

// rollbackTested: every migration the next migrate would apply has a
// verify-rollback record that says reversible, for the files as they are
// now (the same sha256 for the up and the down file).
func rollbackTested(o Options, p *plan.Plan, databaseEnv, report string) gate.Gate {
	return checklist.Func("rollback-tested", func(ctx context.Context) (gate.Phase, string) {
		db := dbSteps(o)
		target, pending, err := db.Pending(ctx, p.Migrations)
		if err != nil {
			return gate.Error, err.Error()
		}
		if len(pending) == 0 {
			return gate.Successful, target + ": no pending migration, nothing to roll back"
		}
		var recs map[uint]migrate.Verified
		where := report
		if report != "" {
			recs, err = readVerifyReport(report)
		} else {
			getenv := o.Getenv
			if getenv == nil {
				getenv = os.Getenv
			}
			url := getenv(databaseEnv)
			if url == "" {
				return gate.Error, fmt.Sprintf("the scratch database's URL is read from $%s, which is empty", databaseEnv)
			}
			where = "the scratch database in $" + databaseEnv
			recs, err = db.Verifications(ctx, p.Migrations, url)
		}
		if err != nil {
			return gate.Error, err.Error()
		}
		var bad, good []string
		for _, m := range pending {
			v, ok := recs[m.Version]
			down := ""
			if m.Down != nil {
				down = m.Down.SHA256
			}
			switch {
			case !ok:
				bad = append(bad, m.Label()+": never verified")
			case v.Result != migrate.Reversible:
				bad = append(bad, fmt.Sprintf("%s: %s (%s)", m.Label(), v.Result, v.At.Format(time.RFC3339)))
			case v.UpSHA256 != m.Up.SHA256 || v.DownSHA256 != down:
				bad = append(bad, fmt.Sprintf("%s: changed since it was verified (%s)", m.Label(), v.At.Format(time.RFC3339)))
			default:
				good = append(good, m.Label())
			}
		}
		if len(bad) > 0 {
			return gate.Failed, fmt.Sprintf("verify-rollback has no pass for %d of %d pending migration(s) in %s: %s", len(bad), len(pending), where, strings.Join(bad, "; "))
		}
		return gate.Successful, fmt.Sprintf("verify-rollback passed for the %d pending migration(s) (%s), as the files are now, in %s", len(good), strings.Join(good, ", "), where)
	})
}

// readVerifyReport reads `migsafe verify-rollback --output FILE`.
func readVerifyReport(path string) (map[uint]migrate.Verified, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("verify-rollback's report: %w", err)
	}
	var rep migrate.VerifyReport
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, fmt.Errorf("%s is not verify-rollback's JSON report: %w", path, err)
	}
	out := map[uint]migrate.Verified{}
	for _, r := range rep.Results {
		out[r.Version] = migrate.Verified{Version: r.Version, Name: r.Name, Result: r.Result, UpSHA256: r.UpSHA256,
			DownSHA256: r.DownSHA256, RunID: rep.RunID, At: rep.At}
	}
	return out, nil
}
