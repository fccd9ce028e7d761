package lint

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A file named on the command line whose directory cannot be listed (mode
// 711: the file can be read, its siblings cannot be found) would be linted
// without its history: the run must say so and fail, not pass quietly.
func TestUnlistableDirectoryFails(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	if err := os.MkdirAll(db, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, sql := range map[string]string{
		"1_create.sql": "CREATE TABLE users (id int, legacy int);\n",
		"2_drop.sql":   "ALTER TABLE users DROP COLUMN legacy;\n",
	} {
		if err := os.WriteFile(filepath.Join(db, name), []byte(sql), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(db, 0o711); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(db, 0o755) })
	if os.Geteuid() == 0 {
		// root lists any directory: refuse the listing as the kernel
		// does for anyone else
		readDir = func(name string) ([]os.DirEntry, error) {
			if filepath.Clean(name) == db {
				return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
			}
			return os.ReadDir(name)
		}
		t.Cleanup(func() { readDir = os.ReadDir })
	}
	s, err := Resolve(Options{Dir: dir, NoGit: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Check(context.Background(), s, []string{"db/2_drop.sql"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), "db: cannot list the directory to read the history of db/2_drop.sql: permission denied") {
		t.Fatalf("errors = %v, want one saying the history of db/2_drop.sql cannot be read", res.Errors)
	}
	// the file itself is still linted
	if len(res.Engine.Files) != 1 {
		t.Fatalf("linted %d files, want 1", len(res.Engine.Files))
	}
	// LoadHistory (the runner's gate) refuses the directory too
	if _, err := LoadHistory(context.Background(), s, "db"); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("LoadHistory: %v, want permission denied", err)
	}
}
