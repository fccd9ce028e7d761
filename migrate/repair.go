package migrate

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/catalog"
	"github.com/migsafe/migsafe/analyzer/change"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/migrations"
	"github.com/migsafe/migsafe/dialects/mysql"
	"github.com/migsafe/migsafe/dialects/postgres"
)

// Verdicts of an inspection.
const (
	VerdictClean   = "clean"   // not dirty: nothing to repair
	VerdictBefore  = "before"  // the schema is as before the failed migration
	VerdictAfter   = "after"   // the schema is as after it
	VerdictPartial = "partial" // some of its changes are in the database, some not
	VerdictUnknown = "unknown" // its changes are not visible in the schema model
)

// Inspection is what repair found about a dirty database.
type Inspection struct {
	Version   int64  `json:"version"`
	Dirty     bool   `json:"dirty"`
	Migration string `json:"migration,omitempty"`
	Direction string `json:"direction,omitempty"`
	Verdict   string `json:"verdict"`
	// Applied and NotApplied are the migration's changes (from the schema
	// model before and after it) found and not found in the database.
	Applied    []string `json:"applied,omitempty"`
	NotApplied []string `json:"not_applied,omitempty"`
	// Target is the version --apply sets (before: the version before the
	// migration; after: the migration's) and Action says what it does.
	Target  int64  `json:"target"`
	Action  string `json:"action"`
	Done    bool   `json:"done"` // --apply did it
	Message string `json:"message,omitempty"`
}

// Text is the report for people.
func (i *Inspection) Text() string {
	var b strings.Builder
	if !i.Dirty {
		fmt.Fprintf(&b, "the database is clean at version %s: nothing to repair\n", versionString(i.Version))
		return b.String()
	}
	fmt.Fprintf(&b, "dirty at version %s: migration %s (%s) did not finish\n", versionString(i.Version), i.Migration, i.Direction)
	if i.Message != "" {
		fmt.Fprintf(&b, "%s\n", i.Message)
	}
	fmt.Fprintf(&b, "the schema matches: %s\n", map[string]string{
		VerdictBefore:  "BEFORE the migration (none of its changes are in the database)",
		VerdictAfter:   "AFTER the migration (all of its changes are in the database)",
		VerdictPartial: "NEITHER: the migration is PARTIALLY applied",
		VerdictUnknown: "cannot tell: the schema model sees no change in this migration (data only, or statements migsafe does not model)",
	}[i.Verdict])
	for _, a := range i.Applied {
		fmt.Fprintf(&b, "  applied:     %s\n", a)
	}
	for _, a := range i.NotApplied {
		fmt.Fprintf(&b, "  not applied: %s\n", a)
	}
	fmt.Fprintf(&b, "%s\n", i.Action)
	return b.String()
}

// Repair inspects a dirty database: it compares the live schema with the
// schema model before and after the migration that left it dirty, and
// with apply resets the version when the schema is exactly one of them.
func (r *Runner) Repair(ctx context.Context, apply bool) (*Inspection, error) {
	if err := r.acquire(ctx); err != nil {
		return nil, err
	}
	defer r.release()
	st, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	if !st.dirty {
		return &Inspection{Version: st.cur, Verdict: VerdictClean, Target: st.cur, Action: "nothing to do"}, nil
	}
	m, dir, msg := r.culprit(st)
	if m == nil {
		return nil, fmt.Errorf("dirty at version %s, but %s has no migration that golang-migrate could have been running (the source does not have version %s): run from the checkout that has it", versionString(st.cur), r.opt.Source.Dir, versionString(st.cur))
	}
	ins, err := r.inspectLocked(ctx, m, dir)
	if err != nil {
		return nil, err
	}
	ins.Version, ins.Message = st.cur, msg
	if !apply {
		return ins, nil
	}
	switch ins.Verdict {
	case VerdictBefore, VerdictAfter:
	default:
		return ins, fmt.Errorf("repair --apply changes the version only when the schema is exactly as before or after the migration; here it is %s: finish or undo the changes listed by hand (or restore from a backup), then run repair again", ins.Verdict)
	}
	if err := r.force(ins.Target); err != nil {
		return ins, err
	}
	row := Row{Version: ins.Target, Name: m.Name, Direction: "repair", Started: time.Now(), Outcome: OutcomeRepaired,
		Error: fmt.Sprintf("repair: the schema matched %s %s (%s); version set to %s", ins.Verdict, m.Label(), dir, versionString(ins.Target))}
	if ins.Verdict == VerdictAfter {
		// it counts as applied (up) or reverted (down)
		row.Version, row.Direction, row.SHA256 = int64(m.Version), dir, fileOf(m, dir).SHA256
	}
	if _, err := r.insertRow(ctx, row); err != nil {
		return ins, err
	}
	// the rows of the run that left it dirty are settled
	for _, w := range st.rows {
		if w.Outcome == OutcomeRunning {
			_ = r.markRow(ctx, w.ID, OutcomeInterrupted, "the run stopped during the migration; settled by repair")
		}
	}
	ins.Done = true
	return ins, nil
}

func fileOf(m *Migration, dir string) *File {
	if dir == "down" {
		return m.Down
	}
	return m.Up
}

// culprit finds the migration that left the database dirty: the last
// unfinished history row, else golang-migrate's dirty version taken as an
// up (migrations run outside migsafe).
func (r *Runner) culprit(st *state) (*Migration, string, string) {
	for i := len(st.rows) - 1; i >= 0; i-- {
		w := st.rows[i]
		switch w.Outcome {
		case OutcomeRunning, OutcomeFailed, OutcomeInterrupted:
			m := r.opt.Source.Get(uint(w.Version))
			if m == nil {
				return nil, "", ""
			}
			msg := fmt.Sprintf("history: run %s on %s started it at %s; outcome %s", w.RunID, w.Host, w.Started.Format(time.RFC3339), w.Outcome)
			if w.Error != "" {
				msg += ": " + w.Error
			}
			return m, w.Direction, msg
		case OutcomeApplied, OutcomeRepaired, OutcomeBaseline:
			i = -1 // the newest finished row: nothing unfinished after it
		}
	}
	if st.cur < 0 {
		return nil, "", ""
	}
	return r.opt.Source.Get(uint(st.cur)), "up", "history: no record (the migration ran outside migsafe); taken as the up of the dirty version"
}

// inspectLocked compares the live schema with the model before and after
// a migration.
func (r *Runner) inspectLocked(ctx context.Context, m *Migration, dir string) (*Inspection, error) {
	ins := &Inspection{Dirty: true, Migration: m.Label(), Direction: dir, Version: int64(m.Version)}
	if dir == "down" {
		ins.Version = r.prevOf(m.Version) // golang-migrate records the target
	}
	idx := -1
	for i, x := range r.opt.Source.Migrations {
		if x == m {
			idx = i
		}
	}
	before, err := r.model(ctx, r.opt.Source.Migrations[:idx])
	if err != nil {
		return nil, err
	}
	after, err := r.model(ctx, r.opt.Source.Migrations[:idx+1])
	if err != nil {
		return nil, err
	}
	if dir == "down" {
		before, after = after, before
	}
	live, err := snapshot(ctx, r.ctl, r.t.kind)
	if err != nil {
		return nil, r.t.scrub(err)
	}
	have := liveObjects(live, r.t.kind)
	// a column's type and default count only when the column is on both
	// sides: one that comes or goes is its own object
	for _, side := range []map[string]bool{before, after} {
		for k := range side {
			if cn, ok := columnOf(k); ok && (!before["column "+cn] || !after["column "+cn]) {
				delete(side, k)
			}
		}
	}
	for k := range after {
		if !before[k] {
			if have[k] {
				ins.Applied = append(ins.Applied, "add "+k)
			} else {
				ins.NotApplied = append(ins.NotApplied, "add "+k)
			}
		}
	}
	for k := range before {
		if !after[k] {
			if !have[k] {
				ins.Applied = append(ins.Applied, "drop "+k)
			} else {
				ins.NotApplied = append(ins.NotApplied, "drop "+k)
			}
		}
	}
	sort.Strings(ins.Applied)
	sort.Strings(ins.NotApplied)
	prev := r.prevOf(m.Version)
	switch {
	case len(ins.Applied) == 0 && len(ins.NotApplied) == 0:
		ins.Verdict = VerdictUnknown
	case len(ins.Applied) == 0:
		ins.Verdict = VerdictBefore
	case len(ins.NotApplied) == 0:
		ins.Verdict = VerdictAfter
	default:
		ins.Verdict = VerdictPartial
	}
	upTarget, downTarget := int64(m.Version), prev
	switch {
	case ins.Verdict == VerdictBefore && dir == "up":
		ins.Target = downTarget
		ins.Action = fmt.Sprintf("safe to retry: `migsafe migrate repair --apply` sets the version to %s (clean), then `migsafe migrate up` runs %s again", versionString(downTarget), m.Label())
	case ins.Verdict == VerdictBefore:
		ins.Target = upTarget
		ins.Action = fmt.Sprintf("safe to retry: `migsafe migrate repair --apply` sets the version back to %d (clean), then run the down again", upTarget)
	case ins.Verdict == VerdictAfter && dir == "up":
		ins.Target = upTarget
		ins.Action = fmt.Sprintf("the migration is applied: `migsafe migrate repair --apply` marks %s applied (version %d, clean)", m.Label(), upTarget)
	case ins.Verdict == VerdictAfter:
		ins.Target = downTarget
		ins.Action = fmt.Sprintf("the down is applied: `migsafe migrate repair --apply` sets the version to %s (clean)", versionString(downTarget))
	default:
		ins.Target = -2
		ins.Action = fmt.Sprintf("repair will not change the version: make the schema match one side by hand (run the not-applied statements of %s, or undo the applied ones), then run `migsafe migrate repair` again; never force a version you have not checked", filepath.Base(fileOf(m, dir).Path))
	}
	return ins, nil
}

// model replays the up files of ms into a schema model and returns its
// objects: "table T", "column T.C", "not null T.C", "index I".
func (r *Runner) model(ctx context.Context, ms []*Migration) (map[string]bool, error) {
	var d analyzer.Dialect
	var err error
	name := analyzer.Postgres
	if r.t.kind == MySQL {
		name = analyzer.MySQL
		d, err = mysql.New("")
	} else {
		d, err = postgres.New("")
	}
	if err != nil {
		return nil, err
	}
	var srcs []migrations.Source
	for _, m := range ms {
		// the up's bytes under a golang-migrate name, whatever the layout
		srcs = append(srcs, migrations.Source{Path: fmt.Sprintf("%d_m.up.sql", m.Version), Src: m.Up.Body})
	}
	set := migrations.Build(srcs, migrations.Options{Layout: migrations.GolangMigrate, Dialect: name})
	parts := set.Parts()
	for _, p := range parts {
		p.Lint = false
	}
	res, err := engine.Run(ctx, parts, engine.Options{Dialect: d})
	if err != nil {
		return nil, fmt.Errorf("replaying the migrations into a schema model: %w", err)
	}
	return modelObjects(res.Catalog, r.t.kind), nil
}

// The model's objects are "table T", "column T.C", "not null T.C",
// "index I", "default T.C", "type T.C X" and "constraint T KIND (COLS)"
// ("constraint T check NAME" for a named CHECK). Types and defaults are
// compared only for a column before and after the migration both have:
// a column that comes or goes is already its own object.
func modelObjects(c *catalog.Catalog, kind string) map[string]bool {
	out := map[string]bool{}
	if c == nil {
		return out
	}
	for _, t := range c.Tables() {
		tn := strings.ToLower(t.Name.Name)
		out["table "+tn] = true
		for _, col := range t.Columns {
			cn := tn + "." + strings.ToLower(col.Name)
			out["column "+cn] = true
			if col.NotNull {
				out["not null "+cn] = true
			}
			if col.Default != nil && !col.Default.Null || col.Type.Serial {
				out["default "+cn] = true
			}
			if typ := modelType(col.Type, kind); typ != "" {
				out["type "+cn+" "+typ] = true
			}
		}
		for _, ix := range c.IndexesOf(t) {
			out["index "+strings.ToLower(ix.Name)] = true
		}
		for _, con := range t.Constraints {
			if k := constraintKey(tn, con.Constraint); k != "" {
				out[k] = true
			}
		}
	}
	return out
}

// columnOf is the column "T.C" a type or default object is about.
func columnOf(k string) (string, bool) {
	switch {
	case strings.HasPrefix(k, "default "):
		return strings.TrimPrefix(k, "default "), true
	case strings.HasPrefix(k, "type "):
		cn, _, _ := strings.Cut(strings.TrimPrefix(k, "type "), " ")
		return cn, true
	}
	return "", false
}

func constraintKey(table string, c change.Constraint) string {
	cols := make([]string, len(c.Columns))
	for i, col := range c.Columns {
		cols[i] = strings.ToLower(col)
	}
	list := " (" + strings.Join(cols, ", ") + ")"
	switch c.Kind {
	case change.ConstraintPrimaryKey:
		return "constraint " + table + " primary key" + list
	case change.ConstraintUnique:
		return "constraint " + table + " unique" + list
	case change.ConstraintForeignKey:
		ref := ""
		if c.RefTable != nil {
			ref = " references " + strings.ToLower(c.RefTable.Name)
		}
		return "constraint " + table + " foreign key" + list + ref
	case change.ConstraintCheck:
		if c.Name != "" {
			return "constraint " + table + " check " + strings.ToLower(c.Name)
		}
	}
	return ""
}

// modelType is a column type in the form liveType gives the server's.
func modelType(t change.Type, kind string) string {
	if t.Name == "" {
		return ""
	}
	name := strings.ToLower(t.Name)
	if kind == MySQL {
		if len(t.Values) > 0 {
			q := make([]string, len(t.Values))
			for i, v := range t.Values {
				q[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
			}
			return name + "(" + strings.Join(q, ",") + ")"
		}
		s := name
		if len(t.Mods) > 0 && !mysqlInt(name) {
			s += "(" + joinInts(t.Mods) + ")"
		}
		if t.Unsigned {
			s += " unsigned"
		}
		return s
	}
	s := name
	if len(t.Mods) > 0 {
		s += "(" + joinInts(t.Mods) + ")"
	}
	if t.Array {
		s += "[]"
	}
	return s
}

func joinInts(ms []int) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = fmt.Sprint(m)
	}
	return strings.Join(s, ",")
}

func mysqlInt(n string) bool {
	switch n {
	case "tinyint", "smallint", "mediumint", "int", "bigint", "year":
		return true
	}
	return false
}

// pgNames are format_type's names in the model's canonical spelling.
var pgNames = map[string]string{
	"integer": "int4", "bigint": "int8", "smallint": "int2", "character varying": "varchar", "character": "bpchar",
	"boolean": "bool", "real": "float4", "double precision": "float8", "timestamp without time zone": "timestamp",
	"timestamp with time zone": "timestamptz", "time without time zone": "time", "time with time zone": "timetz",
	"bit varying": "varbit",
}

// liveType reads the type at the start of a snapshot's column entry
// (format_type on PostgreSQL, COLUMN_TYPE on MySQL).
func liveType(v, kind string) string {
	for _, cut := range []string{" not null", " default ", " identity ", " generated", " collate ", " auto_increment", " on update", " virtual", " stored"} {
		if i := strings.Index(v, cut); i >= 0 {
			v = v[:i]
		}
	}
	v = strings.TrimSpace(strings.ToLower(v))
	if kind == MySQL {
		if strings.HasPrefix(v, "enum(") || strings.HasPrefix(v, "set(") {
			return v
		}
		unsigned := strings.Contains(v, " unsigned")
		v = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(v, " unsigned", ""), " zerofill", ""))
		base, mods, _ := strings.Cut(v, "(")
		s := base
		if mods != "" && !mysqlInt(base) {
			s += "(" + strings.ReplaceAll(strings.TrimSuffix(mods, ")"), " ", "") + ")"
		}
		if unsigned {
			s += " unsigned"
		}
		return s
	}
	array := strings.HasSuffix(v, "[]")
	v = strings.TrimSuffix(v, "[]")
	mods := ""
	if i := strings.Index(v, "("); i >= 0 {
		if j := strings.Index(v[i:], ")"); j > 0 {
			mods = strings.ReplaceAll(v[i:i+j+1], " ", "")
			v = strings.TrimSpace(v[:i] + v[i+j+1:])
		}
	}
	if n, ok := pgNames[v]; ok {
		v = n
	}
	if i := strings.LastIndex(v, "."); i >= 0 {
		v = v[i+1:] // a schema-qualified type: the model has its name
	}
	s := v + mods
	if array {
		s += "[]"
	}
	return s
}

// liveConstraint turns a snapshot's constraint entry into the model's
// key ("" for what the model does not name: an unnamed CHECK, NOT NULL).
func liveConstraint(table, name, def string) string {
	d := strings.ToLower(def)
	cols := func(s string) string {
		i := strings.Index(s, "(")
		j := strings.Index(s, ")")
		if i < 0 || j < i {
			return " ()"
		}
		parts := strings.Split(s[i+1:j], ",")
		for k, p := range parts {
			parts[k] = strings.Trim(strings.TrimSpace(p), "`\"")
		}
		return " (" + strings.Join(parts, ", ") + ")"
	}
	switch {
	case strings.HasPrefix(d, "primary key"):
		return "constraint " + table + " primary key" + cols(d)
	case strings.HasPrefix(d, "unique"):
		return "constraint " + table + " unique" + cols(d)
	case strings.HasPrefix(d, "foreign key"):
		ref := ""
		if _, r, ok := strings.Cut(d, "references "); ok {
			r = strings.TrimSpace(r)
			if i := strings.IndexAny(r, " ("); i >= 0 {
				r = r[:i]
			}
			if i := strings.LastIndex(r, "."); i >= 0 {
				r = r[i+1:]
			}
			ref = " references " + strings.Trim(r, "`\"")
		}
		return "constraint " + table + " foreign key" + cols(d) + ref
	case strings.HasPrefix(d, "check"):
		return "constraint " + table + " check " + strings.ToLower(name)
	}
	return ""
}

// liveObjects turns a snapshot into the model's object names.
func liveObjects(s *Schema, kind string) map[string]bool {
	out := map[string]bool{}
	for k, v := range s.Objects {
		typ, name, _ := strings.Cut(k, " ")
		parts := strings.Split(strings.ToLower(name), ".")
		switch typ {
		case "table":
			out["table "+parts[len(parts)-1]] = true
		case "column":
			if len(parts) >= 2 {
				tc := parts[len(parts)-2] + "." + parts[len(parts)-1]
				out["column "+tc] = true
				if strings.Contains(v, " not null") {
					out["not null "+tc] = true
				}
				if strings.Contains(v, " default ") && !strings.Contains(v, " default NULL") {
					out["default "+tc] = true
				}
				out["type "+tc+" "+liveType(v, kind)] = true
			}
		case "index":
			n := parts[len(parts)-1]
			if n == "primary" && len(parts) >= 2 {
				// MySQL names every primary key PRIMARY; the model names
				// it as PostgreSQL does
				n = parts[len(parts)-2] + "_pkey"
			}
			out["index "+n] = true
		case "constraint":
			if len(parts) >= 2 {
				if c := liveConstraint(parts[len(parts)-2], parts[len(parts)-1], v); c != "" {
					out[c] = true
				}
			}
		}
	}
	return out
}
