// Package gitlab is GitLab's Code Quality report: a JSON array of issues
// that a CI job declares as artifacts:reports:codequality, and that GitLab
// shows in the merge request and on the changed lines of its diff.
//
// The format (docs.gitlab.com, "Code Quality report format") asks for a
// description, a check_name, a fingerprint unique to the issue, a severity
// (info, minor, major, critical or blocker) and a location: a path
// relative to the repository root and the first line.
package gitlab

import (
	"encoding/json"
	"io"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/report"
)

type issue struct {
	Description string   `json:"description"`
	CheckName   string   `json:"check_name"`
	Fingerprint string   `json:"fingerprint"`
	Severity    string   `json:"severity"`
	Location    location `json:"location"`
}

// location gives lines, not positions: the Code Climate format GitLab
// reads takes one or the other.
type location struct {
	Path  string `json:"path"`
	Lines lines  `json:"lines"`
}

type lines struct {
	Begin int `json:"begin"`
	End   int `json:"end"`
}

// Severity maps a finding's severity to GitLab's scale, as the common
// linters' GitLab formatters do: error is major, warning minor, note info.
func Severity(s analyzer.Severity) string {
	switch s {
	case analyzer.SeverityError:
		return "major"
	case analyzer.SeverityWarning:
		return "minor"
	}
	return "info"
}

// Write writes the report: one issue per finding that is not suppressed.
// The fingerprints are the ones SARIF carries, so an issue keeps its
// identity when lines above it move.
func Write(w io.Writer, r *report.Run) error {
	fps := report.Fingerprints(r.Findings)
	out := []issue{}
	for i, f := range r.Findings {
		if f.Suppressed != nil {
			continue
		}
		path, _ := r.RepoPath(f.Path)
		desc := f.Code + " " + f.Name + ": " + report.OneLine(f.Message)
		if f.Help != "" {
			desc += " — " + report.OneLine(f.Help)
		}
		out = append(out, issue{
			Description: desc,
			CheckName:   f.Name,
			Fingerprint: fps[i],
			Severity:    Severity(f.Severity),
			Location:    location{Path: report.PathText(path), Lines: lines{Begin: f.Start.Line, End: report.LastLine(f)}},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
