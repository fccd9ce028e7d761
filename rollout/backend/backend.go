package backend

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Action is what the engine asks a backend to do. Every action is
// idempotent by construction (an absolute weight, an image by name) or
// guarded by a check that reads the current state first.
type Action string

// The actions.
const (
	Deploy      Action = "deploy"       // start the canary beside stable (0% traffic)
	SetWeight   Action = "set_weight"   // send Weight% of traffic to the canary
	Promote     Action = "promote"      // 100% to the canary; it becomes stable
	RouteStable Action = "route_stable" // 100% of traffic to stable: the rollback's one action
	Undo        Action = "undo"         // remove the canary / restore the stable version
)

// Actions lists every action, for validation and did-you-mean.
var Actions = []Action{Deploy, SetWeight, Promote, RouteStable, Undo}

// Params are the values an action's templates see, beside the plan's vars.
type Params struct {
	Weight int
	Stable string // the stable version (an image, a label)
	Canary string // the new version
	RunID  string
	Step   string
}

func (p Params) data(vars map[string]string) map[string]any {
	m := make(map[string]any, len(vars)+5)
	for k, v := range vars {
		m[k] = v
	}
	m["Weight"] = strconv.Itoa(p.Weight)
	m["StableWeight"] = strconv.Itoa(100 - p.Weight)
	m["Stable"] = p.Stable
	m["Canary"] = p.Canary
	m["RunID"] = p.RunID
	m["Step"] = p.Step
	return m
}

func (p Params) env() []string {
	return []string{
		"MIGSAFE_RUN_ID=" + p.RunID,
		"MIGSAFE_STEP=" + p.Step,
		"MIGSAFE_WEIGHT=" + strconv.Itoa(p.Weight),
		"MIGSAFE_IDEMPOTENCY_KEY=" + p.RunID + "/" + p.Step,
	}
}

// Backend performs actions.
type Backend interface {
	Name() string
	Do(ctx context.Context, a Action, p Params, rec Recorder) error
}

// Command is one argv template of an action.
type Command struct {
	Argv []string `yaml:"argv" json:"argv"`
	// SkipIf, when set, runs first: if its trimmed output equals Expect
	// the effect is already there and Argv does not run (a guard that
	// makes a non-idempotent command, such as kubectl rollout undo, safe
	// to resume).
	SkipIf *Check `yaml:"skip_if,omitempty" json:"skip_if,omitempty"`
	// AlreadyDone lists output fragments that mean a non-zero exit is
	// the effect being there already (kubectl's "is not paused").
	AlreadyDone []string `yaml:"already_done,omitempty" json:"already_done,omitempty"`
	// wait names the var that says how long the command itself waits
	// (kubectl's --timeout): its deadline is that plus waitMargin when
	// longer than the backend's, so kubectl's own timeout speaks first.
	wait string
}

// waitMargin is how much longer than its own wait a waiting command may
// take before it is killed.
const waitMargin = 30 * time.Second

// Check reads the current state.
type Check struct {
	Argv   []string `yaml:"argv" json:"argv"`
	Expect string   `yaml:"expect" json:"expect"`
}

// Spec is a backend as the plan describes it.
type Spec struct {
	Preset  string
	Vars    map[string]string
	Actions map[Action][]Command // replace the preset's action
	Timeout time.Duration        // per command
}

// Presets are the built-in backends.
var Presets = []string{"nginx", "kubectl-deployment", "argo-rollouts", "exec"}

// required vars per preset (optional ones have defaults below).
var requiredVars = map[string][]string{
	"nginx":              {"upstream_file", "stable", "canary", "prefix", "conf"},
	"kubectl-deployment": {"deployment", "container"},
	"argo-rollouts":      {"rollout", "container"},
	"exec":               {},
}

var defaultVars = map[string]map[string]string{
	"nginx":              {"upstream": "migsafe_app", "nginx": "nginx", "error_log": "stderr", "pid_file": ""},
	"kubectl-deployment": {"namespace": "default", "kubectl": "kubectl", "status_timeout": "120s"},
	"argo-rollouts":      {"namespace": "default", "kubectl": "kubectl", "status_timeout": "120s"},
	"exec":               {},
}

// VarNames lists the vars a preset knows, for did-you-mean.
func VarNames(preset string) []string {
	names := slices.Clone(requiredVars[preset])
	for k := range defaultVars[preset] {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Validate checks a spec without running anything: a known preset, its
// vars present and plain, the templates parseable. It returns the
// problems, each naming the var or action.
func Validate(s Spec) []error {
	var errs []error
	req, ok := requiredVars[s.Preset]
	if !ok {
		return []error{fmt.Errorf("unknown backend preset %q (known: %s)", s.Preset, strings.Join(Presets, ", "))}
	}
	for _, v := range req {
		if s.Vars[v] == "" {
			errs = append(errs, fmt.Errorf("backend %s needs vars.%s", s.Preset, v))
		}
	}
	keys := make([]string, 0, len(s.Vars))
	for k := range s.Vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := ValidateValue("vars."+k, s.Vars[k]); err != nil {
			errs = append(errs, err)
		}
	}
	for a, cmds := range s.Actions {
		for _, c := range cmds {
			if len(c.Argv) == 0 {
				errs = append(errs, fmt.Errorf("backend action %s: empty argv", a))
			}
			if err := CheckTemplate(c.Argv); err != nil {
				errs = append(errs, fmt.Errorf("backend action %s: %w", a, err))
			}
		}
	}
	if _, ok := defaultVars[s.Preset]["status_timeout"]; ok && s.Vars["status_timeout"] != "" {
		if d, err := time.ParseDuration(s.Vars["status_timeout"]); err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("backend %s: vars.status_timeout %q: a duration above zero, such as 120s or 5m (kubectl waits forever with --timeout=0)", s.Preset, s.Vars["status_timeout"]))
		}
	}
	if s.Preset == "exec" {
		for _, a := range []Action{SetWeight, RouteStable} {
			if _, ok := s.Actions[a]; !ok {
				errs = append(errs, fmt.Errorf("backend exec needs actions.%s (the rollback routes traffic to stable with it)", a))
			}
		}
	}
	return errs
}

// New builds the backend a spec describes.
func New(s Spec) (Backend, error) {
	if errs := Validate(s); len(errs) > 0 {
		return nil, errs[0]
	}
	vars := map[string]string{}
	for k, v := range defaultVars[s.Preset] {
		vars[k] = v
	}
	for k, v := range s.Vars {
		vars[k] = v
	}
	cb := &commandBackend{name: s.Preset, vars: vars, overrides: s.Actions, timeout: s.Timeout}
	switch s.Preset {
	case "nginx":
		return &nginxBackend{commandBackend: cb}, nil
	case "kubectl-deployment":
		cb.preset = kubectlDeployment
	case "argo-rollouts":
		cb.preset = argoRollouts
	}
	return cb, nil
}

// commandBackend runs argv templates per action: a preset's, or the
// plan's overrides.
type commandBackend struct {
	name      string
	vars      map[string]string
	overrides map[Action][]Command
	preset    func(a Action, p Params) []Command
	timeout   time.Duration
}

func (b *commandBackend) Name() string { return b.name }

func (b *commandBackend) commands(a Action, p Params) []Command {
	if cmds, ok := b.overrides[a]; ok {
		return cmds
	}
	if b.preset != nil {
		return b.preset(a, p)
	}
	return nil
}

func (b *commandBackend) Do(ctx context.Context, a Action, p Params, rec Recorder) error {
	return b.run(ctx, b.commands(a, p), p, rec)
}

func (b *commandBackend) run(ctx context.Context, cmds []Command, p Params, rec Recorder) error {
	data := p.data(b.vars)
	for _, c := range cmds {
		if c.SkipIf != nil {
			argv, err := Expand(c.SkipIf.Argv, data)
			if err != nil {
				return err
			}
			want, err := Expand([]string{c.SkipIf.Expect}, data)
			if err != nil {
				return err
			}
			start := time.Now()
			code, out, err := RunCommand(ctx, argv, p.env(), b.timeout)
			rec(Record{Argv: argv, Exit: code, Output: out, Duration: time.Since(start), Note: "check"})
			if err == nil && code == 0 && strings.TrimSpace(out) == want[0] {
				argv, _ := Expand(c.Argv, data)
				rec(Record{Argv: argv, Exit: 0, Skipped: true, Note: "already " + want[0]})
				continue
			}
		}
		argv, err := Expand(c.Argv, data)
		if err != nil {
			return err
		}
		timeout := b.timeout
		if d, err := time.ParseDuration(b.vars[c.wait]); c.wait != "" && err == nil {
			if timeout <= 0 {
				timeout = time.Minute // RunCommand's default
			}
			timeout = max(timeout, d+waitMargin)
		}
		start := time.Now()
		code, out, err := RunCommand(ctx, argv, p.env(), timeout)
		r := Record{Argv: argv, Exit: code, Output: out, Duration: time.Since(start)}
		if err == nil && code != 0 {
			for _, frag := range c.AlreadyDone {
				if strings.Contains(out, frag) {
					r.Note = "already done: " + frag
					code = 0
				}
			}
		}
		rec(r)
		if err != nil {
			return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
		}
		if code != 0 {
			return fmt.Errorf("%s exited %d: %s", strings.Join(argv, " "), code, strings.TrimSpace(Tail(out, 300)))
		}
	}
	return nil
}

// kubectlDeployment is the seed's kubectl sequence on a plain Deployment.
// Facts from kubectl's source (runner.md §1, TL;DR 9): pause and resume
// work on Deployments only and fail with "is already paused" / "is not
// paused" when there is nothing to do; undo refuses a paused Deployment
// ("resume it first"), so the rollback resumes first; undo twice would go
// back one revision further, so it is guarded by reading the image; and
// status waits forever without --timeout.
func kubectlDeployment(a Action, p Params) []Command {
	k := func(args ...string) []string {
		return append([]string{"{{.kubectl}}", "-n", "{{.namespace}}"}, args...)
	}
	dep := "deployment/{{.deployment}}"
	image := Check{
		Argv:   k("get", dep, "-o", `jsonpath={.spec.template.spec.containers[?(@.name=="{{.container}}")].image}`),
		Expect: "{{.Stable}}",
	}
	resume := Command{Argv: k("rollout", "resume", dep), AlreadyDone: []string{"is not paused"}}
	status := Command{Argv: k("rollout", "status", dep, "--timeout={{.status_timeout}}"), wait: "status_timeout"}
	switch a {
	case Deploy:
		return []Command{
			{Argv: k("set", "image", dep, "{{.container}}={{.Canary}}")},
			{Argv: k("rollout", "pause", dep), AlreadyDone: []string{"is already paused"}},
		}
	case SetWeight:
		if p.Weight >= 100 {
			return []Command{resume, status}
		}
		// A Deployment splits traffic by replica count: the weight is
		// recorded, the split is whatever the paused rollout reached.
		return nil
	case Promote:
		return []Command{resume, status}
	case RouteStable:
		return []Command{
			resume,
			{Argv: k("rollout", "undo", dep), SkipIf: &image},
			status,
		}
	}
	return nil
}

// argoRollouts drives an Argo Rollout whose canary steps are the plan's
// weights, each followed by an indefinite pause (what rollout export
// --argo writes): the runner's gates decide, and promote moves Argo to the
// next weight. Promote is guarded by the weight Argo reports, so a resumed
// run does not skip a step; abort is idempotent; undo is guarded by the
// image.
func argoRollouts(a Action, p Params) []Command {
	ar := func(args ...string) []string {
		return append([]string{"{{.kubectl}}", "argo", "rollouts", "-n", "{{.namespace}}"}, args...)
	}
	get := func(path string) []string {
		return []string{"{{.kubectl}}", "-n", "{{.namespace}}", "get", "rollout.argoproj.io/{{.rollout}}", "-o", "jsonpath=" + path}
	}
	switch a {
	case Deploy:
		return []Command{{Argv: ar("set", "image", "{{.rollout}}", "{{.container}}={{.Canary}}")}}
	case SetWeight:
		return []Command{{
			Argv:   ar("promote", "{{.rollout}}"),
			SkipIf: &Check{Argv: get("{.status.canary.weights.canary.weight}"), Expect: "{{.Weight}}"},
		}}
	case Promote:
		return []Command{
			{Argv: ar("promote", "{{.rollout}}", "--full")},
			{Argv: ar("status", "{{.rollout}}", "--timeout", "{{.status_timeout}}"), wait: "status_timeout"},
		}
	case RouteStable:
		return []Command{{Argv: ar("abort", "{{.rollout}}")}}
	case Undo:
		return []Command{{
			Argv:   ar("undo", "{{.rollout}}"),
			SkipIf: &Check{Argv: get(`{.spec.template.spec.containers[?(@.name=="{{.container}}")].image}`), Expect: "{{.Stable}}"},
		}}
	}
	return nil
}
