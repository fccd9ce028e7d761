package catalog_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/analyzertest"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/dialects/mysql"
	"github.com/migsafe/migsafe/dialects/postgres"
)

var update = flag.Bool("update", false, "rewrite the replay goldens")

// dialects are the dialects the goldens are replayed with, by the
// dialect: header of a history (default postgres).
var dialects = map[string]func() (analyzer.Dialect, error){
	analyzer.Postgres: func() (analyzer.Dialect, error) { return postgres.New("") },
	analyzer.MySQL:    func() (analyzer.Dialect, error) { return mysql.New("") },
}

// TestReplayGoldens replays each history under fixtures/catalog and
// compares the schema after every migration with NAME.golden.
func TestReplayGoldens(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "fixtures", "catalog", "*.txtar"))
	if len(files) == 0 {
		t.Fatal("no replay fixtures")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			h, err := analyzertest.ParseHistory(file, data)
			if err != nil {
				t.Fatal(err)
			}
			dn := h.Header["dialect"]
			if dn == "" {
				dn = analyzer.Postgres
			}
			nd := dialects[dn]
			if nd == nil {
				t.Skipf("dialect %s is not available", dn)
			}
			d, err := nd()
			if err != nil {
				t.Fatal(err)
			}
			_, _, set, err := h.Build(dn)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "layout %s\n", set.Layout)
			// replay each prefix of the history; the schema after the
			// last up part is the schema after that migration
			for i, m := range set.Migrations {
				_, _, set, _ := h.Build(dn)
				var parts []*analyzer.File
				for _, mm := range set.Migrations[:i+1] {
					parts = append(parts, mm.Up...)
					if mm != set.Migrations[i] {
						parts = append(parts, mm.Down...)
					}
				}
				res, err := engine.Run(context.Background(), parts, engine.Options{Dialect: d})
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "\n== after %s ==\n%s", strings.Join(m.Paths(), ", "), res.Catalog.Dump())
			}
			golden := strings.TrimSuffix(file, ".txtar") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./analyzer/catalog -update)", err)
			}
			if string(want) != b.String() {
				t.Errorf("schema differs from %s (go test ./analyzer/catalog -update rewrites it):\n%s", golden, diff(string(want), b.String()))
			}
		})
	}
}

// diff shows the first differing lines.
func diff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s", i+1, w, g)
		}
	}
	return ""
}
