package analysis

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/migsafe/migsafe/analyzer"
)

// Error is a mistake in an analysis step's YAML, at a line and column of
// the plan file. The plan loader adds the file name.
type Error struct {
	Line, Column int
	Msg          string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
	}
	return e.Msg
}

func errAt(n *yaml.Node, format string, args ...any) error {
	e := &Error{Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

// Duration is a YAML duration written as Go writes them ("10s", "1m30s").
type Duration time.Duration

// UnmarshalYAML reads a duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errAt(n, "expected a duration such as 10s or 1m")
	}
	v, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil || v < 0 {
		return errAt(n, "%q is not a duration (write it as 500ms, 10s, 1m30s)", n.Value)
	}
	*d = Duration(v)
	return nil
}

// The YAML schema of an analysis step. Field names follow Argo Rollouts'
// AnalysisTemplate where Argo has the concept.
type spec struct {
	Name    string       `yaml:"name"`
	Metrics []metricSpec `yaml:"metrics"`
}

type metricSpec struct {
	Name                  string         `yaml:"name"`
	Interval              Duration       `yaml:"interval"`
	InitialDelay          Duration       `yaml:"initialDelay"`
	Count                 int            `yaml:"count"`
	FailureLimit          *int           `yaml:"failureLimit"`
	ConsecutiveErrorLimit *int           `yaml:"consecutiveErrorLimit"`
	InconclusiveLimit     *int           `yaml:"inconclusiveLimit"`
	SuccessCondition      string         `yaml:"successCondition"`
	FailureCondition      string         `yaml:"failureCondition"`
	Provider              providerSpec   `yaml:"provider"`
	ErrorRate             *errorRateSpec `yaml:"errorRate"`
	Latency               *latencySpec   `yaml:"latency"`
}

type providerSpec struct {
	Prometheus *prometheusSpec `yaml:"prometheus"`
	Web        *webSpec        `yaml:"web"`
	Exec       *execSpec       `yaml:"exec"`
	Log        *logSpec        `yaml:"log"`
}

type prometheusSpec struct {
	Address        string     `yaml:"address"`
	BearerTokenEnv string     `yaml:"bearerTokenEnv"`
	Query          string     `yaml:"query"`
	Timeout        Duration   `yaml:"timeout"`
	Range          *rangeSpec `yaml:"range"`
}

type rangeSpec struct {
	Step Duration `yaml:"step"`
}

type webSpec struct {
	URL          string            `yaml:"url"`
	Method       string            `yaml:"method"`
	Headers      map[string]string `yaml:"headers"`
	Body         string            `yaml:"body"`
	Timeout      Duration          `yaml:"timeout"`
	ExpectStatus int               `yaml:"expectStatus"`
	JSONPath     string            `yaml:"jsonPath"`
}

type execSpec struct {
	Argv    []string `yaml:"argv"`
	Timeout Duration `yaml:"timeout"`
}

type logSpec struct {
	Path       string `yaml:"path"`
	Pattern    string `yaml:"pattern"`
	TimeFormat string `yaml:"timeFormat"`
}

type errorRateSpec struct {
	Against     string  `yaml:"against"`
	Errors      string  `yaml:"errors"`
	Requests    string  `yaml:"requests"`
	MaxRatio    float64 `yaml:"maxRatio"`
	Floor       float64 `yaml:"floor"`
	Alpha       float64 `yaml:"alpha"`
	MinRequests float64 `yaml:"minRequests"`
	MaxRate     float64 `yaml:"maxRate"`
}

type latencySpec struct {
	Query           string   `yaml:"query"`
	Step            Duration `yaml:"step"`
	Confidence      float64  `yaml:"confidence"`
	AllowedIncrease float64  `yaml:"allowedIncrease"`
	MinDelta        float64  `yaml:"minDelta"`
	MinSamples      int      `yaml:"minSamples"`
}

// checkKeys walks n alongside the Go type t and reports the first mapping
// key that t does not have, with the closest known key. yaml.v3's
// Node.Decode has no KnownFields, so this is the strict part.
func checkKeys(n *yaml.Node, t reflect.Type, where string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return errAt(n, "%s must be a mapping (keys: %s)", where, strings.Join(fieldNames(t), ", "))
		}
		names := fieldNames(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fieldByTag(t, k.Value)
			if !ok {
				msg := fmt.Sprintf("unknown key %q in %s", k.Value, where)
				if sug := analyzer.Suggest(k.Value, names); sug != "" {
					msg += fmt.Sprintf("; did you mean %q?", sug)
				} else {
					msg += " (known keys: " + strings.Join(names, ", ") + ")"
				}
				return errAt(k, "%s", msg)
			}
			if err := checkKeys(v, f.Type, k.Value); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			if t.Elem().Kind() == reflect.String {
				return errAt(n, "%s must be a list of strings", where)
			}
			return errAt(n, "%s must be a list", where)
		}
		for _, item := range n.Content {
			if err := checkKeys(item, t.Elem(), where+" item"); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return errAt(n, "%s must be a mapping", where)
		}
	}
	return nil
}

func fieldNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]; tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	return out
}

func fieldByTag(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if strings.Split(f.Tag.Get("yaml"), ",")[0] == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// valueOf returns the value node of key in mapping n, or n itself when the
// key is absent (so errors still point somewhere useful).
func valueOf(n *yaml.Node, path ...string) *yaml.Node {
	cur := n
	for _, key := range path {
		if cur.Kind != yaml.MappingNode {
			return cur
		}
		found := false
		for i := 0; i+1 < len(cur.Content); i += 2 {
			if cur.Content[i].Value == key {
				cur, found = cur.Content[i+1], true
				break
			}
		}
		if !found {
			return cur
		}
	}
	return cur
}
