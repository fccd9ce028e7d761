package gitlog

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// AddedModified is Added, and in the same walk of the history (whose cost
// is the diffs of the directories, not the number of lines asked about)
// the files under dirs a first-parent commit modified after adding them (a
// merge counts with its first parent). The other files have, at HEAD,
// every line the commit that added them gave them: their markers need no
// git log -S each.
func (g *Repo) AddedModified(ctx context.Context, dirs []string) (map[string]Commit, map[string]bool, error) {
	args := []string{"log", "--first-parent", "--diff-merges=first-parent", "--no-renames", "--diff-filter=AMT", "--name-status", "-z", "--format=%x1e%H %cI", "--"}
	out, err := runGit(ctx, g.Root, append(args, dirs...)...)
	added, modified := map[string]Commit{}, map[string]bool{}
	if err != nil {
		if strings.Contains(err.Error(), "does not have any commits") {
			return added, modified, nil
		}
		return nil, nil, err
	}
	for _, rec := range strings.Split(string(out), "\x1e") {
		rec = strings.TrimLeft(rec, "\x00\n")
		if rec == "" {
			continue
		}
		// "HASH DATE\x00\nSTATUS\x00PATH\x00STATUS\x00PATH\x00..."
		head, rest, _ := strings.Cut(rec, "\x00")
		hash, date, _ := strings.Cut(head, " ")
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(date))
		if err != nil {
			return nil, nil, fmt.Errorf("git log: bad date %q", date)
		}
		fields := strings.Split(strings.TrimLeft(rest, "\n"), "\x00")
		for i := 0; i+1 < len(fields); i += 2 {
			status, name := strings.TrimSpace(fields[i]), fields[i+1]
			if name == "" {
				continue
			}
			switch status {
			case "A":
				if _, seen := added[name]; !seen { // newest first: the latest add wins
					added[name] = Commit{Hash: hash, Time: t}
				}
			default:
				if _, readded := added[name]; !readded {
					// a change before the latest add is of an older file
					modified[name] = true
				}
			}
		}
	}
	return added, modified, nil
}

// Changed returns the files under dirs the index or the work tree changes
// (not untracked files).
func (g *Repo) Changed(ctx context.Context, dirs []string) (map[string]bool, error) {
	out, err := runGit(ctx, g.Root, append([]string{"status", "--porcelain", "-z", "--untracked-files=no", "--no-renames", "--"}, dirs...)...)
	if err != nil {
		return nil, err
	}
	res := map[string]bool{}
	for _, e := range strings.Split(string(out), "\x00") {
		if len(e) >= 4 {
			res[e[3:]] = true
		}
	}
	return res, nil
}
