package testdb_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/internal/testdb"
)

func TestMariaDB(t *testing.T) {
	srv := testdb.MariaDB(t)
	db := srv.Open(t)
	if _, err := db.Exec("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count = %d, %v", n, err)
	}
	if !strings.Contains(srv.Version, "MariaDB") {
		t.Errorf("version %q is not MariaDB's", srv.Version)
	}
}

func TestPostgreSQL(t *testing.T) {
	srv := testdb.PostgreSQL(t)
	psql, err := exec.LookPath("psql")
	if err != nil {
		if testdb.Required() {
			t.Fatal("psql not installed (it comes with the postgresql package)")
		}
		t.Skip("psql not installed; the server started, which is what this test can check")
	}
	out, err := exec.Command(psql, srv.DSN, "-At", "-c", "SELECT 1 + 0").CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	if strings.TrimSpace(string(out)) != "1" {
		t.Fatalf("psql printed %q, want 1", out)
	}
	out, err = exec.Command(psql, srv.DSN, "-At", "-c", "SHOW server_version").CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	// "15.18 (Debian 15.18-0+deb12u1)"
	if f := strings.Fields(string(out)); len(f) == 0 || srv.Version != f[0] {
		t.Errorf("version %q, the server says %q", srv.Version, out)
	}
}
