package buildinfo

import (
	"fmt"
	"io"
)

// Write prints the information as `migsafe version` shows it: the first
// line is "migsafe version VERSION", then one line per fact, each saying
// "unknown" with the reason when the build did not record it. grammar is
// the PostgreSQL release whose grammar the bundled parser implements.
func (in Info) Write(w io.Writer, grammar string) error {
	commit := "unknown (built without VCS information: outside a git checkout, or with -buildvcs=false)"
	if in.Commit != "" {
		commit = in.Commit
		if in.Modified {
			commit += " (with uncommitted changes)"
		}
		if in.Committed != "" {
			commit += ", committed " + in.Committed
		}
	}
	date := "unknown (not stamped at link time)"
	if in.Date != "" {
		date = in.Date
	}
	_, err := fmt.Fprintf(w, "migsafe version %s\ncommit:     %s\nbuilt:      %s\ngo:         %s %s\npostgresql: %s (the grammar of the bundled parser, libpg_query)\n",
		in.Version, commit, date, in.GoVersion, in.Platform, grammar)
	return err
}
