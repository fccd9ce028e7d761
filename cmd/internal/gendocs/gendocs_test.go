package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDocsUpToDate fails when docs/rules does not match the rules' metadata.
func TestDocsUpToDate(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "docs", "rules")
	pages := Pages()
	for name, want := range pages {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("docs/rules/%s is stale or missing: run go generate ./docs", name)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	for _, f := range files {
		if _, ok := pages[filepath.Base(f)]; !ok {
			t.Errorf("docs/rules/%s belongs to no rule: run go generate ./docs", filepath.Base(f))
		}
	}
}
