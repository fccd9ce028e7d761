// Package checklist runs the seed's checklists as checks, not questions:
// the rollback-readiness checklist before a rollout and the post-rollback
// checklist after a rollback. A checklist is a list of items; each item is
// a gate (an analysis step, or a check the engine builds from its own
// records) with the advice to give when it fails. An item may be waived
// with a reason, which the report shows.
//
// Items written in a plan are analysis bodies (package analysis):
//
//   - name: health checks pass
//     fix: look at the pods' logs; the rollback left the stable version serving
//     check:
//     metrics:
//   - name: healthz
//     interval: 1s
//     count: 5
//     provider: {web: {url: http://127.0.0.1:8080/healthz}}
package checklist

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/migsafe/migsafe/rollout/gate"
)

// Item is one line of a checklist.
type Item struct {
	Name string
	// Fix says what to do when the item fails.
	Fix string
	// Waived, when not empty, is why the item is not checked.
	Waived string
	Gate   gate.Gate
}

// Outcome is one item's result.
type Outcome struct {
	Name     string      `json:"name"`
	Phase    gate.Phase  `json:"phase,omitempty"`
	Passed   bool        `json:"passed"`
	Message  string      `json:"message,omitempty"`
	Fix      string      `json:"fix,omitempty"`
	Waived   string      `json:"waived,omitempty"`
	Duration float64     `json:"seconds"`
	Result   gate.Result `json:"-"`
}

// Report is a checklist's result.
type Report struct {
	Title    string    `json:"title"`
	Started  time.Time `json:"started"`
	Passed   bool      `json:"passed"`
	Outcomes []Outcome `json:"items"`
}

// Run checks the items one after the other, each over the window w (its
// Start is set to the item's start when zero), within ctx. An item passes
// when its gate is Successful; waived items pass and are marked so.
func Run(ctx context.Context, title string, items []Item, w gate.Window) Report {
	r := Report{Title: title, Started: time.Now(), Passed: true}
	for _, it := range items {
		o := Outcome{Name: it.Name, Waived: it.Waived}
		if it.Waived != "" {
			o.Passed = true
			o.Message = "waived: " + it.Waived
			r.Outcomes = append(r.Outcomes, o)
			continue
		}
		iw := w
		t0 := time.Now()
		if iw.Start.IsZero() {
			iw.Start = t0
		}
		if it.Gate == nil {
			o.Phase, o.Message = gate.Error, "no check is configured for this item"
		} else {
			res := it.Gate.Evaluate(ctx, iw)
			o.Phase, o.Message, o.Result = res.Phase, res.Message, res
		}
		o.Duration = time.Since(t0).Seconds()
		o.Passed = o.Phase == gate.Successful
		if !o.Passed {
			o.Fix = it.Fix
			r.Passed = false
		}
		r.Outcomes = append(r.Outcomes, o)
	}
	return r
}

// WriteText writes the report for a terminal.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", r.Title, verdict(r.Passed))
	for _, o := range r.Outcomes {
		mark := "ok  "
		switch {
		case o.Waived != "":
			mark = "skip"
		case !o.Passed:
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "  %s %s: %s\n", mark, o.Name, o.Message)
		if o.Fix != "" {
			fmt.Fprintf(&b, "       fix: %s\n", o.Fix)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as one JSON object.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteMarkdown writes the report for a pull request comment.
func (r Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s: %s\n\n| | item | result |\n|---|---|---|\n", r.Title, verdict(r.Passed))
	for _, o := range r.Outcomes {
		mark := "✅"
		switch {
		case o.Waived != "":
			mark = "⏭️"
		case !o.Passed:
			mark = "❌"
		}
		msg := o.Message
		if o.Fix != "" {
			msg += "<br>**Fix:** " + o.Fix
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", mark, mdCell(o.Name), mdCell(msg))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}

func verdict(ok bool) string {
	if ok {
		return "passed"
	}
	return "FAILED"
}
