//go:build linux && amd64

// The C tree is read on amd64 only (pgtree.CReadable); elsewhere the
// protobuf path is the only one, and there is nothing to compare.

package postgres

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/dialects/postgres/internal/pgtree"
)

// ctreeTexts are the PostgreSQL files of the fixtures and the corpus, each
// whole and cut into statements at ";\n" (as a file that does not parse
// whole is parsed piece by piece), and a few texts that must fail alike.
func ctreeTexts(t *testing.T) [][]byte {
	var files []string
	roots := []string{filepath.Join("..", "..", "fixtures"), corpusRoot()}
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() && (strings.HasSuffix(p, ".sql") || strings.HasSuffix(p, ".txtar")) && !strings.Contains(p, "mysql") {
				files = append(files, p)
			}
			return nil
		})
	}
	texts := [][]byte{
		[]byte("SELECT 'caf\xe9'"),            // a string literal that is not UTF-8
		[]byte("CREATE TABLE t\xff (id int)"), // an identifier that is not UTF-8
		[]byte("ALTER TABLE t ADD COLUMN"),    // a syntax error
		[]byte(""),                            // no statement
		[]byte("SELECT 1; ; SELECT 2"),        // an empty statement between two
		[]byte("CREATE TABLE t (c char(1) COLLATE \"C\" DEFAULT B'101' CHECK (c <> 1.5e3 AND c IS NOT NULL AND true))"),
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, src)
		texts = append(texts, bytes.Split(src, []byte(";\n"))...)
	}
	return texts
}

// corpusRoot is the shared corpus (MIGSAFE_CORPUS overrides it).
func corpusRoot() string {
	if d := os.Getenv("MIGSAFE_CORPUS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "corpus")
}

// TestCTree: reading libpg_query's C tree in place gives the tree its
// protobuf output decodes to, or the same error, on every text of the
// fixtures and the corpus; and both refuse a tree deeper than their limit
// at the same depth.
func TestCTree(t *testing.T) {
	if !pgtree.CReadable {
		t.Fatal("pgtree cannot read the C tree on amd64")
	}
	texts := ctreeTexts(t)
	const need, limit = 4 << 20, 1 << 20
	trees, failures := 0, 0
	var sample [][]byte
	for i, text := range texts {
		pb, _, perr := parseWith(text, need, limit, false, false)
		raw, _, rerr := parseWith(text, need, limit, false, true)
		if (perr == nil) != (rerr == nil) || (perr != nil && perr.Error() != rerr.Error()) {
			t.Fatalf("text %d %.80q: protobuf gives error %v, the C tree %v", i, text, perr, rerr)
		}
		if perr != nil {
			failures++
			continue
		}
		if !reflect.DeepEqual(pb, raw) {
			t.Fatalf("text %d %.80q: the trees differ\nprotobuf: %+v\nC tree:   %+v", i, text, pb.Stmts, raw.Stmts)
		}
		trees++
		if i%25 == 0 {
			sample = append(sample, text)
		}
	}
	if trees < 500 || failures < 3 {
		t.Fatalf("compared %d trees and %d failures: the fixtures are missing?", trees, failures)
	}
	// the depth limit: the smallest limit each path accepts is the same
	for _, text := range sample {
		lo, hi := 1, 4096 // the protobuf path fails at lo-1... and passes at hi
		if _, _, err := parseWith(text, need, hi, false, false); err != nil {
			continue
		}
		for lo < hi {
			mid := (lo + hi) / 2
			if _, _, err := parseWith(text, need, mid, false, false); err != nil {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		if _, _, err := parseWith(text, need, lo, false, true); err != nil {
			t.Fatalf("%.80q: the C tree fails at limit %d, where protobuf passes: %v", text, lo, err)
		}
		if lo > 1 {
			if _, _, err := parseWith(text, need, lo-1, false, true); err == nil {
				t.Fatalf("%.80q: the C tree passes at limit %d, where protobuf fails", text, lo-1)
			}
		}
	}
	t.Logf("%d trees and %d errors alike; depth limits alike on %d", trees, failures, len(sample))
}

func BenchmarkCTree(b *testing.B) {
	var texts [][]byte
	_ = filepath.WalkDir(corpusRoot(), func(p string, e fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".sql") && strings.Contains(p, "/postgres/") {
			if src, err := os.ReadFile(p); err == nil {
				if _, _, err := parseWith(src, 4<<20, 1<<20, false, false); err == nil {
					texts = append(texts, src)
				}
			}
		}
		return nil
	})
	if len(texts) == 0 {
		b.Skip("no corpus")
	}
	for _, mode := range []struct {
		name string
		raw  bool
	}{{"path=protobuf", false}, {"path=ctree", true}} {
		b.Run(mode.name, func(b *testing.B) {
			for b.Loop() {
				for _, text := range texts {
					if _, _, err := parseWith(text, 4<<20, 1<<20, false, mode.raw); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// FuzzCTree: on any text, the C tree and the protobuf path give the same
// tree or the same error.
func FuzzCTree(f *testing.F) {
	for _, s := range []string{
		"CREATE TABLE t (id bigint PRIMARY KEY, c text NOT NULL DEFAULT 'x')",
		"ALTER TABLE t ADD COLUMN c int, ALTER COLUMN d TYPE text USING d::text",
		"CREATE INDEX CONCURRENTLY i ON t USING gin (to_tsvector('english', c)) WHERE c IS NOT NULL",
		"UPDATE t SET c = 1.5, d = B'1', e = true WHERE id IN (SELECT id FROM u LIMIT 10)",
		"CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql",
		"SELECT 'caf\xe9'",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		if bytes.IndexByte(text, 0) >= 0 {
			return // migsafe's callers replace NULs; libpg_query stops at one
		}
		pb, _, perr := parseWith(text, 4<<20, 2000, false, false)
		raw, _, rerr := parseWith(text, 4<<20, 2000, false, true)
		if (perr == nil) != (rerr == nil) || (perr != nil && perr.Error() != rerr.Error()) {
			t.Fatalf("protobuf gives error %v, the C tree %v", perr, rerr)
		}
		if perr == nil && !reflect.DeepEqual(pb, raw) {
			t.Fatalf("the trees differ\nprotobuf: %+v\nC tree:   %+v", pb.Stmts, raw.Stmts)
		}
	})
}
