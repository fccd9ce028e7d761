// Package config reads .migsafe.yaml. Every error names the file, the line
// and the column, and suggests the closest valid word.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/internal/readfile"
)

// FileNames are the names searched for, upward from the working directory.
var FileNames = []string{".migsafe.yaml", ".migsafe.yml"}

// RuleSetting is what the configuration says about one rule.
type RuleSetting struct {
	Key      string // as written: a name or a code
	Off      bool
	Severity analyzer.Severity // 0 = the rule's default
	Line     int
	Column   int
}

// Config is the content of a configuration file.
type Config struct {
	Path          string // the file, "" when there is none
	Dir           string // its directory; exclude patterns are relative to it
	Dialect       string
	TargetVersion string
	FailOn        string
	Rules         []RuleSetting
	Exclude       []string
	Migrations    Migrations
}

// Migrations is the migrations: section: how the migration directories are
// laid out and how the expand-contract sequence is timed.
type Migrations struct {
	// Layout is a migration tool name (golang-migrate, goose, dbmate,
	// flyway, popx, plain) or "" to detect it from the files.
	Layout string
	// MinDeprecationAge is how long a deprecation must have been deployed
	// before its contract step may ship; 0 means the default (7 days).
	MinDeprecationAge time.Duration
	// MinDeprecationAgeText is the value as written, for messages.
	MinDeprecationAgeText string
}

// Error is a configuration error at a position.
type Error struct {
	Path         string
	Line, Column int
	Msg          string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Column, e.Msg)
	}
	return e.Path + ": " + e.Msg
}

// MaxSize is the largest configuration file read.
const MaxSize = 1 << 20

// Find looks for a configuration file in dir and its parents.
func Find(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		for _, n := range FileNames {
			p := filepath.Join(dir, n)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

var topKeys = []string{"version", "dialect", "target-version", "fail-on", "rules", "exclude", "migrations"}

var migrationKeys = []string{"layout", "min-deprecation-age"}

// layoutNames are the values of migrations.layout.
var layoutNames = []string{"auto", "golang-migrate", "goose", "dbmate", "flyway", "popx", "plain"}

// Load reads and validates a configuration file. isRule reports whether a
// name or code is a rule; names lists every name and code for suggestions.
func Load(path string, isRule func(string) bool, names []string) (*Config, error) {
	// a pull request can commit .migsafe.yaml as a named pipe or a link
	// to /dev/zero: read it as every other file, bounded
	data, err := readfile.Read(path, path, readfile.Options{Max: MaxSize, TooLarge: "a configuration file is a few lines"})
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	return Parse(path, data, isRule, names)
}

// Parse decodes configuration text.
func Parse(path string, data []byte, isRule func(string) bool, names []string) (*Config, error) {
	c := &Config{Path: path, Dir: filepath.Dir(path)}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(path, err)
	}
	// a second document would be ignored: which settings hold is not for
	// a "---" line to decide silently
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(path, err)
		}
		at := &next
		if len(next.Content) > 0 {
			at = next.Content[0]
		}
		return nil, errAt(path, at, "a second YAML document (after ---): the configuration is one YAML document; merge the two")
	}
	if len(doc.Content) == 0 {
		return c, nil // empty file
	}
	root := doc.Content[0]
	if err := noDuplicates(path, root); err != nil {
		return nil, err
	}
	if root.Kind != yaml.MappingNode {
		return nil, errAt(path, root, "the configuration must be a mapping of keys to values")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "version":
			if v.Value != "1" {
				return nil, errAt(path, v, fmt.Sprintf("unsupported configuration version %q (this migsafe reads version 1)", v.Value))
			}
		case "dialect":
			s, err := scalar(path, v)
			if err != nil {
				return nil, err
			}
			// mariadb is the mysql dialect with a MariaDB target, as
			// --dialect mariadb is
			if s != analyzer.Postgres && s != analyzer.MySQL && s != "mariadb" {
				return nil, errAt(path, v, fmt.Sprintf("unknown dialect %q%s (want postgres, mysql or mariadb)", s, didYouMean(s, []string{analyzer.Postgres, analyzer.MySQL, "mariadb"})))
			}
			c.Dialect = s
		case "target-version":
			s, err := scalar(path, v)
			if err != nil {
				return nil, err
			}
			c.TargetVersion = s
		case "fail-on":
			s, err := scalar(path, v)
			if err != nil {
				return nil, err
			}
			if s != "error" && s != "warning" && s != "never" {
				return nil, errAt(path, v, fmt.Sprintf("invalid fail-on %q%s (want error, warning or never)", s, didYouMean(s, []string{"error", "warning", "never"})))
			}
			c.FailOn = s
		case "exclude":
			if v.Kind != yaml.SequenceNode {
				return nil, errAt(path, v, "exclude must be a list of path patterns")
			}
			for _, e := range v.Content {
				s, err := scalar(path, e)
				if err != nil {
					return nil, err
				}
				if err := checkPattern(s); err != nil {
					return nil, errAt(path, e, err.Error())
				}
				c.Exclude = append(c.Exclude, s)
			}
		case "rules":
			if v.Kind != yaml.MappingNode {
				return nil, errAt(path, v, "rules must map rule names to off, on, error, warning or note")
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				rk, rv := v.Content[j], v.Content[j+1]
				if !isRule(rk.Value) {
					return nil, errAt(path, rk, fmt.Sprintf("unknown rule %q%s; `migsafe rules` lists them", rk.Value, didYouMean(rk.Value, names)))
				}
				s, err := scalar(path, rv)
				if err != nil {
					return nil, err
				}
				rs := RuleSetting{Key: rk.Value, Line: rk.Line, Column: rk.Column}
				switch strings.ToLower(s) {
				case "off", "false", "disable", "disabled":
					rs.Off = true
				case "on", "true", "enable", "enabled":
				default:
					sev, err := analyzer.ParseSeverity(s)
					if err != nil {
						return nil, errAt(path, rv, fmt.Sprintf("invalid setting %q for rule %s (want off, on, error, warning or note)", s, rk.Value))
					}
					rs.Severity = sev
				}
				c.Rules = append(c.Rules, rs)
			}
		case "migrations":
			if err := parseMigrations(path, v, &c.Migrations); err != nil {
				return nil, err
			}
		default:
			return nil, errAt(path, k, fmt.Sprintf("unknown key %q%s (valid keys: %s)", k.Value, didYouMean(k.Value, topKeys), strings.Join(topKeys, ", ")))
		}
	}
	return c, nil
}

func yamlError(path string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return &Error{Path: path, Msg: strings.Join(te.Errors, "; ")}
	}
	return &Error{Path: path, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
}

// noDuplicates refuses a mapping that gives a key twice (YAML keeps the
// last silently), at any depth.
func noDuplicates(path string, n *yaml.Node) error {
	// an explicit stack: the depth of the document is the input's
	stack := []*yaml.Node{n}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.Kind == yaml.MappingNode {
			first := map[string]*yaml.Node{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if k.Kind != yaml.ScalarNode {
					continue
				}
				if f, ok := first[k.Value]; ok {
					return errAt(path, k, fmt.Sprintf("duplicate key %q (first at line %d); give each key once", k.Value, f.Line))
				}
				first[k.Value] = k
			}
		}
		if n.Kind != yaml.AliasNode {
			stack = append(stack, n.Content...)
		}
	}
	return nil
}

func scalar(path string, v *yaml.Node) (string, error) {
	if v.Kind != yaml.ScalarNode {
		return "", errAt(path, v, "expected a single value")
	}
	return strings.TrimSpace(v.Value), nil
}

func errAt(path string, n *yaml.Node, msg string) error {
	return &Error{Path: path, Line: n.Line, Column: n.Column, Msg: msg}
}

func didYouMean(s string, cands []string) string {
	if sug := analyzer.Suggest(s, cands); sug != "" {
		return fmt.Sprintf("; did you mean %q?", sug)
	}
	return ""
}

func parseMigrations(path string, v *yaml.Node, m *Migrations) error {
	if v.Kind != yaml.MappingNode {
		return errAt(path, v, "migrations must be a mapping (keys: "+strings.Join(migrationKeys, ", ")+")")
	}
	for j := 0; j+1 < len(v.Content); j += 2 {
		k, val := v.Content[j], v.Content[j+1]
		s, err := scalar(path, val)
		if err != nil {
			return err
		}
		switch k.Value {
		case "layout":
			l := strings.ToLower(s)
			if !slices.Contains(layoutNames, l) {
				return errAt(path, val, fmt.Sprintf("unknown migration layout %q%s (want %s)", s, didYouMean(s, layoutNames), strings.Join(layoutNames, ", ")))
			}
			if l != "auto" {
				m.Layout = l
			}
		case "min-deprecation-age":
			d, err := analyzer.ParseAge(s)
			if err != nil {
				return errAt(path, val, err.Error())
			}
			m.MinDeprecationAge, m.MinDeprecationAgeText = d, s
		default:
			return errAt(path, k, fmt.Sprintf("unknown key %q in migrations%s (valid keys: %s)", k.Value, didYouMean(k.Value, migrationKeys), strings.Join(migrationKeys, ", ")))
		}
	}
	return nil
}
