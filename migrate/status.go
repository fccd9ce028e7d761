package migrate

import (
	"context"
)

// Status is the state of a database against the source.
type Status struct {
	Engine   string       `json:"engine"`
	Database string       `json:"database"`
	Version  int64        `json:"version"` // -1: none
	Dirty    bool         `json:"dirty"`
	Applied  []Row        `json:"-"`
	Pending  []*Migration `json:"-"`
	// Problems are the refusals the next up would give.
	Problems Refusals `json:"-"`
	// LockHolder says who holds the runner's lock, "" when nobody.
	LockHolder string `json:"lock_holder,omitempty"`
	// Last is the newest history row.
	Last *Row `json:"last,omitempty"`
}

// Status reads the state without taking the lock or changing anything.
func (r *Runner) Status(ctx context.Context) (*Status, error) {
	st, err := r.load(ctx)
	if err != nil {
		return nil, err
	}
	s := &Status{Engine: r.t.kind, Database: r.t.redacted, Version: st.cur, Dirty: st.dirty, LockHolder: r.LockHolder(ctx)}
	if len(st.rows) > 0 {
		s.Last = &st.rows[len(st.rows)-1]
	}
	for _, m := range r.opt.Source.Migrations {
		if int64(m.Version) > st.cur {
			s.Pending = append(s.Pending, m)
		}
	}
	if st.cur >= 0 && st.applied.baseline < 0 && len(st.applied.sha) == 0 {
		st.applied.baseline = st.cur // what the next run records
	}
	if !st.dirty {
		s.Problems = r.checks(st)
	}
	return s, nil
}
