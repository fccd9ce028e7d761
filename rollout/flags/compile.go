package flags

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/migsafe/migsafe/analyzer"
)

// Error is a mistake in a plan's flag driver, at a line and column.
type Error struct {
	Line, Column int
	Msg          string
}

func (e *Error) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

func errAt(n *yaml.Node, format string, args ...any) error {
	return &Error{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)}
}

// Service is a plan's flags: section: the driver that flag steps and
// the rollback use, and what `migsafe flags check` needs to evaluate the
// flags the way the application does.
type Service struct {
	// Backend turns flags on and off (unleash, exec, or ofrep with a set
	// command).
	Backend Backend
	// Eval, when the section has ofrep:, is how applications read the
	// flags (OpenFeature remote evaluation); nil otherwise.
	Eval *OFREP
	// SafeDefault is the value the application falls back to when the
	// flag service is unreachable (safe_default:, default false). It must
	// be false, the old behaviour; `migsafe flags check` fails otherwise.
	SafeDefault bool
}

// Compile reads a plan's flag driver (see CompileService) and returns the
// backend flag steps use.
func Compile(node *yaml.Node) (Backend, error) {
	s, err := CompileService(node)
	if err != nil {
		return nil, err
	}
	return s.Backend, nil
}

var serviceKeys = []string{"unleash", "exec", "ofrep", "safe_default"}

// CompileService reads a plan's flags: section: one driver,
//
//	unleash: {url: http://unleash:4242, tokenEnv: UNLEASH_ADMIN_TOKEN, project: default, environment: production, timeout: 10s}
//	exec: {set: [flagctl, set, "{{.Key}}", "{{.Percent}}"], get: [flagctl, get, "{{.Key}}"], timeout: 30s}
//	ofrep: {url: http://flagd:8016, tokenEnv: OFREP_TOKEN, context: {targetingKey: migsafe}, set: [flagctl, …], timeout: 10s}
//
// where ofrep may also stand beside unleash or exec (they change the
// flags, OFREP reads them as the application does), and safe_default:
// false, the value applications fall back to when the flag service is
// unreachable.
//
// Tokens are read from the environment variables tokenEnv names (a plan
// file is committed; a token is not).
func CompileService(node *yaml.Node) (*Service, error) {
	if node == nil {
		return nil, errors.New("flags: no driver")
	}
	if node.Kind == yaml.DocumentNode && len(node.Content) > 0 {
		node = node.Content[0]
	}
	if node.Kind != yaml.MappingNode || len(node.Content) == 0 {
		return nil, errAt(node, "a flag driver is one of unleash: {…}, exec: {…} or ofrep: {…}")
	}
	if err := strict(node, serviceKeys, "flags"); err != nil {
		var fe *Error
		if errors.As(err, &fe) && strings.HasPrefix(fe.Msg, "unknown key") {
			k := node.Content[0]
			for i := 0; i+1 < len(node.Content); i += 2 {
				if fe.Line == node.Content[i].Line && fe.Column == node.Content[i].Column {
					k = node.Content[i]
				}
			}
			msg := fmt.Sprintf("unknown flag driver %q", k.Value)
			if sug := analyzer.Suggest(k.Value, serviceKeys); sug != "" {
				msg += fmt.Sprintf("; did you mean %q?", sug)
			} else {
				msg += " (unleash, exec or ofrep)"
			}
			return nil, errAt(k, "%s", msg)
		}
		return nil, err
	}
	s := &Service{}
	var driverKey *yaml.Node
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, v := node.Content[i], node.Content[i+1]
		var b Backend
		var err error
		switch k.Value {
		case "safe_default":
			if v.Kind != yaml.ScalarNode || v.Decode(&s.SafeDefault) != nil {
				return nil, errAt(v, "safe_default is true or false: the value applications fall back to when the flag service is unreachable (false, the old behaviour)")
			}
			continue
		case "unleash":
			b, err = compileUnleash(v)
		case "exec":
			b, err = compileExec(v)
		case "ofrep":
			s.Eval, err = compileOFREP(v)
			if err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if driverKey != nil {
			return nil, errAt(k, "flags has two drivers, %s and %s: keep one (ofrep may stand beside either)", driverKey.Value, k.Value)
		}
		driverKey, s.Backend = k, b
	}
	if s.Backend == nil {
		if s.Eval == nil {
			return nil, errAt(node, "flags needs a driver: unleash: {…}, exec: {…} or ofrep: {…}")
		}
		s.Backend = s.Eval
	}
	return s, nil
}

func timeoutOf(v *yaml.Node, s, example string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errAt(v, "timeout %q is not a duration such as %s", s, example)
	}
	return d, nil
}

func tokenFrom(v *yaml.Node, env, what string) (string, error) {
	if env == "" {
		return "", nil
	}
	tok := os.Getenv(env)
	if tok == "" {
		return "", errAt(v, "the environment variable %s (tokenEnv) is empty: set it to %s", env, what)
	}
	return tok, nil
}

func compileUnleash(v *yaml.Node) (Backend, error) {
	var s struct {
		URL         string `yaml:"url"`
		TokenEnv    string `yaml:"tokenEnv"`
		Project     string `yaml:"project"`
		Environment string `yaml:"environment"`
		Timeout     string `yaml:"timeout"`
	}
	if err := strict(v, []string{"url", "tokenEnv", "project", "environment", "timeout"}, "unleash"); err != nil {
		return nil, err
	}
	if err := v.Decode(&s); err != nil {
		return nil, errAt(v, "%v", err)
	}
	if !strings.HasPrefix(s.URL, "http://") && !strings.HasPrefix(s.URL, "https://") {
		return nil, errAt(v, "unleash needs url: the server's http:// or https:// address")
	}
	u := &Unleash{URL: s.URL, Project: s.Project, Environment: s.Environment}
	var err error
	if u.Token, err = tokenFrom(v, s.TokenEnv, "an Unleash admin API token"); err != nil {
		return nil, err
	}
	if u.Timeout, err = timeoutOf(v, s.Timeout, "10s"); err != nil {
		return nil, err
	}
	return u, nil
}

func compileExec(v *yaml.Node) (Backend, error) {
	var s struct {
		Set     []string `yaml:"set"`
		Get     []string `yaml:"get"`
		Timeout string   `yaml:"timeout"`
	}
	if err := strict(v, []string{"set", "get", "timeout"}, "exec"); err != nil {
		return nil, err
	}
	if err := v.Decode(&s); err != nil {
		return nil, errAt(v, "%v", err)
	}
	d, err := timeoutOf(v, s.Timeout, "30s")
	if err != nil {
		return nil, err
	}
	e, err := NewExec(s.Set, s.Get, d)
	if err != nil {
		return nil, errAt(v, "%v", err)
	}
	return e, nil
}

func compileOFREP(v *yaml.Node) (*OFREP, error) {
	var s struct {
		URL      string         `yaml:"url"`
		TokenEnv string         `yaml:"tokenEnv"`
		Context  map[string]any `yaml:"context"`
		Set      []string       `yaml:"set"`
		Timeout  string         `yaml:"timeout"`
	}
	if err := strict(v, []string{"url", "tokenEnv", "context", "set", "timeout"}, "ofrep"); err != nil {
		return nil, err
	}
	if err := v.Decode(&s); err != nil {
		return nil, errAt(v, "%v", err)
	}
	if !strings.HasPrefix(s.URL, "http://") && !strings.HasPrefix(s.URL, "https://") {
		return nil, errAt(v, "ofrep needs url: the OFREP service's http:// or https:// address (without /ofrep/v1)")
	}
	o := &OFREP{URL: s.URL, Context: s.Context}
	var err error
	if o.Token, err = tokenFrom(v, s.TokenEnv, "the OFREP service's bearer token"); err != nil {
		return nil, err
	}
	if o.Timeout, err = timeoutOf(v, s.Timeout, "10s"); err != nil {
		return nil, err
	}
	if len(s.Set) > 0 {
		if o.SetCmd, err = NewExec(s.Set, nil, o.Timeout); err != nil {
			return nil, errAt(v, "%v", err)
		}
	}
	return o, nil
}

func strict(n *yaml.Node, keys []string, where string) error {
	if n.Kind != yaml.MappingNode {
		return errAt(n, "%s must be a mapping (keys: %s)", where, strings.Join(keys, ", "))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		found := false
		for _, want := range keys {
			found = found || k.Value == want
		}
		if found {
			continue
		}
		msg := fmt.Sprintf("unknown key %q in %s", k.Value, where)
		if sug := analyzer.Suggest(k.Value, keys); sug != "" {
			msg += fmt.Sprintf("; did you mean %q?", sug)
		} else {
			msg += " (known keys: " + strings.Join(keys, ", ") + ")"
		}
		return errAt(k, "%s", msg)
	}
	return nil
}
