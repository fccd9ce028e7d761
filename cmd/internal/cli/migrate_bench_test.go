package cli_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	gm "github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	_ "github.com/golang-migrate/migrate/v4/source/file"

	"github.com/migsafe/migsafe/internal/testdb"
)

// TestMigrateOverhead applies 1,000 small migrations with plain
// golang-migrate and with `migsafe migrate up` (lint gate, history,
// checksums, schema fingerprints, per-migration locking) on the same
// server, and reports migsafe's overhead. It takes a while, so it runs only
// with MIGSAFE_BENCH=1:
//
//	MIGSAFE_BENCH=1 go test ./cmd/internal/cli -run TestMigrateOverhead -v
func TestMigrateOverhead(t *testing.T) {
	if os.Getenv("MIGSAFE_BENCH") != "1" {
		t.Skip("a benchmark: set MIGSAFE_BENCH=1 to run it")
	}
	n := 1000
	srv := testdb.PostgreSQL(t)
	admin, err := sql.Open("pgx", srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	dir := t.TempDir()
	mig := filepath.Join(dir, "migrations")
	os.Mkdir(mig, 0o755)
	for i := 1; i <= n; i++ {
		up := fmt.Sprintf("SET lock_timeout = '5s';\nCREATE TABLE t%d (id bigint PRIMARY KEY, name text NOT NULL);\n", i)
		os.WriteFile(filepath.Join(mig, fmt.Sprintf("%04d_t%d.up.sql", i, i)), []byte(up), 0o644)
		os.WriteFile(filepath.Join(mig, fmt.Sprintf("%04d_t%d.down.sql", i, i)), []byte(fmt.Sprintf("DROP TABLE t%d;\n", i)), 0o644)
	}
	url := func(db string) string {
		return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", srv.Port, db)
	}
	plain := func(db string) time.Duration {
		admin.Exec("CREATE DATABASE " + db)
		start := time.Now()
		m, err := gm.New("file://"+mig, "pgx5://"+url(db)[len("postgres://"):])
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Up(); err != nil {
			t.Fatal(err)
		}
		m.Close()
		return time.Since(start)
	}
	ours := func(db string) time.Duration {
		admin.Exec("CREATE DATABASE " + db)
		start := time.Now()
		o := migrateCLI(t, dir, map[string]string{"MIGSAFE_DATABASE_URL": url(db)}, "migrate", "up", "--format", "json")
		if o.code != 0 {
			t.Fatalf("exit %d: %s", o.code, o.stderr)
		}
		return time.Since(start)
	}
	// alternate, three times each, and keep the best of each (the machine is shared)
	var p, m time.Duration
	for i := range 3 {
		pd := plain(fmt.Sprintf("plain%d", i))
		md := ours(fmt.Sprintf("ours%d", i))
		t.Logf("round %d: golang-migrate %s, migsafe %s", i, pd.Round(time.Millisecond), md.Round(time.Millisecond))
		if i == 0 || pd < p {
			p = pd
		}
		if i == 0 || md < m {
			m = md
		}
	}
	over := float64(m-p) / float64(p) * 100
	t.Logf("%d migrations: golang-migrate %s, migsafe %s: overhead %.1f%%", n, p.Round(time.Millisecond), m.Round(time.Millisecond), over)
	if over >= 20 {
		t.Errorf("overhead %.1f%% is not under 20%%", over)
	}
}
