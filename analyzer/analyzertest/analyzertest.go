// Package analyzertest runs rules over SQL fixture files and compares the
// findings with expectations written in the SQL itself:
//
//	DROP TABLE users;  -- want: drop-table
//	ALTER TABLE t ADD COLUMN c int NOT NULL;  -- want: add-required-column "fails if the table has rows"
//
// A want comment names rules (by name or code), each optionally followed by a
// quoted regular expression the message must match (the finding's help
// follows it as " | help: …", so that advice can be checked too), and
// expects a finding
// starting on its own line. Findings nobody wanted and wants nobody met both
// fail the test. A file may start with "-- fixture: key=value …" lines:
// name= sets the file name the migration has (golang-migrate names change
// how it runs), target= the target version.
package analyzertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/migrations"
)

// NewDialect builds a dialect for a target version ("" = default).
type NewDialect func(target string) (analyzer.Dialect, error)

// Setup is what a fixture run needs.
type Setup struct {
	Dialects map[string]NewDialect // by dialect name
	Known    []*analyzer.Rule      // every rule, for suppressions
	// Always are rules run on every fixture besides the rule under test
	// (syntax-error, so that a fixture that does not parse cannot pass).
	Always []*analyzer.Rule
}

type want struct {
	line int
	rule *analyzer.Rule
	re   *regexp.Regexp
	met  bool
}

// Header reads "-- fixture: k=v k=v" lines at the top of a fixture.
func Header(src string) map[string]string {
	h := map[string]string{}
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "-- fixture:") {
			if line == "" {
				continue
			}
			break
		}
		for _, kv := range strings.Fields(strings.TrimPrefix(line, "-- fixture:")) {
			k, v, _ := strings.Cut(kv, "=")
			h[k] = v
		}
	}
	return h
}

// LintSource lints one source as a single migration with the given rules.
func LintSource(d analyzer.Dialect, name string, src []byte, rules []*analyzer.Rule, known []*analyzer.Rule) (*engine.Result, error) {
	if IsHistory(src) {
		return LintHistory(d, name, src, rules, known)
	}
	f := &analyzer.File{Path: name, Src: src, Lint: true, Deploy: 1}
	f.TxMode, f.TxModeWhy = migrations.DefaultTxMode(name)
	var rcs []engine.RuleConfig
	for _, r := range rules {
		rcs = append(rcs, engine.RuleConfig{Rule: r, Severity: r.Severity})
	}
	return engine.Run(context.Background(), []*analyzer.File{f}, engine.Options{Dialect: d, Rules: rcs, Known: known})
}

// RunDir runs rule over every .sql fixture below dir, whose subdirectories
// are named after dialects ("postgres", "mysql", optionally "@version").
func RunDir(t *testing.T, s Setup, rule *analyzer.Rule, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dialect, version, _ := strings.Cut(e.Name(), "@")
		nd := s.Dialects[dialect]
		if nd == nil {
			t.Errorf("%s: unknown dialect directory %q", dir, e.Name())
			continue
		}
		files, _ := filepath.Glob(filepath.Join(dir, e.Name(), "*.sql"))
		histories, _ := filepath.Glob(filepath.Join(dir, e.Name(), "*.txtar"))
		for _, file := range append(files, histories...) {
			n++
			t.Run(e.Name()+"/"+filepath.Base(file), func(t *testing.T) {
				t.Parallel()
				if strings.HasSuffix(file, ".txtar") {
					RunHistory(t, s, rule, nd, version, file)
					return
				}
				RunFile(t, s, rule, nd, version, file)
			})
		}
	}
	if n == 0 {
		t.Errorf("%s: no fixtures", dir)
	}
}

// RunFile checks one fixture file.
func RunFile(t *testing.T, s Setup, rule *analyzer.Rule, nd NewDialect, version, file string) {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	h := Header(string(src))
	if v := h["target"]; v != "" {
		version = v
	}
	d, err := nd(version)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.ToSlash(file)
	if h["name"] != "" {
		name = h["name"]
	}
	rules := []*analyzer.Rule{rule}
	for _, r := range s.Always {
		if !slices.Contains(rules, r) {
			rules = append(rules, r)
		}
	}
	res, err := LintSource(d, name, src, rules, s.Known)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Errors {
		t.Errorf("internal error: %v", e)
	}
	f := res.Files[0]
	wants, werr := parseWants(f, s.Known)
	for _, e := range werr {
		t.Error(e)
	}
	for _, fd := range res.Findings {
		if fd.Suppressed != nil {
			continue
		}
		matched := false
		for _, w := range wants {
			if w.met || w.line != fd.Start.Line || w.rule.Code != fd.Code {
				continue
			}
			if w.re != nil && !w.re.MatchString(fd.Message+" | help: "+fd.Help) {
				continue
			}
			w.met, matched = true, true
			break
		}
		if !matched {
			t.Errorf("%s:%d:%d: unexpected finding %s (%s): %s", file, fd.Start.Line, fd.Start.Column, fd.Name, fd.Code, fd.Message)
		}
	}
	for _, w := range wants {
		if !w.met {
			re := ""
			if w.re != nil {
				re = fmt.Sprintf(" matching %q", w.re)
			}
			t.Errorf("%s:%d: expected a finding of %s%s, got none", file, w.line, w.rule.Name, re)
		}
	}
}

var wantRE = regexp.MustCompile(`^(?:--|/\*|#)\s*want:\s*(.*?)\s*(?:\*/)?$`)

func parseWants(f *analyzer.File, known []*analyzer.Rule) ([]*want, []error) {
	var out []*want
	var errs []error
	for _, c := range f.Comments {
		m := wantRE.FindStringSubmatch(strings.TrimSpace(c.Text))
		if m == nil {
			continue
		}
		line := f.Lines.Position(c.Span.Start).Line
		rest := m[1]
		for rest != "" {
			rest = strings.TrimLeft(rest, " ,")
			if rest == "" {
				break
			}
			end := strings.IndexAny(rest, " ,")
			if end < 0 {
				end = len(rest)
			}
			name := rest[:end]
			rest = strings.TrimLeft(rest[end:], " ")
			var r *analyzer.Rule
			for _, k := range known {
				if strings.EqualFold(k.Name, name) || strings.EqualFold(k.Code, name) {
					r = k
				}
			}
			if r == nil {
				errs = append(errs, fmt.Errorf("%s:%d: want names unknown rule %q", f.Path, line, name))
				break
			}
			w := &want{line: line, rule: r}
			if strings.HasPrefix(rest, `"`) {
				endq := strings.Index(rest[1:], `"`)
				if endq < 0 {
					errs = append(errs, fmt.Errorf("%s:%d: unterminated regexp in want", f.Path, line))
					break
				}
				re, err := regexp.Compile(rest[1 : endq+1])
				if err != nil {
					errs = append(errs, fmt.Errorf("%s:%d: %w", f.Path, line, err))
				}
				w.re = re
				rest = rest[endq+2:]
			}
			out = append(out, w)
		}
	}
	return out, errs
}
