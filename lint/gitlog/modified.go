package gitlog

import (
	"context"
	"strings"
)

// Modified returns the files under dirs whose content is not the one the
// commit that added them gave them: a first-parent commit of HEAD modified
// them since (a merge counts with its first parent), or the index or the
// work tree changes them. For any other file, every line it has was added
// by the commit that added the file, which saves asking git about each
// line (one git log -S per marker walks the whole history).
func (g *Repo) Modified(ctx context.Context, dirs []string) (map[string]bool, error) {
	res := map[string]bool{}
	out, err := runGit(ctx, g.Root, append([]string{"log", "--first-parent", "--diff-merges=first-parent", "--no-renames", "--diff-filter=MT", "--name-only", "-z", "--format=", "--"}, dirs...)...)
	if err != nil {
		if strings.Contains(err.Error(), "does not have any commits") {
			return res, nil
		}
		return nil, err
	}
	for _, n := range strings.Split(string(out), "\x00") {
		if n = strings.TrimSpace(n); n != "" {
			res[n] = true
		}
	}
	out, err = runGit(ctx, g.Root, append([]string{"status", "--porcelain", "-z", "--untracked-files=no", "--no-renames", "--"}, dirs...)...)
	if err != nil {
		return nil, err
	}
	for _, e := range strings.Split(string(out), "\x00") {
		if len(e) >= 4 {
			res[e[3:]] = true
		}
	}
	return res, nil
}
