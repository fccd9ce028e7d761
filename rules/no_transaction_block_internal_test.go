package rules

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/dialects/postgres"
)

// TestNoTransactionBlock runs, on PostgreSQL 15, each statement that
// concurrent-in-transaction says cannot run inside a transaction block in
// one, and checks that the server refuses it; and statements of the same
// kinds that can, and checks that it runs them.
func TestNoTransactionBlock(t *testing.T) {
	srv, db := pg.Server(t)
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE ntb (id bigint PRIMARY KEY, n int)",
		"CREATE INDEX ntb_n ON ntb (n)",
		"CREATE TABLE ntb_p (id bigint, at date) PARTITION BY RANGE (at)",
		"CREATE TABLE ntb_p1 PARTITION OF ntb_p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
		"CREATE MATERIALIZED VIEW ntb_mv AS SELECT id FROM ntb",
		"CREATE UNIQUE INDEX ntb_mv_id ON ntb_mv (id)",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	d, err := postgres.New("15")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		stmt    string
		refused bool
	}{
		{"CREATE INDEX CONCURRENTLY ntb_n2 ON ntb (n)", true},
		{"DROP INDEX CONCURRENTLY ntb_n", true},
		{"REINDEX INDEX CONCURRENTLY ntb_n", true},
		{"ALTER TABLE ntb_p DETACH PARTITION ntb_p1 CONCURRENTLY", true},
		{"VACUUM ntb", true},
		{"VACUUM (FULL) ntb", true},
		{"REINDEX SCHEMA public", true},
		{"REINDEX SYSTEM " + srv.Database, true},
		{"REINDEX DATABASE " + srv.Database, true},
		{"CREATE DATABASE ntb_db", true},
		{"DROP DATABASE IF EXISTS ntb_no_db", true},
		{"CREATE TABLESPACE ntb_ts LOCATION '/nonexistent'", true},
		{"DROP TABLESPACE IF EXISTS ntb_no_ts", true},
		{"ALTER SYSTEM SET work_mem = '8MB'", true},
		{"ANALYZE ntb", false},
		{"REINDEX TABLE ntb", false},
		{"REINDEX INDEX ntb_n", false},
		{"REFRESH MATERIALIZED VIEW CONCURRENTLY ntb_mv", false},
		{"ALTER TABLE ntb_p DETACH PARTITION ntb_p1", false},
		{"CREATE INDEX ntb_n3 ON ntb (n)", false},
		{"CLUSTER ntb USING ntb_pkey", false},
	} {
		t.Run(c.stmt, func(t *testing.T) {
			src := []byte(c.stmt + ";\n")
			stmts, _ := d.Parse(src, analyzer.Span{Start: 0, End: len(src)})
			var what []string
			for _, s := range stmts {
				for _, ch := range s.Changes {
					if w := concurrentOnly(ch); w != "" {
						what = append(what, w)
					}
				}
			}
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback() }()
			_, err = tx.ExecContext(ctx, c.stmt)
			refused := err != nil && strings.Contains(err.Error(), "cannot run inside a transaction block")
			if err != nil && !refused {
				t.Fatalf("PostgreSQL %s in a transaction: %v", srv.Version, err)
			}
			if refused != c.refused {
				t.Errorf("PostgreSQL %s in a transaction: refused %v, want %v", srv.Version, refused, c.refused)
			}
			if got := len(what) > 0; got != refused {
				t.Errorf("migsafe says it cannot run in a transaction block: %v (%s); PostgreSQL %s refused it: %v", got, fmt.Sprint(what), srv.Version, refused)
			}
		})
	}
}
