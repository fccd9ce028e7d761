package lint

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/lint/gitlog"
)

// TestNotParts: REF's migrations that are not parts and not in the work
// tree are deleted (the fork point had them) or behind; a goose history,
// whose files are two parts each, is not taken for a complete one because
// it has as many parts as REF has files.
func TestNotParts(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "db"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "db", "4.sql"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	inRef := gitlog.PathSet(map[string]bool{"db/1.sql": true, "db/2.sql": true, "db/3.sql": true, "db/4.sql": true, "db/5.sql": true, "db/README": true})
	inBase := gitlog.PathSet(map[string]bool{"db/1.sql": true, "db/2.sql": true, "db/3.sql": true})
	for _, c := range []struct {
		name            string
		rel             []string
		whole           bool
		deleted, behind []string
	}{
		{"every migration of REF a part", []string{"db/1.sql", "db/2.sql", "db/3.sql", "db/4.sql", "db/5.sql", "db/6.sql"}, true, nil, nil},
		{"one deleted, one behind, one in the work tree", []string{"db/1.sql", "db/2.sql"}, true, []string{"db/3.sql"}, []string{"db/5.sql"}},
		{"goose: up and down parts of the same files", []string{"db/1.sql", "db/1.sql", "db/2.sql", "db/2.sql", "db/4.sql"}, false, []string{"db/3.sql"}, []string{"db/5.sql"}},
	} {
		deleted, behind := notParts(root, inRef, inBase, c.rel, c.whole)
		if !slices.Equal(deleted, c.deleted) || !slices.Equal(behind, c.behind) {
			t.Errorf("%s: deleted %v, behind %v; want %v, %v", c.name, deleted, behind, c.deleted, c.behind)
		}
	}
	src := []byte("-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 2;\n")
	whole := []*analyzer.File{{Src: src, Range: analyzer.Span{End: len(src)}}}
	halves := []*analyzer.File{{Src: src, Range: analyzer.Span{End: 23}}, {Src: src, Range: analyzer.Span{Start: 23, End: len(src)}}}
	if !wholeFiles(whole) || wholeFiles(halves) {
		t.Errorf("wholeFiles: %t for a whole file, %t for its halves", wholeFiles(whole), wholeFiles(halves))
	}
}
