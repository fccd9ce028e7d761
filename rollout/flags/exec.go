package flags

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// Exec drives a flag service through commands (argv, no shell), for flag
// services migsafe has no client for. The argv elements are templates with
// {{.Key}}, {{.Percent}} (0..100) and {{.Enabled}} (true or false).
//
// The get command prints the flag's state on stdout, either as JSON
// ({"exists": true, "enabled": true, "percent": 50}) or as one word: on,
// true, off, false, or missing. A non-zero exit is an error.
type Exec struct {
	set, get []*template.Template
	timeout  time.Duration
}

var _ Backend = (*Exec)(nil)

// NewExec parses the argv templates. get may be empty (Get then reports
// an error); timeout bounds each command (default 30 s).
func NewExec(set, get []string, timeout time.Duration) (*Exec, error) {
	if len(set) == 0 {
		return nil, errors.New("flags exec: set needs an argv (the command and its arguments as a list)")
	}
	e := &Exec{timeout: timeout}
	if e.timeout == 0 {
		e.timeout = 30 * time.Second
	}
	for _, l := range []struct {
		argv []string
		dst  *[]*template.Template
	}{{set, &e.set}, {get, &e.get}} {
		for i, a := range l.argv {
			t, err := template.New(strconv.Itoa(i)).Option("missingkey=error").Parse(a)
			if err != nil {
				return nil, fmt.Errorf("flags exec: argv %q: %w", a, err)
			}
			if _, err := renderArgv([]*template.Template{t}, argvVars{Key: "k", Percent: 1, Enabled: true}); err != nil {
				return nil, fmt.Errorf("flags exec: argv %q: %w", a, err)
			}
			*l.dst = append(*l.dst, t)
		}
	}
	return e, nil
}

type argvVars struct {
	Key     string
	Percent int
	Enabled bool
}

func renderArgv(ts []*template.Template, v argvVars) ([]string, error) {
	out := make([]string, len(ts))
	for i, t := range ts {
		var b strings.Builder
		if err := t.Execute(&b, v); err != nil {
			return nil, err
		}
		out[i] = b.String()
	}
	return out, nil
}

func (e *Exec) run(ctx context.Context, ts []*template.Template, v argvVars) (string, error) {
	argv, err := renderArgv(ts, v)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		return "", fmt.Errorf("flags exec: %s did not finish within %s", argv[0], e.timeout)
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 500 {
			msg = msg[len(msg)-500:]
		}
		return "", fmt.Errorf("flags exec: %s: %w: %s", argv[0], err, msg)
	}
	return stdout.String(), nil
}

// Set runs the set command.
func (e *Exec) Set(ctx context.Context, key string, percent int) error {
	if err := checkPercent(percent); err != nil {
		return err
	}
	_, err := e.run(ctx, e.set, argvVars{Key: key, Percent: percent, Enabled: percent > 0})
	return err
}

// Get runs the get command and reads its answer.
func (e *Exec) Get(ctx context.Context, key string) (State, error) {
	if len(e.get) == 0 {
		return State{}, errors.New("flags exec: no get command is configured")
	}
	out, err := e.run(ctx, e.get, argvVars{Key: key})
	if err != nil {
		return State{}, err
	}
	out = strings.TrimSpace(out)
	if strings.HasPrefix(out, "{") {
		var s State
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			return State{}, fmt.Errorf("flags exec: the get command printed %q: %w", out, err)
		}
		if !s.Enabled {
			s.Percent = 0
		}
		return s, nil
	}
	switch strings.ToLower(out) {
	case "on", "true":
		return State{Exists: true, Enabled: true, Percent: 100}, nil
	case "off", "false":
		return State{Exists: true}, nil
	case "missing":
		return State{}, nil
	}
	return State{}, fmt.Errorf("flags exec: the get command printed %q; want JSON or one of on, off, true, false, missing", out)
}

// CanTurnOff checks that the set command's program can be found.
func (e *Exec) CanTurnOff(_ context.Context, key string) error {
	argv, err := renderArgv(e.set, argvVars{Key: key})
	if err != nil {
		return err
	}
	if _, err := exec.LookPath(argv[0]); err != nil {
		return fmt.Errorf("flags exec: the set command %s: %w", argv[0], err)
	}
	return nil
}
