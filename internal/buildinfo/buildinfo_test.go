package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	vcs := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/migsafe/migsafe", Version: "v0.0.0-20261201100000-0123456789ab+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	for _, tc := range []struct {
		name                  string
		bi                    *debug.BuildInfo
		version, commit, date string
		want                  Info
	}{
		{"stamped wins over the toolchain's", vcs, "v1.2.0", "fedcba", "2026-12-02T00:00:00Z",
			Info{Version: "v1.2.0", Commit: "fedcba", Date: "2026-12-02T00:00:00Z", GoVersion: "go1.26.8"}},
		{"go build in a checkout", vcs, "", "", "",
			Info{Version: "v0.0.0-20261201100000-0123456789ab+dirty", Commit: "0123456789abcdef", Modified: true, Committed: "2026-12-01T10:00:00Z", GoVersion: "go1.26.8"}},
		{"go install module@v1.2.0", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}}, "", "", "",
			Info{Version: "v1.2.0", GoVersion: "go1.26.8"}},
		{"-buildvcs=false", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, "", "", "",
			Info{Version: "devel", GoVersion: "go1.26.8"}},
		{"no build information", nil, "", "", "", Info{Version: "devel"}},
	} {
		got := read(tc.bi, tc.version, tc.commit, tc.date)
		got.Platform = ""
		if tc.bi == nil {
			got.GoVersion = ""
		}
		if got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}

func TestWrite(t *testing.T) {
	var b strings.Builder
	in := Info{Version: "v1.2.0", Commit: "0123abcd", Modified: true, Committed: "2026-12-01T10:00:00Z", GoVersion: "go1.26.8", Platform: "linux/arm64"}
	if err := in.Write(&b, "17.7"); err != nil {
		t.Fatal(err)
	}
	want := `migsafe version v1.2.0
commit:     0123abcd (with uncommitted changes), committed 2026-12-01T10:00:00Z
built:      unknown (not stamped at link time)
go:         go1.26.8 linux/arm64
postgresql: 17.7 (the grammar of the bundled parser, libpg_query)
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
