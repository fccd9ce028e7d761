package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/migsafe/migsafe/rollout/gate"
)

// PostmortemWithin is how soon after a rollback the post-mortem is held.
const PostmortemWithin = 48 * time.Hour

// Postmortem writes the post-mortem draft of a rolled-back run: what
// happened, the timeline from the journal, the gate that failed with its
// numbers, what was rolled back, the post-rollback checklist, the date the
// post-mortem is due (within 48 hours), and the sections people fill in:
// cause, fix, prevention, follow-up tickets.
func Postmortem(w io.Writer, r Run) error {
	var b strings.Builder
	rb := r.rolledBackAt().UTC()
	fmt.Fprintf(&b, "# Post-mortem draft: %s rollout %s\n\n", r.Service, r.ID)
	fmt.Fprintf(&b, "- Run: %s (plan %s), %s → %s, outcome **%s**\n", r.ID, r.Plan, r.Stable, r.Canary, r.Outcome)
	fmt.Fprintf(&b, "- Started %s, rollback began %s (UTC)\n", stamp(r.Started), stamp(rb))
	fmt.Fprintf(&b, "- **Post-mortem due: %s UTC** (within %d hours of the rollback)\n\n", stamp(rb.Add(PostmortemWithin)), int(PostmortemWithin.Hours()))

	b.WriteString("## What happened\n\n")
	if f := r.failedStep(); f != nil {
		fmt.Fprintf(&b, "The canary %s was at %d%% of the traffic when the gate **%s** gave **%s**: %s\n\n", r.Canary, f.Weight, f.Name, f.Phase, f.Message)
	} else {
		fmt.Fprintf(&b, "The run ended %s without a failed gate (rolled back by hand or by a failed action; see the timeline).\n\n", r.Outcome)
	}

	b.WriteString("## Timeline (UTC)\n\n| time | event |\n|---|---|\n")
	type line struct {
		at   time.Time
		what string
	}
	var lines []line
	for _, s := range r.Steps {
		what := fmt.Sprintf("%s started", s.Name)
		lines = append(lines, line{s.Started, what})
		if !s.Ended.IsZero() {
			end := s.Name + " ended"
			if s.Phase != "" {
				end += ": " + string(s.Phase)
			}
			if s.Message != "" && s.Phase != "" && s.Phase != "Successful" {
				end += ": " + s.Message
			}
			lines = append(lines, line{s.Ended, end})
		}
	}
	for _, a := range r.Rollback {
		what := "rollback: " + a.What
		if a.Err != "" {
			what += " FAILED: " + a.Err
		}
		lines = append(lines, line{a.At, what})
	}
	slices.SortStableFunc(lines, func(x, y line) int { return x.at.Compare(y.at) })
	for _, l := range lines {
		fmt.Fprintf(&b, "| %s | %s |\n", l.at.UTC().Format("15:04:05"), cell(l.what))
	}
	b.WriteString("\n")

	if f := r.failedStep(); f != nil {
		fmt.Fprintf(&b, "## The gate that failed: %s\n\n%s: %s\n\n", f.Name, f.Phase, f.Message)
		if len(f.Measurements) > 0 {
			b.WriteString("Last measurements:\n\n| metric | version | at | value | threshold |\n|---|---|---|---|---|\n")
			ms := f.Measurements
			// The analysis names the metric that decided first: show its
			// numbers.
			var decided []gate.Measurement
			for _, m := range ms {
				if strings.HasPrefix(f.Message, m.Metric+": ") {
					decided = append(decided, m)
				}
			}
			if len(decided) > 0 {
				ms = decided
			}
			if len(ms) > 10 {
				ms = ms[len(ms)-10:]
			}
			for _, m := range ms {
				th := ""
				if m.Threshold != nil {
					th = num(*m.Threshold)
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", m.Metric, m.Version, m.At.UTC().Format("15:04:05"), num(m.Value), th)
			}
			b.WriteString("\n")
		}
	}

	b.WriteString("## What was rolled back\n\n")
	if len(r.Rollback) == 0 {
		b.WriteString("Nothing was recorded.\n\n")
	}
	for _, a := range r.Rollback {
		status := "done"
		if a.Err != "" {
			status = "**failed**: " + a.Err
		}
		fmt.Fprintf(&b, "- %s: %s (%s)\n", a.What, status, a.At.UTC().Format("15:04:05"))
	}
	if len(r.Rollback) > 0 {
		b.WriteString("\n")
	}

	if r.PostRollback != nil {
		b.WriteString("## Post-rollback checklist\n\n")
		if err := r.PostRollback.WriteMarkdown(&b); err != nil {
			return err
		}
		b.WriteString("\n")
	}
	b.WriteString("## Cause\n\n_What made the canary fail? Link the change, the logs, the dashboards._\n\n")
	b.WriteString("## Fix\n\n_What change fixes it, and how was it verified?_\n\n")
	b.WriteString("## Prevention\n\n_What would have caught it earlier (a test, a lint rule, a gate)?_\n\n")
	b.WriteString("## Follow-up tickets\n\n- [ ] \n")
	_, err := io.WriteString(w, b.String())
	return err
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func num(f float64) string {
	if math.IsNaN(f) {
		return "NaN"
	}
	return fmt.Sprintf("%.4g", f)
}

func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ")
}
