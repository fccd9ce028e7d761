// Package migrations knows how migration tools name and run their files.
package migrations

import (
	"path"
	"regexp"

	"github.com/migsafe/migsafe/analyzer"
)

var golangMigrate = regexp.MustCompile(`^([0-9]+)_(.*)\.(up|down)\.sql$`)

// GolangMigrate reports whether a file name follows golang-migrate's
// {version}_{title}.up.sql / .down.sql scheme, and returns its parts.
func GolangMigrate(name string) (version, title string, dir analyzer.Direction, ok bool) {
	m := golangMigrate.FindStringSubmatch(path.Base(name))
	if m == nil {
		return "", "", analyzer.Up, false
	}
	dir = analyzer.Up
	if m[3] == "down" {
		dir = analyzer.Down
	}
	return m[1], m[2], dir, true
}

// DefaultTxMode is how a lone file is run when nothing else is known about
// its tool: golang-migrate files are sent in one Exec call (an implicit
// transaction when they hold several statements); anything else is assumed
// to run statement by statement (psql -f).
func DefaultTxMode(name string) (analyzer.TxMode, string) {
	if _, _, _, ok := GolangMigrate(name); ok {
		return analyzer.TxModeMultiExecImplicit, "golang-migrate sends a multi-statement file in one call, which PostgreSQL runs as one implicit transaction"
	}
	return analyzer.TxModeAutocommit, ""
}
