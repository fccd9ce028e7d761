package mysql_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/dialects/mysql"
	"github.com/migsafe/migsafe/rules"
)

// corpusDir is the shared corpus of real migrations (../shared/corpus next to
// the repository); the test is skipped where it is absent.
const corpusDir = "../../../shared/corpus"

type corpusStats struct {
	files, empty, parsed int
	failures             []string
}

// lintCorpus lints every file of the corpora's dir folders (mysql or any)
// with every MySQL rule, each corpus as one ordered sequence of migrations.
func lintCorpus(t *testing.T, dir string) corpusStats {
	t.Helper()
	projects, _ := filepath.Glob(filepath.Join(corpusDir, "*", dir))
	var st corpusStats
	d, err := mysql.New("")
	if err != nil {
		t.Fatal(err)
	}
	var rcs []engine.RuleConfig
	for _, r := range rules.All() {
		if r.AppliesTo(analyzer.MySQL) {
			rcs = append(rcs, engine.RuleConfig{Rule: r, Severity: r.Severity})
		}
	}
	for _, proj := range projects {
		names, _ := filepath.Glob(filepath.Join(proj, "*.sql"))
		sort.Strings(names)
		var files []*analyzer.File
		for i, n := range names {
			src, err := os.ReadFile(n)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(corpusDir, n)
			files = append(files, &analyzer.File{Path: filepath.ToSlash(rel), Src: src, Lint: true, Deploy: i + 1})
		}
		res, err := engine.Run(context.Background(), files, engine.Options{Dialect: d, Rules: rcs, Known: rules.All()})
		if err != nil {
			t.Fatalf("%s: %v", proj, err)
		}
		for _, e := range res.Errors {
			t.Errorf("internal error: %v", e)
		}
		for _, f := range res.Files {
			st.files++
			if strings.TrimSpace(string(f.Src)) == "" {
				st.empty++
				continue
			}
			var bad *analyzer.Statement
			for _, s := range f.Stmts {
				if s.SyntaxError != nil {
					bad = s
					break
				}
			}
			if bad == nil {
				st.parsed++
				continue
			}
			pos := f.Lines.Position(bad.SyntaxError.Offset)
			text := strings.Join(strings.Fields(f.Text(bad.Span)), " ")
			if len(text) > 90 {
				text = text[:90] + "…"
			}
			st.failures = append(st.failures, f.Path+":"+strconv.Itoa(pos.Line)+": "+bad.SyntaxError.Message+"\n\t\t"+text)
		}
	}
	return st
}

// TestCorpus lints the mysql folders of the shared corpus: no crash, no
// internal error, and at least 97% of the non-empty files parse completely.
// The any/ folders (dialect-neutral Ory files) are linted for information.
func TestCorpus(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("no corpus at %s", corpusDir)
	}
	st := lintCorpus(t, "mysql")
	nonEmpty := st.files - st.empty
	if nonEmpty == 0 {
		t.Fatal("the corpus has no MySQL files")
	}
	rate := float64(st.parsed) / float64(nonEmpty)
	t.Logf("mysql/: %d files, %d empty, %d of %d non-empty parse completely (%.1f%%)", st.files, st.empty, st.parsed, nonEmpty, 100*rate)
	for _, f := range st.failures {
		t.Logf("  does not parse: %s", f)
	}
	if rate < 0.97 {
		t.Errorf("only %.1f%% of the non-empty MySQL corpus files parse; want at least 97%%", 100*rate)
	}
	any := lintCorpus(t, "any")
	t.Logf("any/ (for information): %d files, %d empty, %d of %d non-empty parse completely", any.files, any.empty, any.parsed, any.files-any.empty)
	for _, f := range any.failures {
		t.Logf("  any/ does not parse: %s", f)
	}
}
