package cli_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	gm "github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	_ "github.com/golang-migrate/migrate/v4/source/file"

	"github.com/migsafe/migsafe/internal/testdb"
)

// TestMigrateOverhead applies 1,000 small migrations with plain
// golang-migrate and with `migsafe migrate up` (lint gate, history rows,
// checksums, refusal checks) on the same server, and reports migsafe's
// overhead in wall time and in CPU time (this process plus the PostgreSQL
// server's processes). The machines this runs on are shared, and wall time
// swings by 2x with the load, so the check is on CPU time, which the load
// does not inflate. It takes a while, so it runs only with MIGSAFE_BENCH=1:
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
	if err := os.Mkdir(mig, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		up := fmt.Sprintf("SET lock_timeout = '5s';\nCREATE TABLE t%d (id bigint PRIMARY KEY, name text NOT NULL);\n", i)
		if err := os.WriteFile(filepath.Join(mig, fmt.Sprintf("%04d_t%d.up.sql", i, i)), []byte(up), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mig, fmt.Sprintf("%04d_t%d.down.sql", i, i)), []byte(fmt.Sprintf("DROP TABLE t%d;\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	url := func(db string) string {
		return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", srv.Port, db)
	}
	pidFile, err := os.ReadFile(filepath.Join(srv.Dir, "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	postmaster, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(pidFile), "\n", 2)[0]))
	type cost struct{ wall, cpu time.Duration }
	measure := func(f func()) cost {
		c0 := cpuTime(postmaster)
		start := time.Now()
		f()
		// the server reaps the backends of closed connections shortly after
		time.Sleep(300 * time.Millisecond)
		return cost{time.Since(start) - 300*time.Millisecond, cpuTime(postmaster) - c0}
	}
	plain := func(db string) cost {
		if _, err := admin.Exec("CREATE DATABASE " + db); err != nil {
			t.Fatal(err)
		}
		return measure(func() {
			m, err := gm.New("file://"+mig, "pgx5://"+url(db)[len("postgres://"):])
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Up(); err != nil {
				t.Fatal(err)
			}
			m.Close()
		})
	}
	ours := func(db string) cost {
		if _, err := admin.Exec("CREATE DATABASE " + db); err != nil {
			t.Fatal(err)
		}
		return measure(func() {
			o := migrateCLI(t, dir, map[string]string{"MIGSAFE_DATABASE_URL": url(db)}, "migrate", "up", "--format", "json")
			if o.code != 0 {
				t.Fatalf("exit %d: %s", o.code, o.stderr)
			}
		})
	}
	// alternate, three times each, and keep the best of each
	var p, m cost
	for i := range 3 {
		pc := plain(fmt.Sprintf("plain%d", i))
		mc := ours(fmt.Sprintf("ours%d", i))
		t.Logf("round %d: golang-migrate %s wall %s CPU, migsafe %s wall %s CPU", i, pc.wall.Round(time.Millisecond), pc.cpu.Round(time.Millisecond), mc.wall.Round(time.Millisecond), mc.cpu.Round(time.Millisecond))
		if i == 0 || pc.wall < p.wall {
			p.wall = pc.wall
		}
		if i == 0 || pc.cpu < p.cpu {
			p.cpu = pc.cpu
		}
		if i == 0 || mc.wall < m.wall {
			m.wall = mc.wall
		}
		if i == 0 || mc.cpu < m.cpu {
			m.cpu = mc.cpu
		}
	}
	wall := float64(m.wall-p.wall) / float64(p.wall) * 100
	cpu := float64(m.cpu-p.cpu) / float64(p.cpu) * 100
	t.Logf("%d migrations, best of 3: golang-migrate %s wall / %s CPU, migsafe %s wall / %s CPU: overhead %.1f%% wall, %.1f%% CPU",
		n, p.wall.Round(time.Millisecond), p.cpu.Round(time.Millisecond), m.wall.Round(time.Millisecond), m.cpu.Round(time.Millisecond), wall, cpu)
	if cpu >= 20 {
		t.Errorf("CPU overhead %.1f%% is not under 20%%", cpu)
	}
}

// cpuTime is the CPU time of this process and of the PostgreSQL server:
// the postmaster, its live children and the children it has reaped.
func cpuTime(postmaster int) time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	self := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	tick := 100 // USER_HZ on Linux
	var ticks int64
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// fields after the command name in parentheses
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		if pid != postmaster && ppid != postmaster {
			continue
		}
		for i, fld := range f[11:15] { // utime stime cutime cstime
			if i >= 2 && pid != postmaster {
				break
			}
			v, _ := strconv.ParseInt(fld, 10, 64)
			ticks += v
		}
	}
	return self + time.Duration(ticks)*time.Second/time.Duration(tick)
}
