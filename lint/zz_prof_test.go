package lint_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/migsafe/migsafe/lint"
)

func BenchmarkZZWarm(b *testing.B) {
	root := corpusDir()
	files, _ := filepath.Glob(filepath.Join(root, "*", "postgres", "*.sql"))
	for i := range files {
		files[i], _ = filepath.Rel(root, files[i])
	}
	cache := b.TempDir()
	for _, off := range []bool{true, false} {
		name := "warm"
		if off {
			name = "cold"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; ; i++ {
				if i == 1 {
					b.ResetTimer()
				}
				if i > b.N {
					break
				}
				s, err := lint.Resolve(lint.Options{Dir: root, Dialect: "postgres", NoGit: true, Paths: files, Cache: lint.CacheOptions{Dir: cache, Off: off}})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := lint.Check(context.Background(), s, files); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
