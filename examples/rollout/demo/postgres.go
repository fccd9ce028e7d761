package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
)

// pgPort is where the demo's PostgreSQL listens (127.0.0.1).
const pgPort = 18083

// startPostgres runs a throwaway PostgreSQL for the plan's migrate step:
// data under dir/pg (made afresh, so the migrations run again on every
// demo), user postgres without a password (trust, loopback only). It
// returns the function that stops it.
func startPostgres(dir string) (stop func(), err error) {
	bin := pgBin()
	if bin == "" {
		return nil, fmt.Errorf("PostgreSQL is not installed (no initdb in $PATH or /usr/lib/postgresql/*/bin): install the Debian package postgresql")
	}
	root := filepath.Join(dir, "pg")
	if err := os.RemoveAll(root); err != nil {
		return nil, err
	}
	data, sock, logf := filepath.Join(root, "data"), filepath.Join(root, "sock"), filepath.Join(root, "postgres.log")
	for _, d := range []string{data, sock} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(logf, nil, 0o644); err != nil {
		return nil, err
	}
	as := func(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }
	if os.Geteuid() == 0 { // initdb refuses root: run as postgres
		if err := chown(root, "postgres"); err != nil {
			return nil, fmt.Errorf("PostgreSQL must run as the postgres user: %w", err)
		}
		as = func(name string, args ...string) *exec.Cmd {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
		}
	}
	if out, err := as(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	opts := fmt.Sprintf("-k %s -p %d -h 127.0.0.1", sock, pgPort)
	if out, err := as(filepath.Join(bin, "pg_ctl"), "-D", data, "-l", logf, "-o", opts, "-w", "-t", "30", "start").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("PostgreSQL did not start (is port %d free?): %w\n%s", pgPort, err, out)
	}
	return func() {
		_ = as(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop").Run()
	}, nil
}

// pgBin is the folder of initdb and pg_ctl: $PATH, else Debian's
// /usr/lib/postgresql/<major>/bin, newest first.
func pgBin() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return a > b
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	return ""
}

func chown(path, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(path, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

// databaseURL is what DEMO_DATABASE_URL must hold.
func databaseURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pgPort)
}
