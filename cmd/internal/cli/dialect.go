package cli

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/dialects/postgres"
)

const targetVersionUsage = "server version advice is given for: a PostgreSQL major such as 14 (default " + postgres.DefaultVersion + ")"

// newDialect builds the adapter of a dialect for a target version ("" means
// the dialect's conservative default).
func newDialect(name, version string) (analyzer.Dialect, error) {
	switch name {
	case analyzer.Postgres:
		d, err := postgres.New(version)
		if err != nil {
			return nil, usageErr("--target-version: %v", err)
		}
		return d, nil
	case analyzer.MySQL:
		return nil, usageErr("the mysql dialect is not supported yet: only postgres can be checked in this version")
	}
	return nil, usageErr("unknown dialect %q: want postgres or mysql", name)
}
