package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/catalog"
	"github.com/migsafe/migsafe/analyzer/change"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/migrations"
)

// replayCorpus is the shared corpus of real migrations: $MIGSAFE_CORPUS,
// else ../shared/corpus next to the repository; the replay is skipped
// where it is absent.
func replayCorpus() string {
	if d := os.Getenv("MIGSAFE_CORPUS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "corpus")
}

// replayThreshold is the share of checkable statements on which migsafe
// must agree with the server (on MariaDB 10.11.19 it agrees on all 1,341;
// a disagreement is logged with the statement). The statements that
// cannot be checked are counted by reason (notCheckable).
const replayThreshold = 0.995

// probes are the ways the replay asks the server to run a statement, from
// the cheapest: the first the server accepts is what it can do.
var probes = []struct {
	alg, lock string
}{
	{"INSTANT", ""},
	{"NOCOPY", "NONE"},
	{"INPLACE", "NONE"},
	{"NOCOPY", "SHARED"},
	{"INPLACE", "SHARED"},
	{"COPY", ""},
}

func probeName(level int) string {
	if level < 0 || level >= len(probes) {
		return "fails"
	}
	p := probes[level]
	if p.lock == "" {
		return p.alg
	}
	return p.alg + "/" + p.lock
}

// predictedLevel is the probe that migsafe's combined capability for a
// statement corresponds to.
func predictedLevel(c row) int {
	switch {
	case c.alg == instant:
		return 0
	case c.alg == inplace && !c.rebuild && c.dml:
		return 1
	case c.alg == inplace && c.dml:
		return 2
	case c.alg == inplace && !c.rebuild:
		return 3
	case c.alg == inplace:
		return 4
	}
	return 5
}

// predicted is the level migsafe predicts for a statement's clauses:
// len(probes) when it says the server refuses the statement outright.
func predicted(cls []*clause) int {
	for _, c := range cls {
		if c.note == collationFKNote {
			return len(probes)
		}
	}
	_, comb, _ := combine(cls)
	return predictedLevel(comb)
}

// refusedOutright reports whether the server refuses the statement itself
// for a reason migsafe predicts (a collation change of a foreign key's
// column).
func refusedOutright(err error) bool {
	n := errNumber(err)
	return n == 1832 || n == 1833
}

// kindOf groups a statement for the report by its most telling clause.
func kindOf(stmtKind string, cls []*clause) string {
	switch stmtKind {
	case "CREATE INDEX":
		return "CREATE INDEX"
	case "DROP INDEX":
		return "DROP INDEX"
	}
	rank := func(o op) (int, string) {
		switch o {
		case opConvertCharset:
			return 9, "CONVERT TO CHARACTER SET"
		case opChangeType, opCharsetUtf8mb4, opExtendVarchar, opEnumAppend, opMakeNull, opMakeNotNull, opReorderColumn, opRenameColumn:
			return 8, "MODIFY/CHANGE"
		case opAddPrimaryKey, opDropPrimaryKey, opReplacePrimaryKey:
			return 7, "primary keys"
		case opAddForeignKey, opAddForeignKeyNoCheck, opDropForeignKey, opAddCheck, opDropCheck:
			return 6, "foreign keys and checks"
		case opDropColumn, opDropColumnVirtual:
			return 5, "DROP COLUMN"
		case opAddColumn, opAddColumnPositioned, opAddColumnAutoInc, opAddColumnStored, opAddColumnVirtual, opAddColumnExprDefault, opAddColumnVolatileDflt:
			return 4, "ADD COLUMN"
		case opAddIndex, opAddFulltext, opAddSpatial:
			return 3, "ADD INDEX"
		case opDropIndex:
			return 2, "DROP INDEX"
		}
		return 1, "other ALTER TABLE"
	}
	best, name := 0, "other ALTER TABLE"
	for _, c := range cls {
		if _, ok := c.ch.(*change.ConvertCharset); ok {
			return "CONVERT TO CHARACTER SET"
		}
		if r, n := rank(c.op); r > best {
			best, name = r, n
		}
	}
	return name
}

// replayResult is one probed statement.
type replayResult struct {
	where, stmt, kind string
	predicted, server int
}

// TestCorpusAgainstMariaDB replays every MySQL history of the corpus
// (*/mysql, with the Ory projects' */any files as popx picks them) into a
// fresh database on a real MariaDB 10.11, in migsafe's order. Before the
// first change to a table it inserts a row; every ALTER TABLE, CREATE
// INDEX and DROP INDEX is then run with the cheapest ALGORITHM=/LOCK= the
// server accepts (INSTANT, NOCOPY/NONE, INPLACE/NONE, NOCOPY/SHARED,
// INPLACE/SHARED, COPY: a refused request changes nothing, an accepted
// one has run the statement), and that answer is compared with migsafe's
// prediction for --target-version mariadb-10.11. The agreement is
// reported per statement kind; it must reach replayThreshold.
func TestCorpusAgainstMariaDB(t *testing.T) {
	projects, _ := filepath.Glob(filepath.Join(replayCorpus(), "*", "mysql"))
	if len(projects) == 0 {
		t.Skipf("no corpus at %s", replayCorpus())
	}
	sort.Strings(projects)
	srv, admin := mariadb.Server(t)
	d, err := New(serverTarget)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var all []replayResult
	unchecked := map[string]int{}
	for _, dir := range projects {
		project := filepath.Base(filepath.Dir(dir))
		t.Run(project, func(t *testing.T) {
			rs, un := replayProject(t, admin, d, project)
			all = append(all, rs...)
			for k, n := range un {
				unchecked[k] += n
			}
		})
	}
	type tally struct{ n, agree int }
	kinds := map[string]*tally{}
	var names []string
	total := tally{}
	var disagree []replayResult
	for _, r := range all {
		k := kinds[r.kind]
		if k == nil {
			k = &tally{}
			kinds[r.kind] = k
			names = append(names, r.kind)
		}
		k.n++
		total.n++
		if r.predicted == r.server {
			k.agree++
			total.agree++
		} else {
			disagree = append(disagree, r)
		}
	}
	sort.Strings(names)
	t.Logf("corpus replayed on %s in %s: %d statements probed, migsafe (%s) agrees on %d (%.1f%%)",
		srv.Version, time.Since(start).Round(time.Second), total.n, serverTarget, total.agree, 100*float64(total.agree)/float64(max(total.n, 1)))
	for _, n := range names {
		t.Logf("  %-26s %4d/%-4d", n, kinds[n].agree, kinds[n].n)
	}
	var uk []string
	for k := range unchecked {
		uk = append(uk, k)
	}
	sort.Strings(uk)
	for _, k := range uk {
		t.Logf("  not checkable: %4d  %s", unchecked[k], k)
	}
	for _, r := range disagree {
		t.Logf("  disagreement: %s: %s: migsafe predicts %s, the server runs %s\n\t%.200s", r.where, r.kind, probeName(r.predicted), probeName(r.server), r.stmt)
	}
	if total.n < 500 && os.Getenv("MIGSAFE_CORPUS") == "" {
		t.Errorf("only %d statements were probed; the corpus has far more", total.n)
	}
	if rate := float64(total.agree) / float64(max(total.n, 1)); rate < replayThreshold {
		t.Errorf("migsafe agrees with the server on %.2f%% of the probed statements; want at least %.1f%%", 100*rate, 100*replayThreshold)
	}
}

// replaySources are a project's MySQL files in popx's or the project's
// order: the mysql folder, and for Ory the dialect-neutral any folder.
func replaySources(t *testing.T, project string) []*analyzer.File {
	var srcs []migrations.Source
	for _, sub := range []string{"mysql", "any"} {
		paths, _ := filepath.Glob(filepath.Join(replayCorpus(), project, sub, "*.sql"))
		for _, p := range paths {
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			src = []byte(strings.TrimPrefix(string(src), "\xef\xbb\xbf"))
			rel, _ := filepath.Rel(replayCorpus(), p)
			srcs = append(srcs, migrations.Source{Path: filepath.ToSlash(rel), Src: src})
		}
	}
	set := migrations.Build(srcs, migrations.Options{Dialect: analyzer.MySQL})
	var out []*analyzer.File
	for _, f := range set.Parts() {
		if f.Direction != analyzer.Down {
			out = append(out, f)
		}
	}
	return out
}

// dataErrors are the errors of a statement the server accepted with the
// requested algorithm but could not run on the rows it found (the row
// the replay inserted, not the migration's data).
var dataErrors = map[uint16]bool{
	1062: true, // duplicate entry
	1138: true, // invalid use of NULL value
	1264: true, // out of range
	1265: true, // data truncated
	1292: true, // incorrect value
	1366: true, // incorrect value
	1406: true, // data too long
	1452: true, // foreign key fails
	4025: true, // CHECK fails
}

func errNumber(err error) uint16 {
	var me *gomysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

func replayProject(t *testing.T, admin *sql.DB, d *Dialect, project string) ([]replayResult, map[string]int) {
	files := replaySources(t, project)
	res, err := engine.Run(context.Background(), files, engine.Options{Dialect: d})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := admin.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dbName := "replay_" + strings.NewReplacer("-", "_").Replace(project)
	exec := func(q string) error { _, err := conn.ExecContext(ctx, q); return err }
	for _, q := range []string{"DROP DATABASE IF EXISTS " + dbName, "CREATE DATABASE " + dbName, "USE " + dbName} {
		if err := exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	defer func() { _ = exec("DROP DATABASE IF EXISTS " + dbName) }()
	filled := map[string]bool{}
	fill := func(table change.QName) {
		k := strings.ToLower(table.String())
		if filled[k] {
			return
		}
		filled[k] = true
		_ = exec("SET @replay_fk = @@foreign_key_checks, @replay_mode = @@sql_mode")
		_ = exec("SET foreign_key_checks = 0, sql_mode = ''")
		_ = exec("INSERT INTO " + quoteName(table) + " () VALUES ()")
		_ = exec("SET foreign_key_checks = @replay_fk, sql_mode = @replay_mode")
	}
	empty := func(table change.QName) {
		_ = exec("SET @replay_fk = @@foreign_key_checks")
		_ = exec("SET foreign_key_checks = 0")
		_ = exec("DELETE FROM " + quoteName(table))
		_ = exec("SET foreign_key_checks = @replay_fk")
	}
	// diverged are the tables a failed statement left other than migsafe
	// models them
	diverged := map[string]bool{}
	diverge := func(s *analyzer.Statement) {
		for _, ch := range s.Changes {
			switch ch.(type) {
			case *change.DML, *change.Other, *change.SetParam, *change.Transaction:
				continue
			}
			if q := tableOf(ch); q.Name != "" {
				diverged[strings.ToLower(q.String())] = true
			}
			if ct, ok := ch.(*change.CreateTable); ok {
				diverged[strings.ToLower(ct.Table.String())] = true
			}
		}
	}
	var out []replayResult
	unchecked := map[string]int{}
	cat := catalog.New()
	for _, f := range res.Files {
		// each migration on a session in its defaults
		_ = exec("SET SESSION foreign_key_checks = 1, sql_mode = DEFAULT")
		for _, s := range f.Stmts {
			raw := f.Text(s.Span)
			text := plain(raw)
			var cls []*clause
			var opts *change.AlterOptions
			if s.SyntaxError == nil {
				cls, opts = d.alterClauses(s, cat)
			}
			for _, ch := range s.Changes {
				cat.Apply(ch, catalog.Origin{Path: f.Path, Deploy: f.Deploy, Stmt: s.Index})
			}
			where := fmt.Sprintf("%s:%d", f.Path, f.Lines.Position(s.Span.Start).Line)
			if opts != nil && len(cls) > 0 && diverged[strings.ToLower(opts.Table.String())] {
				// an earlier statement on the table failed on the server, so
				// the server's table is not the one migsafe models
				unchecked["an earlier statement on the table failed on the server"]++
				_ = exec(raw)
				continue
			}
			if opts == nil || len(cls) == 0 {
				if err := exec(raw); err != nil {
					if isAlterKind(s.Kind) {
						unchecked[errClass(err)]++
					}
					if errClass(err) == "" && !isDML(s) {
						t.Errorf("%s: the server rejects the statement for a reason not in notCheckable: %v\n\t%.200s", where, err, strings.Join(strings.Fields(raw), " "))
					}
					diverge(s)
					if os.Getenv("REPLAY_DEBUG") != "" {
						t.Logf("%s: %v\n\t%.200s", where, err, strings.Join(strings.Fields(raw), " "))
					}
				}
				continue
			}
			fill(opts.Table)
			r := replayResult{where: where, stmt: strings.Join(strings.Fields(text), " "), kind: kindOf(s.Kind, cls),
				predicted: predicted(cls), server: -1}
			var last error
			ptext, pkind := probeForm(text, s)
			for level, p := range probes {
				err := exec(withProbe(ptext, pkind, p.alg, p.lock))
				if err == nil {
					r.server = level
					break
				}
				if refusal(err) {
					continue
				}
				if dataErrors[errNumber(err)] {
					// accepted; the inserted row does not fit: run it on an
					// empty table, and fill the table again later
					empty(opts.Table)
					delete(filled, strings.ToLower(opts.Table.String()))
					if err := exec(withProbe(ptext, pkind, p.alg, p.lock)); err == nil {
						r.server = level
					}
					break
				}
				if refusedOutright(err) {
					r.server = len(probes)
					diverge(s)
				}
				last = err
				break
			}
			if r.server < 0 {
				if last == nil {
					last = errors.New("every algorithm refused")
				}
				unchecked[errClass(last)]++
				if errClass(last) == "" {
					t.Errorf("%s: the server rejects the statement for a reason not in notCheckable: %v\n\t%.200s", where, last, r.stmt)
				}
				if os.Getenv("REPLAY_DEBUG") != "" {
					t.Logf("%s: %v\n\t%.200s", where, last, r.stmt)
				}
				// keep the state going as far as the server lets it
				if exec(raw) != nil {
					diverge(s)
				}
				continue
			}
			if os.Getenv("REPLAY_DEBUG") != "" {
				t.Logf("%s: predicted %s, server %s: %.150s", where, probeName(r.predicted), probeName(r.server), r.stmt)
			}
			out = append(out, r)
		}
	}
	return out, unchecked
}

// notCheckable are the reasons the server gives for not running a
// statement of the corpus, so that its algorithm cannot be compared: each
// is the corpus's, not migsafe's. The replay fails on any other.
var notCheckable = map[uint16]string{
	1146: "ERROR 1146: the table is in the base schema that flowable's upgrade steps assume and the corpus lacks",
	1005: "ERROR 1005: a foreign key to a table of flowable's missing base schema",
	1060: "ERROR 1060: a flowable upgrade step (cam*, 5.x history) re-adds a column another step of the folder added",
	1091: "ERROR 1091: a flowable upgrade step drops a column another step of the folder already dropped",
	1050: "ERROR 1050: a flowable upgrade step (cam*) creates a table another step of the folder created",
	1051: "ERROR 1051: a flowable upgrade step drops a table of its missing base schema",
	1064: "ERROR 1064: syntax MariaDB rejects (temporal's JSON ->, flowable's 'execute java' lines)",
	1901: "ERROR 1901: MariaDB cannot index kratos's CASE expression in a generated column (MySQL can)",
}

// errClass names an error for the unchecked tally; "" when the error is
// not a known reason.
func errClass(err error) string {
	if why, ok := notCheckable[errNumber(err)]; ok {
		return why
	}
	return ""
}

func quoteName(q change.QName) string {
	s := "`" + strings.ReplaceAll(q.Name, "`", "``") + "`"
	if q.Schema != "" {
		s = "`" + strings.ReplaceAll(q.Schema, "`", "``") + "`." + s
	}
	return s
}

// isDML reports whether a statement only reads or writes rows (the
// corpus's data fixes may fail on the row the replay inserted).
func isDML(s *analyzer.Statement) bool {
	for _, ch := range s.Changes {
		switch ch.(type) {
		case *change.DML, *change.Other, *change.SetParam, *change.Transaction:
		default:
			return false
		}
	}
	return true
}

// probeForm is the statement in the form that takes ALGORITHM= and LOCK=
// on MariaDB: DROP INDEX i ON t becomes ALTER TABLE t DROP INDEX i.
func probeForm(text string, s *analyzer.Statement) (string, string) {
	if s.Kind != "DROP INDEX" {
		return text, s.Kind
	}
	for _, ch := range s.Changes {
		if x, ok := ch.(*change.DropIndex); ok && x.Table != nil {
			ifExists := ""
			if x.IfExists {
				ifExists = "IF EXISTS "
			}
			return "ALTER TABLE " + quoteName(*x.Table) + " DROP INDEX " + ifExists + "`" + strings.ReplaceAll(x.Name.Name, "`", "``") + "`", "ALTER TABLE"
		}
	}
	return text, s.Kind
}

// withProbe adds ALGORITHM= and LOCK= to a stripped ALTER TABLE, CREATE
// INDEX or DROP INDEX.
func withProbe(stmt, kind, alg, lock string) string {
	sep := " "
	if kind == "ALTER TABLE" {
		sep = ", "
	}
	s := stmt + sep + "ALGORITHM=" + alg
	if lock != "" {
		s += sep + "LOCK=" + lock
	}
	return s
}
