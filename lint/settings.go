// Package lint is migsafe's workspace-level linter: it finds the migration
// files, reads them (ReadSQL refuses what is not text), loads each
// migration directory as a history in its tool's layout, dates the deploys
// from git, and runs the engine over the histories with the project's
// configuration. `migsafe check` is Resolve then Check; `migsafe status`
// is Resolve then Status.
//
// A migration runner calls Resolve, then LoadHistory for its migration
// directory, then CheckMigrations for the migrations it is about to apply:
// they are linted with the earlier ones replayed as history, with the same
// rules and configuration as `migsafe check`.
//
// Every error is a value whose text is what the command line prints.
package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/migrations"
	"github.com/migsafe/migsafe/analyzer/parsecache"
	"github.com/migsafe/migsafe/config"
	"github.com/migsafe/migsafe/rules"
)

// Options are what a caller says about a lint run; the zero value of a
// field means the configuration file's value, else the default.
type Options struct {
	// Dir is the working directory: relative paths, the search for
	// .migsafe.yaml and the paths shown are relative to it; "" means the
	// process's.
	Dir string
	// Config is the configuration file; "" means .migsafe.yaml (or
	// .migsafe.yml) found upward from Dir, else none.
	Config string
	// Dialect is postgres or mysql (mariadb); "" means the configuration's,
	// else read from the file names of Paths (*.mysql.up.sql, a mysql/
	// folder), else postgres.
	Dialect string
	// TargetVersion is the server version advice is given for (14, 8.0.28,
	// mariadb-10.11); "" means the configuration's, else the dialect's
	// default.
	TargetVersion string
	// FailOn is the lowest severity that fails: error, warning or never;
	// "" means the configuration's, else error.
	FailOn string
	// Layout is the migration layout (golang-migrate, goose, dbmate,
	// flyway, popx, plain or auto); "" means migrations.layout in the
	// configuration, else detected.
	Layout string
	// Since is a git reference: only the migrations added or changed since
	// are linted; the others are replayed as history.
	Since string
	// NoGit: do not read deploy dates from git; every migration version
	// counts as its own deploy.
	NoGit bool
	// MaxFileSize is the largest file read, in bytes; 0 means MaxFileSize.
	MaxFileSize int64
	// FollowSymlinks reads files and directories that symbolic links
	// point to outside the repository (or the directory given); without
	// it such a link is an error naming it.
	FollowSymlinks bool
	// Now is the time deploy ages are measured at; zero means time.Now().
	Now time.Time
	// Paths are the files and directories to lint, used to tell the
	// dialect from their names; empty means Dir.
	Paths []string
	// Cache says where parse results are cached (default: the user's
	// cache directory).
	Cache CacheOptions
	// TemplateVars are the values of Go template placeholders ({{ index
	// .Options "Namespace" }} is Namespace) in templated migrations.
	TemplateVars map[string]string
}

// Settings are the resolved options of a run: the configuration, the
// dialect adapter and the rules it enables.
type Settings struct {
	Dir     string         // the working directory, absolute or as given
	Config  *config.Config // never nil (empty when there is no file)
	Dialect analyzer.Dialect
	Rules   []engine.RuleConfig // the enabled rules with their severities
	FailOn  string              // error, warning or never
	Now     time.Time
	opt     Options
	cache   *parsecache.Cache
	// found keeps what the dialect's detection discovered, for Load
	found *discovered
}

// Resolve reads the configuration and resolves the options: the dialect,
// the enabled rules, the failure threshold. Its errors are configuration
// or usage errors.
func Resolve(o Options) (*Settings, error) {
	dir, err := physicalDir(o.Dir)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(o.Config, dir)
	if err != nil {
		return nil, err
	}
	// the cache first: it keeps the directories' listings, which the
	// dialect's detection reads
	c, err := openCache(o.Cache)
	if err != nil {
		return nil, err
	}
	s := &Settings{Dir: dir, Config: cfg, opt: o, found: &discovered{kept: c}, cache: c}
	name, err := dialectName(o, cfg, dir, s.found)
	if err != nil {
		return nil, err
	}
	d, err := NewDialect(name, firstOf(o.TargetVersion, cfg.TargetVersion))
	if err != nil {
		return nil, err
	}
	s.Dialect = cachedDialect(c, d)
	s.FailOn = firstOf(o.FailOn, cfg.FailOn, "error")
	switch s.FailOn {
	case "error", "warning", "never":
	default:
		return nil, fmt.Errorf("--fail-on %q: want error, warning or never", s.FailOn)
	}
	s.Rules = enabledRules(cfg, d.Name())
	s.Now = o.Now
	if s.Now.IsZero() {
		s.Now = time.Now()
	}
	return s, nil
}

func isRule(s string) bool { return rules.Lookup(s) != nil }

// RuleWords are the rules' names and codes, for suggestions.
func RuleWords() []string {
	var out []string
	for _, r := range rules.All() {
		out = append(out, r.Name, r.Code)
	}
	return out
}

func loadConfig(path, dir string) (*config.Config, error) {
	if path == "" {
		found, err := config.Find(dir)
		if err != nil {
			return nil, err
		}
		if found == "" {
			return &config.Config{Dir: dir}, nil
		}
		path = found
	} else if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	return config.Load(path, isRule, RuleWords())
}

// enabledRules applies the configuration to the rules' defaults.
func enabledRules(cfg *config.Config, dialect string) []engine.RuleConfig {
	var out []engine.RuleConfig
	for _, r := range rules.All() {
		if !r.AppliesTo(dialect) {
			continue
		}
		on, sev := !r.Off, r.Severity
		for _, rs := range cfg.Rules {
			if rules.Lookup(rs.Key) != r {
				continue
			}
			on = !rs.Off
			if rs.Severity != 0 {
				sev = rs.Severity
			}
		}
		if on {
			out = append(out, engine.RuleConfig{Rule: r, Severity: sev})
		}
	}
	return out
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// excluder returns whether a path (relative to dir) matches an exclude
// pattern of the configuration (relative to the configuration's directory).
func excluder(cfg *config.Config, dir string) func(string) bool {
	return func(p string) bool {
		if len(cfg.Exclude) == 0 {
			return false
		}
		full := p
		if !filepath.IsAbs(full) {
			full = filepath.Join(dir, filepath.FromSlash(p))
		}
		rel, err := filepath.Rel(cfg.Dir, full)
		if err != nil || strings.HasPrefix(rel, "..") {
			return false
		}
		rel = filepath.ToSlash(rel)
		for _, pat := range cfg.Exclude {
			if config.Match(pat, rel) {
				return true
			}
		}
		return false
	}
}

// Layout returns the migration layout the options and the configuration
// ask for (migrations.Auto: detect), or a usage error naming the valid
// ones.
func (s *Settings) Layout() (migrations.Layout, error) {
	name := firstOf(s.opt.Layout, s.Config.Migrations.Layout)
	l, err := migrations.ParseLayout(name)
	if err != nil {
		msg := err.Error() + " (want " + strings.Join(migrations.LayoutNames(), ", ") + ")"
		if sug := analyzer.Suggest(name, migrations.LayoutNames()); sug != "" {
			msg += fmt.Sprintf("; did you mean %q?", sug)
		}
		return l, fmt.Errorf("--layout: %s", msg)
	}
	return l, nil
}

// MinimumAge is how long a deprecation must have shipped before its drop
// (migrations.min-deprecation-age, else the default).
func (s *Settings) MinimumAge() time.Duration {
	return (&analyzer.History{MinAge: s.Config.Migrations.MinDeprecationAge, MinAgeSet: s.Config.Migrations.MinDeprecationAgeText != ""}).MinimumAge()
}

// historyOptions resolves the options about migration histories.
func (s *Settings) historyOptions() (histOptions, error) {
	opt := histOptions{dialect: s.Dialect.Name(), since: s.opt.Since, noGit: s.opt.NoGit, maxSize: s.opt.MaxFileSize, minAge: s.Config.Migrations.MinDeprecationAge, minAgeSet: s.Config.Migrations.MinDeprecationAgeText != "", now: s.Now, templateVars: s.opt.TemplateVars, follow: s.opt.FollowSymlinks}
	if opt.maxSize == 0 {
		opt.maxSize = MaxFileSize
	}
	opt.found = s.found
	if s.cache != nil {
		opt.gitStore = s.cache
		opt.sources = s.cache
	}
	l, err := s.Layout()
	if err != nil {
		return opt, err
	}
	opt.layout = l
	if opt.since != "" && opt.noGit {
		return opt, fmt.Errorf("--since needs git; it cannot be used with --no-git")
	}
	return opt, nil
}

// Failing reports whether a finding that is not suppressed reaches the
// failOn threshold (error, warning or never).
func Failing(fs []analyzer.Finding, failOn string) bool {
	if failOn == "never" {
		return false
	}
	min := analyzer.SeverityError
	if failOn == "warning" {
		min = analyzer.SeverityWarning
	}
	for _, f := range fs {
		if f.Suppressed == nil && f.Severity >= min {
			return true
		}
	}
	return false
}

// WithoutGit returns a copy of s that does not read deploy dates from git
// (every migration version is its own deploy).
func (s *Settings) WithoutGit() *Settings {
	c := *s
	c.opt.NoGit, c.opt.Since = true, ""
	return &c
}

// physicalDir is dir (the working directory when empty) as an absolute
// path with its symbolic links resolved. A relative path is joined to the
// working directory as the kernel sees it: os.Getwd returns $PWD, which
// may go through a symbolic link, and joining ".." to it lexically would
// lead somewhere else than the ".." the kernel follows.
func physicalDir(dir string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	if r, err := filepath.EvalSymlinks(wd); err == nil {
		wd = r
	}
	if dir == "" {
		return wd, nil
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(wd, dir)
	}
	return filepath.Clean(dir), nil
}
