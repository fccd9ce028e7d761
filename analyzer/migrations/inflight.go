package migrations

import (
	"slices"
	"strings"
	"time"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/catalog"
)

// Step states of an expand-contract change.
const (
	StepDone     = "done"    // seen in the migrations
	StepApp      = "app"     // an application change, not visible in SQL
	StepPending  = "pending" // not done yet
	StepAllowed  = "allowed" // the contract step may ship now
	StepNotYet   = "not yet" // the contract step is not allowed yet
	StepNotApply = "n/a"     // not part of this kind of change
	StepUnknown  = "unknown" // cannot be decided without deploy dates
	StepWritten  = "written" // the drop is in a migration not deployed yet
)

// Step is one of the six steps of an expand-contract change.
type Step struct {
	N     int
	What  string // "add users.full_name", "backfill from users.name", …
	State string
	At    *catalog.Origin // where it happened, for done steps
	When  time.Time       // the deploy date of At, or when the step becomes allowed
	Ref   string          // the deploy's label
	// Pending is set when At is in the pending deploy (not committed, or
	// new since --since): written, not shipped. For step 6 it means the
	// date assumes the deprecation ships now.
	Pending bool
}

// Change is an expand-contract change in flight: an object on its way out,
// with the replacement that takes its place, if any.
type Change struct {
	Kind        string // "replace-column", "drop-column", "replace-table", "drop-table"
	Object      string // the object going away: "users.name"
	Replacement string // "users.full_name", or ""
	Step        int    // the last step done (1 to 5)
	Steps       []Step // the six steps
	// ContractFrom is when the drop (step 6) may ship; zero when the
	// deprecation is missing or the dates are unknown.
	ContractFrom time.Time
	Allowed      bool // the drop may ship now
	// Deprecated is set when a -- migsafe:deprecate marker confirms the
	// change; without it a copied column may also be a derived one kept
	// for good, so the change is only possibly in flight.
	Deprecated bool
}

// DroppedInPending returns the confirmed changes of shipped (the schema
// of the deployed migrations) whose object the pending deploy removes
// (all: the schema with it): their step 6 is written, not deployed. The
// drop's verdict is the shipped change's: allowed now or not.
func DroppedInPending(shipped, all []Change, pending *analyzer.Deploy) []Change {
	var out []Change
	for _, c := range shipped {
		if !c.Deprecated || slices.ContainsFunc(all, func(a Change) bool { return a.Object == c.Object }) {
			continue
		}
		s6 := &c.Steps[5]
		s6.State, s6.Pending = StepWritten, true
		if pending != nil {
			s6.Ref = "not deployed yet (" + pending.Ref + ")"
		}
		c.Step = 6
		out = append(out, c)
	}
	return out
}

// InFlight lists the expand-contract changes the replayed schema shows in
// progress: objects deprecated but not dropped, and columns filled by a
// copy of one that still exists (UPDATE t SET new = old, or cast; or a
// -- migsafe:backfill marker). The history dates the deploys.
func InFlight(cat *catalog.Catalog, h *analyzer.History) []Change {
	var out []Change
	tables := cat.Tables()
	for _, t := range tables {
		if t.View {
			continue
		}
		for _, col := range t.Columns {
			obj := t.Name.String() + "." + col.Name
			var repl *catalog.Column
			for _, n := range t.Columns {
				if n != col && n.Backfill.Copies(col.Name) && !otherTables(n.Backfill) && (repl == nil || n.Backfill.Origin.Deploy > repl.Backfill.Origin.Deploy) {
					repl = n
				}
			}
			if col.Deprecated == nil && repl == nil {
				continue
			}
			c := Change{Kind: "drop-column", Object: obj}
			var added, filled *catalog.Origin
			if repl != nil {
				c.Kind, c.Replacement = "replace-column", t.Name.String()+"."+repl.Name
				if !repl.Origin.Base {
					o := repl.Origin
					added = &o
				}
				o := repl.Backfill.Origin
				filled = &o
			}
			out = append(out, build(c, added, filled, col.Deprecated, h))
		}
		// A table filled by INSERT … SELECT from this one is its
		// replacement only once this one is deprecated: copying rows into
		// a new table is also how data is split or summarised.
		if t.Deprecated == nil {
			continue
		}
		var repl *catalog.Table
		for _, n := range tables {
			if n != t && n.Filled.ReadsTable(t.Name) && len(n.Filled.Tables) == 1 {
				repl = n
			}
		}
		c := Change{Kind: "drop-table", Object: t.Name.String()}
		var added, filled *catalog.Origin
		if repl != nil {
			c.Kind, c.Replacement = "replace-table", repl.Name.String()
			if !repl.Origin.Base {
				o := repl.Origin
				added = &o
			}
			o := repl.Filled.Origin
			filled = &o
		}
		out = append(out, build(c, added, filled, t.Deprecated, h))
	}
	slices.SortStableFunc(out, func(a, b Change) int { return strings.Compare(a.Object, b.Object) })
	return out
}

// otherTables reports whether a backfill also read other tables (UPDATE …
// FROM): the column it copied may be theirs (SET vendor_id = r.id), which
// the column names alone do not tell, so it is no evidence of a rename.
func otherTables(b *catalog.Backfill) bool {
	return b != nil && !b.Marker && len(b.Tables) > 0
}

func build(c Change, added, filled, deprecated *catalog.Origin, h *analyzer.History) Change {
	done := func(n int, what string, o *catalog.Origin) Step {
		s := Step{N: n, What: what, State: StepDone, At: o}
		if d := h.Deploy(o.Deploy); d != nil {
			s.When, s.Ref = h.Time(o.Deploy), d.Label()
			if d.Pending {
				s.Pending, s.Ref = true, "not deployed yet ("+d.Ref+")"
				if d.Ref == "" {
					s.Ref = "not deployed yet"
				}
			}
		}
		return s
	}
	replacing := c.Replacement != ""
	s1 := Step{N: 1, What: "add a replacement (none: a plain drop)", State: StepNotApply}
	s2 := Step{N: 2, What: "write both (application)", State: StepNotApply}
	s3 := Step{N: 3, What: "backfill a replacement (none: a plain drop)", State: StepNotApply}
	if replacing {
		s1.What = "add " + c.Replacement
		s3.What = "backfill " + c.Replacement + " from " + c.Object
	}
	s4 := Step{N: 4, What: "read " + c.Replacement + " (application)", State: StepNotApply}
	if replacing {
		s1.State, s2.State, s4.State = StepPending, StepApp, StepApp
		if added != nil {
			s1 = done(1, s1.What, added)
			c.Step = 1
		} else {
			s1.State = StepDone // existed before the migrations we read
		}
		if filled != nil {
			s3 = done(3, s3.What, filled)
			c.Step = 3
		}
	}
	if !replacing {
		// a drop without replacement: the application stops reading the
		// object before it stops writing it
		s4 = Step{N: 4, What: "stop reading " + c.Object + " (application)", State: StepApp}
	}
	s5 := Step{N: 5, What: "stop writing " + c.Object + " (application; -- migsafe:deprecate)", State: StepPending}
	s6 := Step{N: 6, What: "drop " + c.Object, State: StepPending}
	if deprecated != nil {
		c.Deprecated = true
		s5 = done(5, s5.What, deprecated)
		c.Step = 5
		switch {
		case !h.Dated || s5.When.IsZero():
			s6.State = StepUnknown
		default:
			c.ContractFrom = s5.When.Add(h.MinimumAge())
			s6.When, s6.Pending = c.ContractFrom, s5.Pending
			c.Allowed = !h.Now.Before(c.ContractFrom)
			s6.State = StepNotYet
			if c.Allowed {
				s6.State = StepAllowed
			}
		}
	}
	c.Steps = []Step{s1, s2, s3, s4, s5, s6}
	return c
}
