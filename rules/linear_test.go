package rules_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/analyzertest"
	"github.com/migsafe/migsafe/dialects/mysql"
	"github.com/migsafe/migsafe/dialects/postgres"
	"github.com/migsafe/migsafe/internal/lineartest"
	"github.com/migsafe/migsafe/rules"
)

// lintTimer returns the operation of linting src with every rule.
func lintTimer(t *testing.T, d analyzer.Dialect, src string) func() {
	return func() {
		if _, err := analyzertest.LintSource(d, "m.sql", []byte(src), rules.All(), rules.All()); err != nil {
			t.Fatal(err)
		}
	}
}

// bothDialects are the PostgreSQL and MySQL dialects at their default
// targets.
func bothDialects(t *testing.T) (pg, my analyzer.Dialect) {
	t.Helper()
	p, err := postgres.New("")
	if err != nil {
		t.Fatal(err)
	}
	m, err := mysql.New("")
	if err != nil {
		t.Fatal(err)
	}
	return p, m
}

// TestMultipleAlterLinear is issue 11's failure 3(b): the rule scanned every
// statement of the file for each ALTER (16,000 ALTERs took 11.7 s).
func TestMultipleAlterLinear(t *testing.T) {
	d, err := mysql.New("")
	if err != nil {
		t.Fatal(err)
	}
	lineartest.Check(t, 1000, func(n int) func() {
		return lintTimer(t, d, strings.Repeat("ALTER TABLE users ADD COLUMN c INT, ALGORITHM=INSTANT;\n", n))
	})
}

// TestSuppressionsLinear is failure 3(c): each suppression comment scanned
// every statement, and each finding every suppression.
func TestSuppressionsLinear(t *testing.T) {
	d, err := postgres.New("")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("one a line", func(t *testing.T) {
		lineartest.Check(t, 1000, func(n int) func() {
			return lintTimer(t, d, strings.Repeat("-- migsafe:ignore drop-column reviewed\nALTER TABLE users DROP COLUMN c;\n", n))
		})
	})
	t.Run("one line", func(t *testing.T) {
		// every comment covers every statement before it on the line
		lineartest.Check(t, 1000, func(n int) func() {
			return lintTimer(t, d, strings.Repeat("ALTER TABLE users DROP COLUMN c; /* migsafe:ignore drop-column,missing-lock-timeout reviewed */ ", n))
		})
	})
}

// TestManyStatementsOneLineLinear is failure 3(a) through the whole lint:
// positions on one long line.
func TestManyStatementsOneLineLinear(t *testing.T) {
	d, err := postgres.New("")
	if err != nil {
		t.Fatal(err)
	}
	lineartest.Check(t, 2000, func(n int) func() {
		return lintTimer(t, d, strings.Repeat("ALTER TABLE users DROP COLUMN c; ", n))
	})
}

// TestLockTimeoutRulesLinear: missing-lock-timeout and
// missing-lock-wait-timeout looked at every earlier statement for each
// statement that needs a timeout (20,000 SELECTs then 20,000 ALTERs took
// 103 s).
func TestLockTimeoutRulesLinear(t *testing.T) {
	pg, my := bothDialects(t)
	lineartest.Check(t, 500, func(n int) func() {
		return lintTimer(t, pg, strings.Repeat("SELECT 1;\n", n)+strings.Repeat("ALTER TABLE users ADD COLUMN c int;\n", n))
	})
	lineartest.Check(t, 500, func(n int) func() {
		return lintTimer(t, my, strings.Repeat("SELECT 1;\n", n)+strings.Repeat("ALTER TABLE users ADD COLUMN c INT;\n", n))
	})
}

// TestLongTransactionLinear: statement-after-exclusive-lock looked at every
// earlier statement of the file for each statement of a transaction
// (5,000 ADD VALUEs then 5,000 UPDATEs in one golang-migrate file took
// 2.2 s, 20,000 of each 38 s); enum-value-in-transaction looks a
// statement's literals up among the labels added.
func TestLongTransactionLinear(t *testing.T) {
	d, err := postgres.New("")
	if err != nil {
		t.Fatal(err)
	}
	lineartest.Check(t, 1000, func(n int) func() {
		var b strings.Builder
		b.WriteString("CREATE TABLE accounts (id bigint, region text);\nBEGIN;\nALTER TABLE accounts ADD COLUMN c int;\n")
		for i := range n {
			// a type each: the catalog keeps an enum's labels in a list,
			// so one enum of n labels costs it n² (left as it is)
			fmt.Fprintf(&b, "ALTER TYPE st%d ADD VALUE 'v%d';\nUPDATE o SET s = 'v%d' WHERE id = %d;\n", i, i, i, i)
		}
		b.WriteString("COMMIT;\n")
		return lintTimer(t, d, b.String())
	})
}

// TestLookAroundRulesLinear: three rules looked at the rest of the file
// (or transaction) for each statement they report: add-required-column
// for a TRUNCATE earlier in the transaction, rename-table for a view with
// the old name later in it, contract-same-deploy for a re-creation later
// in the file. Each rule alone, 1,000 statements against 16,000: before,
// 31×, 68× and 69× the time (the last two fail the bound of 40); now
// 14×, 18× and 17×. Through the CLI, 20,000 statements took 1.3, 0.9 and
// 0.8 s, now 0.4, 0.2 and 0.4 s.
func TestLookAroundRulesLinear(t *testing.T) {
	d, err := postgres.New("")
	if err != nil {
		t.Fatal(err)
	}
	// each rule alone, so that its own cost is what grows
	for name, stmt := range map[string]string{
		"add-required-column":  "ALTER TABLE a%d ADD COLUMN c int NOT NULL;\n",
		"rename-table":         "ALTER TABLE t%d RENAME TO u%[1]d;\n",
		"contract-same-deploy": "ALTER TABLE a%d ADD COLUMN n int;\nUPDATE a%[1]d SET n = o;\nALTER TABLE a%[1]d DROP COLUMN o;\n",
	} {
		t.Run(name, func(t *testing.T) {
			lineartest.CheckFactor(t, 1000, 16, func(n int) func() {
				var b strings.Builder
				b.WriteString("BEGIN;\n")
				for i := range n {
					fmt.Fprintf(&b, stmt, i)
				}
				b.WriteString("COMMIT;\n")
				only := []*analyzer.Rule{rules.Lookup(name)}
				return func() {
					if _, err := analyzertest.LintSource(d, "m.sql", []byte(b.String()), only, only); err != nil {
						t.Fatal(err)
					}
				}
			})
		})
	}
}

// TestQuestionsAboutEveryTableBounded: a statement whose lock depends on
// every table of the model (which tables use a domain, which reference a
// table dropped with CASCADE, which foreign keys use a column whose
// collation changes) looks at all of them; thousands of such statements
// over thousands of tables made a file's time grow with the square of its
// size (4,000 tables and 4,000 ALTER DOMAIN: 10.8 s; DROP TABLE … CASCADE:
// 4.2 s). The model now stops answering them after 2 million tables
// looked at in a history (catalog.EachTable), and keeps whether a table
// has a FULLTEXT index instead of asking each index.
func TestQuestionsAboutEveryTableBounded(t *testing.T) {
	pg, my := bothDialects(t)
	collations := []string{"utf8mb4_general_ci", "utf8mb4_bin"}
	for _, c := range []struct {
		name         string
		d            analyzer.Dialect
		first, table string
		each         func(i int) string
	}{
		{"ALTER DOMAIN", pg, "CREATE DOMAIN d AS int;\n", "CREATE TABLE t%d (id int, a text, c d);\n",
			func(int) string { return "ALTER DOMAIN d SET NOT NULL;\n" }},
		{"DROP TABLE CASCADE", pg, "", "CREATE TABLE t%d (id int PRIMARY KEY, a text);\n",
			func(i int) string { return fmt.Sprintf("DROP TABLE IF EXISTS gone%d CASCADE;\n", i) }},
		// a table of many indexes, whose every ALTER asked each index
		// whether it is FULLTEXT (4,000 of each: 5.8 s)
		{"MODIFY on many indexes", my, "CREATE TABLE p (id INT PRIMARY KEY, a INT, b TEXT);\n", "CREATE INDEX p_a%d ON p (a);\n",
			func(i int) string { return "ALTER TABLE p MODIFY a " + []string{"BIGINT", "INT"}[i%2] + ";\n" }},
		// the collation of an indexed column, back and forth
		{"MODIFY COLLATE", my, "CREATE TABLE p (id INT PRIMARY KEY, name VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin, KEY p_name (name));\n", "CREATE TABLE t%d (id INT PRIMARY KEY, a TEXT);\n",
			func(i int) string {
				return "ALTER TABLE p MODIFY name VARCHAR(20) CHARACTER SET utf8mb4 COLLATE " + collations[i%2] + ";\n"
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			lineartest.CheckFactor(t, 500, 16, func(n int) func() {
				var b strings.Builder
				b.WriteString(c.first)
				for i := range n {
					fmt.Fprintf(&b, c.table, i)
				}
				for i := range n {
					b.WriteString(c.each(i))
				}
				return lintTimer(t, c.d, b.String())
			})
		})
	}
}
