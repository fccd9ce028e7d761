// Package mysql is migsafe's MySQL and MariaDB dialect: it splits migrations
// into statements with its own MySQL-aware scanner (strings, backquotes, the
// three comment forms, DELIMITER), parses each statement with the TiDB
// parser (pure Go), translates it into the change model, and knows, from the
// InnoDB Online DDL tables of MySQL 5.7/8.0/8.4 and MariaDB (online.go),
// which algorithm the server chooses for each operation on the target
// version and whether it blocks writes.
package mysql

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// DefaultVersion is the target when none is given: MySQL 8.0, taken at its
// first GA release (8.0.11), before every 8.0 patch that made an operation
// cheaper (INSTANT ADD COLUMN 8.0.12, INSTANT RENAME COLUMN 8.0.28, INSTANT
// DROP COLUMN and ADD COLUMN at any position 8.0.29), so that advice is
// conservative. Say --target-version 8.0.35 (or 8.4) to get the cheaper
// physics of a newer server.
const DefaultVersion = "8.0"

// Flavors.
const (
	FlavorMySQL   = "mysql"
	FlavorMariaDB = "mariadb"
)

// Dialect is the MySQL/MariaDB adapter.
type Dialect struct {
	target analyzer.Target
}

// New returns the adapter for a target version: a MySQL version ("5.7",
// "8.0", "8.0.28", "8.4") or a MariaDB one ("mariadb-10.11", "mariadb-11.4").
func New(version string) (*Dialect, error) {
	if version == "" {
		version = DefaultVersion
	}
	t, err := ParseVersion(version)
	if err != nil {
		return nil, err
	}
	return &Dialect{target: t}, nil
}

// firstGA is the first generally available patch of a MySQL series: a
// version written without a patch means the oldest server of the series.
var firstGA = map[[2]int]int{{5, 6}: 10, {5, 7}: 9, {8, 0}: 11}

const versionHelp = "want a MySQL version such as 5.7, 8.0, 8.0.28 or 8.4, or a MariaDB version such as mariadb-10.11 or mariadb-11.4"

// ParseVersion reads a MySQL or MariaDB version.
func ParseVersion(v string) (analyzer.Target, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	flavor := FlavorMySQL
	for _, p := range []string{"mariadb", "maria"} {
		if strings.HasPrefix(s, p) {
			flavor, s = FlavorMariaDB, strings.TrimLeft(s[len(p):], "-@ ")
			break
		}
	}
	if flavor == FlavorMySQL {
		s = strings.TrimLeft(strings.TrimPrefix(s, "mysql"), "-@ ")
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return analyzer.Target{}, fmt.Errorf("invalid MySQL version %q: %s", v, versionHelp)
	}
	var nums [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return analyzer.Target{}, fmt.Errorf("invalid MySQL version %q: %s", v, versionHelp)
		}
		nums[i] = n
	}
	t := analyzer.Target{Dialect: analyzer.MySQL, Flavor: flavor, Major: nums[0], Minor: nums[1], Patch: nums[2]}
	patch := len(parts) == 3
	switch flavor {
	case FlavorMySQL:
		if t.Major < 5 || t.Major > 9 || (t.Major == 5 && t.Minor < 6) {
			return analyzer.Target{}, fmt.Errorf("unsupported MySQL version %q: migsafe knows MySQL 5.6 to 9.x (for MariaDB write mariadb-%s)", v, s)
		}
		if !patch {
			t.Patch = firstGA[[2]int{t.Major, t.Minor}]
		}
		t.Text = fmt.Sprintf("MySQL %d.%d.%d", t.Major, t.Minor, t.Patch)
		if !patch && t.Patch != 0 {
			t.Text = fmt.Sprintf("MySQL %d.%d (taken as %d.%d.%d, its first GA release)", t.Major, t.Minor, t.Major, t.Minor, t.Patch)
		}
	case FlavorMariaDB:
		if t.Major < 10 || t.Major > 12 {
			return analyzer.Target{}, fmt.Errorf("unsupported MariaDB version %q: migsafe knows MariaDB 10.0 to 12.x", v)
		}
		t.Text = "MariaDB " + s
	}
	return t, nil
}

// Name implements analyzer.Dialect.
func (d *Dialect) Name() string { return analyzer.MySQL }

// Target implements analyzer.Dialect.
func (d *Dialect) Target() analyzer.Target { return d.target }

func (d *Dialect) mariadb() bool { return d.target.Flavor == FlavorMariaDB }

// CommitsImplicitly implements analyzer.Transactions: in MySQL and MariaDB
// every DDL statement commits the open transaction before it runs and runs
// on its own (it cannot be rolled back), and so do LOCK TABLES and the
// like. Only DML, SET, SELECT and transaction control stay in a transaction.
func (d *Dialect) CommitsImplicitly(s *analyzer.Statement) bool {
	if s.SyntaxError != nil {
		return false
	}
	for _, ch := range s.Changes {
		switch x := ch.(type) {
		case *change.DML, *change.SetParam, *change.Transaction:
		case *change.CreateTable:
			if !x.Temporary {
				return true
			}
		case *change.Other:
			switch x.Kind {
			case "SELECT", "SETOPR", "SHOW", "EXPLAIN", "DO", "PREPARE", "DEALLOCATE", "SET @variable", "CALL", "USE", "COMMENT":
			default:
				return true
			}
		case *change.Unknown:
			if x.Kind == "EXECUTE" {
				continue
			}
			return true
		default:
			return true
		}
	}
	return false
}

// MultiStatementTransaction implements analyzer.Transactions: statements
// sent in one call (golang-migrate's multiStatements) each commit on their
// own.
func (d *Dialect) MultiStatementTransaction() bool { return false }
