package rules

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// ContractSameDeploy flags a drop that ships in the same deploy as an
// earlier step of its expand-contract sequence.
var ContractSameDeploy = &analyzer.Rule{
	Code:     "MS601",
	Name:     "contract-same-deploy",
	Summary:  "A column or table is dropped in the same deploy that deprecates it or adds its replacement",
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `Expand-contract only keeps old and new application versions working if each step
ships in its own deploy. A drop in the same deploy as the deprecation (step 5), or
as the column or table that replaces the dropped one (step 1) or its backfill
(step 3), runs while the previous application version — which still reads and
writes the dropped object — serves traffic: its queries fail for the whole
rollout, and a rollback to it finds the object gone and its data lost.`,
		Recipe: `Split the change across deploys:

1. Deploy A: add the replacement (nullable), keep both in step (trigger or application), backfill.
2. Deploy B: the application reads the replacement and stops writing the old object; record it with \'-- migsafe:deprecate users.name\'.
3. Deploy C, at least the minimum age later (contract-too-soon): drop the old object.

\'migsafe scaffold rename-column|change-column-type|drop-column\' writes these migrations.`,
		Help: "move the drop to a migration of a later deploy (expand-contract step 6)",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad: `-- 0005_replace_name.up.sql --
ALTER TABLE users ADD COLUMN full_name text;
UPDATE users SET full_name = name;
ALTER TABLE users DROP COLUMN name;`,
			Good: `-- deploy 2024-05-01: 0005_add_full_name.up.sql
-- deploy 2024-05-20: 0006_deprecate_name.up.sql
-- pending: 0007_drop_name.up.sql
-- 0005_add_full_name.up.sql --
ALTER TABLE users ADD COLUMN full_name text;
-- 0006_deprecate_name.up.sql --
-- migsafe:backfill users.full_name from name (batched job)
-- migsafe:deprecate users.name
SELECT 1;
-- 0007_drop_name.up.sql --
ALTER TABLE users DROP COLUMN name;`,
		}, {
			Dialect: analyzer.MySQL,
			Bad: `-- 0005_replace_name.up.sql --
-- migsafe:deprecate users.name
ALTER TABLE users DROP COLUMN name;`,
			Good: `-- deploy 2024-05-01: 0005_deprecate_name.up.sql
-- pending: 0006_drop_name.up.sql
-- 0005_deprecate_name.up.sql --
-- migsafe:deprecate users.name
DO 0;
-- 0006_drop_name.up.sql --
ALTER TABLE users DROP COLUMN name;`,
		}},
		Notes: `Exactly one of drop-column (drop-table), contract-same-deploy and
contract-too-soon reports a drop. A deploy is what ships together: with git, the
migrations one commit of the first-parent history added (a merged branch is one
deploy), and everything added or changed since \'--since REF\' (or not committed) is
the pending deploy; without git, every migration version is its own deploy.
The replacement is the column or table filled from the dropped one
(\'UPDATE t SET new = old\', \'INSERT INTO new SELECT … FROM old\', or a
\'-- migsafe:backfill t.new from old\' marker for backfills migsafe cannot read).
Objects created in the same deploy may be dropped freely.`,
	},
	Check: func(p *analyzer.Pass) {
		report := func(ch change.Change, table change.QName, column, what string) {
			c := contractOf(p, table, column)
			if c.verdict != contractSameDeploy {
				return
			}
			risk := "the application version still running during the rollout uses " + c.object + ", and a rollback to it finds it gone with its data"
			if line := recreatedLater(p, table, column); line > 0 {
				// a swap (copy, drop, rename back): the name survives; the
				// risk is the time between the statements
				risk = "the migration re-creates " + c.object + " (line " + itoa(line) + "), but in between, unless one transaction holds both, the running application finds it missing and loses what it writes after the copy"
			}
			atHelp(p, ch, what+" "+c.object+" in the same deploy that "+c.sameDeployReason(p)+": "+risk, c.sameDeployNext(p), c.object)
		}
		each(p, func(x *change.DropColumn) { report(x, x.Table, x.Column, "Dropping column") })
		each(p, func(x *change.DropTable) { report(x, x.Table, "", "Dropping table") })
	},
}

// recreatedLater returns the line of a later statement of the same file
// that creates (or renames another object to) the dropped column or table,
// 0 when none does. The file's creations are indexed once (recreations),
// so many drops in one file cost time in its length, not their product.
func recreatedLater(p *analyzer.Pass, table change.QName, column string) int {
	idx := p.File.Memo(recreationsKey{}, func() any { return recreationsOf(p.File) }).(recreations)
	for _, c := range idx[recreationKey{table.Name, column}] {
		if c.stmt > p.Stmt.Index && (c.schema == table.Schema || c.schema == "" || table.Schema == "") {
			return p.File.Lines.Position(p.File.Stmts[c.stmt].Span.Start).Line
		}
	}
	return 0
}

type recreationsKey struct{}

// recreations lists, by table name and column ("" for the table), the
// statements that create the object or rename another to it, in order.
type recreations map[recreationKey][]recreation

type recreationKey struct{ table, column string }

type recreation struct {
	stmt   int
	schema string
}

func recreationsOf(f *analyzer.File) recreations {
	idx := recreations{}
	add := func(i int, q change.QName, column string) {
		k := recreationKey{q.Name, column}
		idx[k] = append(idx[k], recreation{i, q.Schema})
	}
	for i, st := range f.Stmts {
		for _, ch := range st.Changes {
			switch x := ch.(type) {
			case *change.AddColumn:
				add(i, x.Table, x.Column.Name)
			case *change.RenameColumn:
				add(i, x.Table, x.New)
			case *change.CreateTable:
				add(i, x.Table, "")
			case *change.RenameTable:
				add(i, x.New, "")
			}
		}
	}
	return idx
}
