// Package scaffold writes the migrations of an expand-contract change
// (rename a column, change its type, drop it) in the layout a migration
// directory already uses, each with its down migration, and the order to
// ship them in with the application's steps between deploys.
package scaffold

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/catalog"
	"github.com/migsafe/migsafe/analyzer/change"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/migrations"
	"github.com/migsafe/migsafe/lint"
)

// scaffold builds the migrations of one change.
type scaffold struct {
	dialect string
	parser  analyzer.Dialect // to tell the names that must be quoted
	layout  migrations.Layout
	cat     *catalog.Catalog
	typ     string // --type
	batch   int
	minAge  time.Duration // migrations.min-deprecation-age
	out     []migrations.NewMigration
	plan    []planItem // the deploys and the application steps, in order
}

// planItem is a deploy of the plan (indexes into out) or an application
// step of the checklist.
type planItem struct {
	deploy []int
	app    string
}

func (sc *scaffold) deploy(migs ...int) { sc.plan = append(sc.plan, planItem{deploy: migs}) }

func (sc *scaffold) app(steps ...string) {
	for _, st := range steps {
		sc.plan = append(sc.plan, planItem{app: st})
	}
}

// wait is the checklist item between the deprecation and the drop.
func (sc *scaffold) wait(col string) string {
	if sc.minAge <= 0 {
		return "wait until no running or rollback-target version uses " + col + " (migrations.min-deprecation-age is 0)"
	}
	return "wait at least " + analyzer.FormatAge(sc.minAge) + " (migrations.min-deprecation-age) with no running or rollback-target version using " + col
}

// block wraps a statement whose body holds semicolons (a PL/pgSQL function
// or DO block, a MySQL procedure) the way the layout's tool needs to run
// it as one statement: goose splits at every line ending in a semicolon
// unless told otherwise, and a plain file on MySQL is run by the mysql
// client, which needs another delimiter.
func (sc *scaffold) block(stmt string) string {
	switch {
	case sc.layout == migrations.Goose:
		return "-- +goose StatementBegin\n" + stmt + "-- +goose StatementEnd\n"
	case sc.layout == migrations.Plain && !sc.pg():
		return "DELIMITER //\n" + strings.TrimSuffix(stmt, ";\n") + "//\nDELIMITER ;\n"
	}
	return stmt
}

// Options say which change to write and where.
type Options struct {
	// Dir is the migration directory to write into, relative to the
	// settings' Dir; its layout and history are read.
	Dir string
	// Change is rename-column (Args: TABLE OLD NEW), change-column-type
	// (TABLE COLUMN TYPE) or drop-column (TABLE COLUMN).
	Change string
	Args   []string
	// Type is the column's current type, when the migrations do not say.
	Type string
	// BatchSize is the number of rows per committed batch of a backfill.
	BatchSize int
}

// Plan is what Build wrote: the files in the directory's layout and the
// order to ship them in, with the application's steps between deploys.
type Plan struct {
	Dir    string // the directory, joined with the settings' Dir
	Layout migrations.Layout
	Files  []migrations.File
	Steps  []Step
}

// Step is a deploy (the names of its files) or an application step of
// the checklist.
type Step struct {
	Files []string // a deploy, when not nil
	App   string
}

// Deploys counts the deploys of the plan.
func (p *Plan) Deploys() int {
	n := 0
	for _, st := range p.Steps {
		if st.Files != nil {
			n++
		}
	}
	return n
}

// Changes are the changes Build writes, with the number of arguments each
// takes.
var Changes = map[string]int{"rename-column": 3, "change-column-type": 3, "drop-column": 2}

// Build writes, in the layout the directory already uses (golang-migrate
// when it is empty), the migrations of an expand-contract change, each
// with its down migration, after the directory's last version. It reads
// the directory's history (without git) for the columns' types; it writes
// nothing to disk.
func Build(ctx context.Context, s *lint.Settings, o Options) (*Plan, error) {
	layout, err := s.Layout()
	if err != nil {
		return nil, err
	}
	var build func(*scaffold, []string) error
	switch o.Change {
	case "rename-column":
		build = (*scaffold).renameColumn
	case "change-column-type":
		build = (*scaffold).changeColumnType
	case "drop-column":
		build = (*scaffold).dropColumn
	default:
		return nil, fmt.Errorf("unknown change %q: want rename-column, change-column-type or drop-column", o.Change)
	}
	if len(o.Args) != Changes[o.Change] {
		return nil, fmt.Errorf("%s takes %d arguments", o.Change, Changes[o.Change])
	}
	dir := o.Dir
	full := dir
	if !filepath.IsAbs(full) {
		full = filepath.Join(s.Dir, dir)
	}
	if st, err := os.Stat(full); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("--dir %s: not a directory", dir)
	}
	set := &migrations.Set{Layout: layout}
	cat := catalog.New()
	hs, err := lint.LoadHistory(ctx, s.WithoutGit(), dir)
	var several *lint.SeveralHistoriesError
	switch {
	case errors.As(err, &several):
		return nil, fmt.Errorf("--dir %s: holds %d migration histories; point --dir at one directory", dir, several.N)
	case err != nil:
		return nil, err
	}
	if hs != nil {
		for _, f := range hs.Parts {
			f.Lint = false
		}
		res, err := engine.Run(ctx, hs.Parts, engine.Options{Dialect: s.Dialect, History: hs.Deploys})
		if err != nil {
			return nil, err
		}
		set, cat = hs.Set, res.Catalog
	}
	if set.Layout == migrations.Auto {
		set.Layout = migrations.GolangMigrate
	}
	sc := &scaffold{dialect: s.Dialect.Name(), parser: s.Dialect, layout: set.Layout, cat: cat, batch: o.BatchSize, minAge: s.MinimumAge()}
	if sc.batch <= 0 {
		return nil, errors.New("--batch-size must be positive")
	}
	args, err := sc.arguments(ctx, o.Change, o.Args)
	if err != nil {
		return nil, err
	}
	if o.Type != "" {
		if sc.typ, err = sc.parseType(ctx, o.Type); err != nil {
			return nil, err
		}
	}
	if err := build(sc, args); err != nil {
		return nil, err
	}
	p := &Plan{Dir: full, Layout: set.Layout, Files: set.Files(sc.out, s.Now)}
	var names []string
	for _, f := range p.Files {
		names = append(names, f.Name)
	}
	if err := checkNames(dir, names); err != nil {
		return nil, err
	}
	if err := verify(ctx, s, hs, set.Layout, dir, p); err != nil {
		return nil, err
	}
	// the checklist: which files ship in which deploy, and the
	// application's steps between them
	for _, it := range sc.plan {
		if it.deploy == nil {
			p.Steps = append(p.Steps, Step{App: it.app})
			continue
		}
		names := []string{}
		for _, f := range p.Files {
			if slices.Contains(it.deploy, f.Migration) {
				names = append(names, f.Name)
			}
		}
		p.Steps = append(p.Steps, Step{Files: names})
	}
	return p, nil
}

// column returns the column's current type from the history or --type.
func (sc *scaffold) column(table, col string) (change.QName, string, error) {
	q, err := sc.qname(table)
	if err != nil {
		return q, "", err
	}
	t := sc.cat.Table(q)
	if t != nil {
		// as the history spells it: a table created as "Users" is not users
		q = t.Name
	}
	if t != nil && !t.Origin.Base && t.Column(col) == nil {
		// the history created the table: it knows every column
		var names []string
		for _, c := range t.Columns {
			names = append(names, c.Name)
		}
		msg := fmt.Sprintf("%s has no column %s", q, col)
		if sug := analyzer.Suggest(col, names); sug != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", sug)
		}
		return q, "", errors.New(msg)
	}
	if sc.typ != "" {
		return q, sc.typ, nil
	}
	if t != nil {
		if c := t.Column(col); c != nil && c.Type.String() != "" {
			return q, c.Type.String(), nil
		}
	}
	if t == nil {
		var names []string
		for _, tb := range sc.cat.Tables() {
			names = append(names, tb.Name.String())
		}
		if sug := analyzer.Suggest(q.String(), names); sug != "" {
			return q, "", fmt.Errorf("the migrations create no table %s (did you mean %s?); pass --type if it exists outside them", q, sug)
		}
		return q, "", fmt.Errorf("the migrations create no table %s; pass --type if it exists outside them", q)
	}
	return q, "", fmt.Errorf("the migrations do not say what type %s.%s has: pass --type", table, col)
}

// free checks that the new column of a replacement can be added.
func (sc *scaffold) free(table, old, newCol string) error {
	if strings.EqualFold(old, newCol) {
		return fmt.Errorf("%s.%s: the new name is the old one", table, old)
	}
	q, _, _ := sc.column(table, old)
	if t := sc.cat.Table(q); t != nil && t.Column(newCol) != nil {
		return fmt.Errorf("%s already has a column %s", q, newCol)
	}
	return nil
}

// canonical returns the column's name as the history spells it (Name on
// the command line for a column created as name), or col when the history
// does not know it.
func (sc *scaffold) canonical(table, col string) string {
	q, _, _ := sc.column(table, col)
	if t := sc.cat.Table(q); t != nil {
		if c := t.Column(col); c != nil {
			return c.Name
		}
	}
	return col
}

// notNull reports whether the history says the column is NOT NULL.
func (sc *scaffold) notNull(q change.QName, col string) bool {
	if t := sc.cat.Table(q); t != nil {
		if c := t.Column(col); c != nil {
			return c.NotNull
		}
	}
	return false
}

// restoreNotNull puts back a NOT NULL the change removed, in a rollback.
// The not-null rule is suppressed with the reason (a rollback restores a
// constraint); on MySQL, !suppress also covers multiple-alter-same-table,
// for a down that alters the table again right after re-adding the column.
func (sc *scaffold) restoreNotNull(q change.QName, col, typ string, suppress bool) string {
	if !sc.notNull(q, col) {
		return ""
	}
	stmt := fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s SET NOT NULL;\n", sc.tbl(q), sc.id(col))
	if !sc.pg() {
		stmt = fmt.Sprintf("ALTER TABLE %s MODIFY %s %s NOT NULL;\n", sc.tbl(q), sc.id(col), typ)
	}
	rule := "set-not-null"
	if !sc.pg() {
		rule = "make-column-not-null"
		if !suppress {
			rule += ",multiple-alter-same-table"
		}
	}
	return "-- migsafe:ignore " + rule + " a rollback restores the constraint the change removed; it fails if rows without a value were written since: fill them first\n" + stmt
}

func (sc *scaffold) pg() bool { return sc.dialect != analyzer.MySQL }

// id renders an identifier for the SQL written: as is when it reads as
// one, else quoted (a keyword such as order or user, capitals on
// PostgreSQL, other characters).
func (sc *scaffold) id(name string) string {
	if sc.plainName(name) {
		return name
	}
	if sc.pg() {
		return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
	}
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// plainName reports whether name can be written unquoted: identifier
// characters (lower case on PostgreSQL, which folds unquoted names), and
// accepted by the dialect's parser as a column and table name where the
// scaffold writes one.
func (sc *scaffold) plainName(name string) bool {
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, r := range name {
		ok := r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || !sc.pg() && (r >= 'A' && r <= 'Z' || r == '$')
		if !ok {
			return false
		}
	}
	if sc.parser == nil {
		return true
	}
	probe := fmt.Sprintf("SELECT %[1]s FROM %[1]s WHERE %[1]s IS NULL;\nUPDATE %[1]s SET %[1]s = %[1]s;\nALTER TABLE %[1]s DROP COLUMN %[1]s;\n", name)
	stmts, _ := sc.parser.Parse([]byte(probe), analyzer.Span{Start: 0, End: len(probe)})
	for _, st := range stmts {
		if st.SyntaxError != nil {
			return false
		}
	}
	return len(stmts) == 3
}

// tbl renders a table name for the SQL written, each part as id does.
func (sc *scaffold) tbl(q change.QName) string {
	if q.Schema != "" {
		return sc.id(q.Schema) + "." + sc.id(q.Name)
	}
	return sc.id(q.Name)
}

func (sc *scaffold) add(m migrations.NewMigration) int {
	sc.out = append(sc.out, m)
	return len(sc.out) - 1
}

func (sc *scaffold) lockTimeout() string {
	if sc.pg() {
		return "SET lock_timeout = '5s';\n"
	}
	return "SET SESSION lock_wait_timeout = 5;\n"
}

// replace writes the migrations that replace table.old by table.new of
// type newType: expand (+ sync trigger), backfill, deprecate, contract.
func (sc *scaffold) replace(tableArg, old, newCol, newType, oldType, title string) error {
	q, _, err := sc.column(tableArg, old)
	if err != nil {
		return err
	}
	t := q.String()
	// T, O and N are the table and the two columns as the SQL names them
	T, O, N := sc.tbl(q), sc.id(old), sc.id(newCol)
	conv := func(src, to string) string {
		if newType == oldType || !sc.pg() {
			return src // MySQL converts on assignment
		}
		return fmt.Sprintf("CAST(%s AS %s)", src, to)
	}
	toNew, toOld := conv(O, newType), conv(N, oldType)
	fn := sc.id(strings.ReplaceAll(q.Name, ".", "_") + "_" + old + "_" + newCol + "_sync")
	trigger := ""
	dropTrigger := ""
	if sc.pg() {
		body := fmt.Sprintf(`
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.%[1]s IS NULL THEN NEW.%[1]s := %[3]s; END IF;
    IF NEW.%[2]s IS NULL THEN NEW.%[2]s := %[4]s; END IF;
  ELSIF NEW.%[1]s IS DISTINCT FROM OLD.%[1]s THEN
    NEW.%[2]s := %[4]s;
  ELSIF NEW.%[2]s IS DISTINCT FROM OLD.%[2]s THEN
    NEW.%[1]s := %[3]s;
  END IF;
  RETURN NEW;
END `, N, O, conv("NEW."+O, newType), conv("NEW."+N, oldType))
		// a name holding $$ must not end the body early
		tag := dollarTag(body)
		trigger = "-- Until the old column is dropped, old and new application versions run side\n-- by side: this trigger keeps both columns in step whichever one a version writes.\n" + sc.block(fmt.Sprintf("CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS %s%s%s;\n", fn, tag, body, tag)) +
			fmt.Sprintf("CREATE TRIGGER %[1]s BEFORE INSERT OR UPDATE ON %[2]s FOR EACH ROW EXECUTE FUNCTION %[1]s();\n", fn, T)
		dropTrigger = fmt.Sprintf("DROP TRIGGER %s ON %s;\nDROP FUNCTION %s();\n", fn, T, fn)
	}
	expand := sc.add(migrations.NewMigration{
		Title: "expand_" + slug(q.Name) + "_" + slug(newCol),
		Up:    fmt.Sprintf("-- %s, step 1 of 6: add %s.%s next to %s.\n%sALTER TABLE %s ADD COLUMN %s %s;\n%s", title, t, newCol, old, sc.lockTimeout(), T, N, newType, trigger),
		Down:  fmt.Sprintf("%s%sALTER TABLE %s DROP COLUMN %s;\n", sc.lockTimeout(), dropTrigger, T, N),
	})
	backfill := sc.add(migrations.NewMigration{
		Title: "backfill_" + slug(q.Name) + "_" + slug(newCol),
		Up:    sc.backfill(q, newCol, old, toNew),
		Down:  "-- nothing to undo: the expand migration's down drops the column\nSELECT 1;\n",
		NoTx:  true,
	})
	relax := -1
	if r, ok := sc.relax(q, old, oldType); ok && !sc.pg() {
		// no trigger fills the old column once the application stops
		// writing it: inserts must be able to leave it out
		relax = sc.add(r)
	}
	deprecate := sc.add(sc.deprecation(q, old, "replaced by "+newCol))
	restore := fmt.Sprintf("%sALTER TABLE %s ADD COLUMN %s %s;\n", sc.lockTimeout(), T, O, oldType)
	undo := fmt.Sprintf("%s-- migsafe:ignore backfill-in-ddl-transaction a rollback restores the data before the previous version reads it\nUPDATE %s SET %s = %s;\n", restore, T, O, toOld)
	if relax < 0 {
		// the column was NOT NULL up to the drop; after a relax, the relax's
		// own down restores it
		undo += sc.restoreNotNull(q, old, oldType, false)
	}
	undo += strings.ReplaceAll(trigger, "-- Until the old column is dropped, old and new application versions run side\n-- by side: this trigger keeps both columns in step whichever one a version writes.\n", "")
	contract := sc.add(migrations.NewMigration{
		Title: "contract_" + slug(q.Name) + "_" + slug(old),
		Up:    fmt.Sprintf("-- %s, step 6 of 6: drop %s.%s, replaced by %s.\n%s%sALTER TABLE %s DROP COLUMN %s;\n", title, t, old, newCol, sc.lockTimeout(), dropTrigger, T, O),
		Down:  undo,
	})
	read := "step 4: the application reads " + newCol + " instead of " + old
	stop := "step 5: the application stops writing " + old + " (ORMs: mark it ignored), fully rolled out before the next deploy"
	if sc.pg() {
		// the trigger keeps both columns in step from the expand on, so
		// the backfill ships with it
		sc.deploy(expand, backfill)
		sc.app("step 2: new application code writes "+newCol+" (the trigger copies it to "+old+" for the old version, and back)", read, stop)
	} else {
		// without a trigger, rows the application writes after the
		// backfill are only complete once it writes both columns: the
		// backfill waits for step 2
		sc.deploy(expand)
		sc.app("step 2: the application writes both " + old + " and " + newCol + " on every insert and update, fully rolled out before the next deploy")
		if relax >= 0 {
			sc.deploy(backfill, relax)
		} else {
			sc.deploy(backfill)
		}
		sc.app(read, stop)
	}
	sc.deploy(deprecate)
	sc.app(sc.wait(old))
	sc.deploy(contract)
	sc.app("done: " + t + "." + old + " is gone")
	return nil
}

func (sc *scaffold) backfill(q change.QName, col, from, value string) string {
	t := q.String()
	T, C, F := sc.tbl(q), sc.id(col), sc.id(from)
	head := fmt.Sprintf("-- Step 3 of 6: fill %s.%s from %s in batches of %d rows, each committed on its own.\n-- migsafe:backfill %s.%s from %s\n", t, col, from, sc.batch, T, C, F)
	if sc.pg() {
		body := fmt.Sprintf(`
DECLARE
  n bigint;
BEGIN
  LOOP
    UPDATE %[1]s SET %[2]s = %[3]s
     WHERE ctid IN (SELECT ctid FROM %[1]s WHERE %[2]s IS NULL AND %[4]s IS NOT NULL LIMIT %[5]d);
    GET DIAGNOSTICS n = ROW_COUNT;
    EXIT WHEN n = 0;
    COMMIT;
  END LOOP;
END `, T, C, value, F, sc.batch)
		tag := dollarTag(body)
		return head + sc.block("DO "+tag+body+tag+";\n")
	}
	proc := sc.id("migsafe_backfill_" + strings.ReplaceAll(t, ".", "_") + "_" + col)
	return head + sc.block(fmt.Sprintf(`CREATE PROCEDURE %[1]s()
BEGIN
  REPEAT
    UPDATE %[2]s SET %[3]s = %[4]s WHERE %[3]s IS NULL AND %[5]s IS NOT NULL LIMIT %[6]d;
  UNTIL ROW_COUNT() = 0 END REPEAT;
END;
`, proc, T, C, value, F, sc.batch)) + fmt.Sprintf("CALL %[1]s();\nDROP PROCEDURE %[1]s;\n", proc)
}

func (sc *scaffold) deprecation(q change.QName, col, why string) migrations.NewMigration {
	t := q.String()
	T, C := sc.tbl(q), sc.id(col)
	m := migrations.NewMigration{Title: "deprecate_" + slug(strings.ReplaceAll(t, ".", "_")) + "_" + slug(col)}
	head := fmt.Sprintf("-- Step 5 of 6: the application no longer writes %s.%s (%s).\n-- migsafe:deprecate %s.%s\n", t, col, why, T, C)
	if sc.pg() {
		m.Up = head + fmt.Sprintf("COMMENT ON COLUMN %s.%s IS 'deprecated: %s';\n", T, C, strings.ReplaceAll(why, "'", "''"))
		m.Down = fmt.Sprintf("COMMENT ON COLUMN %s.%s IS NULL;\n", T, C)
	} else {
		m.Up = head + "SELECT 1;\n"
		m.Down = "SELECT 1;\n"
	}
	return m
}

func (sc *scaffold) renameColumn(args []string) error {
	args[1] = sc.canonical(args[0], args[1])
	_, typ, err := sc.column(args[0], args[1])
	if err != nil {
		return err
	}
	if err := sc.free(args[0], args[1], args[2]); err != nil {
		return err
	}
	return sc.replace(args[0], args[1], args[2], typ, typ, "Rename "+args[0]+"."+args[1]+" to "+args[2])
}

func (sc *scaffold) changeColumnType(args []string) error {
	args[1] = sc.canonical(args[0], args[1])
	_, typ, err := sc.column(args[0], args[1])
	if err != nil {
		return err
	}
	if err := sc.free(args[0], args[1], args[1]+"_new"); err != nil {
		return err
	}
	if err := sc.replace(args[0], args[1], args[1]+"_new", args[2], typ, "Change the type of "+args[0]+"."+args[1]+" to "+args[2]+" through "+args[1]+"_new"); err != nil {
		return err
	}
	// the column keeps its new name: taking the old one back is a rename,
	// another expand-contract change
	last := &sc.plan[len(sc.plan)-1]
	last.app += "; the column is now " + args[1] + "_new (giving it back the name " + args[1] + " is a rename: migsafe scaffold rename-column " + args[0] + " " + args[1] + "_new " + args[1] + ")"
	return nil
}

// relax returns the migration that lets inserts leave col out (DROP NOT
// NULL) when the history says it is NOT NULL without a default: the
// application cannot stop writing it (step 5) before that ships.
func (sc *scaffold) relax(q change.QName, col, typ string) (migrations.NewMigration, bool) {
	tab := sc.cat.Table(q)
	if tab == nil {
		return migrations.NewMigration{}, false
	}
	c := tab.Column(col)
	if c == nil || !c.NotNull || c.Default != nil {
		return migrations.NewMigration{}, false
	}
	t := q.String()
	stmt := fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s DROP NOT NULL;\n", sc.tbl(q), sc.id(col))
	if !sc.pg() {
		stmt = fmt.Sprintf("ALTER TABLE %s MODIFY %s %s NULL;\n", sc.tbl(q), sc.id(col), typ)
	}
	return migrations.NewMigration{
		Title: "relax_" + slug(strings.ReplaceAll(t, ".", "_")) + "_" + slug(col),
		Up:    sc.lockTimeout() + "-- Before step 5: inserts of the application that no longer writes " + col + " must not need it.\n-- migsafe:ignore drop-not-null the application stops writing " + col + " once this ships\n" + stmt,
		Down:  sc.lockTimeout() + sc.restoreNotNull(q, col, typ, true),
	}, true
}

func (sc *scaffold) dropColumn(args []string) error {
	args[1] = sc.canonical(args[0], args[1])
	q, typ, err := sc.column(args[0], args[1])
	if err != nil {
		return err
	}
	t, col := q.String(), args[1]
	sc.app("step 4: the application no longer reads " + col)
	stop := "step 5: the application no longer writes " + col + " (ORMs: mark it ignored), fully rolled out before the next deploy"
	if r, ok := sc.relax(q, col, typ); ok {
		// NOT NULL without a default: the application can stop writing
		// it only once inserts may leave it out
		sc.deploy(sc.add(r))
	}
	sc.app(stop)
	sc.deploy(sc.add(sc.deprecation(q, col, "to be dropped")))
	sc.app(sc.wait(col))
	sc.deploy(sc.add(migrations.NewMigration{
		Title: "contract_" + slug(q.Name) + "_" + slug(col),
		Up:    fmt.Sprintf("-- Step 6 of 6: drop %s.%s.\n%sALTER TABLE %s DROP COLUMN %s;\n", t, col, sc.lockTimeout(), sc.tbl(q), sc.id(col)),
		Down:  fmt.Sprintf("-- the column comes back empty: its data is gone\n%sALTER TABLE %s ADD COLUMN %s %s;\n", sc.lockTimeout(), sc.tbl(q), sc.id(col), typ),
	}))
	sc.app("done: " + t + "." + col + " is gone")
	return nil
}
