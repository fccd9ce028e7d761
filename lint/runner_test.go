package lint_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/migsafe/migsafe/analyzer/migrations"
	"github.com/migsafe/migsafe/lint"
)

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func codes(t *testing.T, s *lint.Settings, h *lint.History, versions ...string) map[string][]string {
	t.Helper()
	res, err := lint.CheckMigrations(context.Background(), s, h, func(m *migrations.Migration) bool { return slices.Contains(versions, m.Version) })
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("engine errors: %v", res.Errors)
	}
	out := map[string][]string{}
	for _, f := range res.Findings {
		out[f.Path] = append(out[f.Path], f.Code)
	}
	return out
}

// The runner's lint gate: load one directory as a history, lint the
// pending migrations with the earlier ones replayed, with the project's
// configuration.
func TestLoadHistoryCheckMigrations(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write(t, dir, map[string]string{
		".migsafe.yaml":            "rules:\n  missing-lock-timeout: off\n",
		"db/000001_users.up.sql":   "CREATE TABLE users (id bigint PRIMARY KEY, email text);\nCREATE INDEX users_id ON users (id);\n",
		"db/000001_users.down.sql": "DROP TABLE users;\n",
		"db/000002_idx.up.sql":     "CREATE INDEX users_email ON users (email);\n",
		"db/000002_idx.down.sql":   "DROP INDEX CONCURRENTLY users_email;\n",
		"db/000003_drop.up.sql":    "ALTER TABLE users DROP COLUMN email;\n",
		"db/000003_drop.down.sql":  "ALTER TABLE users ADD COLUMN email text;\n",
		"other/README":             "no migrations here\n",
	})
	s, err := lint.Resolve(lint.Options{Dir: dir, NoGit: true})
	if err != nil {
		t.Fatal(err)
	}
	h, err := lint.LoadHistory(ctx, s, "db")
	if err != nil {
		t.Fatal(err)
	}
	if h.Set.Layout != migrations.GolangMigrate || len(h.Set.Migrations) != 3 || h.Git {
		t.Fatalf("got layout %s, %d migrations, git %v; want golang-migrate, 3, false", h.Set.Layout, len(h.Set.Migrations), h.Git)
	}

	// pending: 2; 1 is replayed (users exists, created in an earlier
	// deploy), 3 comes after and is left out
	got := codes(t, s, h, "000002")
	if want := []string{"PG101"}; !slices.Equal(got["db/000002_idx.up.sql"], want) || len(got) != 1 {
		t.Errorf("pending 000002: findings %v, want only PG101 on db/000002_idx.up.sql (missing-lock-timeout is off in .migsafe.yaml)", got)
	}
	res, err := lint.CheckMigrations(ctx, s, h, func(m *migrations.Migration) bool { return m.Version == "000002" })
	if err != nil {
		t.Fatal(err)
	}
	if !lint.Failing(res.Findings, s.FailOn) {
		t.Errorf("an error finding does not fail at --fail-on %s", s.FailOn)
	}

	// an index on a table created in the same migration is no finding;
	// the history is not changed by the previous call
	if got := codes(t, s, h, "000001"); len(got) != 0 {
		t.Errorf("pending 000001: findings %v, want none", got)
	}
	for _, f := range h.Parts {
		if !f.Lint || f.Stmts != nil {
			t.Errorf("%s: CheckMigrations changed the history's part (Lint %v, %d statements)", f.Path, f.Lint, len(f.Stmts))
		}
	}
	if got := codes(t, s, h, "000003"); len(got["db/000003_drop.up.sql"]) == 0 || len(got["db/000002_idx.up.sql"]) != 0 {
		t.Errorf("pending 000003: findings %v, want findings on the drop only", got)
	}

	// a directory without migrations is no history
	if h, err := lint.LoadHistory(ctx, s, "other"); h != nil || err != nil {
		t.Errorf("LoadHistory(other) = %v, %v; want nil, nil", h, err)
	}
	if _, err := lint.LoadHistory(ctx, s, "nope"); err == nil || err.Error() != "nope: no such file or directory" {
		t.Errorf("LoadHistory(nope) error %v", err)
	}
}

func TestLoadHistorySeveral(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"db/.keep":                 "",
		"db/a/000001_x.up.sql":     "CREATE TABLE a (id int);\n",
		"db/b/000001_y.up.sql":     "CREATE TABLE b (id int);\n",
		"db/notes/000001_z.up.sql": "CREATE TABLE c (id int);\n",
	})
	s, err := lint.Resolve(lint.Options{Dir: dir, NoGit: true, Dialect: "postgres"})
	if err != nil {
		t.Fatal(err)
	}
	// no .sql file directly in db: nothing to apply there
	if h, err := lint.LoadHistory(context.Background(), s, "db"); h != nil || err != nil {
		t.Fatalf("LoadHistory(db) = %v, %v; want nil, nil", h, err)
	}
	write(t, dir, map[string]string{"db/000001_top.up.sql": "CREATE TABLE top (id int);\n"})
	_, err = lint.LoadHistory(context.Background(), s, "db")
	var several *lint.SeveralHistoriesError
	if !errors.As(err, &several) || several.N != 4 {
		t.Fatalf("LoadHistory(db) error %v, want a SeveralHistoriesError for 4 histories", err)
	}
}
