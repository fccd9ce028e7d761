package migrations

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// Layout is a migration tool's way of naming, ordering and running files.
type Layout string

// The layouts migsafe knows. Auto means: detect from the files.
const (
	Auto          Layout = ""
	GolangMigrate Layout = "golang-migrate" // {version}_{title}.up.sql / .down.sql
	Goose         Layout = "goose"          // -- +goose Up / Down sections
	Dbmate        Layout = "dbmate"         // -- migrate:up / down sections
	Flyway        Layout = "flyway"         // V{version}__{desc}.sql, U…, R__…
	Popx          Layout = "popx"           // {version}_{name}[.{dialect}][.autocommit].(up|down).sql
	Plain         Layout = "plain"          // any .sql, applied in lexical order
)

// Layouts lists the layouts, for configuration values and messages.
var Layouts = []Layout{GolangMigrate, Goose, Dbmate, Flyway, Popx, Plain}

// ParseLayout reads a layout name; "auto" and "" mean Auto.
func ParseLayout(s string) (Layout, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "auto" {
		return Auto, nil
	}
	for _, l := range Layouts {
		if string(l) == s {
			return l, nil
		}
	}
	switch s {
	case "migrate", "golangmigrate", "golang_migrate":
		return GolangMigrate, nil
	case "pop", "ory", "ory-popx":
		return Popx, nil
	}
	return Auto, fmt.Errorf("unknown migration layout %q", s)
}

// LayoutNames returns the accepted layout names, "auto" first.
func LayoutNames() []string {
	out := []string{"auto"}
	for _, l := range Layouts {
		out = append(out, string(l))
	}
	return out
}

// HasDown reports whether the layout has down (rollback) migrations.
func (l Layout) HasDown() bool {
	switch l {
	case GolangMigrate, Goose, Dbmate, Popx:
		return true
	}
	return false
}

// MultiDirectory reports whether the tool reads one history from several
// directories: Flyway merges its locations, popx picks a dialect's tagged
// file over the generic one wherever they sit. The other tools read one
// directory, so each directory is a history of its own.
func (l Layout) MultiDirectory() bool { return l == Flyway || l == Popx }

// Detection is the result of Detect: the layout and the evidence for it.
type Detection struct {
	Layout Layout
	Why    string
	// Ambiguous lists the competing layouts when the files point to more
	// than one; Layout is then the one with the most evidence.
	Ambiguous []Layout
}

// Detect decides the layout of a set of files from their names and
// contents: tool annotations in the SQL first (goose, dbmate), then names
// (popx dialect tags, up/down pairs, Flyway prefixes), else plain.
func Detect(srcs []Source) Detection {
	// each file's layout, in parts on every core (a history of 200,000
	// files), then the counts and the first example of each in order
	kinds := [...]Layout{Goose, Dbmate, Popx, GolangMigrate, Flyway, Plain}
	type tally struct {
		count   [len(kinds)]int
		example [len(kinds)]string
	}
	tallies := inParts(len(srcs), func(lo, hi int) (t tally) {
		for _, s := range srcs[lo:hi] {
			base := path.Base(s.Path)
			var k int
			switch {
			case hasGooseAnnotation(s.Src):
				k = 0
			case hasDbmateAnnotation(s.Src):
				k = 1
			case popxTagged(base):
				k = 2
			case isUpDown(base):
				k = 3
			case isFlyway(base):
				k = 4
			default:
				k = 5
			}
			t.count[k]++
			if t.example[k] == "" {
				t.example[k] = base
			}
		}
		return t
	})
	count := map[Layout]int{}
	example := map[Layout]string{}
	for _, t := range tallies {
		for k, l := range kinds {
			if t.count[k] > 0 {
				count[l] += t.count[k]
				if example[l] == "" {
					example[l] = t.example[k]
				}
			}
		}
	}
	// popx names are golang-migrate names plus tags: a directory with any
	// tagged file is popx.
	if count[Popx] > 0 {
		count[Popx] += count[GolangMigrate]
		delete(count, GolangMigrate)
	}
	var found []Layout
	for _, l := range Layouts {
		if l != Plain && count[l] > 0 {
			found = append(found, l)
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return count[found[i]] > count[found[j]] })
	if len(found) == 0 {
		return Detection{Layout: Plain, Why: "no file follows a migration tool's naming or annotations; files are applied in lexical order"}
	}
	d := Detection{Layout: found[0], Why: why(found[0], count[found[0]], example[found[0]])}
	if len(found) > 1 {
		d.Ambiguous = found
	}
	return d
}

func why(l Layout, n int, ex string) string {
	files, have, are := fmt.Sprintf("%d files", n), "have", "are"
	if n == 1 {
		files, have, are = "1 file", "has", "is"
	}
	switch l {
	case Goose:
		return fmt.Sprintf("%s %s -- +goose Up annotations (e.g. %s)", files, have, ex)
	case Dbmate:
		return fmt.Sprintf("%s %s -- migrate:up annotations (e.g. %s)", files, have, ex)
	case Popx:
		return fmt.Sprintf("%s %s named {version}_{name}[.{dialect}][.autocommit].(up|down).sql with dialect tags (e.g. %s)", files, are, ex)
	case GolangMigrate:
		return fmt.Sprintf("%s %s named {version}_{title}.up.sql / .down.sql (e.g. %s)", files, are, ex)
	case Flyway:
		return fmt.Sprintf("%s %s named V{version}__{description}.sql (e.g. %s)", files, are, ex)
	}
	return ""
}
