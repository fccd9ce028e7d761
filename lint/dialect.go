package lint

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/config"
	"github.com/migsafe/migsafe/dialects/mysql"
	"github.com/migsafe/migsafe/dialects/postgres"
)

// NewDialect builds the adapter of a dialect ("postgres", "mysql" or
// "mariadb") for a target version ("" means the dialect's conservative
// default).
func NewDialect(name, version string) (analyzer.Dialect, error) {
	switch name {
	case analyzer.Postgres:
		d, err := postgres.New(version)
		if err != nil {
			return nil, fmt.Errorf("--target-version: %w", err)
		}
		return d, nil
	case "mariadb":
		// MariaDB is the mysql dialect with a MariaDB target: its default
		// is the oldest MariaDB migsafe advises for, and a bare version
		// (10.11) is a MariaDB one
		v := strings.ToLower(strings.TrimSpace(version))
		switch {
		case v == "":
			v = DefaultMariaDB
		case strings.HasPrefix(v, "maria"):
		default:
			if _, err := mysql.ParseVersion(v); err == nil {
				return nil, fmt.Errorf("--dialect mariadb with --target-version %s, a MySQL version: give a MariaDB version (--target-version mariadb-10.11) or --dialect mysql", version)
			}
			v = "mariadb-" + v
		}
		d, err := mysql.New(v)
		if err != nil {
			return nil, fmt.Errorf("--target-version: %w", err)
		}
		return d, nil
	case analyzer.MySQL:
		d, err := mysql.New(version)
		if err != nil {
			return nil, fmt.Errorf("--target-version: %w", err)
		}
		return d, nil
	}
	return nil, fmt.Errorf("unknown dialect %q: want postgres, mysql or mariadb", name)
}

// DefaultMariaDB is the target of --dialect mariadb without a version.
const DefaultMariaDB = "mariadb-10.11"

// dialectName picks the dialect: Options.Dialect, then the configuration
// file, then the names of the files to check (a *.mysql.up.sql file or a
// mysql/ folder means mysql), else postgres. A MariaDB target version
// implies mysql too.
func dialectName(o Options, cfg *config.Config, dir string, found *discovered) (string, error) {
	if d := firstOf(o.Dialect, cfg.Dialect); d != "" {
		return strings.ToLower(d), nil
	}
	if v := strings.ToLower(firstOf(o.TargetVersion, cfg.TargetVersion)); strings.HasPrefix(v, "mariadb") || strings.HasPrefix(v, "mysql") {
		return analyzer.MySQL, nil
	}
	paths := o.Paths
	if len(paths) == 0 {
		paths = []string{"."}
	}
	names := argNames(paths, dir, excluder(cfg, dir), o.FollowSymlinks, found)
	// the arguments themselves count too (migsafe check db/mysql)
	names = append(names, paths...)
	var my, pg string
	var folders folderDialects
	for _, n := range names {
		switch folders.ofPath(n) {
		case analyzer.MySQL:
			if my == "" {
				my = n
			}
		case analyzer.Postgres:
			if pg == "" {
				pg = n
			}
		}
	}
	switch {
	case my != "" && pg != "":
		return "", fmt.Errorf("both MySQL (%s) and PostgreSQL (%s) migrations were found: check them separately, or say which with --dialect", my, pg)
	case my != "":
		return analyzer.MySQL, nil
	}
	return analyzer.Postgres, nil
}

// argNames are the files the arguments name, as discover finds them,
// remembered in found for Load. A glob or a pre-commit hook names
// thousands of files in a few directories: from the second file of a
// directory on, the directory is listed once and its regular .sql files
// are known without a stat each (one system call less per file, as
// loadHistories does, which takes the listing from found).
func argNames(paths []string, dir string, excluded func(string) bool, follow bool, found *discovered) []string {
	var names []string
	regular := map[string]map[string]bool{} // a directory's, nil until listed
	joiner := newArgJoiner(dir)
	for _, p := range paths {
		full, name := joiner.join(p)
		d := filepath.Dir(full)
		reg, named := regular[d]
		if named && reg == nil {
			reg = found.list(d, dir, excluded).regular // empty if the listing failed
			regular[d] = reg
		}
		if reg[name] {
			names = append(names, name) // discover's answer for a file
			continue
		}
		if !named {
			regular[d] = nil
		}
		names = append(names, found.remember(p, dir, excluded, follow).files...)
	}
	return names
}

// dialectOfPath reads a dialect from a file name (users.mysql.up.sql,
// 001_init.postgres.sql) or a folder (db/mysql/001.sql); "" when it says
// nothing. The words of the file name come first, then the folders from
// the top. (It looks at every file a pre-commit hook or a glob names, so
// it splits nothing into new strings.)
func dialectOfPath(p string) string {
	var f folderDialects
	return f.ofPath(p)
}

// folderDialects is dialectOfPath remembering the verdict of the last
// folders it read: the files of a history share them (200,000 names of
// one folder for 100,000 migrations).
type folderDialects struct {
	dirs, dialect string
	read          bool
}

func (f *folderDialects) ofPath(p string) string {
	p = path.Clean(strings.ReplaceAll(p, "\\", "/"))
	dirs, base := "", p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		dirs, base = p[:i], p[i+1:]
	}
	dot := strings.IndexByte(base, '.')
	if dot >= 0 {
		for w := range strings.SplitSeq(base[dot+1:], ".") {
			if d := dialectWord(w); d != "" {
				return d
			}
		}
	}
	if !f.read || f.dirs != dirs {
		f.dirs, f.dialect, f.read = dirs, "", true
		for dir := range strings.SplitSeq(dirs, "/") {
			if d := dialectWord(dir); d != "" {
				f.dialect = d
				break
			}
		}
	}
	if f.dialect != "" {
		return f.dialect
	}
	if dot < 0 {
		// a folder given as an argument
		return dialectWord(base)
	}
	return ""
}

func dialectWord(w string) string {
	if len(w) < len("pg") || len(w) > len("postgresql") {
		return ""
	}
	switch strings.ToLower(w) {
	case "mysql", "mariadb":
		return analyzer.MySQL
	case "postgres", "postgresql", "pg", "psql":
		return analyzer.Postgres
	}
	return ""
}
