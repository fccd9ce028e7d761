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

// Compile reads a plan's flag driver, one of:
//
//	unleash: {url: http://unleash:4242, tokenEnv: UNLEASH_ADMIN_TOKEN, project: default, environment: production, timeout: 10s}
//	exec: {set: [flagctl, set, "{{.Key}}", "{{.Percent}}"], get: [flagctl, get, "{{.Key}}"], timeout: 30s}
//
// The Unleash token is read from the environment variable tokenEnv names
// (a plan file is committed; a token is not), when the backend is built.
func Compile(node *yaml.Node) (Backend, error) {
	if node == nil {
		return nil, errors.New("flags: no driver")
	}
	if node.Kind == yaml.DocumentNode && len(node.Content) > 0 {
		node = node.Content[0]
	}
	if node.Kind != yaml.MappingNode || len(node.Content) != 2 {
		return nil, errAt(node, "a flag driver is one of unleash: {…} or exec: {…}")
	}
	k, v := node.Content[0], node.Content[1]
	switch k.Value {
	case "unleash":
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
		if s.TokenEnv != "" {
			u.Token = os.Getenv(s.TokenEnv)
			if u.Token == "" {
				return nil, errAt(v, "the environment variable %s (tokenEnv) is empty: set it to an Unleash admin API token", s.TokenEnv)
			}
		}
		if s.Timeout != "" {
			d, err := time.ParseDuration(s.Timeout)
			if err != nil || d <= 0 {
				return nil, errAt(v, "timeout %q is not a duration such as 10s", s.Timeout)
			}
			u.Timeout = d
		}
		return u, nil
	case "exec":
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
		var d time.Duration
		if s.Timeout != "" {
			var err error
			if d, err = time.ParseDuration(s.Timeout); err != nil || d <= 0 {
				return nil, errAt(v, "timeout %q is not a duration such as 30s", s.Timeout)
			}
		}
		e, err := NewExec(s.Set, s.Get, d)
		if err != nil {
			return nil, errAt(v, "%v", err)
		}
		return e, nil
	}
	msg := fmt.Sprintf("unknown flag driver %q", k.Value)
	if sug := analyzer.Suggest(k.Value, []string{"unleash", "exec"}); sug != "" {
		msg += fmt.Sprintf("; did you mean %q?", sug)
	} else {
		msg += " (unleash or exec)"
	}
	return nil, errAt(k, "%s", msg)
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
