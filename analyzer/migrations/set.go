// Package migrations knows how migration tools name, order and run their
// files: golang-migrate, goose, dbmate, Flyway, ory/popx and plain .sql
// files. It turns a directory's files into the ordered parts the engine
// replays, each with its direction and the way the tool runs it (one
// transaction, none, or one Exec call). It reads no disk and runs no git:
// the command line hands it the files.
package migrations

import (
	"fmt"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/migsafe/migsafe/analyzer"
)

// Source is a migration file as read from disk.
type Source struct {
	Path string // slash-separated, as displayed
	Src  []byte // the content, BOM removed
	BOM  bool
}

// Options steer Build.
type Options struct {
	Layout  Layout // Auto: Detect
	Dialect string // analyzer.Postgres or analyzer.MySQL (popx dialect tags, transaction semantics)
	// Sibling returns the content of a file next to a migration that the
	// tool reads as its configuration (Flyway's V1__x.sql.conf); nil or
	// false when there is none.
	Sibling func(path string) ([]byte, bool)
	// Detected is Detect's result for the same sources, when the caller
	// has it (Layout Auto): Build does not look at every file again.
	Detected *Detection
}

// Migration is one version of a set: its up parts and its down parts (one
// each, usually; a goose or dbmate file gives one of each from its
// sections).
type Migration struct {
	Version    string
	Title      string
	Repeatable bool // Flyway R__ migration: re-applied whenever it changes
	Up, Down   []*analyzer.File
}

// Paths returns the files the migration comes from, without duplicates.
func (m *Migration) Paths() []string {
	var out []string
	for _, f := range append(slices.Clone(m.Up), m.Down...) {
		if !slices.Contains(out, f.Path) {
			out = append(out, f.Path)
		}
	}
	return out
}

// Skipped is a file that is not part of the set, with the reason.
type Skipped struct {
	Path, Reason string
}

// Problem is something wrong with a file of the set that the tool would
// refuse or misread (duplicate version, a goose file without an Up
// annotation). The set is still built.
type Problem struct {
	Path, Msg string
}

func (p Problem) Error() string { return p.Path + ": " + p.Msg }

// Set is an ordered migration history.
type Set struct {
	Layout     Layout
	Dialect    string // Options.Dialect: popx reads the files tagged for it
	Why        string // how the layout was decided
	Migrations []*Migration
	Skipped    []Skipped
	Problems   []Problem
}

// Parts returns every part in replay order: each migration's up parts,
// then its down parts (checked against the schema after the up).
func (s *Set) Parts() []*analyzer.File {
	var out []*analyzer.File
	for _, m := range s.Migrations {
		out = append(out, m.Up...)
		out = append(out, m.Down...)
	}
	return out
}

// ByPath returns the migration a file belongs to.
func (s *Set) ByPath(p string) *Migration {
	for _, m := range s.Migrations {
		if slices.Contains(m.Paths(), p) {
			return m
		}
	}
	return nil
}

// Build orders the sources into a migration set. Every part starts with
// Lint set and with its migration's position as its deploy (every version
// its own deploy); callers that know better (git) change both.
func Build(srcs []Source, opt Options) *Set {
	s := &Set{Layout: opt.Layout, Dialect: opt.Dialect}
	if s.Layout == Auto {
		d := opt.Detected
		if d == nil {
			d = new(Detect(srcs))
		}
		s.Layout, s.Why = d.Layout, d.Why
	} else {
		s.Why = "configured"
	}
	b := &builder{set: s, opt: opt, byKey: make(map[string]*Migration, len(srcs))}
	switch s.Layout {
	case Goose:
		b.sectioned(srcs, "-- +goose", gooseUp, gooseDown)
	case Dbmate:
		b.sectioned(srcs, "-- migrate:", dbmateUp, dbmateDown)
	case Flyway:
		b.flyway(srcs)
	case Popx:
		b.popx(srcs)
	case GolangMigrate:
		b.updown(srcs)
	default:
		s.Layout = Plain
		b.plain(srcs)
	}
	order := func(a, b *Migration) int {
		if a.Repeatable != b.Repeatable { // Flyway: repeatables after every versioned migration
			if a.Repeatable {
				return 1
			}
			return -1
		}
		if c := compareVersions(a.Version, b.Version); c != 0 {
			return c
		}
		return strings.Compare(a.Title, b.Title)
	}
	// (files listed in order, the usual case, are in order already: a
	// stable sort of them would keep them as they are)
	if !slices.IsSortedFunc(s.Migrations, order) {
		slices.SortStableFunc(s.Migrations, order)
	}
	for i, m := range s.Migrations {
		for _, list := range [][]*analyzer.File{m.Up, m.Down} {
			for _, f := range list {
				f.Deploy = i + 1
				f.Lint = true
				f.Layout = string(s.Layout)
				f.Version = m.Version
			}
		}
		if s.Layout.HasDown() && len(m.Down) == 0 {
			for _, f := range m.Up {
				f.MissingDown = b.downName(m, f)
			}
		}
	}
	return s
}

type builder struct {
	set   *Set
	opt   Options
	byKey map[string]*Migration
	// the last migration asked for, by its key: the files of a version
	// (up and down) are usually named one after the other
	lastKey string
	last    *Migration
}

func (b *builder) migration(version, title string) *Migration {
	key := version
	if allDigits(key) {
		key = strings.TrimLeft(key, "0")
	}
	if b.last != nil && key == b.lastKey {
		return b.last
	}
	m := b.byKey[key]
	if m == nil {
		m = &Migration{Version: version, Title: title}
		b.byKey[key] = m
		b.set.Migrations = append(b.set.Migrations, m)
	}
	b.lastKey, b.last = key, m
	return m
}

func (b *builder) skip(p, reason string) {
	b.set.Skipped = append(b.set.Skipped, Skipped{Path: p, Reason: reason})
}

func (b *builder) problem(p, format string, args ...any) {
	b.set.Problems = append(b.set.Problems, Problem{Path: p, Msg: fmt.Sprintf(format, args...)})
}

func part(src Source, dir analyzer.Direction, rng analyzer.Span) *analyzer.File {
	if rng == (analyzer.Span{}) {
		rng = analyzer.Span{Start: 0, End: len(src.Src)}
	}
	return &analyzer.File{Path: src.Path, Src: src.Src, BOM: src.BOM, Range: rng, Direction: dir}
}

func (b *builder) postgres() bool { return b.opt.Dialect != analyzer.MySQL }

// add puts a part into its migration, refusing a second part of the same
// direction (the tools refuse duplicate versions).
func (b *builder) add(m *Migration, f *analyzer.File) {
	list := &m.Up
	if f.Direction == analyzer.Down {
		list = &m.Down
	}
	if len(*list) > 0 && (*list)[0].Path != f.Path {
		b.problem(f.Path, "duplicate %s migration for version %s (also %s); the tool refuses duplicates, this file is ignored", f.Direction, m.Version, (*list)[0].Path)
		return
	}
	*list = append(*list, f)
}

// --- golang-migrate ---

func (b *builder) updown(srcs []Source) {
	// the names parsed and the parts made in parts on every core, the
	// migrations put together in order
	type named struct {
		version, title string
		f              *analyzer.File
	}
	names := make([]named, len(srcs))
	tx, why := b.golangMigrateTx()
	inParts(len(srcs), func(lo, hi int) struct{} {
		for i := lo; i < hi; i++ {
			if version, title, dir, ok := ParseUpDown(srcs[i].Path); ok {
				f := part(srcs[i], dir, analyzer.Span{})
				f.TxMode, f.TxModeWhy = tx, why
				names[i] = named{version, title, f}
			}
		}
		return struct{}{}
	})
	for i, n := range names {
		if n.f == nil {
			b.skip(srcs[i].Path, "golang-migrate reads only files named {version}_{title}.up.sql or .down.sql")
			continue
		}
		b.add(b.migration(n.version, n.title), n.f)
	}
}

func (b *builder) golangMigrateTx() (analyzer.TxMode, string) {
	if !b.postgres() {
		return analyzer.TxModeAutocommit, "golang-migrate sends the file in one call and MySQL commits each statement on its own"
	}
	return analyzer.TxModeMultiExecImplicit, "golang-migrate sends a multi-statement file in one call, which PostgreSQL runs as one implicit transaction"
}

// DefaultTxMode is how a lone file is run when nothing else is known about
// its tool: golang-migrate files are sent in one Exec call (an implicit
// transaction when they hold several statements); anything else is assumed
// to run statement by statement (psql -f).
func DefaultTxMode(name string) (analyzer.TxMode, string) {
	if _, _, _, ok := ParseUpDown(name); ok {
		return (&builder{}).golangMigrateTx()
	}
	return analyzer.TxModeAutocommit, ""
}

// --- popx ---

func (b *builder) popx(srcs []Source) {
	want := b.opt.Dialect
	if want == "" {
		want = analyzer.Postgres
	}
	type key struct {
		version string
		dir     analyzer.Direction
	}
	tagged := map[key]bool{}
	for _, src := range srcs {
		if n, ok := parsePopx(path.Base(src.Path)); ok && n.dialect != "" && popxDialects[n.dialect] == want {
			tagged[key{n.version, n.dir}] = true
		}
	}
	for _, src := range srcs {
		n, ok := parsePopx(path.Base(src.Path))
		if !ok {
			b.skip(src.Path, "popx reads only files named {version}_{name}[.{dialect}][.autocommit].(up|down).sql")
			continue
		}
		if n.dialect != "" {
			d, known := popxDialects[n.dialect]
			if !known || d != want {
				b.skip(src.Path, "tagged for the "+n.dialect+" dialect")
				continue
			}
		} else if tagged[key{n.version, n.dir}] {
			b.skip(src.Path, "overridden by the "+want+"-tagged file of the same version")
			continue
		}
		f := part(src, n.dir, analyzer.Span{})
		if n.autocommit {
			f.TxMode, f.TxModeWhy = analyzer.TxModeAutocommit, "popx runs .autocommit. migrations outside a transaction"
		} else {
			f.TxMode, f.TxModeWhy = analyzer.TxModeWholeFile, "popx runs each migration in one transaction"
			if !b.postgres() {
				f.TxModeWhy += " (MySQL commits implicitly at each DDL statement)"
			}
		}
		b.add(b.migration(n.version, n.name), f)
	}
}

// --- Flyway ---

func (b *builder) flyway(srcs []Source) {
	for _, src := range srcs {
		base := path.Base(src.Path)
		var m *Migration
		dir := analyzer.Up
		if r := flywayRepRE().FindStringSubmatch(base); r != nil {
			m = b.migration("R__"+r[1], r[1])
			m.Repeatable = true
		} else if v := flywayRE().FindStringSubmatch(base); v != nil {
			m = b.migration(strings.ReplaceAll(v[2], "_", "."), strings.ReplaceAll(v[3], "_", " "))
			if v[1] == "U" {
				dir = analyzer.Down
			}
		} else {
			b.skip(src.Path, "Flyway reads only files named V{version}__{description}.sql, U{version}__… (undo) or R__{description}.sql")
			continue
		}
		f := part(src, dir, analyzer.Span{})
		f.TxMode, f.TxModeWhy = analyzer.TxModeWholeFile, "Flyway runs each migration in one transaction"
		if !b.postgres() {
			f.TxModeWhy += " (MySQL commits implicitly at each DDL statement)"
		} else {
			// Flyway looks at the statements (FlywayNonTransactional)
			f.TxMode = analyzer.TxModeByStatement
		}
		if b.opt.Sibling != nil {
			if conf, ok := b.opt.Sibling(src.Path + ".conf"); ok {
				// set in the script's configuration, it is not detected
				switch flywayInTx(conf) {
				case "false":
					f.TxMode, f.TxModeWhy = analyzer.TxModeAutocommit, "executeInTransaction=false in "+path.Base(src.Path)+".conf"
				case "true":
					f.TxMode, f.TxModeWhy = analyzer.TxModeWholeFile, "executeInTransaction=true in "+path.Base(src.Path)+".conf"
				}
			}
		}
		b.add(m, f)
	}
}

// flywayInTx returns the executeInTransaction a Flyway script
// configuration sets, "true" or "false", or "" when it sets neither.
func flywayInTx(conf []byte) string {
	for _, line := range strings.Split(string(conf), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(k) == "executeInTransaction" {
			if v := strings.ToLower(strings.TrimSpace(v)); v == "true" || v == "false" {
				return v
			}
		}
	}
	return ""
}

// --- goose and dbmate: one file, two sections ---

func gooseUp(c string) bool   { return c == "up" || strings.HasPrefix(c, "up ") }
func gooseDown(c string) bool { return c == "down" || strings.HasPrefix(c, "down ") }
func dbmateUp(c string) bool  { return c == "up" || strings.HasPrefix(c, "up ") }
func dbmateDown(c string) bool {
	return c == "down" || strings.HasPrefix(c, "down ")
}

func (b *builder) sectioned(srcs []Source, prefix string, isUp, isDown func(string) bool) {
	tool := "goose"
	if b.set.Layout == Dbmate {
		tool = "dbmate"
	}
	for _, src := range srcs {
		base := path.Base(src.Path)
		v := versionedRE().FindStringSubmatch(base)
		if v == nil {
			b.skip(src.Path, tool+" reads only files named {version}_{name}.sql")
			continue
		}
		anns := annotations(src.Src, prefix)
		up, down, problems := splitSections(src.Src, anns, isUp, isDown)
		for _, p := range problems {
			b.problem(src.Path, "%s", p)
		}
		if !up.present {
			b.problem(src.Path, "no %s Up annotation: %s refuses this file", prefix, tool)
			continue
		}
		m := b.migration(v[1], v[2])
		noTx := false
		for _, a := range anns {
			if tool == "goose" && a.cmd == "no transaction" {
				noTx = true
			}
		}
		for _, s := range []section{up, down} {
			if !s.present {
				continue
			}
			f := part(src, s.dir, s.rng)
			f.TxMode, f.TxModeWhy = analyzer.TxModeWholeFile, tool+" runs each section in one transaction"
			if tool == "goose" {
				// goose sends the statements one at a time on its
				// transaction (tx.ExecContext each): a COMMIT in the
				// section ends it, as the server test shows
				f.TxMode = analyzer.TxModeStatementsInTx
			}
			if !b.postgres() {
				f.TxModeWhy += " (MySQL commits implicitly at each DDL statement)"
			}
			off := noTx
			if tool == "dbmate" {
				off = dbmateNoTx(src.Src, s.rng)
			}
			if off {
				why := "-- +goose NO TRANSACTION: goose runs each statement on its own"
				if tool == "dbmate" {
					why = "transaction:false: dbmate runs the section outside a transaction"
				}
				f.TxMode, f.TxModeWhy = analyzer.TxModeAutocommit, why
			}
			b.add(m, f)
		}
	}
}

// dbmateNoTx reads the options of the section's annotation line.
func dbmateNoTx(src []byte, rng analyzer.Span) bool {
	for _, a := range annotations(src[:rng.End], "-- migrate:") {
		if a.start >= rng.Start && (dbmateUp(a.cmd) || dbmateDown(a.cmd)) {
			return strings.Contains(a.cmd, "transaction:false")
		}
	}
	return false
}

// --- plain ---

func (b *builder) plain(srcs []Source) {
	sorted := slices.Clone(srcs)
	slices.SortStableFunc(sorted, func(a, c Source) int { return strings.Compare(path.Base(a.Path), path.Base(c.Path)) })
	// numbered names that are not zero-padded sort otherwise than their
	// numbers (10_x.sql before 2_y.sql): say so once, since a runner that
	// goes by the numbers applies them in another order than the one replayed
	for i := 1; i < len(sorted); i++ {
		prev, cur := leadingDigits(path.Base(sorted[i-1].Path)), leadingDigits(path.Base(sorted[i].Path))
		if prev != "" && cur != "" && compareNumeric(prev, cur) > 0 {
			b.problem(sorted[i].Path, "plain .sql files are replayed in lexical order, so %s comes after %s, although its number is smaller; zero-pad the numbers, or set the layout of the tool that applies them (--layout, migrations.layout)", path.Base(sorted[i].Path), path.Base(sorted[i-1].Path))
			break
		}
	}
	for i, src := range sorted {
		f := part(src, analyzer.Up, analyzer.Span{})
		f.TxMode, f.TxModeWhy = analyzer.TxModeAutocommit, ""
		// lexical order is the version: pad the position so that
		// compareVersions keeps it
		m := &Migration{Version: fmt.Sprintf("%09d", i+1), Title: strings.TrimSuffix(path.Base(src.Path), path.Ext(src.Path))}
		m.Up = []*analyzer.File{f}
		b.set.Migrations = append(b.set.Migrations, m)
	}
}

// downName says where the down part of a migration would be.
func (b *builder) downName(m *Migration, up *analyzer.File) string {
	base := path.Base(up.Path)
	switch b.set.Layout {
	case Goose:
		return "a -- +goose Down section in " + base
	case Dbmate:
		return "a -- migrate:down section in " + base
	}
	if strings.HasSuffix(base, ".up.sql") {
		return strings.TrimSuffix(base, ".up.sql") + ".down.sql"
	}
	return "a down migration for version " + m.Version
}

// inParts calls f with the bounds of one part of 0…n per core, from
// minParts items on (fewer are done in one part, here), and returns their
// results in order: for the work on each file of a large history.
func inParts[T any](n int, f func(lo, hi int) T) []T {
	parts := runtime.GOMAXPROCS(0)
	if n < minParts || parts == 1 {
		return []T{f(0, n)}
	}
	out := make([]T, parts)
	var wg sync.WaitGroup
	for k := range parts {
		wg.Go(func() { out[k] = f(k*n/parts, (k+1)*n/parts) })
	}
	wg.Wait()
	return out
}

// minParts is the number of items from which inParts works on every core
// (a variable for the tests).
var minParts = 4096
