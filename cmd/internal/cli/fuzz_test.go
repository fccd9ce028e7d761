package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/internal/fuzzseed"
)

// The fuzz targets feed what a pull request controls through the whole
// check path, in-process: a migration's bytes and name (FuzzCheckPostgres,
// FuzzCheckMySQL) and the marker comments (FuzzMarkers). Every run must
// exit 0, 1 or 2, write JSON, SARIF and GitLab reports that parse, and
// human-readable output that neither starts a workflow command nor carries
// raw control characters. Seeds come from internal/fuzzseed (large and
// deeply nested inputs) and the rule fixtures; scripts/fuzz runs each
// target for a given time.

func FuzzCheckPostgres(f *testing.F) { fuzzCheck(f, "postgres") }

func FuzzCheckMySQL(f *testing.F) { fuzzCheck(f, "mysql") }

func fuzzCheck(f *testing.F, dialect string) {
	for _, s := range fuzzseed.SQL(dialect) {
		f.Add("001_m", s)
	}
	fixtures, _ := filepath.Glob(filepath.Join("..", "..", "..", "fixtures", "rules", "*", dialect+"*", "*.sql"))
	for _, p := range fixtures {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(filepath.Base(p), src)
		}
	}
	f.Add(hostileName, []byte("ALTER TABLE users DROP COLUMN c;"))
	f.Add("\xff\xfe", []byte("ALTER TABLE users DROP COLUMN c;"))
	f.Fuzz(func(t *testing.T, name string, src []byte) {
		dir, out := t.TempDir(), t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, fileName(name)), src, 0o644); err != nil {
			t.Skip(err) // a name the file system refuses
		}
		checkRun(t, out, dir, "check", "--no-git", "--dialect", dialect)
	})
}

// fileName turns fuzzed bytes into a name the test can create: no '/', no
// NUL, not too long, ending in .sql.
func fileName(name string) string {
	name = strings.NewReplacer("/", "_", "\x00", "_").Replace(name)
	if len(name) > 120 {
		name = name[:120]
	}
	return "m" + name + ".sql"
}

// checkRun runs migsafe in dir with every format and checks its outputs.
func checkRun(t *testing.T, out, dir string, args ...string) {
	t.Helper()
	files := map[string]string{}
	for _, f := range []string{"json", "sarif", "gitlab", "concise", "github"} {
		files[f] = filepath.Join(out, "out."+f)
		args = append(args, "--format", f+"="+files[f])
	}
	args = append(args, "--format", "text", ".")
	code, stdout, stderr := runCLI(t, dir, args...)
	if code < 0 || code > 2 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkSafe(t, "text", stdout)
	checkSafe(t, "stderr", stderr)
	if code == 2 {
		return
	}
	for _, f := range []string{"json", "sarif", "gitlab"} {
		b, err := os.ReadFile(files[f])
		if err != nil || !json.Valid(b) {
			t.Fatalf("%s: not JSON (%v): %.200q", f, err, b)
		}
	}
	b, _ := os.ReadFile(files["concise"])
	checkSafe(t, "concise", string(b))
}

// FuzzMarkers puts a fuzzed marker comment (migsafe:ignore,
// migsafe:deprecate, …) into a two-migration history, as a line comment and
// as a block comment, and runs check and status.
func FuzzMarkers(f *testing.F) {
	for _, m := range fuzzseed.Markers() {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, marker string) {
		dir, out := t.TempDir(), t.TempDir()
		write(t, filepath.Join(dir, "001_create.sql"), "CREATE TABLE users (id int, legacy int);\n-- "+marker+"\n")
		write(t, filepath.Join(dir, "002_drop.sql"), "-- "+marker+"\nALTER TABLE users DROP COLUMN legacy; /* "+marker+" */\nSELECT 1; -- "+marker+"\n")
		checkRun(t, out, dir, "check", "--no-git")
		code, stdout, stderr := runCLI(t, dir, "status", "--no-git", ".")
		if code < 0 || code > 2 {
			t.Fatalf("status: exit %d: %s", code, stderr)
		}
		checkSafe(t, "status", stdout)
		checkSafe(t, "status stderr", stderr)
	})
}
