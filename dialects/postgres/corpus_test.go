package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/migrations"
	"github.com/migsafe/migsafe/dialects/postgres"
	"github.com/migsafe/migsafe/rules"
)

// corpusDir is the shared corpus of real migrations (MANIFEST.md there);
// MIGSAFE_CORPUS overrides it. The test skips when it is absent.
func corpusDir() string {
	if d := os.Getenv("MIGSAFE_CORPUS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "corpus")
}

// syntaxCategory explains why a statement of the corpus is not PostgreSQL
// that PostgreSQL 17's parser accepts. Each category is something a real
// server rejects too, or something that is not SQL at all until a tool
// rewrites it; a syntax error outside these categories is a bug in migsafe.
type syntaxCategory struct {
	name string
	// match reports whether a syntax error belongs to the category, given
	// the corpus project, the file's path, the statement's text and the
	// text from the error position on.
	match func(project, path, stmt, at string) bool
}

var (
	goTemplate     = regexp.MustCompile(`\{\{[^}]*\}\}`)
	synapseMacro   = regexp.MustCompile(`\$%[A-Z_]+%\$`)
	flowableJava   = regexp.MustCompile(`(?i)^\s*execute\s+java\b`)
	psqlMeta       = regexp.MustCompile(`(?m)^\s*\\[a-zA-Z]`)
	mysqlOnly      = regexp.MustCompile("(?im)`|\\bMODIFY\\b|\\bAUTO_INCREMENT\\b|\\bENGINE\\s*=|\\bUNSIGNED\\b|\\bCHANGE\\s+(COLUMN\\s+)?\\w+\\s+\\w+|\\bDROP\\s+FOREIGN\\s+KEY\\b|\\bDROP\\s+INDEX\\s+\\w+\\s+ON\\b|\\bDROP\\s+KEY\\b|\\bCHARSET\\b|\\bLONGTEXT\\b|\\bMEDIUMTEXT\\b|\\bTINYINT\\b|\\bINSERT\\s+IGNORE\\b|\\bON\\s+DUPLICATE\\s+KEY\\b|^\\s*(UNIQUE\\s+)?(INDEX|KEY)\\s+\\w+\\s*\\(")
	sqliteEra      = regexp.MustCompile(`(?i)\bAUTOINCREMENT\b|\bUNSIGNED\b|\bLONGBLOB\b`)
	synapseDelta   = regexp.MustCompile(`^synapse/postgres/0(0\d|1[0-6])_`)
	statementStart = regexp.MustCompile(`(?i)^(CREATE|ALTER|DROP|INSERT|UPDATE|DELETE)\b`)
	alterAction    = regexp.MustCompile(`(?i)^(ADD|DROP|ALTER|RENAME)\b`)
	dropIndexIfNot = regexp.MustCompile(`(?i)^DROP\s+INDEX\s+IF\s+NOT\s+EXISTS\b`)
)

// atLineStart reports whether the error position is the first token of its
// line in the statement, with no ';' before it (a ';' there would mean
// migsafe failed to split the statements, which must not be excused).
func atLineStart(stmt, at string) bool {
	before := strings.TrimRight(stmt[:len(stmt)-len(at)], " \t")
	return strings.HasSuffix(before, "\n") && !strings.Contains(before, ";")
}

var syntaxCategories = []syntaxCategory{
	{"Go text/template placeholders (supabase/auth renders the SQL before running it)", func(project, path, stmt, at string) bool {
		return goTemplate.MatchString(stmt)
	}},
	{"Synapse $%…%$ placeholders (Synapse replaces them before running the SQL)", func(project, path, stmt, at string) bool {
		return project == "synapse" && synapseMacro.MatchString(stmt)
	}},
	{"Flowable 'execute java' upgrade steps (run by Flowable's Java code, not by the database)", func(project, path, stmt, at string) bool {
		return project == "flowable" && flowableJava.MatchString(stmt)
	}},
	{"psql meta-commands", func(project, path, stmt, at string) bool {
		return psqlMeta.MatchString(stmt)
	}},
	{"MySQL-only syntax in a dialect-neutral Ory any/ file (popx runs a postgres-tagged file instead)", func(project, path, stmt, at string) bool {
		return strings.HasPrefix(project, "ory-") && strings.Contains(path, "/any/") && mysqlOnly.MatchString(stmt)
	}},
	{"SQLite-era Synapse deltas (schema <= 16: new databases start from the full schema 16 or later, so PostgreSQL never runs them; AUTOINCREMENT, UNSIGNED, LONGBLOB)", func(project, path, stmt, at string) bool {
		return synapseDelta.MatchString(path) && sqliteEra.MatchString(stmt)
	}},
	{"upstream bug, rejected by PostgreSQL too: two statements without a ';' between them", func(project, path, stmt, at string) bool {
		return statementStart.MatchString(at) && atLineStart(stmt, at) && !alterAction.MatchString(at)
	}},
	{"upstream bug, rejected by PostgreSQL too: ALTER TABLE actions without ',' between them", func(project, path, stmt, at string) bool {
		return strings.HasPrefix(strings.ToUpper(stmt), "ALTER TABLE") && alterAction.MatchString(at) && atLineStart(stmt, at)
	}},
	{"upstream bug, rejected by PostgreSQL too: DROP INDEX IF NOT EXISTS", func(project, path, stmt, at string) bool {
		return dropIndexIfNot.MatchString(stmt)
	}},
}

// TestCorpus lints every PostgreSQL file of the real-world corpus
// (*/postgres and */any) with every rule that applies to PostgreSQL, style
// rules included, replaying each project in its tool's order: no panic, no
// internal error, and a syntax error only where the statement is not valid
// PostgreSQL for a reason listed in syntaxCategories.
func TestCorpus(t *testing.T) {
	root := corpusDir()
	projects, _ := filepath.Glob(filepath.Join(root, "*"))
	var dirs []string
	for _, p := range projects {
		for _, sub := range []string{"postgres", "any"} {
			if st, err := os.Stat(filepath.Join(p, sub)); err == nil && st.IsDir() {
				dirs = append(dirs, filepath.Join(p, sub))
			}
		}
	}
	if len(dirs) == 0 {
		t.Skipf("no corpus at %s", root)
	}
	d, err := postgres.New("")
	if err != nil {
		t.Fatal(err)
	}
	var enabled []engine.RuleConfig
	for _, r := range rules.All() {
		if r.AppliesTo(analyzer.Postgres) {
			enabled = append(enabled, engine.RuleConfig{Rule: r, Severity: r.Severity})
		}
	}
	byProject := map[string][]migrations.Source{}
	var order []string
	files := 0
	for _, dir := range dirs {
		project := filepath.Base(filepath.Dir(dir))
		if _, ok := byProject[project]; !ok {
			order = append(order, project)
		}
		paths, _ := filepath.Glob(filepath.Join(dir, "*.sql"))
		for _, p := range paths {
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			bom := bytes.HasPrefix(src, []byte("\xef\xbb\xbf"))
			if bom {
				src = src[3:]
			}
			rel, _ := filepath.Rel(root, p)
			byProject[project] = append(byProject[project], migrations.Source{Path: filepath.ToSlash(rel), Src: src, BOM: bom})
			files++
		}
	}

	counts := map[string]int{}
	var unexplained []string
	statements, findings, linted := 0, map[string]int{}, map[string]bool{}
	for _, project := range order {
		srcs := byProject[project]
		set := migrations.Build(srcs, migrations.Options{Dialect: analyzer.Postgres})
		runs := [][]*analyzer.File{set.Parts()}
		// files the tool's layout leaves out (superseded Ory any/ files,
		// files of another dialect) are linted on their own
		for _, sk := range set.Skipped {
			i := slices.IndexFunc(srcs, func(s migrations.Source) bool { return s.Path == sk.Path })
			f := &analyzer.File{Path: sk.Path, Src: srcs[i].Src, BOM: srcs[i].BOM, Lint: true, Deploy: 1}
			f.TxMode, f.TxModeWhy = migrations.DefaultTxMode(sk.Path)
			runs = append(runs, []*analyzer.File{f})
		}
		for _, parts := range runs {
			res, err := engine.Run(context.Background(), parts, engine.Options{Dialect: d, Rules: enabled, Known: rules.All()})
			if err != nil {
				t.Fatalf("%s: %v", project, err)
			}
			for _, e := range res.Errors {
				t.Errorf("internal error: %v", e)
			}
			for _, f := range res.Files {
				linted[f.Path] = true
				statements += len(f.Stmts)
			}
			for _, fd := range res.Findings {
				findings[fd.Name]++
				if fd.Code != rules.SyntaxError.Code {
					continue
				}
				f := res.Files[slices.IndexFunc(res.Files, func(f *analyzer.File) bool { return f.Path == fd.Path })]
				st := f.Stmts[fd.Stmt]
				stmt := f.Text(st.Span)
				at := f.Text(analyzer.Span{Start: st.SyntaxError.Offset, End: st.Span.End})
				cat := ""
				for _, c := range syntaxCategories {
					if c.match(project, fd.Path, stmt, at) {
						cat = c.name
						break
					}
				}
				if cat == "" {
					unexplained = append(unexplained, fmt.Sprintf("%s:%d:%d: %s\n    %.300s", fd.Path, fd.Start.Line, fd.Start.Column, fd.Message, stmt))
					continue
				}
				counts[cat]++
			}
		}
	}
	for _, s := range byProject {
		for _, src := range s {
			if !linted[src.Path] {
				t.Errorf("%s was not linted", src.Path)
			}
		}
	}
	for _, u := range unexplained {
		t.Errorf("syntax error in valid PostgreSQL, or of a kind not explained by a known category:\n  %s", u)
	}
	t.Logf("%d files, %d statements", files, statements)
	var names []string
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Logf("syntax errors: %4d  %s", counts[n], n)
	}
	names = names[:0]
	for n := range findings {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Logf("findings: %5d  %s", findings[n], n)
	}
}
