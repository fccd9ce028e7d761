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
	_ = filepath.WalkDir(corpusRoot(), func(p string, _ fs.DirEntry, err error) error {
		if err == nil {
			paths = append(paths, p, strings.ToUpper(p))
		}
		return nil
	})
	// one after the other, as dialectName reads them (the verdict of the
	// last folders remembered)
	var folders folderDialects
	for _, p := range paths {
		if got, ref := folders.ofPath(p), dialectOfPathSplit(p); got != ref {
			t.Errorf("dialectOfPath(%q) = %q, the reference %q", p, got, ref)
		}
	}
	if len(paths) < 100 {
		t.Logf("only %d paths (no corpus at %s)", len(paths), corpusRoot())
	}
}

// TestArgNames: the files the arguments name, found with a directory's
// listing in place of a stat per file, are the files discover finds for
// each argument, in the same order: regular files, links (to files, to
// directories, dangling), an excluded file, a directory named like a
// file, missing files, files not named .sql, absolute and unclean paths,
// and a file given twice. discover's answers and the listings are kept
// for Load.
func TestArgNames(t *testing.T) {
	dir := t.TempDir()
	write := func(name string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("SELECT 1;\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"db/1.up.sql", "db/1.down.sql", "db/2.up.SQL", "db/skip.sql", "db/notes.txt", "db/dir.sql/3.up.sql", "other/4.sql", "other/5.sql"} {
		write(n)
	}
	for link, to := range map[string]string{"db/link.sql": "1.up.sql", "db/dangling.sql": "gone.sql", "db/dirlink.sql": "dir.sql"} {
		if err := os.Symlink(to, filepath.Join(dir, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	excluded := func(p string) bool { return strings.HasSuffix(p, "skip.sql") }
	args := []string{
		"db/1.up.sql", "db/1.down.sql", "db/2.up.SQL", "db/skip.sql", "db/notes.txt", "db/dir.sql",
		"db/link.sql", "db/dangling.sql", "db/dirlink.sql", "db/missing.sql", "./db/../db/1.up.sql",
		filepath.Join(dir, "db", "1.down.sql"), "db/1.up.sql", "other/4.sql", "other", "other/5.sql", "db",
	}
	var want []string
	for _, a := range args {
		files, _ := discover(a, dir, excluded, false, nil)
		want = append(want, files...)
	}
	found := &discovered{}
	got := argNames(args, dir, excluded, false, found)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("argNames:\n%s\nwant (discover of each):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, d := range []string{"db", "other"} {
		if _, ok := found.lists[filepath.Join(dir, d)]; !ok {
			t.Errorf("%s: the listing is not kept for Load", d)
		}
	}
	for _, a := range []string{"db", "other", "db/dir.sql", "db/missing.sql", "db/1.up.sql"} {
		if _, ok := found.m[a]; !ok {
			t.Errorf("%s: discover's answer not remembered for Load", a)
		}
	}
}

// TestArgJoiner compares argJoiner.join with joining and displaying each
// argument the general way, on edge cases and on every path of the corpus
// (as given, and with "./" before it), from several working directories.
func TestArgJoiner(t *testing.T) {
	args := []string{"a.sql", "db/a.sql", "db//a.sql", "db/./a.sql", "db/../a.sql", "./db/a.sql", "../db/a.sql", "..", ".", "...",
		"..db/a.sql", "db/", "db/.", "/abs/db/a.sql", "", "db/a b.sql", "db/é.sql", "a/b/c/d.sql"}
	if m, _ := filepath.Glob(filepath.Join(corpusRoot(), "*", "*", "*.sql")); len(m) > 0 {
		for _, p := range m {
			rel, _ := filepath.Rel(corpusRoot(), p)
			args = append(args, rel, "./"+rel)
		}
	}
	for _, dir := range []string{"/", "/work", "/work/shared/corpus", "/a/b/", "/a/./b", "relative/dir"} {
		j := newArgJoiner(dir)
		for _, arg := range args {
			full, name := j.join(arg)
			wantFull := arg
			if !filepath.IsAbs(wantFull) {
				wantFull = filepath.Join(dir, arg)
			}
			if full != wantFull || name != Display(dir, wantFull) {
				t.Fatalf("dir %q, arg %q: %q, %q; want %q, %q", dir, arg, full, name, wantFull, Display(dir, wantFull))
			}
		}
	}
}
