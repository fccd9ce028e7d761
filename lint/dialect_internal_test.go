package lint

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// dialectOfPathSplit is dialectOfPath as it was written first, splitting
// the lower-cased path into new strings: the reference the faster one
// must agree with.
func dialectOfPathSplit(p string) string {
	p = strings.ToLower(path.Clean(strings.ReplaceAll(p, "\\", "/")))
	parts := strings.Split(p, "/")
	base := parts[len(parts)-1]
	for _, w := range strings.Split(base, ".")[1:] {
		if d := dialectWord(w); d != "" {
			return d
		}
	}
	for _, dir := range parts[:len(parts)-1] {
		if d := dialectWord(dir); d != "" {
			return d
		}
	}
	if !strings.Contains(base, ".") {
		return dialectWord(base)
	}
	return ""
}

// TestDialectOfPath: the dialect a path names, on hand-picked paths and
// every path of the corpus, agrees with the reference.
func TestDialectOfPath(t *testing.T) {
	want := map[string]string{
		"db/mysql/001.sql":            "mysql",
		"db/MariaDB/001.sql":          "mysql",
		"users.MySQL.up.sql":          "mysql",
		"001_init.postgres.sql":       "postgres",
		"pg":                          "postgres",
		"migrations/PostgreSQL":       "postgres",
		"mysql.sql":                   "",
		"/abs/psql/x.sql":             "postgres",
		"a\\mysql\\b.sql":             "mysql",
		"db/mysql/../pg/1.sql":        "postgres",
		"x.pg.mysql.sql":              "postgres",
		"postgres/1.mysql.sql":        "mysql",
		"":                            "",
		"/":                           "",
		"./":                          "",
		"db/myſql/1.sql":              "",
		"migrations/000001_init.sql":  "",
		"migrations.mysql/000001.sql": "",
	}
	paths := []string{}
	for p, d := range want {
		if got := dialectOfPath(p); got != d {
			t.Errorf("dialectOfPath(%q) = %q, want %q", p, got, d)
		}
		paths = append(paths, p)
	}
	corpus := os.Getenv("MIGSAFE_CORPUS")
	if corpus == "" {
		corpus = filepath.Join("..", "..", "shared", "corpus")
	}
	_ = filepath.WalkDir(corpus, func(p string, _ fs.DirEntry, err error) error {
		if err == nil {
			paths = append(paths, p, strings.ToUpper(p))
		}
		return nil
	})
	for _, p := range paths {
		if got, ref := dialectOfPath(p), dialectOfPathSplit(p); got != ref {
			t.Errorf("dialectOfPath(%q) = %q, the reference %q", p, got, ref)
		}
	}
	if len(paths) < 100 {
		t.Logf("only %d paths (no corpus at %s)", len(paths), corpus)
	}
}
