// Package buildinfo says which migsafe this is: the version, commit and
// build date a release build stamps at link time, else what the Go
// toolchain recorded in the binary, else "devel".
//
// A release build (goreleaser, the GitHub Action) sets the variables with
//
//	go build -ldflags "-X github.com/migsafe/migsafe/internal/buildinfo.Version=v1.2.0
//	  -X github.com/migsafe/migsafe/internal/buildinfo.Commit=<full hash>
//	  -X github.com/migsafe/migsafe/internal/buildinfo.Date=2026-12-01T10:00:00Z"
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// Set at link time with -ldflags -X; empty in other builds.
var (
	Version string // the release tag, v1.2.0
	Commit  string // the full commit hash
	Date    string // the build date, RFC 3339
)

// Devel is the version of a build that knows none: a checkout built with
// go build, or any build with -buildvcs=false.
const Devel = "devel"

// Info is what a binary knows about itself.
type Info struct {
	Version   string // Version, else the module version (go install …@v1.2.0), else Devel
	Commit    string // Commit, else vcs.revision; "" if unknown
	Modified  bool   // vcs.modified: built from a working tree with changes
	Committed string // vcs.time, the commit's date, when Commit came from the toolchain
	Date      string // Date, the build date; "" if not stamped
	GoVersion string // the toolchain that built the binary, go1.26.8
	Platform  string // GOOS/GOARCH, linux/amd64
}

// Read returns the stamped values, falling back to the build information
// the Go toolchain embeds.
// It reads Go's build information once: a report describes every rule
// with the version, and parsing it each time was a tenth of a one-file run.
func Read() Info { return readOnce() }

var readOnce = sync.OnceValue(func() Info {
	bi, _ := debug.ReadBuildInfo()
	return read(bi, Version, Commit, Date)
})

func read(bi *debug.BuildInfo, version, commit, date string) Info {
	in := Info{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if bi.GoVersion != "" {
			in.GoVersion = bi.GoVersion
		}
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
		var rev, at string
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		// the toolchain's values describe one commit: take them together,
		// and only when nothing was stamped
		if in.Commit == "" && rev != "" {
			in.Commit, in.Modified, in.Committed = rev, modified, at
		}
	}
	if in.Version == "" {
		in.Version = Devel
	}
	return in
}
