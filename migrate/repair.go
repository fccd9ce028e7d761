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
		srcs = append(srcs, migrations.Source{Path: filepath.Base(m.Up.Path), Src: m.Up.Body})
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
	return modelObjects(res.Catalog), nil
}

func modelObjects(c *catalog.Catalog) map[string]bool {
	out := map[string]bool{}
	if c == nil {
		return out
	}
	for _, t := range c.Tables() {
		tn := strings.ToLower(t.Name.Name)
		out["table "+tn] = true
		for _, col := range t.Columns {
			out["column "+tn+"."+strings.ToLower(col.Name)] = true
			if col.NotNull {
				out["not null "+tn+"."+strings.ToLower(col.Name)] = true
			}
		}
		for _, ix := range c.IndexesOf(t) {
			out["index "+strings.ToLower(ix.Name)] = true
		}
	}
	return out
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
			}
		case "index":
			n := parts[len(parts)-1]
			if n == "primary" && len(parts) >= 2 {
				// MySQL names every primary key PRIMARY; the model names
				// it as PostgreSQL does
				n = parts[len(parts)-2] + "_pkey"
			}
			out["index "+n] = true
		}
	}
	return out
}
