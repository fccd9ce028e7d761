package mysql

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/catalog"
	"github.com/migsafe/migsafe/analyzer/change"
)

func parseAll(t *testing.T, target, src string) ([]*analyzer.Statement, []analyzer.Comment) {
	t.Helper()
	d, err := New(target)
	if err != nil {
		t.Fatal(err)
	}
	st, cs := d.Parse([]byte(src), analyzer.Span{Start: 0, End: len(src)})
	cat := catalog.New()
	for _, s := range st {
		d.Analyze(s, cat)
		for _, ch := range s.Changes {
			cat.Apply(ch, catalog.Origin{})
		}
	}
	return st, cs
}

func texts(src string, st []*analyzer.Statement) []string {
	var out []string
	for _, s := range st {
		out = append(out, src[s.Span.Start:s.Span.End])
	}
	return out
}

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      []string
		comments  []string
	}{
		{"plain", "SELECT 1; SELECT 2;\nSELECT 3", []string{"SELECT 1", "SELECT 2", "SELECT 3"}, nil},
		{"strings and quotes", "SELECT 'a;b', \"c;\\\"d\", `e;``f`; SELECT 'it''s;'", []string{"SELECT 'a;b', \"c;\\\"d\", `e;``f`", "SELECT 'it''s;'"}, nil},
		{"comments", "-- one; two\nSELECT 1; # three; four\n/* five; six */ SELECT 2;", []string{"SELECT 1", "SELECT 2"},
			[]string{"-- one; two", "# three; four", "/* five; six */"}},
		{"dash without space is not a comment", "SELECT 1--1;", []string{"SELECT 1--1"}, nil},
		{"executable comments are code", "/*!40101 SET NAMES utf8 */;\nSELECT /*+ MAX_EXECUTION_TIME(1) */ 1;", []string{"/*!40101 SET NAMES utf8 */", "SELECT /*+ MAX_EXECUTION_TIME(1) */ 1"}, nil},
		{"delimiter", "DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END$$\nDELIMITER ;\nSELECT 3;",
			[]string{"CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END", "SELECT 3"}, nil},
		{"delimiter //", "delimiter //\nCREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END //\ndelimiter ;\nSELECT 1",
			[]string{"CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END", "SELECT 1"}, nil},
		{"program body without delimiter", "CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN IF NEW.a IS NULL THEN SET NEW.a = 1; END IF; CASE WHEN 1 THEN SET @x = 1; END CASE; END; SELECT 2;",
			[]string{"CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN IF NEW.a IS NULL THEN SET NEW.a = 1; END IF; CASE WHEN 1 THEN SET @x = 1; END CASE; END", "SELECT 2"}, nil},
		{"event column is not a program", "CREATE TABLE t (event VARCHAR(10), `begin` INT); SELECT 1;", []string{"CREATE TABLE t (event VARCHAR(10), `begin` INT)", "SELECT 1"}, nil},
		{"crlf", "SELECT 1; -- c\r\nSELECT 2;\r\n", []string{"SELECT 1", "SELECT 2"}, []string{"-- c"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, cs := parseAll(t, "", c.src)
			if got := texts(c.src, st); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("statements\n got %q\nwant %q", got, c.want)
			}
			var gotc []string
			for _, x := range cs {
				gotc = append(gotc, x.Text)
			}
			if fmt.Sprint(gotc) != fmt.Sprint(c.comments) {
				t.Errorf("comments\n got %q\nwant %q", gotc, c.comments)
			}
			for _, s := range st {
				if s.SyntaxError != nil {
					t.Errorf("%q: %s", c.src[s.Span.Start:s.Span.End], s.SyntaxError.Message)
				}
			}
		})
	}
}

func TestSyntaxErrorsDoNotHideOtherStatements(t *testing.T) {
	src := "ALTER TABLE users ADD COLUMN a INT;\nALTER TABLE users ADD COLUMN;\nALTER TABLE users DROP COLUMN b;\nSELECT 'unterminated"
	st, _ := parseAll(t, "", src)
	if len(st) != 4 {
		t.Fatalf("%d statements, want 4: %q", len(st), texts(src, st))
	}
	if st[0].SyntaxError != nil || st[2].SyntaxError != nil {
		t.Fatal("the good statements must parse")
	}
	bad := st[1].SyntaxError
	if bad == nil || !strings.Contains(bad.Message, "end of the statement") {
		t.Fatalf("bad statement: %+v", bad)
	}
	if want := strings.Index(src, ";\nALTER TABLE users DROP"); bad.Offset != want {
		t.Errorf("error offset %d, want %d (the end of the statement)", bad.Offset, want)
	}
	if e := st[3].SyntaxError; e == nil || !strings.Contains(e.Message, "unterminated string") || e.Offset != strings.Index(src, "'unterminated") {
		t.Errorf("unterminated string: %+v", e)
	}
	if _, ok := st[2].Changes[0].(*change.DropColumn); !ok {
		t.Errorf("statement after the error: %T", st[2].Changes[0])
	}
}

func TestSyntaxErrorPosition(t *testing.T) {
	src := "SELECT 1;\n  ALTER TABLE t ADD SOMETHING weird;"
	st, _ := parseAll(t, "", src)
	e := st[1].SyntaxError
	if e == nil {
		t.Fatal("no syntax error")
	}
	if got := src[e.Offset:]; !strings.HasPrefix(got, "weird") && !strings.HasPrefix(got, "SOMETHING") {
		t.Errorf("error at %q", got)
	}
	if !strings.Contains(e.Message, "near") {
		t.Errorf("message %q", e.Message)
	}
}

func find[T change.Change](s *analyzer.Statement) T {
	for _, ch := range s.Changes {
		if x, ok := ch.(T); ok {
			return x
		}
	}
	var zero T
	return zero
}

func TestTranslate(t *testing.T) {
	src := `CREATE TABLE users (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) CHARACTER SET latin1, plan ENUM('a','b') NOT NULL DEFAULT 'a', g POINT NOT NULL, KEY idx_name (name), FULLTEXT KEY ft (name)) DEFAULT CHARSET=utf8mb4;
ALTER TABLE users CHANGE name full_name VARCHAR(60) CHARACTER SET latin1 NULL FIRST, ALGORITHM=NOCOPY, LOCK=NONE;
ALTER ONLINE TABLE users ADD SPATIAL INDEX sp (g), DROP PRIMARY KEY, ADD PRIMARY KEY (id, plan);
RENAME TABLE users TO members, a TO b;
ALTER TABLE members CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin, ENGINE=InnoDB, FORCE;
OPTIMIZE TABLE members;
DROP DATABASE app;
SET SESSION lock_wait_timeout = 5, foreign_key_checks = 0, @x = 1;
ALTER TABLE members ALTER COLUMN plan SET DEFAULT 'b', RENAME COLUMN plan TO tier, ADD COLUMN c INT AFTER id;`
	st, _ := parseAll(t, "mariadb-10.11", src)
	for _, s := range st {
		if s.SyntaxError != nil {
			t.Fatalf("%q: %s", src[s.Span.Start:s.Span.End], s.SyntaxError.Message)
		}
	}
	ct := find[*change.CreateTable](st[0])
	if ct == nil || len(ct.Columns) != 4 || ct.Columns[1].Type.Charset != "latin1" || ct.Columns[3].Type.Name != "point" || !ct.Columns[0].AutoIncrement {
		t.Errorf("create table: %+v", ct)
	}
	var kinds []change.IndexKind
	for _, ch := range st[0].Changes {
		if ix, ok := ch.(*change.CreateIndex); ok {
			kinds = append(kinds, ix.Kind)
		}
	}
	if fmt.Sprint(kinds) != fmt.Sprint([]change.IndexKind{change.IndexPlain, change.IndexFulltext}) {
		t.Errorf("inline indexes: %v", kinds)
	}
	rc, act, opts := find[*change.RenameColumn](st[1]), find[*change.AlterColumnType](st[1]), find[*change.AlterOptions](st[1])
	if rc == nil || rc.Old != "name" || rc.New != "full_name" || act == nil || act.NewColumn.Position != "FIRST" || opts.Algorithm != "NOCOPY" || opts.Lock != "NONE" {
		t.Errorf("CHANGE: %+v %+v %+v", rc, act, opts)
	}
	if !act.SameType || act.NewType.Mods[0] != 60 {
		t.Errorf("VARCHAR(50) → VARCHAR(60) latin1 should be in place: %+v", act)
	}
	if got := src[act.Span.Start:act.Span.End]; !strings.HasPrefix(got, "CHANGE name") || strings.Contains(got, "ALGORITHM") {
		t.Errorf("clause span %q", got)
	}
	if got := opts.Span; src[got.Start:got.End] != "ALGORITHM=NOCOPY" && src[got.Start:got.End] != "LOCK=NONE" {
		t.Errorf("options span %q", src[got.Start:got.End])
	}
	ix := find[*change.CreateIndex](st[2])
	if ix == nil || ix.Kind != change.IndexSpatial || find[*change.AlterOptions](st[2]).Lock != "NONE" {
		t.Errorf("spatial: %+v", ix)
	}
	if e := find[*change.AlterOptions](st[2]).Effect; e.Algorithm != "INPLACE" || e.Work != change.WorkRewrite || e.Blocks != change.BlocksWrites {
		t.Errorf("DROP + ADD PRIMARY KEY with a SPATIAL index: %+v", e)
	}
	if n := len(st[3].Changes); n != 2 {
		t.Errorf("RENAME TABLE a TO b, c TO d: %d changes", n)
	}
	if cc := find[*change.ConvertCharset](st[4]); cc == nil || cc.Charset != "utf8mb4" {
		t.Errorf("convert: %+v", cc)
	}
	var rewrites []string
	for _, ch := range st[4].Changes {
		if r, ok := ch.(*change.TableRewrite); ok {
			rewrites = append(rewrites, r.Action)
		}
	}
	if fmt.Sprint(rewrites) != "[ENGINE=InnoDB FORCE]" {
		t.Errorf("rewrites %v", rewrites)
	}
	if e := find[*change.AlterOptions](st[4]).Effect; e.Algorithm != "COPY" || e.Blocks != change.BlocksWrites || e.Request != "" {
		t.Errorf("CONVERT + FORCE: %+v", e)
	}
	if find[*change.TableRewrite](st[5]).Action != "OPTIMIZE TABLE" || find[*change.DropSchema](st[6]).Name != "app" {
		t.Error("OPTIMIZE / DROP DATABASE")
	}
	var params []string
	for _, ch := range st[7].Changes {
		if sp, ok := ch.(*change.SetParam); ok {
			params = append(params, sp.Name+"="+sp.Value)
		}
	}
	if fmt.Sprint(params) != "[lock_wait_timeout=5 foreign_key_checks=0]" {
		t.Errorf("SET: %v", params)
	}
	last := st[8]
	if find[*change.SetDefault](last) == nil || find[*change.RenameColumn](last) == nil || find[*change.AddColumn](last).Column.Position != "AFTER id" {
		t.Errorf("multi-clause ALTER: %+v", last.Changes)
	}
	// the table has a FULLTEXT index: no instant ADD COLUMN, and the rebuild
	// needs LOCK=SHARED (MariaDB 10.11: "Fulltext index creation requires a
	// lock. Try LOCK=SHARED")
	if e := find[*change.AlterOptions](last).Effect; e.Algorithm != "INPLACE" || e.Blocks != change.BlocksWrites || e.Request != "" {
		t.Errorf("MariaDB 10.11 SET DEFAULT + RENAME COLUMN + ADD COLUMN AFTER on a table with a FULLTEXT index: %+v", e)
	}
}

func TestPhysicsByVersion(t *testing.T) {
	for _, c := range []struct {
		target, stmt, alg string
		blocks            change.Blocks
		request           string
	}{
		{"8.0", "ALTER TABLE t ADD COLUMN c INT", "INPLACE", change.BlocksNothing, "ALGORITHM=INPLACE, LOCK=NONE"},
		{"8.0.12", "ALTER TABLE t ADD COLUMN c INT", "INSTANT", change.BlocksNothing, "ALGORITHM=INSTANT"},
		{"8.0.12", "ALTER TABLE t ADD COLUMN c INT AFTER b", "INPLACE", change.BlocksNothing, "ALGORITHM=INPLACE, LOCK=NONE"},
		{"8.0.29", "ALTER TABLE t ADD COLUMN c INT AFTER b", "INSTANT", change.BlocksNothing, "ALGORITHM=INSTANT"},
		{"8.0.28", "ALTER TABLE t DROP COLUMN c", "INPLACE", change.BlocksNothing, "ALGORITHM=INPLACE, LOCK=NONE"},
		{"8.0.29", "ALTER TABLE t DROP COLUMN c", "INSTANT", change.BlocksNothing, "ALGORITHM=INSTANT"},
		{"8.0.27", "ALTER TABLE t RENAME COLUMN a TO b", "INPLACE", change.BlocksNothing, "ALGORITHM=INPLACE, LOCK=NONE"},
		{"8.0.28", "ALTER TABLE t RENAME COLUMN a TO b", "INSTANT", change.BlocksNothing, "ALGORITHM=INSTANT"},
		{"8.4", "ALTER TABLE t DROP PRIMARY KEY", "COPY", change.BlocksWrites, ""},
		{"8.4", "ALTER TABLE t ADD INDEX i (a), ADD COLUMN c INT", "INPLACE", change.BlocksNothing, "ALGORITHM=INPLACE, LOCK=NONE"},
		{"8.4", "ALTER TABLE t ADD FULLTEXT INDEX f (a)", "INPLACE", change.BlocksWrites, ""},
		{"8.4", "ALTER TABLE t ADD COLUMN c INT, ALGORITHM=COPY", "COPY", change.BlocksWrites, "ALGORITHM=INSTANT"},
		{"8.4", "ALTER TABLE t ADD COLUMN c INT, LOCK=EXCLUSIVE", "INPLACE", change.BlocksReadsAndWrites, "ALGORITHM=INSTANT"},
		{"8.4", "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id)", "COPY", change.BlocksWrites, ""},
		{"5.7", "ALTER TABLE t ADD COLUMN c INT", "INPLACE", change.BlocksNothing, "ALGORITHM=INPLACE, LOCK=NONE"},
		{"mariadb-10.2", "ALTER TABLE t ADD COLUMN c INT", "INPLACE", change.BlocksNothing, "ALGORITHM=INPLACE, LOCK=NONE"},
		{"mariadb-10.3", "ALTER TABLE t ADD COLUMN c INT", "INSTANT", change.BlocksNothing, "ALGORITHM=INSTANT"},
		{"mariadb-10.3", "ALTER TABLE t DROP COLUMN c", "INPLACE", change.BlocksNothing, "ALGORITHM=INPLACE, LOCK=NONE"},
		{"mariadb-10.4", "ALTER TABLE t DROP COLUMN c", "INSTANT", change.BlocksNothing, "ALGORITHM=INSTANT"},
		{"mariadb-11.4", "ALTER TABLE t ADD INDEX i (a)", "NOCOPY", change.BlocksNothing, "ALGORITHM=INPLACE, LOCK=NONE"},
	} {
		st, _ := parseAll(t, c.target, c.stmt)
		o := find[*change.AlterOptions](st[0])
		if o == nil {
			t.Fatalf("%s: no options", c.stmt)
		}
		e := o.Effect
		if e.Algorithm != c.alg || e.Blocks != c.blocks || e.Request != c.request {
			t.Errorf("%s on %s: got %s blocks %s request %q, want %s blocks %s request %q", c.stmt, c.target, e.Algorithm, e.Blocks, e.Request, c.alg, c.blocks, c.request)
		}
	}
}

func TestVarcharLengthClasses(t *testing.T) {
	for _, c := range []struct {
		cs       string
		from, to int
		inPlace  bool
	}{
		{"utf8mb4", 50, 63, true}, {"utf8mb4", 63, 64, false}, {"utf8mb4", 64, 1000, true},
		{"utf8mb3", 85, 86, false}, {"utf8mb3", 10, 85, true}, {"latin1", 100, 255, true}, {"latin1", 255, 256, false},
		{"utf8mb4", 60, 50, false},
	} {
		src := fmt.Sprintf("CREATE TABLE t (v VARCHAR(%d) CHARACTER SET %s);\nALTER TABLE t MODIFY v VARCHAR(%d) CHARACTER SET %s;", c.from, c.cs, c.to, c.cs)
		st, _ := parseAll(t, "8.0.35", src)
		act := find[*change.AlterColumnType](st[1])
		if act.SameType != c.inPlace {
			t.Errorf("%s %d → %d: in place %v, want %v (%s)", c.cs, c.from, c.to, act.SameType, c.inPlace, act.Effect.Note)
		}
	}
}

func TestVersions(t *testing.T) {
	for _, c := range []struct{ in, text, flavor string }{
		{"", "MySQL 8.0 (taken as 8.0.11, its first GA release)", "mysql"},
		{"8.0.28", "MySQL 8.0.28", "mysql"},
		{"5.7", "MySQL 5.7 (taken as 5.7.9, its first GA release)", "mysql"},
		{"8.4", "MySQL 8.4.0", "mysql"},
		{"mysql-8.0.35", "MySQL 8.0.35", "mysql"},
		{"mariadb-10.11", "MariaDB 10.11", "mariadb"},
		{"MariaDB 11.4", "MariaDB 11.4", "mariadb"},
	} {
		d, err := New(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := d.Target(); got.Text != c.text || got.Flavor != c.flavor || got.Dialect != analyzer.MySQL {
			t.Errorf("%q: %+v", c.in, got)
		}
	}
	for _, bad := range []string{"8", "x.y", "4.1", "mariadb-5.5", "8.0.x", "14"} {
		if _, err := New(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestImplicitCommit(t *testing.T) {
	d, _ := New("")
	st, _ := parseAll(t, "", "INSERT INTO t VALUES (1); ALTER TABLE t ADD COLUMN c INT; SET foreign_key_checks = 0; CREATE TEMPORARY TABLE x (a INT); DROP TABLE t; SELECT 1")
	want := []bool{false, true, false, false, true, false}
	for i, s := range st {
		if got := d.CommitsImplicitly(s); got != want[i] {
			t.Errorf("statement %d (%s): commits implicitly %v, want %v", i, s.Kind, got, want[i])
		}
	}
	if d.MultiStatementTransaction() {
		t.Error("MySQL runs statements sent together each in their own transaction")
	}
}

// TestRenamePairSpans: each pair of RENAME TABLE a TO b, c TO d is its own
// change, placed at its pair.
func TestRenamePairSpans(t *testing.T) {
	src := "RENAME TABLE r1 TO r2, `db`.r3 TO db.r4;"
	st, _ := parseAll(t, "", src)
	var got []string
	for _, ch := range st[0].Changes {
		if r, ok := ch.(*change.RenameTable); ok {
			got = append(got, src[r.Span.Start:r.Span.End])
		}
	}
	if want := []string{"r1 TO r2", "`db`.r3 TO db.r4"}; !slices.Equal(got, want) {
		t.Errorf("spans %q, want %q", got, want)
	}
}
