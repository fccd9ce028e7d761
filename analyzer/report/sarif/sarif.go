// Package sarif is the SARIF 2.1.0 format that GitHub code scanning reads.
package sarif

import (
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/report"
)

type message struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type config struct {
	Level   string `json:"level"`
	Enabled bool   `json:"enabled"`
}

type rule struct {
	ID                   string   `json:"id"`
	Name                 string   `json:"name"`
	ShortDescription     message  `json:"shortDescription"`
	FullDescription      message  `json:"fullDescription"`
	Help                 message  `json:"help"`
	HelpURI              string   `json:"helpUri"`
	DefaultConfiguration config   `json:"defaultConfiguration"`
	Properties           ruleProp `json:"properties"`
}

type ruleProp struct {
	Tags []string `json:"tags"`
}

type driver struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	InformationURI string `json:"informationUri"`
	Rules          []rule `json:"rules"`
}

type region struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
	EndLine     int `json:"endLine"`
	EndColumn   int `json:"endColumn"`
}

type artifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type physical struct {
	ArtifactLocation artifact `json:"artifactLocation"`
	Region           region   `json:"region"`
}

type location struct {
	PhysicalLocation physical `json:"physicalLocation"`
}

type suppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification,omitempty"`
}

type replacement struct {
	DeletedRegion   region  `json:"deletedRegion"`
	InsertedContent message `json:"insertedContent"`
}

type artifactChange struct {
	ArtifactLocation artifact      `json:"artifactLocation"`
	Replacements     []replacement `json:"replacements"`
}

type fix struct {
	Description     message          `json:"description"`
	ArtifactChanges []artifactChange `json:"artifactChanges"`
}

type result struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           *int              `json:"ruleIndex,omitempty"`
	Level               string            `json:"level"`
	Message             message           `json:"message"`
	Locations           []location        `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Suppressions        []suppression     `json:"suppressions,omitempty"`
	Fixes               []fix             `json:"fixes,omitempty"`
	Properties          *resultProps      `json:"properties,omitempty"`
}

// resultProps is a result's property bag: the rules whose findings on the
// same statement were folded into this one (Finding.Also).
type resultProps struct {
	AlsoRuleIDs []string `json:"alsoRuleIds"`
}

type invocation struct {
	ExecutionSuccessful bool `json:"executionSuccessful"`
}

type uriBase struct {
	URI string `json:"uri"`
}

type run struct {
	Tool struct {
		Driver driver `json:"driver"`
	} `json:"tool"`
	Invocations        []invocation       `json:"invocations"`
	ColumnKind         string             `json:"columnKind"`
	OriginalURIBaseIDs map[string]uriBase `json:"originalUriBaseIds,omitempty"`
	Results            []result           `json:"results"`
}

type log struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []run  `json:"runs"`
}

// SrcRoot is the uriBaseId of every artifact: the repository root.
const SrcRoot = "%SRCROOT%"

func level(s analyzer.Severity) string {
	switch s {
	case analyzer.SeverityError:
		return "error"
	case analyzer.SeverityWarning:
		return "warning"
	default:
		return "note"
	}
}

// FingerprintKey names migsafe's entry in partialFingerprints.
const FingerprintKey = "migsafeFingerprint/v1"

// reg is the region from a to b, columns in UTF-16 code units.
func reg(li *analyzer.LineIndex, a, b analyzer.Position) region {
	rg := region{StartLine: max(1, a.Line), StartColumn: report.UTF16Column(li, a), EndLine: max(1, a.Line, b.Line), EndColumn: report.UTF16Column(li, b)}
	if rg.EndLine == rg.StartLine && rg.EndColumn < rg.StartColumn {
		rg.EndColumn = rg.StartColumn
	}
	return rg
}

// FileURI returns the file: URI of an absolute slash-separated path.
func FileURI(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // C:/x on Windows
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// relativeURI escapes a relative slash-separated path as a URI reference:
// each segment percent-encoded, ':' included so that no segment reads as a
// scheme.
func relativeURI(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
	}
	return strings.Join(segs, "/")
}

// location returns the artifact of a finding's file: relative to %SRCROOT%
// when inside the repository root, else an absolute file: URI.
func artifactOf(r *report.Run, path string) artifact {
	rel, ok := r.RepoPath(path)
	if !ok {
		if strings.HasPrefix(rel, "/") || filepath.IsAbs(rel) {
			return artifact{URI: FileURI(rel)}
		}
		return artifact{URI: relativeURI(rel)}
	}
	return artifact{URI: relativeURI(rel), URIBaseID: SrcRoot}
}

// Write writes the SARIF log.
func Write(w io.Writer, r *report.Run) error {
	var rn run
	rn.Tool.Driver = driver{Name: r.Tool.Name, Version: version(r.Tool.Version), InformationURI: r.Tool.InformationURI, Rules: []rule{}}
	rn.Invocations = []invocation{{ExecutionSuccessful: r.Stats.Errors == 0}}
	rn.ColumnKind = "utf16CodeUnits"
	if root := firstOf(r.Root, r.WorkDir); root != "" {
		rn.OriginalURIBaseIDs = map[string]uriBase{SrcRoot: {URI: strings.TrimSuffix(FileURI(filepath.ToSlash(root)), "/") + "/"}}
	}
	for _, ri := range r.Rules {
		rn.Tool.Driver.Rules = append(rn.Tool.Driver.Rules, rule{
			ID:                   ri.Code,
			Name:                 ri.Name,
			ShortDescription:     message{Text: ri.Summary},
			FullDescription:      message{Text: ri.Why},
			Help:                 message{Text: ri.Help, Markdown: ri.HelpMarkdown},
			HelpURI:              ri.URL,
			DefaultConfiguration: config{Level: level(ri.DefaultSeverity), Enabled: ri.Enabled},
			Properties:           ruleProp{Tags: append([]string{"migsafe"}, ri.Dialects...)},
		})
	}
	rn.Results = []result{}
	fps := report.Fingerprints(r.Findings)
	for i, f := range r.Findings {
		li := r.Source(f.Path)
		art := artifactOf(r, f.Path)
		res := result{
			RuleID:              f.Code,
			Level:               level(f.Severity),
			Message:             message{Text: f.Message},
			Locations:           []location{{PhysicalLocation: physical{ArtifactLocation: art, Region: reg(li, f.Start, f.End)}}},
			PartialFingerprints: map[string]string{FingerprintKey: fps[i]},
		}
		if _, idx := r.Rule(f.Code); idx >= 0 {
			res.RuleIndex = &idx
		}
		if len(f.Also) > 0 {
			res.Properties = &resultProps{AlsoRuleIDs: f.Also}
		}
		if f.Help != "" {
			res.Message.Text += "\nHelp: " + f.Help
		}
		if s := f.Suppressed; s != nil {
			res.Suppressions = []suppression{{Kind: "inSource", Status: "accepted", Justification: s.Reason}}
		}
		if li != nil {
			for _, fx := range f.Fixes {
				ac := artifactChange{ArtifactLocation: art}
				for _, e := range fx.Edits {
					ac.Replacements = append(ac.Replacements, replacement{
						DeletedRegion:   reg(li, li.Position(e.Span.Start), li.Position(e.Span.End)),
						InsertedContent: message{Text: e.NewText},
					})
				}
				res.Fixes = append(res.Fixes, fix{Description: message{Text: fx.Description}, ArtifactChanges: []artifactChange{ac}})
			}
		}
		rn.Results = append(rn.Results, res)
	}
	l := log{Schema: Schema, Version: "2.1.0", Runs: []run{rn}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(l)
}

// Schema is the JSON schema the log declares.
const Schema = "https://json.schemastore.org/sarif-2.1.0.json"

// version drops the v of a Go module version (v1.2.0 → 1.2.0): SARIF
// tools compare versions that start with a digit.
func version(v string) string {
	if len(v) > 1 && v[0] == 'v' && v[1] >= '0' && v[1] <= '9' {
		return v[1:]
	}
	return v
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
