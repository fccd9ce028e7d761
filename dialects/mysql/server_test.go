package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/analyzertest"
	"github.com/migsafe/migsafe/analyzer/catalog"
	"github.com/migsafe/migsafe/analyzer/engine"
)

// serverTarget is the version the real server test checks the Online DDL
// table against: the MariaDB the project's machines install.
const serverTarget = "mariadb-10.11"

// TestOnlineDDLAgainstMariaDB checks the Online DDL table against a real
// MariaDB 10.11: for every ALTER TABLE, CREATE INDEX and DROP INDEX of the
// MySQL rule fixtures, on tables with rows, it runs the statement with
// ALGORITHM=INSTANT and then with ALGORITHM=INPLACE, LOCK=NONE, and
// compares the server's answers (accepted, or refused with ERROR 1845/1846)
// with what migsafe predicts for --target-version mariadb-10.11. The
// fixtures' other statements are replayed as they are, so each statement
// meets the table its fixture left.
//
// A statement the server rejects outright fails the test, unless the line
// above it says "server: skip" (MySQL-only syntax); statements migsafe
// reports as syntax errors are not sent.
func TestOnlineDDLAgainstMariaDB(t *testing.T) {
	srv, db := mariadb.Server(t)
	schema, err := os.ReadFile(filepath.Join("testdata", "server_schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	files := fixtureFiles(t)
	d, err := New(serverTarget)
	if err != nil {
		t.Fatal(err)
	}
	var results []serverResult
	for i, file := range files {
		rel, _ := filepath.Rel(filepath.Join("..", ".."), file)
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			rs := checkFixture(t, db, d, file, schema, fmt.Sprintf("fx%d", i))
			results = append(results, rs...)
		})
	}
	// make-column-not-null: in strict mode MODIFY … NOT NULL fails on a
	// row that holds NULL (issue 12)
	t.Run("MODIFY NOT NULL fails on NULLs in strict mode", func(t *testing.T) {
		ctx := context.Background()
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, q := range []string{
			"SET SESSION sql_mode = 'STRICT_TRANS_TABLES'",
			"DROP DATABASE IF EXISTS nn", "CREATE DATABASE nn",
			"CREATE TABLE nn.a (id INT PRIMARY KEY, v INT NULL, w INT NULL)",
			"INSERT INTO nn.a VALUES (1, 1, 1), (2, NULL, 2)",
		} {
			if _, err := conn.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if _, err := conn.ExecContext(ctx, "ALTER TABLE nn.a MODIFY v INT NOT NULL"); err == nil {
			t.Error("MODIFY v INT NOT NULL succeeded on a table with a NULL in v")
		}
		if _, err := conn.ExecContext(ctx, "ALTER TABLE nn.a MODIFY w INT NOT NULL, ALGORITHM=INPLACE, LOCK=NONE"); err != nil {
			t.Errorf("MODIFY w INT NOT NULL, ALGORITHM=INPLACE, LOCK=NONE without NULLs: %v", err)
		}
		// CHANGE old new … NOT NULL is the same NOT NULL change, and a rename
		if _, err := conn.ExecContext(ctx, "ALTER TABLE nn.a CHANGE v v2 INT NOT NULL, ALGORITHM=INPLACE, LOCK=NONE"); err == nil {
			t.Error("CHANGE v v2 INT NOT NULL succeeded on a table with a NULL in v")
		}
		if _, err := conn.ExecContext(ctx, "UPDATE nn.a SET v = 0 WHERE v IS NULL"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "ALTER TABLE nn.a CHANGE v v2 INT NOT NULL, ALGORITHM=INPLACE, LOCK=NONE"); err != nil {
			t.Errorf("CHANGE v v2 INT NOT NULL, ALGORITHM=INPLACE, LOCK=NONE without NULLs: %v", err)
		}
		var cols int
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'nn' AND table_name = 'a' AND column_name = 'v2' AND is_nullable = 'NO'").Scan(&cols); err != nil || cols != 1 {
			t.Errorf("after CHANGE v v2 INT NOT NULL, a NOT NULL column v2: %d (%v)", cols, err)
		}
		// the old application's INSERT that leaves the column out fails
		// once it is NOT NULL (strong_migrations calls strict mode safe)
		if _, err := conn.ExecContext(ctx, "INSERT INTO nn.a (id, w) VALUES (3, 3)"); err == nil {
			t.Error("an INSERT without v2 succeeded after v2 became NOT NULL in strict mode")
		}
	})
	n, agree := 0, 0
	for _, r := range results {
		n++
		if r.agree() {
			agree++
		}
	}
	t.Logf("%d operations compared with %s (%s): %d agree", n, srv.Version, serverTarget, agree)
	// every operation of the Online DDL table is asked of the server by
	// at least one statement
	seen := map[op]bool{}
	for _, r := range results {
		for _, o := range r.ops {
			seen[o] = true
		}
	}
	for o := range opNames {
		if !seen[o] && !t.Failed() {
			t.Errorf("no statement of the MySQL fixtures asks the server about %s (add one to fixtures/rules)", opNames[o])
		}
	}
	if n < 40 {
		t.Errorf("only %d operations were compared with the server; the fixtures should exercise many more", n)
	}
	if testing.Verbose() {
		for _, r := range results {
			t.Logf("%s  %-60.60s  predicted %-14s server %s", r.where, r.stmt, probeName(r.pred), probeName(r.srv))
		}
	}
}

type serverResult struct {
	where, stmt string
	pred, srv   int  // levels of probes
	ops         []op // the Online DDL operations of the statement
}

func (r serverResult) agree() bool { return r.pred == r.srv }

func fixtureFiles(t *testing.T) []string {
	var out []string
	root := filepath.Join("..", "..", "fixtures", "rules")
	err := filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dir := filepath.Base(filepath.Dir(p))
		if !e.IsDir() && strings.HasPrefix(dir, "mysql") && (strings.HasSuffix(p, ".sql") || strings.HasSuffix(p, ".txtar")) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatal("no MySQL fixtures found")
	}
	return out
}

// lintForServer replays the fixture (after the server schema, for a .sql
// fixture) through migsafe, without rules: the statements come back with
// their sessions and effects.
func lintForServer(t *testing.T, d *Dialect, file string, schema []byte) (*engine.Result, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(file, ".txtar") {
		res, err := analyzertest.LintHistory(d, file, data, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res, false
	}
	files := []*analyzer.File{
		{Path: "server_schema.sql", Src: schema, Deploy: 0},
		{Path: filepath.ToSlash(file), Src: data, Lint: true, Deploy: 1},
	}
	res, err := engine.Run(context.Background(), files, engine.Options{Dialect: d})
	if err != nil {
		t.Fatal(err)
	}
	return res, true
}

var (
	optionRE = regexp.MustCompile(`(?i)\s*,?\s*\b(ALGORITHM|LOCK)\s*=?\s*(DEFAULT|INSTANT|INPLACE|COPY|NOCOPY|NONE|SHARED|EXCLUSIVE)\b`)
	onlineRE = regexp.MustCompile(`(?i)^ALTER\s+ONLINE\s+TABLE`)
)

// plain strips a statement's ALGORITHM= and LOCK= options.
func plain(s string) string {
	s = onlineRE.ReplaceAllString(s, "ALTER TABLE")
	s = optionRE.ReplaceAllString(s, "")
	return strings.TrimRight(strings.TrimSpace(s), ",")
}

// refusal reports whether the server refused the requested algorithm or
// lock (as opposed to rejecting the statement itself).
func refusal(err error) bool {
	var me *gomysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1845 || me.Number == 1846)
}

func checkFixture(t *testing.T, db *sql.DB, d *Dialect, file string, schema []byte, dbName string) []serverResult {
	res, withSchema := lintForServer(t, d, file, schema)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string) error { _, err := conn.ExecContext(ctx, q); return err }
	var done []string // the statements that made the current state
	reset := func() {
		for _, q := range []string{"SET SESSION foreign_key_checks = 1", "DROP DATABASE IF EXISTS " + dbName, "CREATE DATABASE " + dbName, "USE " + dbName} {
			if err := exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		for _, q := range done {
			if err := exec(q); err != nil {
				t.Fatalf("replaying %q: %v", q, err)
			}
		}
	}
	defer func() { _ = exec("DROP DATABASE IF EXISTS " + dbName) }()
	reset()
	var out []serverResult
	cat := catalog.New()
	for _, f := range res.Files {
		if f.Direction == analyzer.Down {
			continue
		}
		skips := skipLines(f)
		for _, s := range f.Stmts {
			text := plain(f.Text(s.Span))
			cls, opts := d.alterClauses(s, cat)
			for _, ch := range s.Changes {
				cat.Apply(ch, catalog.Origin{Path: f.Path, Deploy: f.Deploy, Stmt: s.Index})
			}
			line := f.Lines.Position(s.Span.Start).Line
			where := fmt.Sprintf("%s:%d", f.Path, line)
			switch {
			case s.SyntaxError != nil:
				continue
			case skips[line-1]:
				t.Logf("%s: not sent to the server (server: skip)", where)
				continue
			case f.Path == "server_schema.sql" && withSchema:
				if err := exec(text); err != nil {
					t.Fatalf("server schema: %s: %v", text, err)
				}
				done = append(done, text)
				continue
			}
			if opts == nil || len(cls) == 0 {
				if err := exec(text); err != nil {
					t.Errorf("%s: the server rejects the statement itself: %v\n%s", where, err, text)
					return out
				}
				done = append(done, text)
				continue
			}
			r := serverResult{where: where, stmt: strings.Join(strings.Fields(text), " "), pred: predicted(cls), srv: -1}
			for _, c := range cls {
				r.ops = append(r.ops, c.op)
			}
			// the cheapest ALGORITHM=/LOCK= the server accepts: a refused
			// request changes nothing, an accepted one has run
			ptext, pkind := probeForm(text, s)
			for level, p := range probes {
				q := withProbe(ptext, pkind, p.alg, p.lock)
				err := exec(q)
				if err == nil {
					r.srv = level
					break
				}
				if refusedOutright(err) {
					r.srv = len(probes)
					break
				}
				if !refusal(err) {
					t.Errorf("%s: the server rejects the statement itself: %v\n%s", where, err, q)
					return out
				}
			}
			if r.srv < 0 {
				t.Errorf("%s: the server refuses every algorithm for the statement\n%s", where, text)
				return out
			}
			if r.srv < len(probes) {
				done = append(done, text)
			}
			if !r.agree() {
				t.Errorf("%s: %s\n\tmigsafe (%s) predicts %s; the server runs it with %s",
					where, r.stmt, serverTarget, probeName(r.pred), probeName(r.srv))
			}
			out = append(out, r)
		}
	}
	return out
}

// skipLines returns the lines holding a "server: skip" comment.
func skipLines(f *analyzer.File) map[int]bool {
	out := map[int]bool{}
	for _, c := range f.Comments {
		if strings.Contains(c.Text, "server: skip") {
			out[f.Lines.Position(c.Span.Start).Line] = true
		}
	}
	return out
}
