package migrations

import (
	"testing"

	"github.com/migsafe/migsafe/analyzer"
)

func TestFlywayNonTransactional(t *testing.T) {
	pg11 := analyzer.Target{Major: 11}
	pg14 := analyzer.Target{Major: 14}
	for _, c := range []struct {
		stmt string
		t    analyzer.Target
		want string
	}{
		{"CREATE INDEX CONCURRENTLY i ON t (a)", pg14, "CREATE INDEX CONCURRENTLY"},
		{"create unique index concurrently if not exists i on t (a)", pg14, "CREATE INDEX CONCURRENTLY"},
		{"DROP INDEX CONCURRENTLY IF EXISTS i", pg14, "DROP INDEX CONCURRENTLY"},
		{"CREATE /* x */ INDEX\n  -- y\n  CONCURRENTLY i ON t (a)", pg14, "CREATE INDEX CONCURRENTLY"},
		{"VACUUM (ANALYZE) t", pg14, "VACUUM"},
		{"vacuum full", pg14, "VACUUM"},
		{"CREATE DATABASE d", pg14, "CREATE DATABASE"},
		{"DROP TABLESPACE s", pg14, "DROP TABLESPACE"},
		{"CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p", pg14, "CREATE SUBSCRIPTION"},
		{"ALTER SYSTEM SET work_mem = '64MB'", pg14, "ALTER SYSTEM"},
		{"REINDEX VERBOSE DATABASE d", pg14, "REINDEX DATABASE"},
		{"REINDEX SYSTEM d", pg14, "REINDEX SYSTEM"},
		{"DISCARD ALL", pg14, "DISCARD ALL"},
		{"ALTER TYPE mood ADD VALUE 'meh'", pg11, "ALTER TYPE … ADD VALUE"},
		{`ALTER TYPE "Mood" ADD VALUE IF NOT EXISTS 'meh'`, pg11, "ALTER TYPE … ADD VALUE"},
		// in a transaction: not in Flyway's list, or not at the start
		{"ALTER TYPE mood ADD VALUE 'meh'", pg14, ""},
		{"REINDEX INDEX CONCURRENTLY i", pg14, ""},
		{"REINDEX TABLE t", pg14, ""},
		{"ALTER TABLE p DETACH PARTITION c CONCURRENTLY", pg14, ""},
		{"REFRESH MATERIALIZED VIEW CONCURRENTLY v", pg14, ""},
		{"CREATE INDEX i ON t (a) -- CONCURRENTLY later", pg14, ""},
		{"SELECT 'VACUUM'", pg14, ""},
		{"CREATE INDEX \"CONCURRENTLY\" ON t (a)", pg14, ""},
		{"DO $$ BEGIN VACUUM; END $$", pg14, ""},
		{"DISCARD PLANS", pg14, ""},
		{"", pg14, ""},
	} {
		if got := FlywayNonTransactional(c.stmt, c.t); got != c.want {
			t.Errorf("FlywayNonTransactional(%q, %d) = %q, want %q", c.stmt, c.t.Major, got, c.want)
		}
	}
}
