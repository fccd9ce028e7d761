package analyzertest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/migrations"
)

// A history fixture is a txtar archive of migration files, replayed in the
// order their tool applies them. Its header (the text before the first
// file, each line optionally written as a SQL comment) declares the
// deploys; without deploy lines every migration version is its own,
// undated deploy and every file is linted, as without git:
//
//	-- layout: golang-migrate             (default: detected)
//	-- target: 15                         (target version)
//	-- deploy 2024-05-01 a1b2c3d: 0001_users.up.sql 0001_users.down.sql
//	-- deploy 2024-06-07: 0002_deprecate.up.sql
//	-- pending: 0003_drop.up.sql          (the change being linted)
//	-- now: 2024-06-10                    (when the pending deploy ships)
//	-- lint: 0003_drop.up.sql             (default: the pending files, else all)
//	-- edited: 0001_users.up.sql          (changed since --since REF)
//	-- since: origin/main                 (REF for edited; default origin/main)
//	-- min-age: 7d
//	-- 0001_users.up.sql --
//	CREATE TABLE users (id bigint);
//
// A file named *.conf is the configuration of the migration it is named
// after (Flyway's V1__users.sql.conf), not a migration.
//
// Expected findings are -- want: comments in the files, as in .sql fixtures.
type History struct {
	Name    string
	Header  map[string]string
	Deploys []HistoryDeploy
	Pending []string
	Files   []migrations.Source
}

// HistoryDeploy is a deploy line of a history header.
type HistoryDeploy struct {
	Time  time.Time
	Ref   string
	Files []string
}

var markerRE = regexp.MustCompile(`^-- (\S+) --\r?$`)

// IsHistory reports whether a fixture or example is a txtar history (it
// has at least one "-- NAME.sql --" file line).
func IsHistory(src []byte) bool {
	for _, line := range strings.Split(string(src), "\n") {
		if m := markerRE.FindStringSubmatch(line); m != nil && strings.HasSuffix(m[1], ".sql") {
			return true
		}
	}
	return false
}

// ParseHistory reads a history fixture.
func ParseHistory(name string, data []byte) (*History, error) {
	h := &History{Name: name, Header: map[string]string{}}
	lines := strings.SplitAfter(string(data), "\n")
	i := 0
	for ; i < len(lines); i++ {
		if markerRE.MatchString(strings.TrimRight(lines[i], "\n")) {
			break
		}
		line := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(lines[i]), "--"))
		if line == "" {
			continue
		}
		key, val, ok := strings.Cut(line, ": ") // dates hold colons
		if !ok {
			if key, ok = strings.CutSuffix(line, ":"); !ok {
				continue // prose
			}
		}
		key = strings.TrimSpace(key)
		val = strings.TrimSpace(val)
		switch {
		case strings.HasPrefix(key, "deploy "):
			f := strings.Fields(strings.TrimPrefix(key, "deploy "))
			t, err := parseDate(f[0])
			if err != nil {
				return nil, fmt.Errorf("%s: deploy line: %w", name, err)
			}
			d := HistoryDeploy{Time: t, Files: strings.Fields(val)}
			if len(f) > 1 {
				d.Ref = f[1]
			}
			h.Deploys = append(h.Deploys, d)
		case key == "pending":
			h.Pending = append(h.Pending, strings.Fields(val)...)
		case strings.Contains(key, " "):
			continue // prose with a colon
		default:
			h.Header[key] = val
		}
	}
	var cur *migrations.Source
	var body bytes.Buffer
	flush := func() {
		if cur != nil {
			cur.Src = slices.Clone(body.Bytes())
			h.Files = append(h.Files, *cur)
		}
		body.Reset()
	}
	for ; i < len(lines); i++ {
		if m := markerRE.FindStringSubmatch(strings.TrimRight(lines[i], "\n")); m != nil {
			flush()
			cur = &migrations.Source{Path: m[1]}
			continue
		}
		body.WriteString(lines[i])
	}
	flush()
	if len(h.Files) == 0 {
		return nil, fmt.Errorf("%s: no files", name)
	}
	return h, nil
}

func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid date %q (want 2006-01-02 or RFC 3339)", s)
}

// Build turns the history into the engine's input: the ordered parts with
// their deploys and lint flags, and the deploy history.
func (h *History) Build(dialect string) ([]*analyzer.File, *analyzer.History, *migrations.Set, error) {
	layout, err := migrations.ParseLayout(h.Header["layout"])
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", h.Name, err)
	}
	// a tool's configuration beside a migration (Flyway's V1__x.sql.conf)
	// is read as its sibling, not as a migration
	var srcs []migrations.Source
	side := map[string][]byte{}
	for _, f := range h.Files {
		if strings.HasSuffix(f.Path, ".conf") {
			side[f.Path] = f.Src
			continue
		}
		srcs = append(srcs, f)
	}
	sibling := func(p string) ([]byte, bool) { b, ok := side[p]; return b, ok }
	set := migrations.Build(srcs, migrations.Options{Layout: layout, Dialect: dialect, Sibling: sibling})
	if len(set.Problems) > 0 {
		return nil, nil, nil, fmt.Errorf("%s: %w", h.Name, set.Problems[0])
	}
	parts := set.Parts()
	hist := analyzer.Undated(len(set.Migrations))
	lint := map[string]bool{}
	if v := h.Header["lint"]; v != "" && v != "all" {
		for _, p := range strings.Fields(v) {
			lint[p] = true
		}
	}
	if len(h.Deploys) > 0 || len(h.Pending) > 0 {
		hist = &analyzer.History{Dated: len(h.Deploys) > 0}
		deployOf := map[string]int{}
		for i, d := range h.Deploys {
			hist.Deploys = append(hist.Deploys, analyzer.Deploy{N: i + 1, Time: d.Time, Ref: d.Ref})
			for _, p := range d.Files {
				deployOf[p] = i + 1
			}
		}
		pending := len(h.Deploys) + 1
		hist.Deploys = append(hist.Deploys, analyzer.Deploy{N: pending, Pending: true, Ref: "pending"})
		for _, p := range h.Pending {
			deployOf[p] = pending
			if h.Header["lint"] == "" {
				lint[p] = true
			}
		}
		for _, f := range parts {
			n, ok := deployOf[f.Path]
			if !ok {
				return nil, nil, nil, fmt.Errorf("%s: %s is in no deploy line and not pending", h.Name, f.Path)
			}
			f.Deploy = n
		}
		now := time.Date(2024, 6, 10, 12, 0, 0, 0, time.UTC)
		if v := h.Header["now"]; v != "" {
			if now, err = parseDate(v); err != nil {
				return nil, nil, nil, fmt.Errorf("%s: now: %w", h.Name, err)
			}
		}
		hist.Now = now
	}
	if v := h.Header["min-age"]; v != "" {
		d, err := analyzer.ParseAge(v)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: min-age: %w", h.Name, err)
		}
		hist.MinAge, hist.MinAgeSet = d, true
	}
	since := h.Header["since"]
	if since == "" {
		since = "origin/main"
	}
	edited := strings.Fields(h.Header["edited"])
	for _, f := range parts {
		if len(lint) > 0 {
			f.Lint = lint[f.Path]
		}
		if slices.Contains(edited, f.Path) {
			f.Edited = since
		}
	}
	return parts, hist, set, nil
}

// LintHistory lints a history fixture with the given rules.
func LintHistory(d analyzer.Dialect, name string, data []byte, rules, known []*analyzer.Rule) (*engine.Result, error) {
	h, err := ParseHistory(name, data)
	if err != nil {
		return nil, err
	}
	parts, hist, _, err := h.Build(d.Name())
	if err != nil {
		return nil, err
	}
	var rcs []engine.RuleConfig
	for _, r := range rules {
		rcs = append(rcs, engine.RuleConfig{Rule: r, Severity: r.Severity})
	}
	return engine.Run(context.Background(), parts, engine.Options{Dialect: d, Rules: rcs, Known: known, History: hist})
}

// RunHistory checks one history fixture: the findings of its linted parts
// against their want comments.
func RunHistory(t *testing.T, s Setup, rule *analyzer.Rule, nd NewDialect, version, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseHistory(file, data)
	if err != nil {
		t.Fatal(err)
	}
	if v := h.Header["target"]; v != "" {
		version = v
	}
	d, err := nd(version)
	if err != nil {
		t.Fatal(err)
	}
	rules := []*analyzer.Rule{rule}
	for _, r := range s.Always {
		if !slices.Contains(rules, r) {
			rules = append(rules, r)
		}
	}
	res, err := LintHistory(d, file, data, rules, s.Known)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Errors {
		t.Errorf("internal error: %v", e)
	}
	var wants []*want
	wantPath := map[*want]string{}
	for _, f := range res.Files {
		if !f.Lint {
			continue
		}
		ws, werr := parseWants(f, s.Known)
		for _, e := range werr {
			t.Error(e)
		}
		for _, w := range ws {
			wantPath[w] = f.Path
		}
		wants = append(wants, ws...)
	}
	for _, fd := range res.Findings {
		if fd.Suppressed != nil {
			continue
		}
		matched := false
		for _, w := range wants {
			if w.met || wantPath[w] != fd.Path || w.line != fd.Start.Line || w.rule.Code != fd.Code {
				continue
			}
			if w.re != nil && !w.re.MatchString(fd.Message+" | help: "+fd.Help) {
				continue
			}
			w.met, matched = true, true
			break
		}
		if !matched {
			t.Errorf("%s: %s:%d:%d: unexpected finding %s (%s): %s", file, fd.Path, fd.Start.Line, fd.Start.Column, fd.Name, fd.Code, fd.Message)
		}
	}
	for _, w := range wants {
		if !w.met {
			re := ""
			if w.re != nil {
				re = fmt.Sprintf(" matching %q", w.re)
			}
			t.Errorf("%s: %s:%d: expected a finding of %s%s, got none", file, path.Base(wantPath[w]), w.line, w.rule.Name, re)
		}
	}
}
