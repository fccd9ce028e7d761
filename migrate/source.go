package migrate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/golang-migrate/migrate/v4/source"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/migrations"
)

// File is one migration file as read from disk: the bytes that run are the
// bytes that were hashed.
type File struct {
	Path   string // as given (joined with the directory)
	Body   []byte
	SHA256 string // hex
	// Line is the line of Path where Body starts: 1, or the line of a
	// goose or dbmate section's annotation.
	Line int
}

// fileLine turns a line of the body into a line of the file.
func (f *File) fileLine(bodyLine int) int { return bodyLine + max(f.Line, 1) - 1 }

// Migration is one version: its up file and its down file (nil when the
// migration has none, which makes it irreversible).
type Migration struct {
	Version uint
	Name    string
	Up      *File
	Down    *File
}

// Label is "VERSION_NAME", the way the files are named.
func (m *Migration) Label() string {
	if m.Name == "" {
		return fmt.Sprint(m.Version)
	}
	return fmt.Sprintf("%d_%s", m.Version, m.Name)
}

// Source is an ordered set of migrations.
type Source struct {
	Dir        string
	Layout     string       // "golang-migrate", "goose", "dbmate", "popx", "flyway" or "plain"
	Migrations []*Migration // ascending versions
	// Positional: the versions are the files' positions in check's order
	// (plain files, Flyway's dotted versions), and Name is the file's name,
	// recorded in migsafe_history: a file inserted before an applied one
	// moves the positions, and the runner refuses it by the names.
	Positional bool
	byVersion  map[uint]*Migration
}

// SupportedLayouts are the layouts the runner applies: every layout
// `migsafe check` reads.
var SupportedLayouts = migrations.Layouts

// Load reads a migrations directory in any layout (detected as `migsafe
// check` detects it, ordered as it orders it): golang-migrate files as
// they are, goose and dbmate files split into their up and down
// sections, popx files tagged for dialect (analyzer.Postgres or
// analyzer.MySQL; "" is PostgreSQL) or generic, Flyway's V files with
// their U (undo) files as downs, plain files with no downs. golang-migrate
// applies them either way, with its schema_migrations table: the
// sections run as golang-migrate runs a file (one Exec). Plain files and
// Flyway's dotted versions are numbered by position (see
// Source.Positional); Flyway's repeatable R__ migrations are refused.
func Load(dir, dialect string) (*Source, error) {
	srcs, err := readSQL(dir)
	if err != nil {
		return nil, err
	}
	if len(srcs) == 0 {
		return golangMigrate(dir, nil) // an empty history
	}
	d := migrations.Detect(srcs)
	if d.Layout == migrations.GolangMigrate {
		return golangMigrate(dir, srcs)
	}
	if len(d.Ambiguous) > 0 {
		return nil, fmt.Errorf("migrations directory %s: its files follow more than one layout (%s): keep one tool's files in it", dir, layoutList(d.Ambiguous))
	}
	return loadSet(dir, srcs, d.Layout, dialect)
}

func layoutList(ls []migrations.Layout) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = string(l)
	}
	return strings.Join(s, ", ")
}

// loadSet turns a goose, dbmate, popx, Flyway or plain set into
// migrations, in the set's order.
func loadSet(dir string, srcs []migrations.Source, layout migrations.Layout, dialect string) (*Source, error) {
	set := migrations.Build(srcs, migrations.Options{Layout: layout, Dialect: dialect})
	var problems []string
	for _, p := range set.Problems {
		problems = append(problems, filepath.Base(p.Path)+": "+p.Msg)
	}
	for _, sk := range set.Skipped {
		if layout != migrations.Popx || !strings.Contains(sk.Reason, "dialect") && !strings.Contains(sk.Reason, "overridden") {
			problems = append(problems, fmt.Sprintf("%s: %s; it would never run: rename it or move it out of %s", filepath.Base(sk.Path), sk.Reason, dir))
		}
	}
	s := &Source{Dir: dir, Layout: string(layout), byVersion: map[uint]*Migration{}, Positional: positional(set)}
	for i, m := range set.Migrations {
		if m.Repeatable {
			// golang-migrate's one version has no place for a migration
			// that runs again whenever it changes; skipping it would leave
			// the database otherwise than check replays it
			problems = append(problems, fmt.Sprintf("%s: a Flyway repeatable migration (re-applied whenever it changes) has no version golang-migrate can keep: make it a versioned V file, or apply it with Flyway", strings.Join(baseNames(m.Paths()), ", ")))
			continue
		}
		if len(m.Up) != 1 || len(m.Down) > 1 {
			problems = append(problems, fmt.Sprintf("%s: version %s has %d up and %d down parts: keep one of each", strings.Join(baseNames(m.Paths()), ", "), m.Version, len(m.Up), len(m.Down)))
			continue
		}
		mig := &Migration{Name: m.Title, Up: filePart(m.Up[0])}
		switch {
		case s.Positional:
			mig.Version, mig.Name = uint(i+1), strings.TrimSuffix(filepath.Base(m.Up[0].Path), filepath.Ext(m.Up[0].Path))
		default:
			v, err := strconv.ParseUint(m.Version, 10, 64)
			if err != nil || v > math.MaxInt64 {
				problems = append(problems, fmt.Sprintf("%s: version %q is not a number golang-migrate can order", strings.Join(baseNames(m.Paths()), ", "), m.Version))
				continue
			}
			mig.Version = uint(v)
			if layout == migrations.Flyway {
				mig.Name = strings.ReplaceAll(m.Title, " ", "_")
			}
		}
		if len(m.Down) == 1 {
			mig.Down = filePart(m.Down[0])
		}
		if s.byVersion[mig.Version] != nil {
			problems = append(problems, fmt.Sprintf("%s: version %d is given twice", strings.Join(baseNames(m.Paths()), ", "), mig.Version))
			continue
		}
		s.byVersion[mig.Version] = mig
		s.Migrations = append(s.Migrations, mig)
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("migrations directory %s (%s layout):\n  %s", dir, layout, strings.Join(problems, "\n  "))
	}
	sort.Slice(s.Migrations, func(i, j int) bool { return s.Migrations[i].Version < s.Migrations[j].Version })
	return s, nil
}

// positional says whether a set's versions are positions: plain files
// have none, and Flyway's dotted versions (1.1, 2.0.3) are no number
// golang-migrate can keep. Flyway's integer versions (V1, V20240101120000)
// are used as they are.
func positional(set *migrations.Set) bool {
	switch set.Layout {
	case migrations.Plain:
		return true
	case migrations.Flyway:
		for _, m := range set.Migrations {
			if m.Repeatable {
				continue
			}
			if v, err := strconv.ParseUint(m.Version, 10, 64); err != nil || v > math.MaxInt64 {
				return true
			}
		}
	}
	return false
}

func baseNames(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = filepath.Base(p)
	}
	return out
}

// filePart is the part of a file a section covers: the bytes golang-migrate
// runs and the runner hashes (so a change to the down section is not drift
// of the up).
func filePart(f *analyzer.File) *File {
	body, line := f.Src, 1
	if f.Range.End > f.Range.Start && f.Range.Start >= 0 && f.Range.End <= len(f.Src) {
		body = f.Src[f.Range.Start:f.Range.End]
		line += bytes.Count(f.Src[:f.Range.Start], []byte("\n"))
	}
	return &File{Path: f.Path, Body: body, SHA256: hashOf(body), Line: line}
}

// Get returns the migration of a version, or nil.
func (s *Source) Get(v uint) *Migration { return s.byVersion[v] }

// Prev returns the version before v in the source, and false when v is the
// first (or not in the source).
func (s *Source) Prev(v uint) (uint, bool) {
	for i, m := range s.Migrations {
		if m.Version == v {
			if i == 0 {
				return 0, false
			}
			return s.Migrations[i-1].Version, true
		}
	}
	return 0, false
}

func hashOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// LoadDir reads a golang-migrate directory: VERSION_NAME.up.sql and
// VERSION_NAME.down.sql. A .sql file whose name golang-migrate would
// silently skip, a down without an up, and a version given twice are
// errors: the runner must run exactly what the directory says.
func LoadDir(dir string) (*Source, error) {
	srcs, err := readSQL(dir)
	if err != nil {
		return nil, err
	}
	return golangMigrate(dir, srcs)
}

// readSQL reads the .sql files of a directory (BOM removed), by name.
func readSQL(dir string) ([]migrations.Source, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("migrations directory %s: %w", dir, unwrapPath(err))
	}
	var srcs []migrations.Source
	for _, e := range ents {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".sql") {
			continue
		}
		full := filepath.Join(dir, e.Name())
		body, err := os.ReadFile(full)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", full, unwrapPath(err))
		}
		srcs = append(srcs, migrations.Source{Path: full, Src: bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))})
	}
	return srcs, nil
}

// golangMigrate builds a Source from golang-migrate files.
func golangMigrate(dir string, srcs []migrations.Source) (*Source, error) {
	s := &Source{Dir: dir, Layout: string(migrations.GolangMigrate), byVersion: map[uint]*Migration{}}
	var problems []string
	for _, src := range srcs {
		name, full, body := filepath.Base(src.Path), src.Path, src.Src
		p, err := source.Parse(name)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: not a golang-migrate file name (want VERSION_NAME.up.sql or VERSION_NAME.down.sql); golang-migrate would skip it silently: rename it or move it out of %s", name, dir))
			continue
		}
		m := s.byVersion[p.Version]
		if m == nil {
			m = &Migration{Version: p.Version, Name: p.Identifier}
			s.byVersion[p.Version] = m
			s.Migrations = append(s.Migrations, m)
		}
		f := &File{Path: full, Body: body, SHA256: hashOf(body)}
		switch p.Direction {
		case source.Up:
			if m.Up != nil {
				problems = append(problems, fmt.Sprintf("%s: version %d has two up files (%s): keep one", name, p.Version, filepath.Base(m.Up.Path)))
			}
			m.Up, m.Name = f, p.Identifier
		case source.Down:
			if m.Down != nil {
				problems = append(problems, fmt.Sprintf("%s: version %d has two down files (%s): keep one", name, p.Version, filepath.Base(m.Down.Path)))
			}
			m.Down = f
		}
	}
	for _, m := range s.Migrations {
		if m.Up == nil {
			problems = append(problems, fmt.Sprintf("%s: version %d has a down file and no up file", filepath.Base(m.Down.Path), m.Version))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("migrations directory %s:\n  %s", dir, strings.Join(problems, "\n  "))
	}
	sort.Slice(s.Migrations, func(i, j int) bool { return s.Migrations[i].Version < s.Migrations[j].Version })
	return s, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// driver is the golang-migrate source over a Source: golang-migrate runs
// the bytes the runner hashed, not a second read of the directory.
type driver struct{ s *Source }

func (d *driver) Open(string) (source.Driver, error) { return d, nil }
func (d *driver) Close() error                       { return nil }

func (d *driver) First() (uint, error) {
	if len(d.s.Migrations) == 0 {
		return 0, &fs.PathError{Op: "first", Path: d.s.Dir, Err: fs.ErrNotExist}
	}
	return d.s.Migrations[0].Version, nil
}

func (d *driver) Prev(v uint) (uint, error) {
	p, ok := d.s.Prev(v)
	if !ok {
		return 0, &fs.PathError{Op: "prev", Path: fmt.Sprint(v), Err: fs.ErrNotExist}
	}
	return p, nil
}

func (d *driver) Next(v uint) (uint, error) {
	for i, m := range d.s.Migrations {
		if m.Version == v && i+1 < len(d.s.Migrations) {
			return d.s.Migrations[i+1].Version, nil
		}
	}
	return 0, &fs.PathError{Op: "next", Path: fmt.Sprint(v), Err: fs.ErrNotExist}
}

func (d *driver) ReadUp(v uint) (io.ReadCloser, string, error) {
	m := d.s.Get(v)
	if m == nil || m.Up == nil {
		return nil, "", &fs.PathError{Op: "read up", Path: fmt.Sprint(v), Err: fs.ErrNotExist}
	}
	return io.NopCloser(bytes.NewReader(m.Up.Body)), m.Name, nil
}

func (d *driver) ReadDown(v uint) (io.ReadCloser, string, error) {
	m := d.s.Get(v)
	if m == nil || m.Down == nil {
		return nil, "", &fs.PathError{Op: "read down", Path: fmt.Sprint(v), Err: fs.ErrNotExist}
	}
	return io.NopCloser(bytes.NewReader(m.Down.Body)), m.Name, nil
}
