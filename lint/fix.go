package lint

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/migsafe/migsafe/analyzer"
)

// FileFix is the result of applying the fixes of one file.
type FileFix struct {
	Path     string // as displayed
	Old, New []byte // the file's content before and after
	Applied  int    // findings fixed
}

// FixResult is what Fixes found to change, and what it left alone.
type FixResult struct {
	Files []FileFix
	// Skipped says, per file, why its fixes were not applied (it shipped
	// already, or its text on disk is not the text linted).
	Skipped []string
}

// Fixes computes the exact edits of res's findings (not suppressed), one
// fix per finding, overlapping edits left for a later run. A migration
// that already shipped (git dates it in a deploy) is never changed: the
// databases that applied it would not apply the change.
func Fixes(s *Settings, res *Result) *FixResult {
	shipped := map[string]bool{}
	for _, hs := range res.Histories {
		if !hs.Git {
			continue
		}
		for _, f := range hs.Parts {
			if d := hs.Deploys.Deploy(f.Deploy); d != nil && !d.Pending {
				shipped[f.Path] = true
			}
		}
	}
	byFile := map[string][]analyzer.Finding{}
	var order []string
	for _, f := range res.Engine.Findings {
		if f.Suppressed != nil || len(f.Fixes) == 0 || len(f.Fixes[0].Edits) == 0 {
			continue
		}
		if _, ok := byFile[f.Path]; !ok {
			order = append(order, f.Path)
		}
		byFile[f.Path] = append(byFile[f.Path], f)
	}
	sort.Strings(order)
	srcs := map[string][]byte{}
	for _, f := range res.Engine.Files {
		srcs[f.Path] = f.Src
	}
	out := &FixResult{}
	for _, p := range order {
		if shipped[p] {
			out.Skipped = append(out.Skipped, fmt.Sprintf("%s: not fixed: it shipped already (git), and databases that applied it would not apply the change; write a new migration", p))
			continue
		}
		disk, err := os.ReadFile(absPath(s.Dir, p))
		if err != nil {
			out.Skipped = append(out.Skipped, PathError(p, err).Error())
			continue
		}
		bom := []byte("\xef\xbb\xbf")
		body := bytes.TrimPrefix(disk, bom)
		if !bytes.Equal(body, srcs[p]) {
			out.Skipped = append(out.Skipped, fmt.Sprintf("%s: not fixed: the text linted is not the file's (a template rendered for linting, or the file changed)", p))
			continue
		}
		type edit struct {
			analyzer.Edit
			finding int
		}
		var edits []edit
		for i, f := range byFile[p] {
			for _, e := range f.Fixes[0].Edits {
				edits = append(edits, edit{e, i})
			}
		}
		sort.SliceStable(edits, func(i, j int) bool { return edits[i].Span.Start < edits[j].Span.Start })
		// a finding's edits go in together or not at all; the first of two
		// overlapping findings wins, the other waits for the next run
		skip := map[int]bool{}
		end := -1
		for _, e := range edits {
			if skip[e.finding] {
				continue
			}
			if e.Span.Start < end {
				skip[e.finding] = true
				continue
			}
			end = max(end, e.Span.End)
		}
		var b bytes.Buffer
		if len(disk) != len(body) {
			b.Write(bom)
		}
		last, done := 0, map[int]bool{}
		for _, e := range edits {
			if skip[e.finding] {
				continue
			}
			b.Write(body[last:e.Span.Start])
			b.WriteString(e.NewText)
			last = e.Span.End
			done[e.finding] = true
		}
		b.Write(body[last:])
		if len(done) > 0 {
			out.Files = append(out.Files, FileFix{Path: p, Old: disk, New: b.Bytes(), Applied: len(done)})
		}
	}
	return out
}

// Fix applies fixes of Fixes to the files and lints paths again, until
// nothing is left to fix (at most a few rounds: one fix can make room for
// another). It returns the last lint result and every file it changed.
func Fix(ctx context.Context, s *Settings, paths []string) (*Result, []FileFix, []string, error) {
	var changed []FileFix
	var skipped []string
	for range 4 {
		res, err := Check(ctx, s, paths)
		if res == nil || err != nil {
			return res, changed, skipped, err
		}
		fx := Fixes(s, res)
		skipped = fx.Skipped
		if len(fx.Files) == 0 {
			return res, changed, skipped, nil
		}
		for _, f := range fx.Files {
			full := absPath(s.Dir, f.Path)
			st, err := os.Stat(full)
			if err != nil {
				return res, changed, skipped, PathError(f.Path, err)
			}
			if err := os.WriteFile(full, f.New, st.Mode().Perm()); err != nil {
				return res, changed, skipped, PathError(f.Path, err)
			}
			changed = append(changed, f)
		}
	}
	res, err := Check(ctx, s, paths)
	return res, changed, skipped, err
}
