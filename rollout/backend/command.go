// Package backend moves traffic and versions for the rollout engine. Every
// backend is a set of actions (deploy, set_weight, promote, route_stable,
// undo), each a list of argv templates run without a shell; the nginx
// preset also writes an upstream file. Values reach commands as separate
// arguments and are validated first, so no value can become an option or
// a second command.
package backend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"text/template"
	"time"
)

// Record is one command as it ran: what the journal keeps.
type Record struct {
	Argv     []string      `json:"argv"`
	Exit     int           `json:"exit"`
	Output   string        `json:"output,omitempty"` // the last bytes of stdout and stderr
	Duration time.Duration `json:"duration_ns"`
	Skipped  bool          `json:"skipped,omitempty"` // a check said the effect is already there
	Note     string        `json:"note,omitempty"`
}

// Recorder receives every command run, in order.
type Recorder func(Record)

// OutputLimit is how much of a command's output a Record keeps.
const OutputLimit = 2048

// RunCommand runs argv (no shell) with a deadline and returns its exit
// code (-1 when it could not start or was killed by the deadline) and the
// tail of its combined output.
func RunCommand(ctx context.Context, argv []string, env []string, timeout time.Duration) (int, string, error) {
	if len(argv) == 0 {
		return -1, "", errors.New("empty command")
	}
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	tail := Tail(out.String(), OutputLimit)
	if ctx.Err() != nil {
		return -1, tail, fmt.Errorf("%s: no answer within %s", argv[0], timeout)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), tail, nil
	}
	if err != nil {
		return -1, tail, err
	}
	return 0, tail, nil
}

// Tail keeps the last n bytes of s.
func Tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// safeValue is what a template value may look like: no option-looking
// start, no whitespace or control characters, nothing a shell would care
// about (there is no shell, but the values also end up in files and logs).
var safeValue = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_./:@=+,%][A-Za-z0-9_./:@=+,%~-]*$`) })

// ValidateValue reports whether v may be substituted into an argv.
func ValidateValue(name, v string) error {
	if !safeValue().MatchString(v) {
		return fmt.Errorf("%s %q is not a plain value (letters, digits and _ . / : @ = + , %% - ~; not starting with -)", name, v)
	}
	return nil
}

// Expand renders each argv element as a text/template over data (a
// missing key is an error). Elements are never split: one element is one
// argument.
func Expand(argv []string, data map[string]any) ([]string, error) {
	out := make([]string, 0, len(argv))
	for _, a := range argv {
		if !strings.Contains(a, "{{") {
			out = append(out, a)
			continue
		}
		t, err := template.New("arg").Option("missingkey=error").Parse(a)
		if err != nil {
			return nil, fmt.Errorf("argument %q: %w", a, err)
		}
		var b strings.Builder
		if err := t.Execute(&b, data); err != nil {
			return nil, fmt.Errorf("argument %q: %w", a, err)
		}
		out = append(out, b.String())
	}
	return out, nil
}

// CheckTemplate parses an argv template without running it.
func CheckTemplate(argv []string) error {
	for _, a := range argv {
		if _, err := template.New("arg").Option("missingkey=error").Parse(a); err != nil {
			return fmt.Errorf("argument %q: %w", a, err)
		}
	}
	return nil
}
