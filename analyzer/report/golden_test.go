package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
	"github.com/migsafe/migsafe/analyzer/report"
	"github.com/migsafe/migsafe/analyzer/report/github"
	"github.com/migsafe/migsafe/analyzer/report/gitlab"
	"github.com/migsafe/migsafe/analyzer/report/jsonfmt"
	"github.com/migsafe/migsafe/analyzer/report/sarif"
	"github.com/migsafe/migsafe/analyzer/report/text"
)

var update = flag.Bool("update", false, "rewrite the golden files under fixtures/report/golden")

const fixtures = "../../fixtures/report"

// input is fixtures/report/input.json: the one set of findings every
// format's golden file is rendered from.
type input struct {
	Tool struct {
		Name, Version  string
		InformationURI string `json:"information_uri"`
	}
	Target  string
	WorkDir string `json:"work_dir"`
	Root    string
	Stats   report.Stats
	Rules   []struct {
		Code, Name, Summary, Why, Help, URL, Fix string
		HelpMarkdown                             string `json:"help_markdown"`
		DefaultSeverity                          string `json:"default_severity"`
		Enabled                                  bool
		Dialects                                 []string
	}
	Findings []struct {
		Code, Name, Severity, Path, Start, End, Message, Help, Direction string
		Stmt                                                             string
		Objects                                                          []string
		Lock                                                             *struct {
			Mode, On, Note string
			Blocks, Work   int
		}
		Fixes []struct {
			Description string
			Edits       []struct {
				Start, End string
				NewText    string `json:"new_text"`
			}
		}
		Suppressed *struct {
			Reason string
			File   bool
		}
	}
}

// offset converts "line:col" (code points) to a byte offset in src.
func offset(t *testing.T, src []byte, lc string) int {
	t.Helper()
	l, c, ok := strings.Cut(lc, ":")
	line, err1 := strconv.Atoi(l)
	col, err2 := strconv.Atoi(c)
	if !ok || err1 != nil || err2 != nil {
		t.Fatalf("bad position %q", lc)
	}
	off := 0
	for n := 1; n < line; n++ {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			t.Fatalf("position %q: no line %d", lc, line)
		}
		off += i + 1
	}
	for ; col > 1; col-- {
		_, size := utf8DecodeRune(src[off:])
		off += size
	}
	return off
}

func utf8DecodeRune(b []byte) (rune, int) {
	r := []rune(string(b[:min(len(b), 4)]))
	if len(r) == 0 {
		return 0, 1
	}
	return r[0], len(string(r[0]))
}

func pos(t *testing.T, li *analyzer.LineIndex, src []byte, lc string) analyzer.Position {
	if li != nil {
		return li.Position(offset(t, src, lc))
	}
	l, c, _ := strings.Cut(lc, ":")
	line, _ := strconv.Atoi(l)
	col, _ := strconv.Atoi(c)
	return analyzer.Position{Line: line, Column: col}
}

// loadRun builds the report.Run of fixtures/report/input.json with the
// sources under fixtures/report/src.
func loadRun(t *testing.T) *report.Run {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, "input.json"))
	if err != nil {
		t.Fatal(err)
	}
	var in input
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&in); err != nil {
		t.Fatalf("input.json: %v", err)
	}
	run := &report.Run{
		Tool:    report.Tool{Name: in.Tool.Name, Version: in.Tool.Version, InformationURI: in.Tool.InformationURI},
		Target:  in.Target,
		Stats:   in.Stats,
		WorkDir: filepath.FromSlash(in.WorkDir),
		Root:    filepath.FromSlash(in.Root),
	}
	for _, r := range in.Rules {
		sev, err := analyzer.ParseSeverity(r.DefaultSeverity)
		if err != nil {
			t.Fatal(err)
		}
		run.Rules = append(run.Rules, report.RuleInfo{Code: r.Code, Name: r.Name, Summary: r.Summary, Why: r.Why, Help: r.Help,
			HelpMarkdown: r.HelpMarkdown, URL: r.URL, DefaultSeverity: sev, Enabled: r.Enabled, Fix: r.Fix, Dialects: r.Dialects})
	}
	srcs := map[string][]byte{}
	lines := map[string]*analyzer.LineIndex{}
	for _, f := range in.Findings {
		if _, seen := srcs[f.Path]; seen || filepath.IsAbs(f.Path) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(fixtures, "src", filepath.FromSlash(f.Path)))
		if errors.Is(err, fs.ErrNotExist) {
			srcs[f.Path] = nil
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		srcs[f.Path], lines[f.Path] = b, analyzer.NewLineIndex(b)
	}
	run.Sources = func(p string) *analyzer.LineIndex { return lines[p] }
	for _, f := range in.Findings {
		sev, err := analyzer.ParseSeverity(f.Severity)
		if err != nil {
			t.Fatal(err)
		}
		src, li := srcs[f.Path], lines[f.Path]
		af := analyzer.Finding{Code: f.Code, Name: f.Name, Severity: sev, Path: f.Path, Message: f.Message, Help: f.Help,
			Objects: f.Objects, Start: pos(t, li, src, f.Start), End: pos(t, li, src, f.End), StmtText: f.Stmt}
		af.Span = change.Span{Start: af.Start.Offset, End: af.End.Offset}
		if af.StmtText == "" && src != nil {
			af.StmtText = string(src[af.Span.Start:af.Span.End])
		}
		if f.Direction == "down" {
			af.Direction = analyzer.Down
		}
		if l := f.Lock; l != nil {
			af.Effect = &change.Effect{Lock: l.Mode, On: l.On, Blocks: change.Blocks(l.Blocks), Work: change.Work(l.Work), Note: l.Note}
		}
		for _, fx := range f.Fixes {
			afx := analyzer.Fix{Description: fx.Description}
			for _, e := range fx.Edits {
				afx.Edits = append(afx.Edits, analyzer.Edit{Span: change.Span{Start: offset(t, src, e.Start), End: offset(t, src, e.End)}, NewText: e.NewText})
			}
			af.Fixes = append(af.Fixes, afx)
		}
		if s := f.Suppressed; s != nil {
			af.Suppressed = &analyzer.Suppression{Reason: s.Reason, File: s.File, Rules: []string{f.Name}}
		}
		run.Findings = append(run.Findings, af)
	}
	return run
}

// golden compares got with fixtures/report/golden/name, or rewrites it
// with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(fixtures, "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./analyzer/report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs from the golden file at line %d (run go test ./analyzer/report -update if the change is intended)\n got: %q\nwant: %q", name, i+1, g, w)
			}
		}
	}
}

func TestGolden(t *testing.T) {
	formats := []struct {
		file  string
		write func(io.Writer, *report.Run) error
	}{
		{"text.txt", func(w io.Writer, r *report.Run) error { return text.Write(w, r, text.Options{}) }},
		{"text-color.txt", func(w io.Writer, r *report.Run) error { return text.Write(w, r, text.Options{Color: true}) }},
		{"concise.txt", func(w io.Writer, r *report.Run) error { return text.WriteConcise(w, r, text.Options{}) }},
		{"github.txt", github.Write},
		{"gitlab.json", gitlab.Write},
		{"json.json", jsonfmt.Write},
		{"sarif.json", sarif.Write},
	}
	for _, f := range formats {
		t.Run(f.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := f.write(&b, loadRun(t)); err != nil {
				t.Fatal(err)
			}
			golden(t, f.file, b.Bytes())
		})
	}
}

// TestGoldenCoversEveryFormat keeps the list above in step with the golden
// directory.
func TestGoldenCoversEveryFormat(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join(fixtures, "golden"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := fmt.Sprint(names); got != "[concise.txt github.txt gitlab.json json.json sarif.json text-color.txt text.txt]" {
		t.Errorf("fixtures/report/golden holds %s", got)
	}
}
