package lint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCheckWhileLoading: Check lints each history while the next
// directory is read. Its result must be the one of loading everything
// first and linting after: the same findings in the same order, each
// history's result at its history's index, with a directory that cannot
// be read among them. A cancelled run returns the context's error
// instead of waiting for a linter that stopped.
func TestCheckWhileLoading(t *testing.T) {
	root := t.TempDir()
	var paths []string
	for i := range 24 {
		dir := fmt.Sprintf("svc%02d/db", i)
		paths = append(paths, dir)
		for j, sql := range []string{
			"CREATE TABLE t (id bigint PRIMARY KEY, a text);\n",
			fmt.Sprintf("ALTER TABLE t ADD COLUMN c%d int NOT NULL;\nCREATE INDEX i%d ON t (a);\n", i, i),
			"ALTER TABLE t DROP COLUMN a;\n",
		} {
			p := filepath.Join(root, dir, fmt.Sprintf("%d_step.up.sql", j+1))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(sql), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	paths = slices.Insert(paths, 5, "missing/db")
	s, err := Resolve(Options{Dir: root, Dialect: "postgres", NoGit: true, Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Paths: paths, Cache: CacheOptions{Off: true}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Check(context.Background(), s, paths)
	if err != nil {
		t.Fatal(err)
	}
	ld, err := Load(context.Background(), s, paths)
	if err != nil {
		t.Fatal(err)
	}
	merged, each, n, err := lintSets(context.Background(), s, slices.Values(ld.Histories))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Histories) != 24 || len(res.Each) != 24 || len(res.Errors) != 1 {
		t.Fatalf("%d histories, %d results, errors %v; want 24, 24 and the missing directory", len(res.Histories), len(res.Each), res.Errors)
	}
	if len(merged.Findings) < 24*3 || !reflect.DeepEqual(res.Engine.Findings, merged.Findings) || res.Statements != n {
		t.Fatalf("Check: %d findings, %d statements; loading first: %d, %d", len(res.Engine.Findings), res.Statements, len(merged.Findings), n)
	}
	for i, h := range res.Histories {
		if h.Root != ld.Histories[i].Root || !reflect.DeepEqual(res.Each[i].Findings, each[i].Findings) {
			t.Fatalf("history %d: %s, want %s", i, h.Root, ld.Histories[i].Root)
		}
		for _, f := range res.Each[i].Findings {
			if !strings.HasPrefix(f.Path, h.Root+"/") {
				t.Fatalf("history %d (%s) holds a finding of %s", i, h.Root, f.Path)
			}
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Check(ctx, s, paths)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("a cancelled run: %v, want the context's error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a cancelled run does not return")
	}
}
