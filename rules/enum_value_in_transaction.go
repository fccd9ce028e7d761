package rules

import (
	"slices"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// EnumValueInTransaction flags a statement that uses an enum value added
// earlier in the same transaction, which PostgreSQL refuses until the
// transaction commits, and, before PostgreSQL 12, ALTER TYPE … ADD VALUE
// inside a transaction at all.
var EnumValueInTransaction = &analyzer.Rule{
	Code:     "PG407",
	Name:     "enum-value-in-transaction",
	Summary:  "A statement that uses an enum value added in the same transaction fails",
	Dialects: pgOnly,
	Severity: analyzer.SeverityError,
	Doc: analyzer.Doc{
		Why: `Since PostgreSQL 12, ALTER TYPE … ADD VALUE may run inside a transaction, but the new
value cannot be used until that transaction commits: a statement that writes it,
compares a column of the type with it, casts it, or makes it a default fails with
"unsafe use of new value" and the migration rolls back. Migration tools run a file
in one transaction, so adding a value and backfilling rows with it in the same
migration fails on deploy. Before PostgreSQL 12, ADD VALUE cannot run inside a
transaction block at all.`,
		Recipe: `Add the value in one migration and use it in a later one:

~~~sql
-- 0007_add_status.up.sql
ALTER TYPE order_status ADD VALUE 'refunded';
-- 0008_backfill_status.up.sql
UPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL;
~~~

Where the tool runs a file's statements one at a time without a transaction of
its own, a COMMIT right after ADD VALUE does the same.`,
		Help: "use the new value in a later migration, after the one that adds it has committed",
		Examples: []analyzer.Example{{
			Dialect: analyzer.Postgres,
			Bad:     "-- 000001_orders.up.sql --\nCREATE TYPE order_status AS ENUM ('open', 'paid');\nCREATE TABLE orders (id bigint, status order_status, refunded_at timestamptz);\n-- 000002_refunded.up.sql --\nALTER TYPE order_status ADD VALUE 'refunded';\nUPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL;",
			Good:    "-- 000001_orders.up.sql --\nCREATE TYPE order_status AS ENUM ('open', 'paid');\nCREATE TABLE orders (id bigint, status order_status, refunded_at timestamptz);\n-- 000002_refunded.up.sql --\nALTER TYPE order_status ADD VALUE 'refunded';\n-- 000003_backfill.up.sql --\nUPDATE orders SET status = 'refunded' WHERE refunded_at IS NOT NULL;",
		}},
		Notes: `A use is found by the text of the statement: the new label as a string literal,
with the type's name (a cast, a column definition), or with a table the statement
names and a column of that table of the type. A statement that compares the label
with a text column of such a table while also naming its enum column is reported
although PostgreSQL would run it.`,
	},
	Check: func(p *analyzer.Pass) {
		tx := p.Stmt.Tx
		if !tx.InTransaction() {
			return
		}
		each(p, func(x *change.AddEnumValue) {
			if !p.Target.AtLeast(12, 0, 0) {
				at(p, x, "ALTER TYPE "+x.Type.String()+" ADD VALUE cannot run inside a transaction block before PostgreSQL 12 ("+p.Target.String()+"): the migration fails", x.Type.String())
			}
		})
		if !p.Target.AtLeast(12, 0, 0) {
			return
		}
		added := p.File.Memo(addedEnumsKey{}, func() any { return addedEnums{} }).(addedEnums)
		if len(added) > 0 {
			text := p.File.Text(p.Stmt.Span)
		uses:
			// the statement's string literals looked up among the labels
			// added: the work follows the statement, not the labels
			for _, lit := range stringLiterals(text) {
				for _, a := range added[lit] {
					if a.tx == tx.ID && usesEnumValue(p, text, a.value.Type.Name) {
						p.Report(analyzer.Finding{
							Span:    p.Stmt.Span,
							Message: "This statement uses '" + a.value.Value + "', which ALTER TYPE " + a.value.Type.String() + " ADD VALUE on line " + itoa(a.line) + " added in the same transaction: PostgreSQL refuses it until that transaction commits (\"unsafe use of new value\"), and the migration fails",
						})
						break uses
					}
				}
			}
		}
		// statements are checked in order, each before the catalog takes
		// it in: a label the enum already has is not new (ADD VALUE IF NOT
		// EXISTS does nothing)
		each(p, func(x *change.AddEnumValue) {
			if e := p.Catalog.Enum(x.Type); e != nil && slices.Contains(e.Values, x.Value) {
				return
			}
			added[x.Value] = append(added[x.Value], addedEnum{value: x, tx: tx.ID, line: p.File.Lines.Line(p.Stmt.Span.Start)})
		})
	},
}

// addedEnum is a label an ALTER TYPE … ADD VALUE of the file added inside
// a transaction.
type addedEnum struct {
	value *change.AddEnumValue
	tx    int
	line  int
}

// addedEnums are the labels added so far in the file being checked, by
// label.
type addedEnums map[string][]addedEnum

type addedEnumsKey struct{}

// stringLiterals returns the values of the '…' literals of stmt (” is
// a quote inside one).
func stringLiterals(stmt string) []string {
	var out []string
	for i := 0; i < len(stmt); i++ {
		if stmt[i] != '\'' {
			continue
		}
		var b strings.Builder
		j := i + 1
		for ; j < len(stmt); j++ {
			if stmt[j] == '\'' {
				if j+1 < len(stmt) && stmt[j+1] == '\'' {
					b.WriteByte('\'')
					j++
					continue
				}
				break
			}
			b.WriteByte(stmt[j])
		}
		out = append(out, b.String())
		i = j
	}
	return out
}

// usesEnumValue reports whether stmt, which holds a new label of the enum
// type named typ as a literal, uses it as a value of that type: the
// type's name, or a table named in the statement with a column of the
// type also named.
func usesEnumValue(p *analyzer.Pass, stmt, typ string) bool {
	// the statement's words, looked up as tables: the work follows the
	// statement's length, not the size of the schema
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(stmt), func(r rune) bool { return r < 0x80 && !identByte(byte(r)) }) {
		words[w] = true
	}
	if words[typ] {
		return true
	}
	for w := range words {
		t := p.Catalog.Table(change.QName{Name: w})
		if t == nil {
			continue
		}
		for _, c := range t.Columns {
			if c.Type.Name == typ && words[strings.ToLower(c.Name)] {
				return true
			}
		}
	}
	return false
}

func identByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
