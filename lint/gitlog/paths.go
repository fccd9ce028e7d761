package gitlog

import (
	"context"
	"iter"
	"maps"
	"strings"
)

// Paths is the set of paths under some directories that a commit's tree
// has: listed by git ls-tree (At), or the index's entries with what the
// index changed since the commit (AtFromIndex), which spares listing a
// tree of as many paths as the index has just listed (on 100,000
// migrations, 200,000 paths for each of --since's commits).
type Paths struct {
	set map[string]bool // git ls-tree's paths; nil when from the index
	// the index's entries, what it changed since the commit (git
	// diff-index --cached: A, D, M, T, U) and, for the entries whose id
	// the index leaves out (unmerged, added with --intent-to-add, an
	// empty file, a link), whether the commit has them, from git
	index  *Index
	staged map[string]byte
	named  map[string]bool
}

// PathSet is the set of paths of set.
func PathSet(set map[string]bool) Paths { return Paths{set: set} }

// Has reports whether the commit has path.
func (p Paths) Has(path string) bool { return p.HasFrom(nil, path) }

// HasFrom is Has, looking path up from c (see Cursor): for paths asked
// about in about their order.
func (p Paths) HasFrom(c *Cursor, path string) bool {
	if p.index == nil {
		return p.set[path]
	}
	if has, asked := p.named[path]; asked {
		return has
	}
	switch p.staged[path] {
	case 0:
		return p.index.entries.has(path, c)
	case 'A':
		return false
	}
	return true // deleted, modified or retyped since the commit
}

// All yields each path of the set once, in no order.
func (p Paths) All() iter.Seq[string] {
	if p.index == nil {
		return maps.Keys(p.set)
	}
	return func(yield func(string) bool) {
		for _, path := range p.index.entries.paths {
			has, asked := p.named[path]
			if !asked {
				has = p.staged[path] != 'A'
			}
			if has && !yield(path) {
				return
			}
		}
		// (the paths asked by name are entries)
		for path, st := range p.staged {
			if st == 'D' && !p.index.entries.has(path, nil) && !yield(path) {
				return
			}
		}
	}
}

// Staged is what the index changed from HEAD (the answer StagedStatus
// gives for HEAD).
func (ix *Index) Staged() map[string]byte { return ix.staged }

// StagedStatus returns how each file under dirs that differs between
// rev and the index differs (git diff-index --cached --name-status: A,
// D, M, T or U). An entry added with --intent-to-add is not in the index
// here, as git diff --cached says.
func (g *Repo) StagedStatus(ctx context.Context, rev string, dirs []string) (map[string]byte, error) {
	out, err := runGit(ctx, g.Root, append([]string{"diff-index", "--cached", "--ita-invisible-in-index", "--name-status", "-z", "--no-renames", rev, "--"}, dirs...)...)
	if err != nil {
		return nil, err
	}
	return nameStatus(out), nil
}

// AtFromIndex is At(rev, dirs) from ix (which ReadIndex read of the same
// dirs) and staged, what StagedStatus says of rev: rev has the index's
// paths but those the index added since, and those it deleted. git is
// asked by name about the entries whose id the index leaves out (an
// unmerged path, or one added with --intent-to-add, which has the id of
// an empty file); beyond maxNamed of them, it lists rev's tree (At).
func (g *Repo) AtFromIndex(ctx context.Context, ix *Index, rev string, staged map[string]byte, dirs []string) (Paths, error) {
	var ask []string
	for i, e := range ix.entries.vals {
		if e.id == "" {
			ask = append(ask, ix.entries.paths[i])
		}
	}
	p := Paths{index: ix, staged: staged}
	if len(ask) > maxNamed {
		set, err := g.At(ctx, rev, dirs)
		return PathSet(set), err
	}
	if len(ask) > 0 {
		out, err := runGit(ctx, g.Root, append([]string{"ls-tree", "-r", "-z", "--name-only", rev, "--"}, ask...)...)
		if err != nil {
			return Paths{}, err
		}
		p.named = make(map[string]bool, len(ask))
		for _, path := range ask {
			p.named[path] = false
		}
		for n := range strings.SplitSeq(string(out), "\x00") {
			if _, asked := p.named[n]; asked {
				p.named[n] = true
			}
		}
	}
	return p, nil
}
