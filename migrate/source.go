package migrate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/golang-migrate/migrate/v4/source"
)

// File is one migration file as read from disk: the bytes that run are the
// bytes that were hashed.
type File struct {
	Path   string // as given (joined with the directory)
	Body   []byte
	SHA256 string // hex
}

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
	Migrations []*Migration // ascending versions
	byVersion  map[uint]*Migration
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
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("migrations directory %s: %w", dir, unwrapPath(err))
	}
	s := &Source{Dir: dir, byVersion: map[uint]*Migration{}}
	var problems []string
	for _, e := range ents {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".sql") {
			continue
		}
		p, err := source.Parse(e.Name())
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: not a golang-migrate file name (want VERSION_NAME.up.sql or VERSION_NAME.down.sql); golang-migrate would skip it silently: rename it or move it out of %s", e.Name(), dir))
			continue
		}
		full := filepath.Join(dir, e.Name())
		body, err := os.ReadFile(full)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", full, unwrapPath(err))
		}
		body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
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
				problems = append(problems, fmt.Sprintf("%s: version %d has two up files (%s): keep one", e.Name(), p.Version, filepath.Base(m.Up.Path)))
			}
			m.Up, m.Name = f, p.Identifier
		case source.Down:
			if m.Down != nil {
				problems = append(problems, fmt.Sprintf("%s: version %d has two down files (%s): keep one", e.Name(), p.Version, filepath.Base(m.Down.Path)))
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
