package postgres

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestFormatVersionNum(t *testing.T) {
	for n, want := range map[int]string{170007: "17.7", 160000: "16.0", 100023: "10.23", 90624: "9.6.24"} {
		if got := formatVersionNum(n); got != want {
			t.Errorf("formatVersionNum(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestGrammarVersion compares the version the parser reports with the
// PG_VERSION of the libpg_query headers pg_query_go ships, found through
// the module cache the way go build finds them.
func TestGrammarVersion(t *testing.T) {
	got := GrammarVersion()
	if !regexp.MustCompile(`^1[0-9]\.[0-9]+$`).MatchString(got) {
		t.Fatalf("GrammarVersion() = %q, want a PostgreSQL release such as 17.7", got)
	}
	dir := pgQueryDir(t)
	h, err := os.ReadFile(filepath.Join(dir, "parser", "include", "pg_query.h"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^#define PG_VERSION "([0-9.]+)"`).FindSubmatch(h)
	if m == nil {
		t.Fatalf("%s/parser/include/pg_query.h has no PG_VERSION", dir)
	}
	if got != string(m[1]) {
		t.Errorf("GrammarVersion() = %q, pg_query.h says PG_VERSION %q", got, m[1])
	}
}

func pgQueryDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/pganalyze/pg_query_go/v6").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("go list -m pg_query_go: %v %s", err, out)
	}
	return strings.TrimSpace(string(out))
}
