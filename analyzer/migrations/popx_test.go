package migrations

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
)

// popxRE is oryx/popx's file name pattern, which parsePopx reads by hand.
var popxRE = regexp.MustCompile(`^([0-9]+)_([^.]+)(\.[a-z0-9]+)?(\.autocommit)?\.(up|down)\.sql$`)

func popxByRE(base string) (popxName, bool) {
	m := popxRE.FindStringSubmatch(base)
	if m == nil {
		return popxName{}, false
	}
	n := popxName{version: m[1], name: m[2], autocommit: m[4] != ""}
	if m[3] != "" {
		n.dialect = strings.TrimPrefix(m[3], ".")
	}
	if n.dialect == "autocommit" {
		n.dialect, n.autocommit = "", true
	}
	if m[5] == "down" {
		n.dir = analyzer.Down
	}
	return n, true
}

// TestParsePopxMatchesPattern checks the hand-written reader against the
// pattern on crafted names and on every file name of the shared corpus.
func TestParsePopxMatchesPattern(t *testing.T) {
	names := []string{
		"1_a.up.sql", "20210410175418000000_x.postgres.up.sql", "2_x.mysql.autocommit.down.sql",
		"3_x.autocommit.up.sql", "4_x.autocommit.autocommit.up.sql", "5_x.Postgres.up.sql",
		"6_x.a.b.up.sql", "7_.up.sql", "_x.up.sql", "8x_y.up.sql", "9_x.up.SQL", "10_x..up.sql",
		"11_x.sql", "12_x.down.sql", "13_x.y_z.up.sql", "14_x.up.sql.up.sql", "15_x.down.down.sql",
		"16__x.up.sql", "V1_x.up.sql", "17_x.pg-1.up.sql", "18_x.cockroach.autocommit.up.sql",
		"19_x.up.up.sql", "20_x.autocommit.mysql.up.sql", "", ".up.sql", "1_.x.up.sql",
	}
	files, _ := filepath.Glob("../../../shared/corpus/*/*/*")
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	_, err := os.Stat("../../../shared/corpus")
	t.Logf("%d names (corpus present: %v)", len(names), err == nil)
	for _, n := range names {
		got, gok := parsePopx(n)
		want, wok := popxByRE(n)
		if got != want || gok != wok {
			t.Errorf("parsePopx(%q) = %+v, %v; the pattern reads %+v, %v", n, got, gok, want, wok)
		}
	}
}

// updownRE is the golang-migrate name pattern ParseUpDown reads by hand.
var updownRE = regexp.MustCompile(`^[Vv]?([0-9]+)[._](.*)\.(up|down)\.sql$`)

// TestParseUpDownMatchesPattern checks the hand-written reader against the
// pattern on crafted names and on every file name of the shared corpus.
func TestParseUpDownMatchesPattern(t *testing.T) {
	names := []string{
		"1_a.up.sql", "1.a.down.sql", "V0001.Initial_Schema.up.sql", "v2_x.down.sql", "V_x.up.sql",
		"Vx.up.sql", "1.up.sql", "1_.up.sql", "1..up.sql", "_1_x.up.sql", "1x_y.up.sql", "12_x.UP.sql",
		"1_x.up.sql.down.sql", "1_x.down.up.sql", "1_a\nb.up.sql", "1_\n.up.sql", "", ".up.sql",
		"VV1_x.up.sql", "1_x.up.sq", "1_x.sql", "0_x.down.sql", "001-x.up.sql", "1_x .up.sql",
		"dir/3_x.up.sql", "4_é.up.sql", "5_x.up", "up.sql", "6_x.Up.sql",
	}
	files, _ := filepath.Glob("../../../shared/corpus/*/*/*")
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for _, n := range names {
		v, title, dir, ok := ParseUpDown(n)
		want := analyzer.Up
		m := updownRE.FindStringSubmatch(path.Base(n))
		if m != nil && m[3] == "down" {
			want = analyzer.Down
		}
		if ok != (m != nil) || (ok && (v != m[1] || title != m[2] || dir != want)) {
			t.Errorf("ParseUpDown(%q) = %q, %q, %v, %v; the pattern reads %q", n, v, title, dir, ok, m)
		}
		if isUpDown(n) != (m != nil) {
			t.Errorf("isUpDown(%q) = %v, the pattern %v", n, isUpDown(n), m != nil)
		}
	}
}
