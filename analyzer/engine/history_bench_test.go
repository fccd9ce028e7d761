package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/migrations"
	"github.com/migsafe/migsafe/dialects/postgres"
	"github.com/migsafe/migsafe/rules"
)

// history generates a golang-migrate history of n migrations (up and down
// files) that exercises the replay and the sequence rules: tables created,
// columns added, backfilled, deprecated and dropped, indexes, type
// changes, renames, and every 50th table replaced and dropped.
func history(n int) []migrations.Source {
	var out []migrations.Source
	add := func(v int, name, up, down string) {
		out = append(out,
			migrations.Source{Path: fmt.Sprintf("db/%06d_%s.up.sql", v, name), Src: []byte(up)},
			migrations.Source{Path: fmt.Sprintf("db/%06d_%s.down.sql", v, name), Src: []byte(down)})
	}
	for v := 1; v <= n; v++ {
		t := fmt.Sprintf("t%d", v/10)
		switch v % 10 {
		case 1:
			add(v, "create_"+t, fmt.Sprintf("CREATE TABLE %s (id bigint PRIMARY KEY, name varchar(50), legacy text, created_at timestamptz NOT NULL DEFAULT now());\n", t), "DROP TABLE "+t+";\n")
		case 2:
			add(v, "add_full_name", fmt.Sprintf("ALTER TABLE %s ADD COLUMN full_name text;\n", t), fmt.Sprintf("ALTER TABLE %s DROP COLUMN full_name;\n", t))
		case 3:
			add(v, "backfill", fmt.Sprintf("UPDATE %s SET full_name = name WHERE full_name IS NULL;\n", t), "SELECT 1;\n")
		case 4:
			add(v, "index", fmt.Sprintf("CREATE INDEX CONCURRENTLY %s_name_idx ON %s (name);\n", t, t), fmt.Sprintf("DROP INDEX CONCURRENTLY %s_name_idx;\n", t))
		case 5:
			add(v, "deprecate", fmt.Sprintf("-- migsafe:deprecate %s.name\n-- migsafe:deprecate %s.legacy\nSELECT 1;\n", t, t), "SELECT 1;\n")
		case 6:
			add(v, "widen", fmt.Sprintf("SET lock_timeout = '5s';\nALTER TABLE %s ALTER COLUMN name TYPE varchar(100);\n", t), fmt.Sprintf("ALTER TABLE %s ALTER COLUMN name TYPE varchar(50);\n", t))
		case 7:
			add(v, "drop_legacy", fmt.Sprintf("ALTER TABLE %s DROP COLUMN legacy;\n", t), fmt.Sprintf("ALTER TABLE %s ADD COLUMN legacy text;\n", t))
		case 8:
			add(v, "rename", fmt.Sprintf("ALTER TABLE %s RENAME COLUMN full_name TO display_name;\n", t), fmt.Sprintf("ALTER TABLE %s RENAME COLUMN display_name TO full_name;\n", t))
		case 9:
			if v%50 == 9 {
				add(v, "replace", fmt.Sprintf("CREATE TABLE %s_v2 (id bigint);\nINSERT INTO %s_v2 SELECT id FROM %s;\n-- migsafe:deprecate %s\nDROP TABLE %s;\n", t, t, t, t, t), fmt.Sprintf("DROP TABLE %s_v2;\n", t))
			} else {
				add(v, "drop_name", fmt.Sprintf("ALTER TABLE %s DROP COLUMN name;\n", t), fmt.Sprintf("ALTER TABLE %s ADD COLUMN name text;\n", t))
			}
		default:
			add(v, "seed", fmt.Sprintf("INSERT INTO %s (id, name) VALUES (1, 'x');\n", t), "SELECT 1;\n")
		}
	}
	return out
}

// BenchmarkHistory lints a whole history of n migrations with the default
// rules, as migsafe check on the directory does after reading the files:
// the time per migration must stay flat as n grows (linear total time).
func BenchmarkHistory(b *testing.B) {
	d, err := postgres.New("")
	if err != nil {
		b.Fatal(err)
	}
	opt := engine.Options{Dialect: d, Rules: defaultRules(), Known: rules.All()}
	for _, n := range []int{1000, 2000, 5000, 10000} {
		srcs := history(n)
		b.Run(fmt.Sprintf("migrations=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				set := migrations.Build(srcs, migrations.Options{Dialect: analyzer.Postgres})
				parts := set.Parts()
				res, err := engine.Run(context.Background(), parts, opt)
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Errors) > 0 {
					b.Fatal(res.Errors[0])
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/migration")
		})
	}
}

// BenchmarkHistorySince lints only the last 10 migrations of the history
// and replays the rest, as --since does.
func BenchmarkHistorySince(b *testing.B) {
	d, err := postgres.New("")
	if err != nil {
		b.Fatal(err)
	}
	opt := engine.Options{Dialect: d, Rules: defaultRules(), Known: rules.All()}
	for _, n := range []int{1000, 10000} {
		srcs := history(n)
		b.Run(fmt.Sprintf("migrations=%d", n), func(b *testing.B) {
			for b.Loop() {
				set := migrations.Build(srcs, migrations.Options{Dialect: analyzer.Postgres})
				parts := set.Parts()
				for i, f := range parts {
					f.Lint = i >= len(parts)-20
				}
				if _, err := engine.Run(context.Background(), parts, opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
