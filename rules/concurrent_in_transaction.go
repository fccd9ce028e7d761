package rules

import (
	"path"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// ConcurrentInTransaction flags statements that cannot run inside a
// transaction block (the CONCURRENTLY operations, VACUUM, …) where they
// run in one, and PostgreSQL refuses them.
var ConcurrentInTransaction = &analyzer.Rule{
	Code:     "PG401",
	Name:     "concurrent-in-transaction",
	Summary:  "A statement that cannot run in a transaction block (CONCURRENTLY, VACUUM, CREATE DATABASE, …) fails inside one",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY and DETACH PARTITION
CONCURRENTLY cannot run inside a transaction block, and neither can VACUUM, REINDEX
SCHEMA, DATABASE or SYSTEM, CREATE or DROP DATABASE, CREATE or DROP TABLESPACE and
ALTER SYSTEM: the migration fails with "cannot run inside a transaction block". That includes the transactions migration
tools open for you: golang-migrate sends a multi-statement file in one call, which
PostgreSQL runs as one implicit transaction; goose and dbmate wrap each migration
in a transaction unless told not to.`,
		Recipe: `Put the statement in a migration of its own that runs outside a transaction:
golang-migrate: a file with that single statement; goose: \'-- +goose NO TRANSACTION\';
dbmate: \'-- migrate:up transaction:false\'; Flyway: a separate script
(\'executeInTransaction=false\').`,
		Help: "move the statement into a migration of its own that runs outside a transaction",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "BEGIN;\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);\nCOMMIT;",
			Good:    "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);",
		}},
	},
	Check: func(p *analyzer.Pass) {
		tx := p.Stmt.Tx
		if !tx.InTransaction() {
			return
		}
		for _, ch := range p.Stmt.Changes {
			what := concurrentOnly(ch)
			if what == "" {
				continue
			}
			why := "inside an " + tx.Kind.String()
			if tx.Kind == analyzer.TxExplicit {
				why = "inside the transaction opened by BEGIN"
			} else if tx.Why != "" {
				why = "inside an implicit transaction: " + tx.Why
			}
			msg := what + " cannot run " + why + "; the migration will fail with \"cannot run inside a transaction block\""
			if p.File.Layout == "flyway" && tx.Kind == analyzer.TxImplicit {
				// alone in its migration it still runs in one: Flyway
				// does not know it must not
				atHelp(p, ch, msg, "Flyway runs a statement it does not recognise as non-transactional in the migration's transaction: set executeInTransaction=false in "+path.Base(p.File.Path)+".conf")
				continue
			}
			at(p, ch, msg)
		}
	},
}

// concurrentOnly names the statement when ch is an operation that cannot
// run inside a transaction block (CREATE INDEX CONCURRENTLY and the
// like, VACUUM, CREATE DATABASE, …), else "". PostgreSQL 15 refuses each
// of them in one (TestNoTransactionBlock in dialects/postgres).
func concurrentOnly(ch change.Change) string {
	switch x := ch.(type) {
	case *change.Vacuum:
		return "VACUUM"
	case *change.Other:
		switch x.Kind {
		case "CREATE DATABASE", "DROP DATABASE", "ALTER SYSTEM", "CREATE TABLESPACE", "DROP TABLESPACE":
			return x.Kind
		}
	case *change.CreateIndex:
		if x.Concurrently {
			return "CREATE INDEX CONCURRENTLY"
		}
	case *change.DropIndex:
		if x.Concurrently {
			return "DROP INDEX CONCURRENTLY"
		}
	case *change.Reindex:
		switch {
		case x.Concurrently:
			return "REINDEX CONCURRENTLY"
		case x.Target == "SYSTEM", x.Target == "DATABASE", strings.HasPrefix(x.Target, "SCHEMA "):
			return "REINDEX " + strings.Fields(x.Target)[0]
		}
	case *change.DetachPartition:
		if x.Concurrently && !x.Finalize {
			return "DETACH PARTITION CONCURRENTLY"
		}
	}
	return ""
}
