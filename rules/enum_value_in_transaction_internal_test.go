package rules

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/analyzertest"
	"github.com/migsafe/migsafe/dialects/postgres"
)

// TestEnumValueInTransaction runs, on PostgreSQL 15, statements after
// ALTER TYPE … ADD VALUE in the same transaction, and checks that
// enum-value-in-transaction reports exactly those the server refuses with
// "unsafe use of new value".
func TestEnumValueInTransaction(t *testing.T) {
	srv, db := pg.Server(t)
	ctx := context.Background()
	const setup = "CREATE TYPE evt_status AS ENUM ('open', 'paid');\nCREATE TABLE evt_orders (id bigint, status evt_status, note text, tags evt_status[]);\n"
	if _, err := db.ExecContext(ctx, setup); err != nil {
		t.Fatal(err)
	}
	d, err := postgres.New("15")
	if err != nil {
		t.Fatal(err)
	}
	type tcase struct{ add, stmt string }
	var cases []tcase
	for _, stmt := range []string{
		"UPDATE evt_orders SET status = 'refunded' WHERE note IS NOT NULL",
		"UPDATE evt_orders SET note = 'refunded'",
		"SELECT count(*) FROM evt_orders WHERE status = 'refunded'",
		"SELECT count(*) FROM evt_orders WHERE note = 'refunded'",
		"SELECT count(*) FROM evt_orders WHERE status = 'paid'",
		"ALTER TABLE evt_orders ALTER COLUMN status SET DEFAULT 'refunded'",
		"ALTER TABLE evt_orders ADD COLUMN s2 evt_status DEFAULT 'refunded'",
		"ALTER TABLE evt_orders ADD COLUMN s3 text DEFAULT 'refunded'",
		"INSERT INTO evt_orders (id, status) VALUES (1, 'refunded')",
		"INSERT INTO evt_orders (id, note) VALUES (1, 'refunded')",
		"SELECT 'refunded'::evt_status",
		"SELECT 'refunded'",
		"CREATE INDEX evt_refunded ON evt_orders (id) WHERE status = 'refunded'",
		"UPDATE evt_orders SET status = 'paid' WHERE status <> 'refunded'",
		"UPDATE evt_orders SET tags = ARRAY['refunded'::evt_status]",
	} {
		cases = append(cases, tcase{"ALTER TYPE evt_status ADD VALUE 'refunded'", stmt})
	}
	// a label the type already has is not new: IF NOT EXISTS does nothing
	cases = append(cases, tcase{"ALTER TYPE evt_status ADD VALUE IF NOT EXISTS 'paid'", "UPDATE evt_orders SET status = 'paid'"})
	for _, c := range cases {
		add, stmt := c.add, c.stmt
		t.Run(add+"; "+stmt, func(t *testing.T) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback() }()
			if _, err := tx.ExecContext(ctx, add); err != nil {
				t.Fatal(err)
			}
			_, err = tx.ExecContext(ctx, stmt)
			refused := err != nil && strings.Contains(err.Error(), "unsafe use of new value")
			if err != nil && !refused {
				t.Fatalf("PostgreSQL %s: %v", srv.Version, err)
			}
			// the same as one golang-migrate file: one implicit transaction
			src := setup + add + ";\n" + stmt + ";\n"
			res, err := analyzertest.LintSource(d, "000001_x.up.sql", []byte(src), []*analyzer.Rule{EnumValueInTransaction}, All())
			if err != nil {
				t.Fatal(err)
			}
			var found []string
			for _, f := range res.Findings {
				found = append(found, fmt.Sprintf("%d: %s", f.Start.Line, f.Message))
			}
			if reported := len(found) > 0; reported != refused {
				t.Errorf("PostgreSQL %s refused it: %v; migsafe reported %v", srv.Version, refused, found)
			}
		})
	}
}
