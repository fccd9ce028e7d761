package analyzer

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// DefaultMinDeprecationAge is how long a deprecation must have been deployed
// before the contract step (the drop) may ship, unless configured otherwise.
const DefaultMinDeprecationAge = 7 * 24 * time.Hour

// Deploy is a set of migrations shipped together. With git, a deploy is
// the migrations a commit of the first-parent history added, dated by that
// commit, and the migrations added or changed since --since REF (or not
// committed yet) are the pending deploy. Without git, every migration
// version is its own deploy and has no date.
type Deploy struct {
	N       int       // deploy number, from 1
	Time    time.Time // when it shipped; zero when unknown
	Pending bool      // not deployed yet: the change being linted
	Ref     string    // what identifies it: a commit, "version 3", "working tree"
}

// Label describes a deploy for messages: "deploy of 2024-06-01 (commit
// 1a2b3c4)", "the pending deploy", "deploy 3 (version 3)".
func (d *Deploy) Label() string {
	switch {
	case d == nil:
		return "an unknown deploy"
	case d.Pending:
		return "this deploy"
	case !d.Time.IsZero() && d.Ref != "":
		return fmt.Sprintf("the deploy of %s (%s)", d.Time.UTC().Format("2006-01-02"), d.Ref)
	case !d.Time.IsZero():
		return "the deploy of " + d.Time.UTC().Format("2006-01-02")
	case d.Ref != "":
		return fmt.Sprintf("deploy %d (%s)", d.N, d.Ref)
	}
	return fmt.Sprintf("deploy %d", d.N)
}

// History is what a run knows about deploys. Rules read it through the
// Pass; it never changes during a run.
type History struct {
	Deploys []Deploy // Deploys[i].N == i+1
	// Dated is set when deploy times are known (from git); the time rules
	// are skipped otherwise.
	Dated bool
	// Now is when the pending deploy ships: the time of the run.
	Now time.Time
	// MinAge is the minimum age of a deprecation before its contract step;
	// when it is zero and MinAgeSet is not, the default applies.
	MinAge time.Duration
	// MinAgeSet makes a zero MinAge mean no wait (any later deploy).
	MinAgeSet bool
}

// Deploy returns deploy n, or nil when the history does not know it.
func (h *History) Deploy(n int) *Deploy {
	if h == nil || n < 1 || n > len(h.Deploys) {
		return nil
	}
	return &h.Deploys[n-1]
}

// Time is when deploy n shipped: its commit time, Now for the pending
// deploy, zero when unknown.
func (h *History) Time(n int) time.Time {
	d := h.Deploy(n)
	if d == nil {
		return time.Time{}
	}
	if d.Pending && d.Time.IsZero() {
		return h.Now
	}
	return d.Time
}

// MinimumAge is MinAge, or the default when it is not set.
func (h *History) MinimumAge() time.Duration {
	if h == nil || h.MinAge < 0 || h.MinAge == 0 && !h.MinAgeSet {
		return DefaultMinDeprecationAge
	}
	return h.MinAge
}

// Undated returns a history of n deploys without dates: every migration
// version its own deploy, as when there is no git history.
func Undated(n int) *History {
	h := &History{Deploys: make([]Deploy, n)}
	for i := range h.Deploys {
		h.Deploys[i].N = i + 1
	}
	return h
}

// FormatAge renders a duration in days (or hours below two days) for
// messages: "3 days", "7 days", "20 hours".
func FormatAge(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < 48*time.Hour {
		h := int(d.Hours())
		if h == 1 {
			return "1 hour"
		}
		return fmt.Sprintf("%d hours", h)
	}
	days := int(d.Hours() / 24)
	return fmt.Sprintf("%d days", days)
}

// FormatMoment renders when something becomes allowed for messages: the
// UTC date, with the time of day when it is not midnight ("2024-06-14",
// "2024-06-14 09:00 UTC"), so that a drop refused in the morning is not
// said to be allowed from the same day.
func FormatMoment(t time.Time) string {
	t = t.UTC()
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
		return t.Format("2006-01-02")
	}
	if t.Second() != 0 {
		// allowed from the next minute: never before the moment itself
		t = t.Truncate(time.Minute).Add(time.Minute)
	}
	return t.Format("2006-01-02 15:04") + " UTC"
}

// ParseAge reads a duration in days ("7d"), weeks ("2w"), hours ("36h")
// or as Go writes durations ("90m").
func ParseAge(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(t, suffix); ok {
			if v, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64); err == nil && v >= 0 {
				if v > int64(math.MaxInt64/unit) {
					// time.Duration counts nanoseconds: about 292 years
					return 0, fmt.Errorf("age %q is too large (at most %dd)", s, int64(math.MaxInt64/(24*time.Hour)))
				}
				return time.Duration(v) * unit, nil
			} else if errors.Is(err, strconv.ErrRange) {
				return 0, fmt.Errorf("age %q is too large (at most %dd)", s, int64(math.MaxInt64/(24*time.Hour)))
			}
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid age %q: want a number of days (7d), weeks (2w) or hours (36h), at most %dd", s, int64(math.MaxInt64/(24*time.Hour)))
	}
	return d, nil
}
