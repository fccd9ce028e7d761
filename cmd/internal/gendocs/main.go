// Command gendocs writes docs/rules/*.md from the rules' metadata.
//
//	go generate ./docs
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/migsafe/migsafe/analyzer/ruledoc"
	"github.com/migsafe/migsafe/rules"
)

// Pages returns the generated files by name.
func Pages() map[string]string {
	all := rules.All()
	out := map[string]string{"README.md": ruledoc.Index(all)}
	for _, r := range all {
		out[r.Name+".md"] = ruledoc.Markdown(r)
	}
	return out
}

func main() {
	dir := flag.String("dir", "rules", "directory to write the pages to")
	flag.Parse()
	if err := write(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pages := Pages()
	old, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	for _, f := range old {
		if _, ok := pages[filepath.Base(f)]; !ok {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	for name, text := range pages {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}
