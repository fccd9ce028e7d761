package cli_test

import (
	"bufio"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/internal/testdb"
)

// TestMigrateDocExamples runs the examples of docs/migrate.md against a
// real PostgreSQL: `sql file=PATH` blocks are written to PATH, and every
// line of the `sh` blocks is run in order, with the exit status its
// `# exit N` comment gives (0 without one).
func TestMigrateDocExamples(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "migrate.md"))
	if err != nil {
		t.Fatal(err)
	}
	srv := testdb.PostgreSQL(t)
	admin, err := sql.Open("pgx", srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	dir := t.TempDir()
	env := map[string]string{
		"MIGSAFE_DATABASE_URL": pgDatabase(t, srv, admin, "doc_app"),
		"SCRATCH_DATABASE_URL": pgDatabase(t, srv, admin, "doc_scratch"),
	}
	fence := regexp.MustCompile("^```(\\w*)(?: file=(\\S+))?$")
	exitRE := regexp.MustCompile(`\s+#\s*exit (\d+)$`)
	var lang, file string
	var body []string
	in := false
	ran := 0
	sc := bufio.NewScanner(strings.NewReader(string(doc)))
	for sc.Scan() {
		line := sc.Text()
		if m := fence.FindStringSubmatch(line); m != nil {
			if !in {
				in, lang, file, body = true, m[1], m[2], nil
				continue
			}
			in = false
			switch {
			case lang == "sql" && file != "":
				p := filepath.Join(dir, file)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(strings.Join(body, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			case lang == "sh":
				for _, cmdline := range body {
					want := 0
					if m := exitRE.FindStringSubmatch(cmdline); m != nil {
						want, _ = strconv.Atoi(m[1])
						cmdline = cmdline[:len(cmdline)-len(m[0])]
					}
					args := shellWords(cmdline, env)
					if len(args) == 0 || args[0] != "migsafe" {
						t.Fatalf("docs/migrate.md: not a migsafe command: %q", cmdline)
					}
					o := migrateCLI(t, dir, env, args[1:]...)
					if o.code != want {
						t.Fatalf("docs/migrate.md: %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", cmdline, o.code, want, o.stdout, o.stderr)
					}
					t.Logf("$ %s\n%s%s", cmdline, o.stdout, o.stderr)
					ran++
				}
			}
			continue
		}
		if in {
			body = append(body, line)
		}
	}
	if ran < 5 {
		t.Fatalf("ran only %d examples", ran)
	}
}

// shellWords splits a command line: double quotes group, $NAME expands.
func shellWords(s string, env map[string]string) []string {
	s = os.Expand(s, func(k string) string { return env[k] })
	var out []string
	var cur strings.Builder
	quoted, has := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, has = !quoted, true
		case r == ' ' && !quoted:
			if has {
				out = append(out, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteRune(r)
			has = true
		}
	}
	if has {
		out = append(out, cur.String())
	}
	return out
}

var _ = fmt.Sprint
