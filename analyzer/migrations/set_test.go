package migrations

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
)

func srcs(files ...string) []Source {
	var out []Source
	for i := 0; i+1 < len(files); i += 2 {
		out = append(out, Source{Path: files[i], Src: []byte(files[i+1])})
	}
	return out
}

// describe renders a set as one line per part: path, direction, range text
// (trimmed), transaction mode, deploy, missing down.
func describe(s *Set) string {
	var b strings.Builder
	fmt.Fprintf(&b, "layout %s\n", s.Layout)
	for _, m := range s.Migrations {
		for _, f := range append(append([]*analyzer.File{}, m.Up...), m.Down...) {
			txt := strings.Join(strings.Fields(string(f.Src[f.Range.Start:f.Range.End])), " ")
			fmt.Fprintf(&b, "%s %s %s v=%s deploy=%d tx=%d [%s]", m.Version, f.Path, f.Direction, f.Version, f.Deploy, f.TxMode, txt)
			if f.MissingDown != "" {
				fmt.Fprintf(&b, " missing-down=%s", f.MissingDown)
			}
			b.WriteString("\n")
		}
	}
	for _, sk := range s.Skipped {
		fmt.Fprintf(&b, "skipped %s: %s\n", sk.Path, sk.Reason)
	}
	for _, p := range s.Problems {
		fmt.Fprintf(&b, "problem %s\n", p.Error())
	}
	return b.String()
}

func check(t *testing.T, s *Set, want string) {
	t.Helper()
	got := describe(s)
	if strings.TrimSpace(got) != strings.TrimSpace(want) {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestGolangMigrate(t *testing.T) {
	s := Build(srcs(
		"m/10_c.up.sql", "C;",
		"m/2_b.up.sql", "B;",
		"m/2_b.down.sql", "DB;",
		"m/1_a.up.sql", "A;",
		"m/1_a.down.sql", "DA;",
		"m/README.sql", "x",
	), Options{Dialect: analyzer.Postgres})
	check(t, s, `
layout golang-migrate
1 m/1_a.up.sql up v=1 deploy=1 tx=2 [A;]
1 m/1_a.down.sql down v=1 deploy=1 tx=2 [DA;]
2 m/2_b.up.sql up v=2 deploy=2 tx=2 [B;]
2 m/2_b.down.sql down v=2 deploy=2 tx=2 [DB;]
10 m/10_c.up.sql up v=10 deploy=3 tx=2 [C;] missing-down=10_c.down.sql
skipped m/README.sql: golang-migrate reads only files named {version}_{title}.up.sql or .down.sql`)
	if s.Why == "" {
		t.Error("no detection evidence")
	}
	// on MySQL golang-migrate's single call is no transaction
	my := Build(srcs("1_a.up.sql", "A;"), Options{Dialect: analyzer.MySQL})
	if my.Migrations[0].Up[0].TxMode != analyzer.TxModeAutocommit {
		t.Errorf("MySQL golang-migrate: tx mode %d", my.Migrations[0].Up[0].TxMode)
	}
}

func TestGolangMigrateDuplicate(t *testing.T) {
	s := Build(srcs("1_a.up.sql", "A;", "01_b.up.sql", "B;"), Options{})
	if len(s.Problems) != 1 || !strings.Contains(s.Problems[0].Msg, "duplicate up migration for version") {
		t.Errorf("problems: %v", s.Problems)
	}
}

func TestVPrefixedUpDown(t *testing.T) {
	s := Build(srcs("V0002.WebAuthn.up.sql", "B;", "V0001.Initial_Schema.up.sql", "A;", "V0001.Initial_Schema.down.sql", "DA;"), Options{})
	check(t, s, `
layout golang-migrate
0001 V0001.Initial_Schema.up.sql up v=0001 deploy=1 tx=2 [A;]
0001 V0001.Initial_Schema.down.sql down v=0001 deploy=1 tx=2 [DA;]
0002 V0002.WebAuthn.up.sql up v=0002 deploy=2 tx=2 [B;] missing-down=V0002.WebAuthn.down.sql`)
}

func TestGoose(t *testing.T) {
	s := Build(srcs(
		"db/00002_idx.sql", "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- +goose Down\nDROP INDEX CONCURRENTLY i;\n",
		"db/00001_init.sql", "-- header\n-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- +goose StatementEnd\nCREATE TABLE t (a int);\n",
		"db/seed.sql", "INSERT INTO t VALUES (1);",
	), Options{})
	check(t, s, `
layout goose
00001 db/00001_init.sql up v=00001 deploy=1 tx=3 [-- header -- +goose Up -- +goose StatementBegin CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql; -- +goose StatementEnd CREATE TABLE t (a int);] missing-down=a -- +goose Down section in 00001_init.sql
00002 db/00002_idx.sql up v=00002 deploy=2 tx=0 [-- +goose NO TRANSACTION -- +goose Up CREATE INDEX CONCURRENTLY i ON t (a);]
00002 db/00002_idx.sql down v=00002 deploy=2 tx=0 [-- +goose Down DROP INDEX CONCURRENTLY i;]
skipped db/seed.sql: goose reads only files named {version}_{name}.sql`)
}

func TestGooseWithoutUp(t *testing.T) {
	s := Build(srcs("1_a.sql", "-- +goose Up\nSELECT 1;", "2_b.sql", "SELECT 2;"), Options{Layout: Goose})
	if len(s.Problems) != 1 || !strings.Contains(s.Problems[0].Error(), "2_b.sql: no -- +goose Up annotation") {
		t.Errorf("problems: %v", s.Problems)
	}
	if len(s.Migrations) != 1 {
		t.Errorf("migrations: %d", len(s.Migrations))
	}
}

func TestDbmate(t *testing.T) {
	s := Build(srcs(
		"20240102000000_idx.sql", "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n-- migrate:down\nDROP INDEX i;\n",
		"20240101000000_init.sql", "-- migrate:up\nCREATE TABLE t (a int);\n-- migrate:down\n",
	), Options{})
	check(t, s, `
layout dbmate
20240101000000 20240101000000_init.sql up v=20240101000000 deploy=1 tx=1 [-- migrate:up CREATE TABLE t (a int);]
20240101000000 20240101000000_init.sql down v=20240101000000 deploy=1 tx=1 [-- migrate:down]
20240102000000 20240102000000_idx.sql up v=20240102000000 deploy=2 tx=0 [-- migrate:up transaction:false CREATE INDEX CONCURRENTLY i ON t (a);]
20240102000000 20240102000000_idx.sql down v=20240102000000 deploy=2 tx=1 [-- migrate:down DROP INDEX i;]`)
}

func TestFlyway(t *testing.T) {
	conf := map[string]string{
		"V1_10_0__big.sql.conf": "executeInTransaction=false\n",
		"V1_7__in.sql.conf":     "encoding=UTF-8\nexecuteInTransaction = TRUE\n",
	}
	s := Build(srcs(
		"R__views.sql", "CREATE OR REPLACE VIEW v AS SELECT 1;",
		"V1_10_0__big.sql", "UPDATE t SET a = 1;",
		"V1_5_2__init.sql", "CREATE TABLE t (a int);",
		"U1_5_2__init.sql", "DROP TABLE t;",
		"V1_6__idx.sql", "CREATE INDEX CONCURRENTLY i ON t (a);",
		"V1_7__in.sql", "CREATE INDEX CONCURRENTLY j ON t (a);",
		"beforeMigrate.sql", "SELECT 1;",
	), Options{Sibling: func(p string) ([]byte, bool) { c, ok := conf[p]; return []byte(c), ok }})
	// on PostgreSQL Flyway decides by the statements (the engine: tx=4),
	// unless the script's configuration sets executeInTransaction
	check(t, s, `
layout flyway
1.5.2 V1_5_2__init.sql up v=1.5.2 deploy=1 tx=4 [CREATE TABLE t (a int);]
1.5.2 U1_5_2__init.sql down v=1.5.2 deploy=1 tx=4 [DROP TABLE t;]
1.6 V1_6__idx.sql up v=1.6 deploy=2 tx=4 [CREATE INDEX CONCURRENTLY i ON t (a);]
1.7 V1_7__in.sql up v=1.7 deploy=3 tx=1 [CREATE INDEX CONCURRENTLY j ON t (a);]
1.10.0 V1_10_0__big.sql up v=1.10.0 deploy=4 tx=0 [UPDATE t SET a = 1;]
R__views R__views.sql up v=R__views deploy=5 tx=4 [CREATE OR REPLACE VIEW v AS SELECT 1;]
skipped beforeMigrate.sql: Flyway reads only files named V{version}__{description}.sql, U{version}__… (undo) or R__{description}.sql`)
}

func TestPopx(t *testing.T) {
	files := srcs(
		"any/20200101000000000000_a.up.sql", "GENERIC A;",
		"any/20200101000000000000_a.down.sql", "GENERIC DOWN A;",
		"postgres/20200101000000000000_a.postgres.up.sql", "PG A;",
		"mysql/20200101000000000000_a.mysql.up.sql", "MY A;",
		"any/20200102000000000000_b.autocommit.up.sql", "CREATE INDEX CONCURRENTLY x ON t (a);",
		"any/20200102000000000000_b.down.sql", "",
		"cockroach/20200102000000000000_b.cockroach.up.sql", "CR;",
	)
	s := Build(files, Options{Dialect: analyzer.Postgres})
	check(t, s, `
layout popx
20200101000000000000 postgres/20200101000000000000_a.postgres.up.sql up v=20200101000000000000 deploy=1 tx=1 [PG A;]
20200101000000000000 any/20200101000000000000_a.down.sql down v=20200101000000000000 deploy=1 tx=1 [GENERIC DOWN A;]
20200102000000000000 any/20200102000000000000_b.autocommit.up.sql up v=20200102000000000000 deploy=2 tx=0 [CREATE INDEX CONCURRENTLY x ON t (a);]
20200102000000000000 any/20200102000000000000_b.down.sql down v=20200102000000000000 deploy=2 tx=1 []
skipped any/20200101000000000000_a.up.sql: overridden by the postgres-tagged file of the same version
skipped mysql/20200101000000000000_a.mysql.up.sql: tagged for the mysql dialect
skipped cockroach/20200102000000000000_b.cockroach.up.sql: tagged for the cockroach dialect`)
	my := Build(files, Options{Dialect: analyzer.MySQL})
	if got := my.Migrations[0].Up[0].Path; got != "mysql/20200101000000000000_a.mysql.up.sql" {
		t.Errorf("MySQL picks %s", got)
	}
}

func TestPlainLexical(t *testing.T) {
	s := Build(srcs("b/10_x.sql", "X;", "a/2_y.sql", "Y;", "a/02_z.sql", "Z;"), Options{})
	check(t, s, `
layout plain
000000001 a/02_z.sql up v=000000001 deploy=1 tx=0 [Z;]
000000002 b/10_x.sql up v=000000002 deploy=2 tx=0 [X;]
000000003 a/2_y.sql up v=000000003 deploy=3 tx=0 [Y;]
problem a/2_y.sql: plain .sql files are replayed in lexical order, so 2_y.sql comes after 10_x.sql, although its number is smaller; zero-pad the numbers, or set the layout of the tool that applies them (--layout, migrations.layout)`)
}

func TestDetect(t *testing.T) {
	cases := []struct {
		files     []Source
		want      Layout
		ambiguous bool
	}{
		{srcs("1_a.up.sql", ""), GolangMigrate, false},
		{srcs("1_a.sql", "-- +goose Up\n"), Goose, false},
		{srcs("1_a.sql", "-- migrate:up\n"), Dbmate, false},
		{srcs("V1__a.sql", ""), Flyway, false},
		{srcs("1_a.up.sql", "", "2_b.postgres.up.sql", ""), Popx, false},
		{srcs("a.sql", "", "b.sql", ""), Plain, false},
		{srcs("1_a.sql", "-- +goose Up\n", "2_b.sql", "-- migrate:up\n", "3_c.sql", "-- migrate:up\n"), Dbmate, true},
		{srcs("V1__a.sql", "", "1_a.up.sql", ""), GolangMigrate, true},
	}
	for i, c := range cases {
		d := Detect(c.files)
		if d.Layout != c.want || (len(d.Ambiguous) > 0) != c.ambiguous {
			t.Errorf("case %d: got %s ambiguous=%v, want %s ambiguous=%v", i, d.Layout, d.Ambiguous, c.want, c.ambiguous)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	for _, c := range [][2]string{{"2", "10"}, {"1.5.2", "1.10.0"}, {"1.6", "1.10.0"}, {"0001", "2"}, {"20150100000001000000", "20150100000001000001"}, {"1", "1.1"}} {
		if compareVersions(c[0], c[1]) >= 0 || compareVersions(c[1], c[0]) <= 0 {
			t.Errorf("%s should sort before %s", c[0], c[1])
		}
	}
	if compareVersions("01", "1") != 0 {
		t.Error("01 and 1 are the same version")
	}
	// the same as comparing the split fields (the way it was written
	// first), on edge cases and random versions (fixed seed)
	split := func(a, b string) int {
		pa, pb := splitVersion(a), splitVersion(b)
		for i := 0; i < len(pa) && i < len(pb); i++ {
			if c := compareNumeric(pa[i], pb[i]); c != 0 {
				return c
			}
		}
		return len(pa) - len(pb)
	}
	vs := []string{"", ".", "_", "..", "1", "1.", ".1", "1..2", "1._2", "__1__", "1.2.3", "01.2", "1.02", "a", "a.b", "1a", "é.1", "1.é", "2024_01_01", "20240101"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b []byte
		for range r.IntN(8) {
			b = append(b, "0129._aé"[r.IntN(9)])
		}
		vs = append(vs, string(b))
	}
	for _, a := range vs {
		for _, b := range vs[:200] {
			if got, want := compareVersions(a, b), split(a, b); got != want {
				t.Fatalf("compareVersions(%q, %q) = %d, split fields say %d", a, b, got, want)
			}
		}
	}
}

func TestParseLayout(t *testing.T) {
	for _, n := range LayoutNames() {
		if _, err := ParseLayout(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if _, err := ParseLayout("gooze"); err == nil {
		t.Error("gooze accepted")
	}
}

// TestBuildDetected: a set built from the caller's Detect result is the
// set Build detects itself, and Build takes the caller's result as given
// (lint detects a directory once, not once more in Build).
func TestBuildDetected(t *testing.T) {
	for i, files := range [][]Source{
		srcs("1_a.up.sql", "CREATE TABLE a (id int);", "1_a.down.sql", "DROP TABLE a;"),
		srcs("1_a.sql", "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n"),
		srcs("1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n"),
		srcs("V1__a.sql", "CREATE TABLE a (id int);", "R__v.sql", "CREATE VIEW v AS SELECT 1;"),
		srcs("1_a.up.sql", "", "2_b.postgres.up.sql", "", "2_b.mysql.up.sql", ""),
		srcs("b.sql", "", "a.sql", ""),
		srcs("V1__a.sql", "", "1_a.up.sql", ""),
	} {
		d := Detect(files)
		auto := Build(files, Options{Dialect: "postgres"})
		given := Build(files, Options{Dialect: "postgres", Detected: &d})
		if got, want := describe(given), describe(auto); got != want || given.Why != auto.Why {
			t.Errorf("case %d: with Detected:\n%s(%s)\nwithout:\n%s(%s)", i, got, given.Why, want, auto.Why)
		}
	}
	files := srcs("1_a.up.sql", "", "1_a.down.sql", "")
	s := Build(files, Options{Detected: &Detection{Layout: Plain, Why: "given"}})
	if s.Layout != Plain || s.Why != "given" || len(s.Migrations) != 2 {
		t.Errorf("Detected not taken as given: layout %s (%s), %d migrations", s.Layout, s.Why, len(s.Migrations))
	}
}

// TestBuildInParts: a history large enough to be detected and built on
// every core gives the set, problems, skipped files and detection that
// one part gives, on random mixes of golang-migrate names, names it
// skips, duplicate versions, Flyway and popx names and goose annotations,
// in order and shuffled.
func TestBuildInParts(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	r := rand.New(rand.NewPCG(11, 3))
	mixes := []func(i int) (string, string){
		func(i int) (string, string) {
			return fmt.Sprintf("db/%06d_m%d.%s.sql", i/2, i, []string{"up", "down"}[i%2]), "SELECT 1;"
		},
		func(i int) (string, string) { return fmt.Sprintf("db/README%d.sql", i), "SELECT 2;" },
		func(i int) (string, string) { return fmt.Sprintf("db/%06d_dup.up.sql", i%50), "SELECT 3;" },
		func(i int) (string, string) { return fmt.Sprintf("db/V%d__x.sql", i), "SELECT 4;" },
		func(i int) (string, string) { return fmt.Sprintf("db/%06d_p.postgres.up.sql", i), "SELECT 5;" },
		func(i int) (string, string) { return fmt.Sprintf("db/%06d_g.sql", i), "-- +goose Up\nSELECT 6;\n" },
	}
	for run := range 12 {
		n := 5000 + r.IntN(4000)
		var in []Source
		for i := range n {
			mix := mixes[0]
			if r.IntN(20) == 0 || run%4 == 3 && r.IntN(3) == 0 {
				mix = mixes[1+r.IntN(len(mixes)-1)]
			}
			p, sql := mix(i)
			in = append(in, Source{Path: p, Src: []byte(sql)})
		}
		if run%2 == 1 {
			r.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
		}
		build := func(parts int) (string, Detection) {
			defer func(n int) { minParts = n }(minParts)
			minParts = parts
			d := Detect(in)
			s := Build(in, Options{Layout: GolangMigrate, Dialect: analyzer.Postgres})
			return fmt.Sprintf("%s\nproblems %v\nskipped %v", describe(s), s.Problems, s.Skipped), d
		}
		one, oneD := build(1 << 30)
		many, manyD := build(2)
		if many != one {
			t.Fatalf("run %d: built in parts differs from one part", run)
		}
		if fmt.Sprint(manyD) != fmt.Sprint(oneD) {
			t.Fatalf("run %d: detected in parts %+v, in one part %+v", run, manyD, oneD)
		}
	}
}
