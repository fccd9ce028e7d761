package plan

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/migsafe/migsafe/rollout/gate"
)

const good = `apiVersion: migsafe.dev/v1
kind: RolloutPlan
name: web-2
service: web
release: {stable: v1, canary: v2}
backend:
  preset: nginx
  vars: {upstream_file: /tmp/u.conf, stable: "127.0.0.1:1", canary: "127.0.0.1:2", prefix: /tmp/p, conf: nginx.conf}
analysis: {exec: [./count-errors, --max, "5"], timeout: 10s}
`

func TestDefaults(t *testing.T) {
	p, err := Parse("rollout.yaml", []byte(good), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Steps {
		got = append(got, s.String())
	}
	want := "deploy | set_weight 1 | analysis exec ./count-errors --max 5 | set_weight 5 | analysis exec ./count-errors --max 5 | set_weight 25 | analysis exec ./count-errors --max 5 | promote"
	if strings.Join(got, " | ") != want {
		t.Errorf("default steps:\n got %s\nwant %s", strings.Join(got, " | "), want)
	}
	if len(p.Rollback) != 2 || p.Rollback[0].Kind != RouteStable || p.Rollback[1].Kind != Undo {
		t.Errorf("default rollback: %+v", p.Rollback)
	}
	if len(p.Hash) != 64 {
		t.Errorf("hash %q", p.Hash)
	}
}

func TestSteps(t *testing.T) {
	src := good + `gates:
  quick: {exec: [./quick]}
migrations: {path: db/migrations, database_env: SHOP_DB, lock_wait: 30s, statement_timeout: 1m}
steps:
  - check: {args: [db/migrations]}
  - check
  - migrate
  - deploy
  - set_weight: 10
  - bake: 2s
  - analysis: quick
  - pause: {duration: 1m}
  - pause: {}
  - approve: {}
  - exec: {argv: [./notify, "{{.RunID}}"], idempotent: true, timeout: 5s}
  - analysis: {}
  - promote: {}
rollback:
  - set_weight: 0
  - undo
  - exec: {argv: [./page], check: [./paged]}
`
	p, err := Parse("deploy/rollout.yaml", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Steps {
		got = append(got, s.String())
	}
	want := "check migsafe check db/migrations | check db/migrations (pending) | migrate db/migrations (expand) | deploy | set_weight 10 | bake 2s | analysis exec ./quick | pause 1m0s | pause | approve | exec ./notify {{.RunID}} | analysis exec ./count-errors --max 5 | promote"
	if strings.Join(got, " | ") != want {
		t.Errorf("steps:\n got %s\nwant %s", strings.Join(got, " | "), want)
	}
	if p.Rollback[0].Kind != RouteStable || p.Rollback[2].CheckArgv[0] != "./paged" {
		t.Errorf("rollback %+v", p.Rollback)
	}
	if p.Steps[5].Line != 19 {
		t.Errorf("bake line %d", p.Steps[5].Line)
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings %q", p.Warnings)
	}
	late, err := Parse("rollout.yaml", []byte(good+"migrations: {path: m}\nsteps:\n  - deploy\n  - migrate\n  - approve\n  - promote\n"), Options{})
	if err != nil || len(late.Warnings) != 1 || !strings.Contains(late.Warnings[0], "line 13: migrate comes after deploy") {
		t.Errorf("migrate after deploy: %v %q", err, late.Warnings)
	}
	m := p.Steps[2].Migrations
	if m == nil || m != p.Steps[1].Migrations || m.Dir != "deploy/db/migrations" || m.DatabaseEnv != "SHOP_DB" ||
		m.LockWait != 30*time.Second || m.StatementTimeout != time.Minute || !p.Steps[2].Idempotent || p.Steps[1].Argv != nil {
		t.Errorf("migrations %+v, steps %+v", m, p.Steps[1:3])
	}
}

func TestErrors(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"unknown step", good + "steps:\n  - set_wieght: 5\n  - promote\n", `rollout.yaml:11:5: unknown step "set_wieght"; did you mean "set_weight"?`},
		{"unknown key", strings.Replace(good, "service:", "servcie:", 1), `rollout.yaml:4:1: plan: unknown key "servcie"; did you mean "service"?`},
		{"weight", good + "steps:\n  - set_weight: 150\n", `rollout.yaml:11:17: set_weight "150": a whole percentage from 1 to 100`},
		{"bake", good + "steps:\n  - bake: soon\n", `rollout.yaml:11:11: bake "soon" is not a positive duration`},
		{"preset", strings.Replace(good, "preset: nginx", "preset: ngnix", 1), `rollout.yaml:7:11: unknown backend preset "ngnix"; did you mean "nginx"?`},
		{"var", strings.Replace(good, "conf: nginx.conf", "cnof: nginx.conf", 1), `backend.vars: nginx does not use "cnof"; did you mean "conf"?`},
		{"missing var", strings.Replace(good, "conf: nginx.conf", "x: y", 1), `backend nginx needs vars.conf`},
		{"option injection", strings.Replace(good, "stable: v1", "stable: --all", 1), `release.stable "--all" is not a plain value`},
		{"no judge", good + "steps:\n  - set_weight: 5\n  - promote\n", `rollout.yaml:12:5: promote without an analysis or approve step before it`},
		{"promote last", good + "steps:\n  - approve\n  - promote\n  - deploy\n", `promote must be the last step`},
		{"rollback order", good + "rollback:\n  - undo\n", `the rollback must start with route_stable`},
		{"migrate argv", good + "migrations: {path: m}\nsteps:\n  - migrate: [./migrate, up]\n", `rollout.yaml:12:14: migrate takes no settings`},
		{"migrate without migrations", good + "steps:\n  - migrate\n", `rollout.yaml:11:5: migrate needs the plan's migrations: section`},
		{"database url in the plan", good + "migrations: {path: m, database_env: \"postgres://u:p@h/db\"}\n", `the URL itself never goes in the plan`},
		{"journal table", good + "migrations: {path: m, journal_table: \"x; DROP TABLE y\"}\n", `migrations.journal_table "x; DROP TABLE y": a table name`},
		{"database key", good + "migrations: {path: m, database_url: x}\n", `did you mean "database_env"?`},
		{"rollback kind", good + "rollback:\n  - promote\n", `unknown rollback step "promote"`},
		{"exec shell", good + "steps:\n  - exec: \"curl x | sh\"\n  - approve\n  - promote\n", `exec needs a command`},
		{"gate name", good + "gates: {quick: {exec: [x]}}\nsteps:\n  - analysis: quik\n  - promote\n", `no gate named "quik" under gates:; did you mean "quick"?`},
		{"gate body", good + "steps:\n  - analysis: {exec: [x], timeut: 5s}\n  - promote\n", `rollout.yaml:11:27: analysis: unknown key "timeut"; did you mean "timeout"?`},
		{"no default gate", strings.Replace(good, "analysis:", "x-analysis:", 1), `analysis step without a gate`},
		{"yaml", "steps: [", `rollout.yaml: not valid YAML`},
		{"template", good + "steps:\n  - exec: [\"{{.RunID\"]\n  - approve\n  - promote\n", `unclosed action`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("rollout.yaml", []byte(c.src), Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error:\n got %v\nwant …%s…", err, c.want)
			}
		})
	}
}

func TestKubectlWarning(t *testing.T) {
	src := `name: web-2
service: web
release: {stable: "reg/web:1", canary: "reg/web:2"}
backend: {preset: kubectl-deployment, vars: {deployment: web, container: app, replicas: "10"}}
steps:
  - deploy
  - set_weight: 5
  - approve
  - promote
`
	p, err := Parse("rollout.yaml", []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "5% of 10 replicas is 0 pods: not even one") {
		t.Errorf("warnings %q", p.Warnings)
	}
}

type fakeGate struct{ kind string }

func (g fakeGate) Name() string { return g.kind }
func (g fakeGate) Evaluate(context.Context, gate.Window) gate.Result {
	return gate.Result{Phase: gate.Successful}
}

// TestCompiler: the injected compiler gets the body as a node and its
// errors keep their positions.
func TestCompiler(t *testing.T) {
	compile := func(n *yaml.Node) (gate.Gate, error) {
		var body struct {
			Prometheus struct{ Query string } `yaml:"prometheus"`
		}
		if err := n.Decode(&body); err != nil {
			return nil, err
		}
		if body.Prometheus.Query == "" {
			return nil, &Error{Line: n.Line, Col: n.Column, Msg: "prometheus gate needs a query"}
		}
		return fakeGate{"prometheus " + body.Prometheus.Query}, nil
	}
	src := strings.Replace(good, "analysis: {exec: [./count-errors, --max, \"5\"], timeout: 10s}", "analysis: {prometheus: {query: up}}", 1)
	p, err := Parse("rollout.yaml", []byte(src), Options{Compile: compile})
	if err != nil {
		t.Fatal(err)
	}
	if p.Steps[2].Gate.Name() != "prometheus up" {
		t.Errorf("gate %v", p.Steps[2].Gate.Name())
	}
	src = strings.Replace(src, "query: up", "q: up", 1)
	_, err = Parse("rollout.yaml", []byte(src), Options{Compile: compile})
	var pe *Error
	if !errors.As(err, &pe) || pe.Line != 9 || pe.File != "rollout.yaml" {
		t.Errorf("error %v", err)
	}
}
