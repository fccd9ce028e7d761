package rules

import (
	"slices"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// StatementAfterExclusiveLock flags the first statement of a transaction
// that does real work (or waits for another lock) after an earlier
// statement of the same transaction took an ACCESS EXCLUSIVE lock on an
// existing table: the lock is held until COMMIT, through that statement.
var StatementAfterExclusiveLock = &analyzer.Rule{
	Code:     "PG405",
	Name:     "statement-after-exclusive-lock",
	Summary:  "A statement after an ACCESS EXCLUSIVE lock in the same transaction keeps every query on the table waiting while it runs",
	Dialects: pgOnly,
	Severity: analyzer.SeverityWarning,
	Doc: analyzer.Doc{
		Why: `PostgreSQL holds a lock until the transaction ends. Once a statement has locked a
table ACCESS EXCLUSIVE (most ALTER TABLE forms, DROP, RENAME), every later
statement of the same transaction runs while all reads and writes of that table
wait: a query that scans, an index build, a statement that waits for a lock on
another table. A millisecond ALTER becomes an outage as long as the slowest
statement after it.`,
		Recipe: `Commit right after the statement that takes the ACCESS EXCLUSIVE lock, and run the
rest in its own transaction (or its own migration):

~~~sql
BEGIN;
ALTER TABLE accounts ADD COLUMN region text;
COMMIT;
SELECT count(*) FROM accounts;  -- or the index build, the other table's DDL
~~~

When several statements must be atomic, put the one that takes ACCESS EXCLUSIVE
last, and set lock_timeout so that waiting for the other locks gives up.`,
		Help: "commit right after the statement that takes the ACCESS EXCLUSIVE lock, or make it the last statement of the transaction",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "BEGIN;\nALTER TABLE accounts ADD COLUMN region text;\nSELECT count(*) FROM accounts;\nCOMMIT;",
			Good:    "BEGIN;\nALTER TABLE accounts ADD COLUMN region text;\nCOMMIT;\nSELECT count(*) FROM accounts;",
		}},
		Notes: `Reported once per transaction, at the first statement after the lock that reads
rows (SELECT, INSERT … SELECT, COPY, a scan, an index build, a rewrite), runs opaque
code (DO, CALL) or locks another existing table. Catalog-only changes of the same
table, settings, single-row INSERT … VALUES and statements on tables created in
the same deploy do not count. UPDATE, DELETE and MERGE are backfill-in-ddl-transaction's
findings. Eugene calls this E4.`,
	},
	Check: func(p *analyzer.Pass) {
		held := foldLocks(p)
		tx := p.Stmt.Tx
		if !tx.InTransaction() {
			return
		}
		f := held[tx.ID]
		if f == nil || f.reported || f.held == nil {
			return
		}
		what := afterLock(p, p.Stmt, f.held.tables)
		if what == "" {
			return
		}
		// no line number in the message: fingerprints must survive
		// lines moving
		p.Report(analyzer.Finding{
			Message: what + " while this " + tx.Kind.String() + " holds the ACCESS EXCLUSIVE lock an earlier statement took on " + f.held.tables[0] + ", so every query on " + f.held.tables[0] + " waits until COMMIT",
			Objects: []string{f.held.tables[0]},
		})
	},
}

// txLocks is what statement-after-exclusive-lock knows of a transaction
// from the statements checked so far.
type txLocks struct {
	held     *heldLock // nil until a statement takes ACCESS EXCLUSIVE
	reported bool      // a statement after the lock was reported: once a transaction
}

type lockFoldKey struct{}

// foldLocks brings the file's transactions up to the statement being
// checked (foldTx).
func foldLocks(p *analyzer.Pass) map[int]*txLocks {
	return foldTx(p, lockFoldKey{}, func(s *analyzer.Statement, f *txLocks) {
		switch {
		case f.reported:
		case f.held == nil:
			f.held = newHeld(p, s)
		case afterLock(p, s, f.held.tables) != "":
			f.reported = true
		default:
			f.held.add(p, s)
		}
	})
}

// heldLock is the ACCESS EXCLUSIVE locks a transaction holds on existing
// tables, from the first statement that took one.
type heldLock struct {
	stmt   *analyzer.Statement
	tables []string
}

func newHeld(p *analyzer.Pass, s *analyzer.Statement) *heldLock {
	h := &heldLock{stmt: s}
	h.add(p, s)
	if len(h.tables) == 0 {
		return nil
	}
	return h
}

func (h *heldLock) add(p *analyzer.Pass, s *analyzer.Statement) {
	for _, ch := range s.Changes {
		e := ch.Base().Effect
		if e.Lock != "ACCESS EXCLUSIVE" || e.On == "" || newAt(p, qname(e.On), s) {
			continue
		}
		if t, ok := ddlTable(ch); ok && newAt(p, t, s) {
			continue
		}
		if x, ok := ch.(*change.CreateTable); ok && e.On == x.Table.String() {
			continue // the new table is nobody's
		}
		if !slices.Contains(h.tables, e.On) {
			h.tables = append(h.tables, e.On)
		}
	}
}

// afterLock says what a statement does that keeps the held lock for
// longer, or "" when it is harmless.
func afterLock(p *analyzer.Pass, s *analyzer.Statement, held []string) string {
	for _, ch := range s.Changes {
		if concurrentOnly(ch) != "" {
			continue // it fails in a transaction block: concurrent-in-transaction's finding
		}
		e := ch.Base().Effect
		switch x := ch.(type) {
		case *change.Transaction, *change.SetParam:
			continue
		case *change.Other:
			switch x.Kind {
			case "SELECT", "CALL", "EXPLAIN":
				return x.Kind + " runs"
			}
			continue
		case *change.Unknown:
			return x.Kind + " runs code migsafe cannot see into"
		case *change.DropOther:
			if x.Kind == "SEQUENCE" && serialOfHeld(x.Names, held) {
				continue // only the held table's inserts draw from it, and they wait already
			}
		case *change.DML:
			if newAt(p, x.Table, s) || versionTable(x.Table) {
				continue
			}
			switch x.Verb {
			case "UPDATE", "DELETE", "MERGE":
				continue // backfill-in-ddl-transaction
			case "COPY":
				return "COPY into " + x.Table.String() + " runs"
			}
			if len(x.From) > 0 {
				return x.Verb + " into " + x.Table.String() + " reads " + x.From[0].String()
			}
			continue
		}
		if !e.Known() || e.On == "" || newAt(p, qname(e.On), s) {
			continue
		}
		if e.Work != change.WorkNone {
			if e.Lock == "ACCESS EXCLUSIVE" && slices.Contains(held, e.On) {
				continue // it would block the table all the same: its own rule's finding
			}
			return "This statement " + e.Work.String()
		}
		if !slices.Contains(held, e.On) && e.Lock != "" {
			return "This statement waits for " + article(e.Lock) + " " + e.Lock + " lock on " + e.On
		}
	}
	return ""
}

// serialOfHeld reports whether every sequence dropped is named as
// PostgreSQL names a serial column's sequence (table_column_seq) of a table
// whose lock is held.
func serialOfHeld(seqs []string, held []string) bool {
	for _, s := range seqs {
		s = s[strings.LastIndexByte(s, '.')+1:]
		if !slices.ContainsFunc(held, func(t string) bool {
			t = t[strings.LastIndexByte(t, '.')+1:]
			return strings.HasPrefix(s, t+"_") && strings.HasSuffix(s, "_seq")
		}) {
			return false
		}
	}
	return len(seqs) > 0
}

// versionTable reports whether a table is a migration tool's own
// bookkeeping (Alembic writes a one-row UPDATE of it into every offline
// migration).
func versionTable(t change.QName) bool {
	switch t.Name {
	case "alembic_version", "schema_migrations", "goose_db_version", "flyway_schema_history", "schema_version", "knex_migrations", "django_migrations", "__efmigrationshistory":
		return true
	}
	return false
}
