package lintgate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/migrations"
	"github.com/migsafe/migsafe/lint"
	"github.com/migsafe/migsafe/migrate"
)

// TooEarly is the contract phase's refusal: drops whose deprecation has
// not been in place for the minimum age, by the deploy dates from git
// (what `migsafe status` shows) and by when this database applied it
// (migsafe_history).
type TooEarly struct {
	MinAge  time.Duration
	Reasons []string // one per drop: "3_drop_email.up.sql:2: drops users.email …"
}

func (e *TooEarly) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "--phase contract refuses to drop what has not been deprecated for the minimum age (%s) yet:", analyzer.FormatAge(e.MinAge))
	for _, r := range e.Reasons {
		b.WriteString("\n  " + r)
	}
	b.WriteString("\n  fix: wait until the date given (migsafe status shows it); a drop of something never deprecated needs a -- migsafe:deprecate marker shipped first, with the application no longer writing it")
	return b.String()
}

// dropped is an object an up file removes.
type dropped struct {
	object string // "users.email", "audit_log"
	line   int
}

func dropsOf(f *analyzer.File) []dropped {
	var out []dropped
	for _, st := range f.Stmts {
		for _, c := range st.Changes {
			line := f.Lines.Position(st.Span.Start).Line
			switch x := c.(type) {
			case *change.DropColumn:
				out = append(out, dropped{x.Table.String() + "." + x.Column, line})
			case *change.DropTable:
				out = append(out, dropped{x.Table.String(), line})
			}
		}
	}
	return out
}

// tooEarly checks the contract steps of pending: every column or table
// one of them drops must have been deprecated (-- migsafe:deprecate) for
// the minimum age, measured from the later of the deprecation's deploy
// (git) and its migration's apply to this database (applied). When
// neither date is known the drop is refused: nothing says it is old
// enough.
func (g *Gate) tooEarly(ctx context.Context, res *lintResult, pending []*migrate.Migration, applied map[uint]time.Time) error {
	h := res.history
	minAge := h.Deploys.MinimumAge()
	now := g.Settings.Now
	if now.IsZero() {
		now = time.Now()
	}
	dir := g.Settings.Dir
	e := &TooEarly{MinAge: minAge}
	for _, m := range pending {
		up := res.file(dir, analyzer.Up, m.Up.Path)
		if up == nil {
			continue
		}
		drops := dropsOf(up)
		if len(drops) == 0 {
			continue
		}
		inflight, err := g.inFlightBefore(ctx, h, m)
		if err != nil {
			return err
		}
		for _, d := range drops {
			where := fmt.Sprintf("%s:%d", up.Path, d.line)
			c, ok := inflight[d.object]
			if !ok || !c.Deprecated {
				e.Reasons = append(e.Reasons, fmt.Sprintf("%s: drops %s, which no earlier migration deprecates (-- migsafe:deprecate %s)", where, d.object, d.object))
				continue
			}
			dep := c.Steps[4].At // step 5: stop writing (the deprecation)
			var depM *migrate.Migration
			for _, x := range g.source.Migrations {
				if dep != nil && fullPath(dir, dep.Path) == fullPath(dir, x.Up.Path) {
					depM = x
				}
			}
			label := "an earlier migration"
			if depM != nil {
				label = depM.Label()
			}
			var from time.Time
			var said []string
			if !c.ContractFrom.IsZero() {
				from = c.ContractFrom
				said = append(said, "shipped "+analyzer.FormatMoment(c.ContractFrom.Add(-minAge))+" by git")
			}
			if depM != nil && applied != nil {
				at, ok := applied[depM.Version]
				if !ok && isPending(pending, depM) {
					e.Reasons = append(e.Reasons, fmt.Sprintf("%s: drops %s, deprecated by %s, which this database has not applied yet: apply it (--phase expand), then wait %s", where, d.object, label, analyzer.FormatAge(minAge)))
					continue
				}
				if ok {
					said = append(said, "applied to this database "+analyzer.FormatMoment(at))
					if t := at.Add(minAge); t.After(from) {
						from = t
					}
				}
			}
			if from.IsZero() {
				e.Reasons = append(e.Reasons, fmt.Sprintf("%s: drops %s, deprecated by %s, but when that shipped is unknown (no deploy dates from git, and migsafe_history has no record of it being applied: it ran before migsafe)", where, d.object, label))
				continue
			}
			if now.Before(from) {
				e.Reasons = append(e.Reasons, fmt.Sprintf("%s: drops %s, deprecated by %s (%s): allowed from %s", where, d.object, label, strings.Join(said, ", "), analyzer.FormatMoment(from)))
			}
		}
	}
	if len(e.Reasons) > 0 {
		return e
	}
	return nil
}

func isPending(pending []*migrate.Migration, m *migrate.Migration) bool {
	for _, p := range pending {
		if p == m {
			return true
		}
	}
	return false
}

// inFlightBefore replays the history up to m (excluded) and returns the
// expand-contract changes in flight there, by object: what `migsafe
// status` would have said just before m.
func (g *Gate) inFlightBefore(ctx context.Context, h *lint.History, m *migrate.Migration) (map[string]migrations.Change, error) {
	dir := g.Settings.Dir
	var parts []*analyzer.File
	for _, f := range h.Parts {
		if fullPath(dir, f.Path) == fullPath(dir, m.Up.Path) {
			break
		}
		c := *f
		c.Lint = false
		parts = append(parts, &c)
	}
	out := map[string]migrations.Change{}
	if len(parts) == 0 {
		return out, nil
	}
	res, err := engine.Run(ctx, parts, engine.Options{Dialect: g.Settings.Dialect, History: h.Deploys})
	if err != nil {
		return nil, err
	}
	for _, c := range migrations.InFlight(res.Catalog, h.Deploys) {
		out[c.Object] = c
	}
	return out, nil
}
