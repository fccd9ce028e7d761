package lint_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/migsafe/migsafe/lint"
)

// corpusDir is the shared corpus of real migrations (../shared/corpus next
// to the repository); MIGSAFE_CORPUS overrides it. Tests skip when it is
// absent.
func corpusDir() string {
	if d := os.Getenv("MIGSAFE_CORPUS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "corpus")
}

// TestCacheCorpusSameFindings lints every migration folder of the corpus
// three times: without the parse cache, with an empty cache (every parse
// is written), with the cache it filled (every parse is read), and with
// the result cache filled and read (no replay, the files' sources read
// back by their stamps). The
// findings, notes, errors and every statement after the replay (its
// changes and their effects, transaction and session) must be identical.
func TestCacheCorpusSameFindings(t *testing.T) {
	root := corpusDir()
	dirs, _ := filepath.Glob(filepath.Join(root, "*", "*"))
	if len(dirs) == 0 {
		t.Skipf("no corpus at %s (set MIGSAFE_CORPUS)", root)
	}
	cacheDir := t.TempDir()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	checked := 0
	for _, dir := range dirs {
		dialect := filepath.Base(dir)
		switch dialect {
		case "postgres", "mysql":
		case "any":
			dialect = "postgres"
		default:
			continue
		}
		rel, _ := filepath.Rel(root, dir)
		run := func(c lint.CacheOptions) *lint.Result {
			t.Helper()
			s, err := lint.Resolve(lint.Options{Dir: root, Dialect: dialect, NoGit: true, Now: now, Paths: []string{rel}, Cache: c})
			if err != nil {
				t.Fatal(err)
			}
			res, err := lint.Check(context.Background(), s, []string{rel})
			if err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
			s.Done()
			if c.Dir != "" {
				st := s.Cache().Stats()
				if st.Corrupt != 0 {
					t.Errorf("%s: %d corrupt entries", rel, st.Corrupt)
				}
			}
			return res
		}
		plain := run(lint.CacheOptions{Off: true})
		cold := run(lint.CacheOptions{Dir: cacheDir})
		warm := run(lint.CacheOptions{Dir: cacheDir})
		// the result cache, filled then read: no replay, the sources taken
		// from the cache by their stamps (readStamped)
		run(lint.CacheOptions{Dir: cacheDir, Results: true})
		results := run(lint.CacheOptions{Dir: cacheDir, Results: true})
		for _, r := range []struct {
			name string
			res  *lint.Result
		}{{"cold cache", cold}, {"warm cache", warm}, {"warm result cache", results}} {
			if !reflect.DeepEqual(plain.Engine.Findings, r.res.Engine.Findings) {
				t.Errorf("%s: findings differ with a %s (%d findings without, %d with)", rel, r.name, len(plain.Engine.Findings), len(r.res.Engine.Findings))
			}
			if !reflect.DeepEqual(plain.Engine.Notes, r.res.Engine.Notes) || !reflect.DeepEqual(plain.Errors, r.res.Errors) {
				t.Errorf("%s: notes or errors differ with a %s", rel, r.name)
			}
			if len(plain.Engine.Files) != len(r.res.Engine.Files) {
				t.Fatalf("%s: %d files without the cache, %d with a %s", rel, len(plain.Engine.Files), len(r.res.Engine.Files), r.name)
			}
			for i, f := range plain.Engine.Files {
				g := r.res.Engine.Files[i]
				if f.Path != g.Path || !bytes.Equal(f.Src, g.Src) {
					t.Fatalf("%s: file %d is %s (%d bytes) without the cache, %s (%d bytes) with a %s", rel, i, f.Path, len(f.Src), g.Path, len(g.Src), r.name)
				}
				if r.res.Statements != plain.Statements {
					t.Fatalf("%s: %d statements without the cache, %d with a %s", rel, plain.Statements, r.res.Statements, r.name)
				}
				if r.res == results {
					continue // a result read back: no statements
				}
				if !reflect.DeepEqual(f.Stmts, g.Stmts) || !reflect.DeepEqual(f.Comments, g.Comments) {
					t.Errorf("%s: the statements of %s differ with a %s", rel, f.Path, r.name)
					for j := range min(len(f.Stmts), len(g.Stmts)) {
						if !reflect.DeepEqual(f.Stmts[j], g.Stmts[j]) {
							t.Fatalf("statement %d:\nwithout: %#v\nwith:    %#v", j, *f.Stmts[j], *g.Stmts[j])
						}
					}
					t.Fatalf("%d statements, %d comments without; %d, %d with", len(f.Stmts), len(f.Comments), len(g.Stmts), len(g.Comments))
				}
			}
		}
		checked += len(plain.Engine.Files)
	}
	if checked < 1000 {
		t.Fatalf("only %d files checked: is the corpus complete?", checked)
	}
	t.Logf("%d files", checked)
}
