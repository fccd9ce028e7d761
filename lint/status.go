package lint

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/migrations"
)

// StatusHistory is one history in the status report (its JSON form is
// `migsafe status --format json`).
type StatusHistory struct {
	Path       string          `json:"path"`
	Layout     string          `json:"layout"`
	Migrations int             `json:"migrations"`
	Deploys    int             `json:"deploys"`
	Dated      bool            `json:"dated"`
	MinAgeDays float64         `json:"min_deprecation_age_days"`
	Changes    []StatusChange  `json:"changes"`
	Unmodeled  int             `json:"unmodeled"`
	Details    []StatusUnknown `json:"unmodeled_statements,omitempty"`
}

// StatusChange is an expand-contract change in flight.
type StatusChange struct {
	Kind         string       `json:"kind"`
	Object       string       `json:"object"`
	Replacement  string       `json:"replacement,omitempty"`
	Step         int          `json:"step"`
	ContractFrom string       `json:"contract_allowed_from,omitempty"`
	ContractAt   string       `json:"contract_allowed_at,omitempty"` // RFC 3339: the moment, not only the day
	Allowed      bool         `json:"contract_allowed"`
	Confirmed    bool         `json:"confirmed"`
	Steps        []StatusStep `json:"steps"`
}

// StatusStep is a step of a change (1 to 6).
type StatusStep struct {
	Step   int    `json:"step"`
	What   string `json:"what"`
	State  string `json:"state"`
	Path   string `json:"path,omitempty"`
	Line   int    `json:"line,omitempty"`
	Deploy string `json:"deploy,omitempty"`
	Date   string `json:"date,omitempty"`
	// Pending: written in a migration not deployed yet; on step 6, the
	// date holds if the deprecation ships now
	Pending bool `json:"pending,omitempty"`
}

// StatusUnknown is a statement the schema model could not follow.
type StatusUnknown struct {
	Path   string `json:"path"`
	Line   int    `json:"line"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// StatusReport is what Status found.
type StatusReport struct {
	Now       time.Time // the time deploy ages are measured at
	Histories []StatusHistory
	// Errors are the files that could not be read or found (exit status 2
	// on the command line).
	Errors []error
	// Notes are the loader's notices (a warning starts with "warning: ")
	// and the replay's, once each.
	Notes []string
}

// Status replays the histories of paths (as Load finds them) and lists
// every expand-contract change in flight in each: `migsafe status`. Each
// history's Details list the statements the model could not follow.
//
// A usage error returns a nil report. When the engine fails (the context
// is cancelled), Status returns the report so far with the error.
func Status(ctx context.Context, s *Settings, paths []string) (*StatusReport, error) {
	ld, err := Load(ctx, s, paths)
	if err != nil {
		return nil, err
	}
	rep := &StatusReport{Now: s.Now, Errors: ld.Errors}
	var notes []string // the replay's, once each
	for _, hs := range ld.Histories {
		for _, f := range hs.Parts {
			f.Lint = false // replay only
		}
		res, err := engine.Run(ctx, hs.Parts, engine.Options{Dialect: s.Dialect, History: hs.Deploys})
		if err != nil {
			return rep, err
		}
		changes := migrations.InFlight(res.Catalog, hs.Deploys)
		// a drop not deployed yet (not committed, or new since --since)
		// ends its change only once it ships: the change stays listed,
		// with its drop written
		var shipped []*analyzer.File
		var pending *analyzer.Deploy
		for _, f := range hs.Parts {
			if d := hs.Deploys.Deploy(f.Deploy); d != nil && d.Pending {
				pending = d
			} else {
				shipped = append(shipped, f)
			}
		}
		if pending != nil && len(shipped) > 0 {
			before, err := engine.Run(ctx, shipped, engine.Options{Dialect: s.Dialect, History: hs.Deploys})
			if err != nil {
				return rep, err
			}
			changes = append(changes, migrations.DroppedInPending(migrations.InFlight(before.Catalog, hs.Deploys), changes, pending)...)
			slices.SortStableFunc(changes, func(a, b migrations.Change) int { return strings.Compare(a.Object, b.Object) })
		}
		rep.Histories = append(rep.Histories, statusOf(hs, res, changes))
		for _, n := range res.Notes {
			if !slices.Contains(notes, n) {
				notes = append(notes, n)
			}
		}
	}
	rep.Notes = append(ld.Notes, notes...)
	return rep, nil
}

func statusOf(hs *History, res *engine.Result, changes []migrations.Change) StatusHistory {
	h := hs.Deploys
	sh := StatusHistory{Path: hs.Root, Layout: string(hs.Set.Layout), Migrations: len(hs.Set.Migrations), Deploys: len(h.Deploys), Dated: h.Dated,
		MinAgeDays: h.MinimumAge().Hours() / 24, Unmodeled: len(res.Catalog.Unmodeled), Changes: []StatusChange{}}
	for _, c := range changes {
		sc := StatusChange{Kind: c.Kind, Object: c.Object, Replacement: c.Replacement, Step: c.Step, Allowed: c.Allowed, Confirmed: c.Deprecated}
		if !c.ContractFrom.IsZero() {
			sc.ContractFrom = day(c.ContractFrom)
			sc.ContractAt = c.ContractFrom.UTC().Format(time.RFC3339)
		}
		for _, st := range c.Steps {
			ss := StatusStep{Step: st.N, What: st.What, State: st.State, Deploy: st.Ref, Pending: st.Pending}
			if st.At != nil {
				ss.Path, ss.Line = st.At.Path, st.At.Line
			}
			if !st.When.IsZero() {
				ss.Date = day(st.When)
			}
			sc.Steps = append(sc.Steps, ss)
		}
		sh.Changes = append(sh.Changes, sc)
	}
	for _, u := range res.Catalog.Unmodeled {
		sh.Details = append(sh.Details, StatusUnknown{Path: u.Origin.Path, Line: u.Origin.Line, Kind: u.Kind, Reason: u.Reason})
	}
	return sh
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }
