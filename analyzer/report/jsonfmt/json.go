// Package jsonfmt is the JSON format: a versioned document described in
// docs/json-output.md.
package jsonfmt

import (
	"encoding/json"
	"io"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
	"github.com/migsafe/migsafe/analyzer/report"
)

// Version of the document schema. It changes only when a field is removed
// or changes meaning; new fields may appear at any version.
const Version = 1

type position struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Offset int `json:"offset"`
}

type lock struct {
	Mode      string `json:"mode,omitempty"`
	On        string `json:"on,omitempty"`
	Blocks    string `json:"blocks"`
	Work      string `json:"work"`
	Algorithm string `json:"algorithm,omitempty"`
	Note      string `json:"note,omitempty"`
}

type edit struct {
	Start   position `json:"start"`
	End     position `json:"end"`
	NewText string   `json:"new_text"`
}

type fix struct {
	Description string `json:"description"`
	Edits       []edit `json:"edits"`
}

type suppression struct {
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

type finding struct {
	Code        string       `json:"code"`
	Name        string       `json:"name"`
	Severity    string       `json:"severity"`
	Path        string       `json:"path"`
	Direction   string       `json:"direction"`
	Start       position     `json:"start"`
	End         position     `json:"end"`
	Message     string       `json:"message"`
	Help        string       `json:"help,omitempty"`
	URL         string       `json:"url,omitempty"`
	Objects     []string     `json:"objects,omitempty"`
	Lock        *lock        `json:"lock,omitempty"`
	Fixes       []fix        `json:"fixes,omitempty"`
	Suppressed  *suppression `json:"suppressed,omitempty"`
	Fingerprint string       `json:"fingerprint"`
}

type summary struct {
	Files      int `json:"files"`
	Statements int `json:"statements"`
	Errors     int `json:"errors"`
	Warnings   int `json:"warnings"`
	Notes      int `json:"notes"`
	Suppressed int `json:"suppressed"`
	ToolErrors int `json:"tool_errors"`
}

type document struct {
	Version  int       `json:"version"`
	Tool     tool      `json:"tool"`
	Target   string    `json:"target,omitempty"`
	Summary  summary   `json:"summary"`
	Findings []finding `json:"findings"`
}

type tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// blocks and work are the JSON names of the change model's enums.
var (
	blocks = map[change.Blocks]string{change.BlocksNothing: "nothing", change.BlocksWrites: "writes", change.BlocksReadsAndWrites: "reads-and-writes"}
	work   = map[change.Work]string{change.WorkNone: "catalog", change.WorkScan: "scan", change.WorkIndexBuild: "index-build", change.WorkRewrite: "rewrite"}
)

func pos(p analyzer.Position) position { return position{p.Line, p.Column, p.Offset} }

// Write writes the document.
func Write(w io.Writer, r *report.Run) error {
	doc := document{Version: Version, Tool: tool{r.Tool.Name, r.Tool.Version}, Target: r.Target, Findings: []finding{}}
	e, wn, n, s := r.Counts()
	doc.Summary = summary{Files: r.Stats.Files, Statements: r.Stats.Statements, Errors: e, Warnings: wn, Notes: n, Suppressed: s, ToolErrors: r.Stats.Errors}
	fps := report.Fingerprints(r.Findings)
	for i, f := range r.Findings {
		ri, _ := r.Rule(f.Code)
		jf := finding{
			Code: f.Code, Name: f.Name, Severity: f.Severity.String(), Path: report.PathText(f.Path), Direction: f.Direction.String(),
			Start: pos(f.Start), End: pos(f.End), Message: f.Message, Help: f.Help, URL: ri.URL,
			Objects: f.Objects, Fingerprint: fps[i],
		}
		if e := f.Effect; e != nil && e.Known() {
			jf.Lock = &lock{Mode: e.Lock, On: e.On, Blocks: blocks[e.Blocks], Work: work[e.Work], Algorithm: e.Algorithm, Note: e.Note}
		}
		li := r.Source(f.Path)
		for _, fx := range f.Fixes {
			jx := fix{Description: fx.Description}
			for _, ed := range fx.Edits {
				je := edit{NewText: ed.NewText, Start: position{Offset: ed.Span.Start}, End: position{Offset: ed.Span.End}}
				if li != nil {
					je.Start, je.End = pos(li.Position(ed.Span.Start)), pos(li.Position(ed.Span.End))
				}
				jx.Edits = append(jx.Edits, je)
			}
			jf.Fixes = append(jf.Fixes, jx)
		}
		if sp := f.Suppressed; sp != nil {
			kind := "ignore"
			if sp.File {
				kind = "ignore-file"
			}
			jf.Suppressed = &suppression{Kind: kind, Reason: sp.Reason}
		}
		doc.Findings = append(doc.Findings, jf)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}
