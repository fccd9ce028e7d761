// Package plan reads a rollout plan (rollout.yaml) and validates all of it
// before anything runs: every error names the file, the line and the
// column, and an unknown name comes with the closest known one.
//
// An analysis step's body stays a *yaml.Node until a Compiler turns it
// into a gate.Gate: the gates live in their own packages and plug in
// through Options.Compile. DefaultCompile knows the exec gate.
package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/internal/readfile"
	"github.com/migsafe/migsafe/rollout/backend"
	"github.com/migsafe/migsafe/rollout/gate"
)

// Kind is a step's kind.
type Kind string

// Step kinds. RouteStable and Undo appear in rollback lists only.
const (
	Check       Kind = "check"
	Migrate     Kind = "migrate"
	Deploy      Kind = "deploy"
	SetWeight   Kind = "set_weight"
	Pause       Kind = "pause"
	Bake        Kind = "bake"
	Analysis    Kind = "analysis"
	Approve     Kind = "approve"
	Exec        Kind = "exec"
	Promote     Kind = "promote"
	RouteStable Kind = "route_stable"
	Undo        Kind = "undo"
	Flag        Kind = "flag"     // flag.go
	FlagOff     Kind = "flag_off" // flag.go; rollback only
)

var stepKinds = []Kind{Check, Migrate, Deploy, SetWeight, Pause, Bake, Analysis, Approve, Exec, Promote, Flag}
var rollbackKinds = []Kind{RouteStable, SetWeight, Undo, Exec, FlagOff}

// Step is one step of the plan or of its rollback.
type Step struct {
	Kind      Kind
	Line, Col int
	Weight    int           // set_weight
	Duration  time.Duration // bake; pause (0: until resume)
	Argv      []string      // exec, check, migrate
	// CheckArgv, for an exec step, tells after a crash whether the
	// command already took effect (exit 0: it did).
	CheckArgv  []string
	Idempotent bool // an exec step that may simply run again
	Timeout    time.Duration
	Gate       gate.Gate  // analysis
	GateNode   *yaml.Node // analysis: the body the gate was compiled from
	// Migrations, for a migrate step and a check step without a command:
	// the plan's migrations section.
	Migrations *Migrations
	// FlagKey, for flag and flag_off steps: the flag; Weight is the share
	// of users a flag step turns it on for.
	FlagKey string
}

// Migrations is the plan's migrations section: the directory the check
// and migrate steps work on and how the migrate step applies it. The
// database URL is never in the plan: it is read from the environment
// variable DatabaseEnv when the step runs.
type Migrations struct {
	// Path is the migrations directory (golang-migrate layout), as
	// written; Dir is it resolved against the plan's folder.
	Path, Dir   string
	DatabaseEnv string // default MIGSAFE_DATABASE_URL
	// LockWait bounds the wait for the migrate runner's lock;
	// LockTimeout is the session's lock_timeout; StatementTimeout bounds
	// each statement (0: none). Zero LockWait and LockTimeout mean the
	// migrate package's defaults.
	LockWait, LockTimeout, StatementTimeout time.Duration
	// Lint settings of the gate: as `migsafe check` flags ("" is the
	// configuration's, else the default).
	Config, FailOn, Dialect, TargetVersion string
	// JournalTable, when set, names a table of the database (PostgreSQL)
	// that gets a copy of every journal event, so that a second machine
	// sees the run (migsafe rollout status --from-database).
	JournalTable string
	Line, Col    int
}

// DefaultDatabaseEnv is the variable the database URL is read from.
const DefaultDatabaseEnv = "MIGSAFE_DATABASE_URL"

// String is the step as a person reads it.
func (s Step) String() string {
	switch s.Kind {
	case SetWeight:
		return fmt.Sprintf("set_weight %d", s.Weight)
	case Bake:
		return "bake " + s.Duration.String()
	case Pause:
		if s.Duration > 0 {
			return "pause " + s.Duration.String()
		}
		return "pause"
	case Analysis:
		if s.Gate != nil {
			return "analysis " + s.Gate.Name()
		}
		return "analysis"
	case Flag, FlagOff:
		return flagString(s)
	case Migrate:
		if s.Migrations != nil {
			return "migrate " + s.Migrations.Path + " (expand)"
		}
	case Exec, Check:
		if s.Argv == nil && s.Migrations != nil {
			return "check " + s.Migrations.Path + " (pending)"
		}
		return string(s.Kind) + " " + strings.Join(s.Argv, " ")
	}
	return string(s.Kind)
}

// Limits are the analysis limits (Argo's names).
type Limits struct {
	// ConsecutiveErrorLimit is how many Error results in a row an
	// analysis step tolerates (re-evaluating after ErrorInterval) before
	// the rollout rolls back. 0, the default, rolls back on the first.
	ConsecutiveErrorLimit int
	ErrorInterval         time.Duration
}

// Plan is a validated plan.
type Plan struct {
	File     string
	Name     string
	Service  string
	Stable   string
	Canary   string
	Backend  backend.Spec
	Steps    []Step
	Rollback []Step
	Limits   Limits
	// Hash is the sha256 of the file: a run refuses to resume under a
	// different plan.
	Hash     string
	Warnings []string
	// DefaultGate is the top-level analysis body, nil when absent.
	DefaultGate *yaml.Node
	// Migrations is the migrations section, nil when absent.
	Migrations *Migrations
	// Flags is the flag service's driver body (flags: {unleash: …} or
	// {exec: …}, see rollout/flags), nil when absent.
	Flags *yaml.Node
	// Readiness and PostRollback are checklists (rollout/checklist), and
	// Notify the notification sinks; the runner compiles them. Nil when
	// absent.
	Readiness, PostRollback, Notify *yaml.Node
}

// Compiler turns an analysis body into a gate.
type Compiler func(node *yaml.Node) (gate.Gate, error)

// Options configure Load.
type Options struct {
	// Compile builds gates; nil means DefaultCompile.
	Compile Compiler
}

// Error is one problem at a place in the file.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// MaxSize is the largest plan Load reads: a plan is a page of YAML.
const MaxSize = 1 << 20

// Load reads and validates the plan at path. The file must be a regular
// file of at most MaxSize bytes (a named pipe would wait forever, a link
// to /dev/zero would never end).
func Load(path string, opt Options) (*Plan, error) {
	data, err := readfile.Read(path, path, readfile.Options{Max: MaxSize, TooLarge: "a rollout plan is a page of YAML"})
	if err != nil {
		return nil, fmt.Errorf("rollout plan: %w", err)
	}
	return Parse(path, data, opt)
}

type parser struct {
	file    string
	errs    []error
	compile Compiler
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) {
	e := &Error{File: p.file, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

// fields walks a mapping, reporting unknown keys with a suggestion.
func (p *parser) fields(n *yaml.Node, what string, known []string, f func(key string, k, v *yaml.Node)) {
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.errf(n, "%s must be a mapping", what)
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			p.errf(k, "%s: %s is given twice", what, k.Value)
			continue
		}
		seen[k.Value] = true
		if !contains(known, k.Value) {
			msg := fmt.Sprintf("%s: unknown key %q", what, k.Value)
			if s := analyzer.Suggest(k.Value, known); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else {
				msg += " (known: " + strings.Join(known, ", ") + ")"
			}
			p.errf(k, "%s", msg)
			continue
		}
		f(k.Value, k, v)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *parser) str(n *yaml.Node, what string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errf(n, "%s must be a string", what)
		return ""
	}
	return n.Value
}

func (p *parser) duration(n *yaml.Node, what string) time.Duration {
	s := p.str(n, what)
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		p.errf(n, "%s %q is not a positive duration (write 30s, 5m, 1h30m)", what, s)
		return 0
	}
	return d
}

func (p *parser) argv(n *yaml.Node, what string) []string {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errf(n, "%s must be a non-empty list of arguments (an argv; there is no shell)", what)
		return nil
	}
	var out []string
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			p.errf(c, "%s: every argument must be a string", what)
			return nil
		}
		out = append(out, c.Value)
	}
	if err := backend.CheckTemplate(out); err != nil {
		p.errf(n, "%s: %v", what, err)
	}
	return out
}

var namePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`) })

// Parse validates a plan from bytes; file names it in errors.
func Parse(file string, data []byte, opt Options) (*Plan, error) {
	p := &parser{file: file, compile: opt.Compile}
	if p.compile == nil {
		p.compile = DefaultCompile
	}
	sum := sha256.Sum256(data)
	pl := &Plan{File: file, Hash: hex.EncodeToString(sum[:])}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{File: file, Msg: "not valid YAML: " + err.Error()}
	}
	if len(doc.Content) == 0 {
		return nil, &Error{File: file, Msg: "empty plan"}
	}
	if n := secondDocument(data); n > 0 {
		return nil, &Error{File: file, Line: n, Col: 1, Msg: "a second YAML document: a plan is one document (remove the '---' and what follows, or split it into two plans)"}
	}
	root := doc.Content[0]
	var stepsNode, rollbackNode *yaml.Node
	gates := map[string]*yaml.Node{}
	var gateNames []string
	top := []string{"apiVersion", "kind", "name", "service", "release", "backend", "analysis", "gates", "limits", "migrations", "flags", "readiness", "post_rollback", "notify", "steps", "rollback"}
	p.fields(root, "plan", top, func(key string, k, v *yaml.Node) {
		switch key {
		case "apiVersion":
			if s := p.str(v, key); s != "" && s != "migsafe.dev/v1" {
				p.errf(v, "apiVersion %q: this migsafe reads migsafe.dev/v1", s)
			}
		case "kind":
			if s := p.str(v, key); s != "" && s != "RolloutPlan" {
				p.errf(v, "kind %q: a rollout plan is kind RolloutPlan", s)
			}
		case "name":
			pl.Name = p.str(v, key)
		case "service":
			pl.Service = p.str(v, key)
			if pl.Service != "" && !namePattern().MatchString(pl.Service) {
				p.errf(v, "service %q: use letters, digits, '.', '_' and '-' (it names the run's lock)", pl.Service)
			}
		case "release":
			p.fields(v, "release", []string{"stable", "canary"}, func(key string, _, v *yaml.Node) {
				s := p.str(v, "release."+key)
				if s != "" {
					if err := backend.ValidateValue("release."+key, s); err != nil {
						p.errf(v, "%v", err)
					}
				}
				if key == "stable" {
					pl.Stable = s
				} else {
					pl.Canary = s
				}
			})
		case "backend":
			p.backend(v, pl)
		case "analysis":
			pl.DefaultGate = v
		case "gates":
			if v.Kind != yaml.MappingNode {
				p.errf(v, "gates must be a mapping of names to gate bodies")
			} else {
				for i := 0; i+1 < len(v.Content); i += 2 {
					gates[v.Content[i].Value] = v.Content[i+1]
					gateNames = append(gateNames, v.Content[i].Value)
				}
			}
		case "limits":
			p.fields(v, "limits", []string{"consecutive_error_limit", "error_interval"}, func(key string, _, v *yaml.Node) {
				switch key {
				case "consecutive_error_limit":
					n, err := strconv.Atoi(p.str(v, key))
					if err != nil || n < 0 {
						p.errf(v, "consecutive_error_limit must be a whole number ≥ 0")
					}
					pl.Limits.ConsecutiveErrorLimit = n
				case "error_interval":
					pl.Limits.ErrorInterval = p.duration(v, key)
				}
			})
		case "migrations":
			pl.Migrations = p.migrations(v, file)
		case "flags":
			pl.Flags = v
		case "readiness":
			pl.Readiness = v
		case "post_rollback":
			pl.PostRollback = v
		case "notify":
			pl.Notify = v
		case "steps":
			stepsNode = v
		case "rollback":
			rollbackNode = v
		}
	})
	if pl.Name == "" {
		p.errf(root, "the plan needs a name")
	}
	if pl.Service == "" {
		p.errf(root, "the plan needs a service (one run at a time per service)")
	}
	if pl.Stable == "" || pl.Canary == "" {
		p.errf(root, "the plan needs release.stable and release.canary (the versions, as the backend names them)")
	}
	if pl.Backend.Preset == "" {
		p.errf(root, "the plan needs a backend (preset: %s)", strings.Join(backend.Presets, " | "))
	}
	compileGate := func(s *Step, body, at *yaml.Node) {
		if body == nil || body.Kind == yaml.ScalarNode && body.Tag == "!!null" || body.Kind == yaml.MappingNode && len(body.Content) == 0 {
			if pl.DefaultGate == nil {
				p.errf(at, "analysis step without a gate, and the plan has no top-level analysis: to use")
				return
			}
			body = pl.DefaultGate
		} else if body.Kind == yaml.ScalarNode && body.Tag == "!!str" {
			g, ok := gates[body.Value]
			if !ok {
				msg := fmt.Sprintf("no gate named %q under gates:", body.Value)
				if s := analyzer.Suggest(body.Value, gateNames); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				p.errf(body, "%s", msg)
				return
			}
			body = g
		}
		g, err := p.compile(body)
		if err != nil {
			var pe *Error
			if errors.As(err, &pe) {
				if pe.File == "" {
					pe.File = p.file
				}
				p.errs = append(p.errs, pe)
			} else {
				p.errf(body, "analysis: %v", err)
			}
			return
		}
		s.Gate, s.GateNode = g, body
	}
	if stepsNode == nil {
		// The seed's sequence.
		at := root
		pl.Steps = []Step{{Kind: Deploy}, {Kind: SetWeight, Weight: 1}, {Kind: Analysis}, {Kind: SetWeight, Weight: 5}, {Kind: Analysis}, {Kind: SetWeight, Weight: 25}, {Kind: Analysis}, {Kind: Promote}}
		for i := range pl.Steps {
			pl.Steps[i].Line, pl.Steps[i].Col = root.Line, root.Column
			if pl.Steps[i].Kind == Analysis {
				compileGate(&pl.Steps[i], nil, at)
			}
		}
	} else {
		pl.Steps = p.steps(stepsNode, "steps", stepKinds, compileGate)
	}
	if rollbackNode == nil {
		pl.Rollback = []Step{{Kind: RouteStable}, {Kind: Undo}}
	} else {
		pl.Rollback = p.steps(rollbackNode, "rollback", rollbackKinds, compileGate)
	}
	p.checkOrder(pl, stepsNode, rollbackNode, root)
	p.checkFlags(pl, root)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return pl, nil
}

func (p *parser) backend(n *yaml.Node, pl *Plan) {
	spec := backend.Spec{Vars: map[string]string{}, Actions: map[backend.Action][]backend.Command{}}
	var presetNode *yaml.Node
	var varsNode *yaml.Node
	p.fields(n, "backend", []string{"preset", "vars", "actions", "timeout"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "preset":
			presetNode = v
			spec.Preset = p.str(v, "backend.preset")
			if spec.Preset != "" && !contains(backend.Presets, spec.Preset) {
				msg := fmt.Sprintf("unknown backend preset %q", spec.Preset)
				if s := analyzer.Suggest(spec.Preset, backend.Presets); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				p.errf(v, "%s (known: %s)", msg, strings.Join(backend.Presets, ", "))
			}
		case "vars":
			varsNode = v
			if v.Kind != yaml.MappingNode {
				p.errf(v, "backend.vars must be a mapping of names to values")
				return
			}
			for i := 0; i+1 < len(v.Content); i += 2 {
				val := v.Content[i+1]
				spec.Vars[v.Content[i].Value] = p.str(val, "backend.vars."+v.Content[i].Value)
				if err := backend.ValidateValue("backend.vars."+v.Content[i].Value, val.Value); err != nil {
					p.errf(val, "%v", err)
				}
			}
		case "timeout":
			spec.Timeout = p.duration(v, "backend.timeout")
		case "actions":
			names := make([]string, len(backend.Actions))
			for i, a := range backend.Actions {
				names[i] = string(a)
			}
			p.fields(v, "backend.actions", names, func(key string, _, v *yaml.Node) {
				if v.Kind != yaml.SequenceNode {
					p.errf(v, "backend.actions.%s must be a list of commands ({argv: [...]} or an argv list)", key)
					return
				}
				cmds := []backend.Command{}
				for _, c := range v.Content {
					var cmd backend.Command
					switch c.Kind {
					case yaml.SequenceNode:
						cmd.Argv = p.argv(c, "backend.actions."+key)
					case yaml.MappingNode:
						p.fields(c, "backend.actions."+key, []string{"argv", "skip_if", "already_done"}, func(k string, _, v *yaml.Node) {
							switch k {
							case "argv":
								cmd.Argv = p.argv(v, "argv")
							case "already_done":
								if err := v.Decode(&cmd.AlreadyDone); err != nil {
									p.errf(v, "already_done must be a list of strings")
								}
							case "skip_if":
								cmd.SkipIf = &backend.Check{}
								p.fields(v, "skip_if", []string{"argv", "expect"}, func(k string, _, v *yaml.Node) {
									if k == "argv" {
										cmd.SkipIf.Argv = p.argv(v, "skip_if.argv")
									} else {
										cmd.SkipIf.Expect = p.str(v, "skip_if.expect")
									}
								})
							}
						})
						if cmd.Argv == nil {
							p.errf(c, "backend.actions.%s: a command needs argv", key)
						}
					default:
						p.errf(c, "backend.actions.%s: a command is an argv list or {argv: [...]}", key)
					}
					cmds = append(cmds, cmd)
				}
				spec.Actions[backend.Action(key)] = cmds
			})
		}
	})
	pl.Backend = spec
	if spec.Preset == "" || !contains(backend.Presets, spec.Preset) {
		return
	}
	known := backend.VarNames(spec.Preset)
	if varsNode != nil && varsNode.Kind == yaml.MappingNode && spec.Preset != "exec" {
		for i := 0; i+1 < len(varsNode.Content); i += 2 {
			k := varsNode.Content[i]
			if !contains(known, k.Value) && k.Value != "replicas" {
				if s := analyzer.Suggest(k.Value, known); s != "" {
					p.errf(k, "backend.vars: %s does not use %q; did you mean %q?", spec.Preset, k.Value, s)
				}
			}
		}
	}
	at := presetNode
	if varsNode != nil {
		at = varsNode
	}
	for _, err := range backend.Validate(spec) {
		p.errf(at, "%v", err)
	}
}

var envName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`) })

var tableName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$`) })

func (p *parser) migrations(n *yaml.Node, file string) *Migrations {
	m := &Migrations{DatabaseEnv: DefaultDatabaseEnv, Line: n.Line, Col: n.Column}
	known := []string{"path", "database_env", "lock_wait", "lock_timeout", "statement_timeout", "config", "fail_on", "dialect", "target_version", "journal_table"}
	p.fields(n, "migrations", known, func(key string, _, v *yaml.Node) {
		switch key {
		case "path":
			m.Path = p.str(v, "migrations.path")
		case "database_env":
			m.DatabaseEnv = p.str(v, "migrations.database_env")
			if m.DatabaseEnv != "" && !envName().MatchString(m.DatabaseEnv) {
				p.errf(v, "migrations.database_env %q: the name of an environment variable that holds the database URL (the URL itself never goes in the plan)", m.DatabaseEnv)
			}
		case "lock_wait":
			m.LockWait = p.duration(v, "migrations.lock_wait")
		case "lock_timeout":
			m.LockTimeout = p.duration(v, "migrations.lock_timeout")
		case "statement_timeout":
			m.StatementTimeout = p.duration(v, "migrations.statement_timeout")
		case "config":
			m.Config = p.str(v, "migrations.config")
		case "fail_on":
			m.FailOn = p.str(v, "migrations.fail_on")
			if m.FailOn != "error" && m.FailOn != "warning" && m.FailOn != "never" {
				p.errf(v, "migrations.fail_on %q: error, warning or never", m.FailOn)
			}
		case "dialect":
			m.Dialect = p.str(v, "migrations.dialect")
		case "target_version":
			m.TargetVersion = p.str(v, "migrations.target_version")
		case "journal_table":
			m.JournalTable = p.str(v, "migrations.journal_table")
			if m.JournalTable != "" && !tableName().MatchString(m.JournalTable) {
				p.errf(v, "migrations.journal_table %q: a table name (lower-case letters, digits and _, optionally schema.table)", m.JournalTable)
			}
		}
	})
	if m.Path == "" {
		p.errf(n, "migrations needs a path (the migrations directory, relative to the plan)")
		return m
	}
	m.Dir = m.Path
	if !filepath.IsAbs(m.Dir) {
		m.Dir = filepath.Join(filepath.Dir(file), m.Dir)
	}
	if m.Config != "" && !filepath.IsAbs(m.Config) {
		m.Config = filepath.Join(filepath.Dir(file), m.Config)
	}
	return m
}

func (p *parser) steps(n *yaml.Node, what string, kinds []Kind, compileGate func(*Step, *yaml.Node, *yaml.Node)) []Step {
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "%s must be a list of steps", what)
		return nil
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	var out []Step
	for _, item := range n.Content {
		var key, val *yaml.Node
		switch {
		case item.Kind == yaml.ScalarNode:
			key = item // "- deploy" is "- deploy: {}"
		case item.Kind == yaml.MappingNode && len(item.Content) == 2:
			key, val = item.Content[0], item.Content[1]
		default:
			p.errf(item, "a step is one key (%s)", strings.Join(names, ", "))
			continue
		}
		s := Step{Kind: Kind(key.Value), Line: key.Line, Col: key.Column}
		if !contains(names, key.Value) {
			label := "step"
			if what == "rollback" {
				label = "rollback step"
			}
			msg := fmt.Sprintf("unknown %s %q", label, key.Value)
			if sg := analyzer.Suggest(key.Value, names); sg != "" {
				msg += fmt.Sprintf("; did you mean %q?", sg)
			}
			p.errf(key, "%s (known: %s)", msg, strings.Join(names, ", "))
			continue
		}
		isNull := val == nil || val.Kind == yaml.ScalarNode && val.Tag == "!!null"
		emptyMap := val != nil && val.Kind == yaml.MappingNode && len(val.Content) == 0
		switch s.Kind {
		case SetWeight:
			if isNull {
				p.errf(key, "set_weight needs a percentage: set_weight: 5")
				continue
			}
			w, err := strconv.Atoi(val.Value)
			lo := 1
			if what == "rollback" {
				lo = 0
			}
			if val.Kind != yaml.ScalarNode || err != nil || w < lo || w > 100 {
				p.errf(val, "set_weight %q: a whole percentage from %d to 100", val.Value, lo)
				continue
			}
			s.Weight = w
			if what == "rollback" {
				if w != 0 {
					p.errf(val, "a rollback sets weight 0 (all traffic to stable), not %d", w)
				}
				s.Kind = RouteStable
			}
		case Bake, Pause:
			switch {
			case isNull || emptyMap:
				if s.Kind == Bake {
					p.errf(key, "bake needs a duration: bake: 30s")
				}
			case val.Kind == yaml.ScalarNode:
				s.Duration = p.duration(val, string(s.Kind))
			default:
				p.fields(val, string(s.Kind), []string{"duration"}, func(_ string, _, v *yaml.Node) {
					s.Duration = p.duration(v, string(s.Kind)+".duration")
				})
			}
		case Analysis:
			compileGate(&s, val, key)
		case Flag, FlagOff:
			if !p.flagStep(&s, key, val) {
				continue
			}
		case Migrate:
			if !isNull && !emptyMap {
				p.errf(val, "migrate takes no settings: it applies the plan's migrations: section with the migrate runner (expand phase); to run a command use exec")
			}
		case Exec, Check:
			switch {
			case val != nil && val.Kind == yaml.SequenceNode:
				s.Argv = p.argv(val, string(s.Kind))
			case val != nil && val.Kind == yaml.MappingNode && !emptyMap:
				var args []string
				p.fields(val, string(s.Kind), []string{"argv", "args", "timeout", "idempotent", "check"}, func(k string, kn, v *yaml.Node) {
					switch k {
					case "argv":
						s.Argv = p.argv(v, string(s.Kind)+".argv")
					case "args":
						if s.Kind != Check {
							p.errf(kn, "args belongs to check steps; %s takes argv", s.Kind)
						}
						args = p.argv(v, "check.args")
					case "timeout":
						s.Timeout = p.duration(v, "timeout")
					case "idempotent":
						s.Idempotent = v.Value == "true"
					case "check":
						s.CheckArgv = p.argv(v, "check")
					}
				})
				if s.Kind == Check && s.Argv == nil {
					s.Argv = append([]string{"migsafe", "check"}, args...)
				}
			}
			if s.Kind == Check {
				s.Idempotent = true // a lint changes nothing
			}
			if s.Argv == nil && s.Kind == Exec {
				p.errf(key, "%s needs a command: %s: [\"prog\", \"arg\"] or %s: {argv: [...]}", s.Kind, s.Kind, s.Kind)
			}
		default:
			if !isNull && !emptyMap {
				p.errf(val, "%s takes no settings (write %s: {})", s.Kind, s.Kind)
			}
		}
		out = append(out, s)
	}
	return out
}

func (p *parser) checkOrder(pl *Plan, stepsNode, rollbackNode, root *yaml.Node) {
	at := stepsNode
	if at == nil {
		at = root
	}
	shipped := ""
	for i := range pl.Steps {
		s := &pl.Steps[i]
		if shipped == "" && (s.Kind == Deploy || s.Kind == SetWeight) {
			shipped = s.String()
		}
		switch {
		case s.Kind == Migrate:
			if shipped != "" {
				pl.Warnings = append(pl.Warnings, fmt.Sprintf("line %d: migrate comes after %s: the canary runs before the schema it expects; put migrate before deploy", s.Line, shipped))
			}
			if pl.Migrations == nil {
				p.errf(&yaml.Node{Line: s.Line, Column: s.Col}, "migrate needs the plan's migrations: section (path, database_env, lock_wait, statement_timeout)")
			}
			s.Migrations = pl.Migrations
			s.Idempotent = true // the migrate runner's history decides what is applied
		case s.Kind == Check && s.Argv == nil:
			if pl.Migrations != nil {
				s.Migrations = pl.Migrations // lint the pending migrations in process
			} else {
				s.Argv = []string{"migsafe", "check"}
			}
		}
	}
	promotes := 0
	judged := false
	for i, s := range pl.Steps {
		switch s.Kind {
		case Promote:
			promotes++
			if i != len(pl.Steps)-1 {
				p.errf(&yaml.Node{Line: s.Line, Column: s.Col}, "promote must be the last step")
			}
			if !judged {
				p.errf(&yaml.Node{Line: s.Line, Column: s.Col}, "promote without an analysis or approve step before it: a canary is judged before it takes all traffic")
			}
		case Analysis, Approve:
			judged = true
		case SetWeight:
			if s.Weight == 100 && !judged {
				p.errf(&yaml.Node{Line: s.Line, Column: s.Col}, "set_weight 100 without an analysis or approve step before it")
			}
			if pl.Backend.Preset == "kubectl-deployment" && s.Weight < 100 {
				msg := fmt.Sprintf("line %d: a plain Deployment splits traffic by replica count, not by weight; set_weight %d is recorded, and the share is whatever the paused rollout reached", s.Line, s.Weight)
				if r, err := strconv.Atoi(pl.Backend.Vars["replicas"]); err == nil && r > 0 {
					pods := s.Weight * r / 100
					msg += fmt.Sprintf(" (%d%% of %d replicas is %d pods", s.Weight, r, pods)
					if pods < 1 {
						msg += ": not even one; use argo-rollouts or nginx for fine weights"
					}
					msg += ")"
				}
				pl.Warnings = append(pl.Warnings, msg)
			}
		}
	}
	if len(pl.Steps) > 0 && promotes == 0 {
		p.errf(at, "the steps must end with promote")
	}
	if len(pl.Rollback) == 0 || pl.Rollback[0].Kind != RouteStable {
		n := rollbackNode
		if n == nil {
			n = root
		}
		p.errf(n, "the rollback must start with route_stable (or set_weight: 0): one action from the decision to 100%% on stable")
	}
	sort.Strings(pl.Warnings)
}

// DefaultCompile builds the gates this package knows: exec.
//
//	analysis: {exec: ["./check-errors", "--max", "1%"], timeout: 30s, name: errors}
func DefaultCompile(node *yaml.Node) (gate.Gate, error) {
	return CompileExec(node)
}

// secondDocument returns the line of a second YAML document in data, or 0.
func secondDocument(data []byte) int {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var first, second yaml.Node
	if dec.Decode(&first) != nil {
		return 0
	}
	if err := dec.Decode(&second); err != nil || len(second.Content) == 0 {
		return 0
	}
	return max(second.Line-1, 1)
}
