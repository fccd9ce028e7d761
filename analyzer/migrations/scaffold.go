package migrations

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/migsafe/migsafe/analyzer"
)

// NewMigration is a migration to write in a set's layout.
type NewMigration struct {
	Title string // snake_case
	Up    string // SQL
	Down  string // SQL; "" when the layout has no down migrations
	NoTx  bool   // must run outside a transaction (batched backfill)
}

// File is a file to write.
type File struct {
	Name      string // base name
	Content   string
	Migration int // index of the NewMigration it belongs to
}

// Files renders new migrations in the set's layout after its last
// version: golang-migrate, popx and Flyway get an up and a down (undo)
// file each, goose and dbmate one file with both sections, plain files only
// the up part. now dates timestamp versions.
func (s *Set) Files(ms []NewMigration, now time.Time) []File {
	versions := s.newVersions(len(ms), now)
	var out []File
	for i, m := range ms {
		v := versions[i]
		file := func(name, content string) File { return File{Name: name, Content: content, Migration: i} }
		switch s.Layout {
		case Goose:
			var b strings.Builder
			if m.NoTx {
				b.WriteString("-- +goose NO TRANSACTION\n")
			}
			fmt.Fprintf(&b, "-- +goose Up\n%s\n-- +goose Down\n%s", m.Up, m.Down)
			out = append(out, file(fmt.Sprintf("%s_%s.sql", v, m.Title), b.String()))
		case Dbmate:
			opt := ""
			if m.NoTx {
				opt = " transaction:false"
			}
			out = append(out, file(fmt.Sprintf("%s_%s.sql", v, m.Title), fmt.Sprintf("-- migrate:up%s\n%s\n-- migrate:down%s\n%s", opt, m.Up, opt, m.Down)))
		case Flyway:
			out = append(out, file(fmt.Sprintf("V%s__%s.sql", v, m.Title), m.Up), file(fmt.Sprintf("U%s__%s.sql", v, m.Title), m.Down))
			if m.NoTx {
				out = append(out, file(fmt.Sprintf("V%s__%s.sql.conf", v, m.Title), "executeInTransaction=false\n"))
			}
		case Popx:
			// tagged for the dialect the SQL is written in: popx runs an
			// untagged file on every dialect (a PL/pgSQL trigger on MySQL)
			tag := "." + analyzer.Postgres
			if s.Dialect == analyzer.MySQL {
				tag = "." + analyzer.MySQL
			}
			if m.NoTx {
				tag += ".autocommit"
			}
			out = append(out, file(fmt.Sprintf("%s_%s%s.up.sql", v, m.Title, tag), m.Up), file(fmt.Sprintf("%s_%s%s.down.sql", v, m.Title, tag), m.Down))
		case Plain:
			out = append(out, file(fmt.Sprintf("%s_%s.sql", v, m.Title), m.Up))
		default: // golang-migrate, and an empty directory
			out = append(out, file(fmt.Sprintf("%s_%s.up.sql", v, m.Title), m.Up), file(fmt.Sprintf("%s_%s.down.sql", v, m.Title), m.Down))
		}
	}
	return out
}

// newVersions continues the set's numbering: timestamps when its versions
// are timestamps, else the next numbers with the same zero padding
// (Flyway: the last part of a dotted version).
func (s *Set) newVersions(n int, now time.Time) []string {
	last := ""
	for _, m := range s.Migrations {
		if !m.Repeatable {
			last = m.Version
		}
	}
	if s.Layout == Plain {
		last = ""
		for _, m := range s.Migrations {
			if p := leadingDigits(m.Title); p != "" {
				last = p
			}
		}
	}
	out := make([]string, n)
	switch {
	case s.Layout == Flyway:
		parts := splitVersion(last)
		if len(parts) == 0 {
			parts = []string{"0"}
		}
		sep := "_"
		k, _ := strconv.Atoi(parts[len(parts)-1])
		for i := range out {
			parts[len(parts)-1] = strconv.Itoa(k + i + 1)
			out[i] = strings.Join(parts, sep)
		}
	case s.Layout == Popx || s.Layout == Dbmate || len(last) >= 14:
		// the time of the run, but always after the last version: two
		// scaffolds in one second, or a last version from a clock ahead,
		// must not give versions that collide or sort before it
		start := now.UTC().Truncate(time.Second)
		if len(last) >= 14 {
			if t, err := time.Parse("20060102150405", last[:14]); err == nil && !start.After(t) {
				start = t.Add(time.Second)
			}
		}
		for i := range out {
			ts := start.Add(time.Duration(i) * time.Second).Format("20060102150405")
			if s.Layout == Popx || len(last) == 20 {
				ts += "000000"
			}
			out[i] = ts
		}
	default:
		k, _ := strconv.Atoi(strings.TrimLeft(last, "0"))
		width := len(last)
		if width == 0 {
			width = 6
		}
		for i := range out {
			out[i] = fmt.Sprintf("%0*d", width, k+i+1)
		}
	}
	return out
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// Dir returns the directory the set's files are in (the first one's).
func (s *Set) Dir() string {
	for _, m := range s.Migrations {
		for _, p := range m.Paths() {
			return path.Dir(p)
		}
	}
	return ""
}
