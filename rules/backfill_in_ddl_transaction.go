package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// BackfillInDDLTransaction flags UPDATE/DELETE that share a transaction with
// DDL on an existing table.
var BackfillInDDLTransaction = &analyzer.Rule{
	Code:     "PG403",
	Name:     "backfill-in-ddl-transaction",
	Summary:  "A backfill in the same transaction as DDL holds the DDL's lock for the whole backfill",
	Dialects: pgOnly,
	Severity: analyzer.SeverityWarning,
	Doc: analyzer.Doc{
		Why: `Locks are held until the transaction ends. An UPDATE or DELETE over many rows in
the transaction of an ALTER TABLE keeps the ALTER's lock (usually ACCESS
EXCLUSIVE) for as long as the backfill runs, and the backfill's row locks block
the application's writes too.`,
		Recipe: `Ship the DDL first; backfill in a separate migration (or a job) that runs outside
the DDL's transaction, in batches of a few thousand rows, each committed on its own.`,
		Help: "move the backfill out of the DDL's transaction and run it in committed batches",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "BEGIN;\nALTER TABLE users ADD COLUMN plan text;\nUPDATE users SET plan = 'free';\nCOMMIT;",
			Good:    "ALTER TABLE users ADD COLUMN plan text;\nUPDATE users SET plan = 'free' WHERE id BETWEEN 1 AND 10000;",
		}},
		Notes: "Only DDL that runs before the backfill in the same transaction counts: a lock taken after the backfill is held only until the commit that follows. The migration tools' version tables (alembic_version, schema_migrations, flyway_schema_history, …) are not backfills: Alembic's offline mode writes a one-row UPDATE of alembic_version into every migration.",
	},
	Check: func(p *analyzer.Pass) {
		ddl := foldDDL(p)
		tx := p.Stmt.Tx
		if !tx.InTransaction() {
			return
		}
		// only DDL before the backfill holds its lock during it
		d := ddl[tx.ID]
		if d == nil || d.line == 0 {
			return
		}
		each(p, func(x *change.DML) {
			if x.Verb != "UPDATE" && x.Verb != "DELETE" && x.Verb != "MERGE" {
				return
			}
			if p.IsNew(x.Table) || versionTable(x.Table) {
				return // the migration tool's one-row bookkeeping is no backfill
			}
			at(p, x, x.Verb+" of "+x.Table.String()+" runs in the same "+tx.Kind.String()+" as DDL on "+d.table.String()+" (line "+itoa(d.line)+"), so the DDL's lock is held until the backfill commits",
				x.Table.String())
		})
	},
}

// firstDDL is the first statement of a transaction that locks an existing
// table with DDL; line 0 while none has.
type firstDDL struct {
	table change.QName
	line  int
}

type ddlFoldKey struct{}

// foldDDL brings the file's transactions up to the statement being
// checked (foldTx): a data migration of many UPDATEs costs time in its
// length, not its square.
func foldDDL(p *analyzer.Pass) map[int]*firstDDL {
	return foldTx(p, ddlFoldKey{}, func(s *analyzer.Statement, d *firstDDL) {
		if d.line > 0 {
			return
		}
		for _, ch := range s.Changes {
			if t, ok := ddlTable(ch); ok && !p.IsNew(t) {
				d.table, d.line = t, p.File.Lines.Position(s.Span.Start).Line
				return
			}
		}
	})
}

// ddlTable returns the table a schema change locks, for changes that take a
// lock blocking the application.
func ddlTable(ch change.Change) (change.QName, bool) {
	switch x := ch.(type) {
	case *change.AddColumn:
		return x.Table, true
	case *change.DropColumn:
		return x.Table, true
	case *change.AlterColumnType:
		return x.Table, true
	case *change.SetNotNull:
		return x.Table, true
	case *change.DropNotNull:
		return x.Table, true
	case *change.SetDefault:
		return x.Table, true
	case *change.AddConstraint:
		return x.Table, true
	case *change.RenameColumn:
		return x.Table, true
	case *change.RenameTable:
		return x.Table, true
	case *change.TableRewrite:
		return x.Table, true
	case *change.CreateIndex:
		return x.Table, !x.Concurrently
	case *change.LockTable:
		if len(x.Tables) > 0 {
			return x.Tables[0], true
		}
	}
	return change.QName{}, false
}
