package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/migrate"
	"github.com/migsafe/migsafe/migrate/lintgate"
)

// migrateCommand is `migsafe migrate`: flag parsing and printing around
// the migrate package.
func migrateCommand(env Env) *ucli.Command {
	common := func(extra ...ucli.Flag) []ucli.Flag {
		return append([]ucli.Flag{
			&ucli.StringFlag{Name: "database", Usage: "database `URL` (postgres://user:password@host:5432/db or mysql://user:password@host:3306/db)", Sources: ucli.EnvVars("MIGSAFE_DATABASE_URL")},
			&ucli.StringFlag{Name: "path", Usage: "migrations `DIR` in any layout check reads: golang-migrate, goose, dbmate, popx, Flyway, plain (default: ./migrations, else ./db/migrations)", Sources: ucli.EnvVars("MIGSAFE_MIGRATIONS_PATH")},
			&ucli.DurationFlag{Name: "lock-wait", Value: migrate.DefaultLockWait, Usage: "how long to wait for another run's lock before failing"},
			&ucli.DurationFlag{Name: "lock-timeout", Value: migrate.DefaultLockTimeout, Usage: "the session's lock_timeout (PostgreSQL) or lock_wait_timeout (MySQL) while migrations run"},
			&ucli.DurationFlag{Name: "statement-timeout", Usage: "stop any statement that runs longer (0: no limit): PostgreSQL statement_timeout, MariaDB max_statement_time, MySQL KILL QUERY by migsafe (its max_execution_time is for SELECT only)"},
			&ucli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "text, json (one document with the events) or jsonl (each event as it happens, then the result)"},
			&ucli.DurationFlag{Name: "progress", Value: 10 * time.Second, Usage: "report what a migration that runs longer is doing (statement, lock wait, index build), every `DURATION` (0: never; every second on a terminal)"},
		}, extra...)
	}
	cmd := &ucli.Command{
		Name:  "migrate",
		Usage: "apply migrations with golang-migrate, safely (history, checksums, bounded locks, repair)",
		Description: `Applies migrations with golang-migrate (any layout check reads: golang-migrate,
goose, dbmate, popx, Flyway with its undo files as downs, plain files
numbered by position) with a
history table (migsafe_history), checksums of applied files, a bounded lock
that names its holder, automatic retries of PostgreSQL failures that provably
applied nothing, and refusals with the fix for checksum drift, missing files,
out-of-order versions and downs over migrations without a down file.

Exit status: 0 done, 1 refused or failed (or interrupted), 2 usage error.`,
		Commands: []*ucli.Command{
			{
				Name:  "up",
				Usage: "lint the pending migrations, then apply them",
				Flags: common(
					&ucli.StringFlag{Name: "to", Usage: "stop at `VERSION` (default: the newest)"},
					&ucli.StringFlag{Name: "phase", Value: migrate.PhaseAll, Usage: "expand (stop before the first contract step: a drop, rename, type change or SET NOT NULL), contract (refuse a drop whose deprecation is younger than the minimum age, by git and by this database's history) or all"},
					&ucli.StringFlag{Name: "fail-on", Usage: "refuse to apply when a finding is at or above: error, warning or never (default error)", Sources: ucli.EnvVars("MIGSAFE_FAIL_ON")},
					&ucli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "configuration `FILE` (default: .migsafe.yaml found upward)", Sources: ucli.EnvVars("MIGSAFE_CONFIG")},
					&ucli.StringFlag{Name: "dialect", Usage: "lint as postgres or mysql (default: from the database URL)"},
					&ucli.StringFlag{Name: "target-version", Usage: targetVersionUsage, Sources: ucli.EnvVars("MIGSAFE_TARGET_VERSION")},
				),
				Action: func(ctx context.Context, cmd *ucli.Command) error {
					to, err := versionFlag(cmd, false)
					if err != nil {
						return err
					}
					phase := cmd.String("phase")
					if phase != migrate.PhaseAll && phase != migrate.PhaseExpand && phase != migrate.PhaseContract {
						return usageErr("--phase %q: want expand, contract or all", phase)
					}
					return runMigrate(ctx, cmd, env, func(ctx context.Context, r *migrate.Runner, kill <-chan struct{}) (any, error) {
						return r.Up(ctx, to, kill)
					}, func(o *migrate.Options, src *migrate.Source) error {
						g, err := lintGate(ctx, cmd, env, src, phase, o.DatabaseURL)
						o.Gate = g
						return err
					})
				},
			},
			{
				Name:  "down",
				Usage: "revert the migrations above --to VERSION (there is no unbounded down)",
				Flags: common(&ucli.StringFlag{Name: "to", Usage: "revert down to `VERSION` (0: before the first migration)", Required: true}),
				Action: func(ctx context.Context, cmd *ucli.Command) error {
					to, err := versionFlag(cmd, true)
					if err != nil {
						return err
					}
					return runMigrate(ctx, cmd, env, func(ctx context.Context, r *migrate.Runner, kill <-chan struct{}) (any, error) {
						return r.Down(ctx, to, kill)
					}, nil)
				},
			},
			{
				Name:  "status",
				Usage: "the database's version, what is pending, and what the next up would refuse",
				Flags: common(),
				Action: func(ctx context.Context, cmd *ucli.Command) error {
					return runMigrate(ctx, cmd, env, func(ctx context.Context, r *migrate.Runner, _ <-chan struct{}) (any, error) {
						return r.Status(ctx)
					}, nil)
				},
			},
			{
				Name:  "history",
				Usage: "migsafe_history: every migration run, with checksums, times and outcomes",
				Flags: common(&ucli.IntFlag{Name: "limit", Value: 50, Usage: "the newest `N` rows (0: all)"}),
				Action: func(ctx context.Context, cmd *ucli.Command) error {
					return runMigrate(ctx, cmd, env, func(ctx context.Context, r *migrate.Runner, _ <-chan struct{}) (any, error) {
						return r.History(ctx, cmd.Int("limit"))
					}, nil)
				},
			},
			{
				Name:  "repair",
				Usage: "inspect a dirty database: is the failed migration applied, not applied, or partial?",
				Flags: common(&ucli.BoolFlag{Name: "apply", Usage: "set the version when the schema is exactly as before or after the migration"}),
				Action: func(ctx context.Context, cmd *ucli.Command) error {
					return runMigrate(ctx, cmd, env, func(ctx context.Context, r *migrate.Runner, _ <-chan struct{}) (any, error) {
						return r.Repair(ctx, cmd.Bool("apply"))
					}, nil)
				},
			},
		},
	}
	for _, c := range cmd.Commands {
		c.OnUsageError = onUsageError
	}
	return cmd
}

// versionFlag reads --to: -1 when absent (up) or 0 (down: before the
// first migration).
func versionFlag(cmd *ucli.Command, down bool) (int64, error) {
	s := cmd.String("to")
	if s == "" {
		return -1, nil
	}
	v, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		return 0, usageErr("--to %q: want a migration version (a number)", s)
	}
	if down && v == 0 {
		return -1, nil
	}
	return int64(v), nil
}

// migrationsDir resolves --path.
func migrationsDir(cmd *ucli.Command, env Env) (string, error) {
	wd := env.Dir
	if wd == "" {
		var err error
		if wd, err = os.Getwd(); err != nil {
			return "", &exitError{ExitError, err}
		}
	}
	p := cmd.String("path")
	if p == "" {
		for _, c := range []string{"migrations", filepath.Join("db", "migrations")} {
			if st, err := os.Stat(filepath.Join(wd, c)); err == nil && st.IsDir() {
				p = c
				break
			}
		}
		if p == "" {
			return "", usageErr("no migrations directory: give --path DIR (./migrations and ./db/migrations do not exist)")
		}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(wd, p)
	}
	return p, nil
}

func runMigrate(ctx context.Context, cmd *ucli.Command, env Env, do func(context.Context, *migrate.Runner, <-chan struct{}) (any, error), setup func(*migrate.Options, *migrate.Source) error) error {
	format := cmd.String("format")
	if format != "text" && format != "json" && format != "jsonl" {
		return usageErr("--format %q: want text, json or jsonl", format)
	}
	dir, err := migrationsDir(cmd, env)
	if err != nil {
		return err
	}
	src, err := migrate.Load(dir, dialectOf(firstOf(cmd.String("database"), env.Getenv("MIGSAFE_DATABASE_URL"))))
	if err != nil {
		return &exitError{ExitError, err}
	}
	opt := migrate.Options{
		DatabaseURL: firstOf(cmd.String("database"), env.Getenv("MIGSAFE_DATABASE_URL")), Source: src, Version: Version(),
		LockWait: cmd.Duration("lock-wait"), LockTimeout: cmd.Duration("lock-timeout"), StatementTimeout: cmd.Duration("statement-timeout"),
	}
	opt.ProgressEvery = cmd.Duration("progress")
	var events []migrate.Event
	switch format {
	case "text":
		ew := &eventWriter{w: env.Stdout, live: env.IsTerminal != nil && env.IsTerminal(env.Stdout) && env.Getenv("TERM") != "dumb"}
		if ew.live && opt.ProgressEvery > 0 {
			opt.ProgressEvery = time.Second
		}
		opt.Events = ew.write
		defer ew.clear()
	case "json":
		opt.Events = func(e migrate.Event) {
			if e.Kind != "progress" {
				events = append(events, e)
			}
		}
	case "jsonl":
		opt.Events = func(e migrate.Event) {
			b, _ := json.Marshal(map[string]any{"event": e})
			fmt.Fprintf(env.Stdout, "%s\n", b)
		}
	}
	if setup != nil {
		if err := setup(&opt, src); err != nil {
			return err
		}
	}
	ctx, kill, stop := migrate.OnSignals(ctx, func(n int, s os.Signal) {
		if n == 1 {
			fmt.Fprintf(env.Stderr, "migsafe: %v: stopping after the running migration (again to cancel it)\n", s)
		} else {
			fmt.Fprintf(env.Stderr, "migsafe: %v: cancelling the running statement\n", s)
		}
	})
	defer stop()
	r, err := migrate.Open(ctx, opt)
	if err != nil {
		return &exitError{ExitError, err}
	}
	defer r.Close()
	out, err := do(ctx, r, kill)
	if format != "text" {
		doc := map[string]any{"database": r.Database(), "result": out}
		if err != nil {
			doc["error"] = err.Error()
		}
		if format == "json" && len(events) > 0 {
			doc["events"] = events
		}
		enc := json.NewEncoder(env.Stdout)
		if format == "json" {
			enc.SetIndent("", "  ")
		}
		if werr := enc.Encode(doc); werr != nil {
			return &exitError{ExitError, werr}
		}
	} else {
		writeResult(env.Stdout, r, out, err)
	}
	if err != nil {
		if format != "text" {
			return &exitError{code: ExitFindings}
		}
		return &exitError{ExitFindings, err}
	}
	if ins, ok := out.(*migrate.Inspection); ok && ins.Dirty && !ins.Done {
		return &exitError{code: ExitFindings}
	}
	return nil
}

// eventWriter prints the runner's events: a line per migration with its
// duration and predicted locks, a line when a long one reports progress,
// and on a terminal, when more than a few migrations are pending, a live
// line under them (migration N/M, the run's time, what is running).
type eventWriter struct {
	w     io.Writer
	live  bool
	shown bool // the live line is on screen
}

// liveFrom is how many pending migrations make a live line worth it.
const liveFrom = 4

func (ew *eventWriter) clear() {
	if ew.shown {
		fmt.Fprint(rawOut(ew.w), "\r\033[K")
		ew.shown = false
	}
}

func (ew *eventWriter) write(e migrate.Event) {
	name := fmt.Sprintf("%d_%s", e.Version, e.Name)
	live := ew.live && e.Total >= liveFrom
	if live && (e.Kind == "start" || e.Kind == "progress") {
		line := fmt.Sprintf("[%d/%d %s] %s %s", e.Index, e.Total, e.Elapsed.Round(time.Second), e.Direction, name)
		if e.Kind == "progress" {
			line += fmt.Sprintf(" %s", e.Duration.Round(time.Second))
			if e.Message != "" {
				line += ": " + e.Message
			}
		}
		fmt.Fprintf(rawOut(ew.w), "\r\033[K%s", safeLine(clipRunes(line, 150)))
		ew.shown = true
		return
	}
	ew.clear()
	writeMigrateEvent(ew.w, e)
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func writeMigrateEvent(w io.Writer, e migrate.Event) {
	name := fmt.Sprintf("%d_%s", e.Version, e.Name)
	switch e.Kind {
	case "done":
		fmt.Fprintf(w, "%-4s %s (%s)%s\n", e.Direction, name, e.Duration.Round(time.Millisecond), locksText(e.Locks))
	case "progress":
		fmt.Fprintf(w, "     %s: running for %s (migration %d of %d, %s into the run)", name, e.Duration.Round(time.Second), e.Index, e.Total, e.Elapsed.Round(time.Second))
		if e.Message != "" {
			fmt.Fprintf(w, ": %s", e.Message)
		}
		fmt.Fprintln(w)
	case "retry":
		fmt.Fprintf(w, "%-4s %s: attempt %d failed, nothing applied; retrying: %s\n", e.Direction, name, e.Attempt, e.Message)
	case "failed":
		fmt.Fprintf(w, "%-4s %s FAILED after %s%s\n", e.Direction, name, e.Duration.Round(time.Millisecond), locksText(e.Locks))
	case "recovered":
		fmt.Fprintf(w, "recovered: %s (%s): %s\n", name, e.Direction, e.Message)
	case "note":
		fmt.Fprintf(w, "note: %s\n", e.Message)
	}
}

// locksText is " · locks (predicted): …" for a migration line.
func locksText(ls []migrate.Lock) string {
	if len(ls) == 0 {
		return ""
	}
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.String()
	}
	return " · predicted locks: " + strings.Join(parts, "; ")
}

func writeResult(w io.Writer, r *migrate.Runner, out any, err error) {
	switch x := out.(type) {
	case *migrate.Result:
		if x == nil || err != nil && len(x.Steps) == 0 {
			return
		}
		n := 0
		for _, s := range x.Steps {
			if s.Outcome == migrate.OutcomeApplied {
				n++
			}
		}
		if len(x.Steps) == 0 && x.Stopped == "" {
			fmt.Fprintf(w, "nothing to do: %s is at version %s\n", r.Database(), verString(x.To))
			return
		}
		fmt.Fprintf(w, "%s: version %s → %s (%d migration(s) run)\n", r.Database(), verString(x.From), verString(x.To), n)
		if x.Stopped != "" {
			fmt.Fprintf(w, "stopped: %s\n", x.Stopped)
		}
	case *migrate.Status:
		dirty := ""
		if x.Dirty {
			dirty = " (DIRTY: run migsafe migrate repair)"
		}
		fmt.Fprintf(w, "database: %s (%s)\nversion:  %s%s\n", x.Database, x.Engine, verString(x.Version), dirty)
		if x.Last != nil {
			fmt.Fprintf(w, "last run: %s %d_%s %s at %s (run %s on %s)\n", x.Last.Direction, x.Last.Version, x.Last.Name, x.Last.Outcome, x.Last.Started.Format(time.RFC3339), x.Last.RunID, x.Last.Host)
		}
		if x.LockHolder != "" {
			fmt.Fprintf(w, "locked by: %s\n", x.LockHolder)
		}
		fmt.Fprintf(w, "pending:  %d\n", len(x.Pending))
		for _, m := range x.Pending {
			irr := ""
			if m.Down == nil {
				irr = " (no down file: irreversible)"
			}
			fmt.Fprintf(w, "  %s%s\n", m.Label(), irr)
		}
		if len(x.Problems) > 0 {
			fmt.Fprintf(w, "%s\n", x.Problems.Error())
		}
	case []migrate.Row:
		if len(x) == 0 {
			fmt.Fprintln(w, "no history yet")
		}
		for _, row := range x {
			dur := ""
			if row.Duration != nil {
				dur = fmt.Sprintf(" %dms", *row.Duration)
			}
			sha := row.SHA256
			if len(sha) > 12 {
				sha = sha[:12]
			}
			line := fmt.Sprintf("%s  %-8s %d_%s  %s%s  sha256 %s  run %s on %s", row.Started.Format(time.RFC3339), row.Direction, row.Version, row.Name, row.Outcome, dur, firstOf(sha, "-"), row.RunID, row.Host)
			if row.Error != "" {
				line += "\n    " + strings.ReplaceAll(row.Error, "\n", "\n    ")
			}
			fmt.Fprintln(w, line)
		}
	case *migrate.Inspection:
		fmt.Fprint(w, x.Text())
	}
}

// dialectOf is the dialect of a database URL (popx files are tagged by it).
func dialectOf(url string) string {
	if strings.HasPrefix(url, "mysql") || strings.HasPrefix(url, "mariadb") {
		return analyzer.MySQL
	}
	return analyzer.Postgres
}

func verString(v int64) string {
	if v < 0 {
		return "none"
	}
	return strconv.FormatInt(v, 10)
}

// lintGate is the one place where the runner meets the linter: it lints
// the pending migrations the way `migsafe check` does (same configuration,
// rules, git history and --fail-on), refuses when a finding reaches
// --fail-on, and for --phase expand stops before the first contract step.
func lintGate(ctx context.Context, cmd *ucli.Command, env Env, src *migrate.Source, phase, dbURL string) (migrate.Gate, error) {
	if cmd.String("dialect") == "" && strings.HasPrefix(dbURL, "mysql") {
		_ = cmd.Set("dialect", analyzer.MySQL)
	}
	s, err := resolve(cmd, env)
	if err != nil {
		return nil, err
	}
	return lintgate.New(s, src, phase), nil
}

// verifyRollbackCommand is `migsafe verify-rollback`.
func verifyRollbackCommand(env Env) *ucli.Command {
	return &ucli.Command{
		Name:  "verify-rollback",
		Usage: "on a scratch database, apply each migration up, down and up again and compare the schemas",
		Description: `For each migration in order: snapshot the schema, apply the up, snapshot,
apply the down, snapshot and compare with the first snapshot (tables, columns
with types, defaults and nullability, indexes, constraints, sequences, enums,
views, triggers, functions), apply the up again and compare with the second.
Reports each migration as reversible, irreversible (no down file),
down-does-not-restore (with the difference), down-fails or up-fails-after-down.
With --with-data every table gets a few generated rows before each up, and a
down that restores the schema but not those rows is down-loses-data.

It runs downs, so it refuses a database that is neither empty nor marked as
scratch (a table named migsafe_scratch; a marked database is emptied first).
The results are recorded in the scratch database's
migsafe_rollback_verifications table, and with --output in a JSON file.

Exit status: 0 every migration is reversible, 1 otherwise, 2 usage error.`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "database", Usage: "scratch database `URL` (empty, or marked with a migsafe_scratch table)", Sources: ucli.EnvVars("MIGSAFE_SCRATCH_DATABASE_URL"), Required: true},
			&ucli.StringFlag{Name: "path", Usage: "migrations `DIR` in any layout check reads: golang-migrate, goose, dbmate, popx, Flyway, plain (default: ./migrations, else ./db/migrations)"},
			&ucli.StringFlag{Name: "from", Usage: "verify from `VERSION` on (the ones before are applied without checks)"},
			&ucli.BoolFlag{Name: "with-data", Usage: "seed every table with a few generated rows before each up and report what the down does not bring back"},
			&ucli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "text, json or markdown"},
			&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "also write the JSON report to `FILE` (the record the readiness checks read)"},
			&ucli.DurationFlag{Name: "lock-wait", Value: migrate.DefaultLockWait, Usage: "how long to wait for another run's lock"},
			&ucli.DurationFlag{Name: "statement-timeout", Usage: "stop any statement that runs longer (0: no limit): PostgreSQL statement_timeout, MariaDB max_statement_time, MySQL KILL QUERY by migsafe (its max_execution_time is for SELECT only)"},
		},
		Action: func(ctx context.Context, cmd *ucli.Command) error {
			format := cmd.String("format")
			if format != "text" && format != "json" && format != "markdown" {
				return usageErr("--format %q: want text, json or markdown", format)
			}
			from := int64(-1)
			if s := cmd.String("from"); s != "" {
				v, err := strconv.ParseUint(s, 10, 63)
				if err != nil {
					return usageErr("--from %q: want a migration version", s)
				}
				from = int64(v)
			}
			dir, err := migrationsDir(cmd, env)
			if err != nil {
				return err
			}
			src, err := migrate.Load(dir, dialectOf(cmd.String("database")))
			if err != nil {
				return &exitError{ExitError, err}
			}
			r, err := migrate.Open(ctx, migrate.Options{DatabaseURL: cmd.String("database"), Source: src, Version: Version(),
				LockWait: cmd.Duration("lock-wait"), StatementTimeout: cmd.Duration("statement-timeout"), VerifyWithData: cmd.Bool("with-data")})
			if err != nil {
				return &exitError{ExitError, err}
			}
			defer r.Close()
			rep, err := r.VerifyRollback(ctx, from)
			if err != nil && rep == nil {
				return &exitError{ExitFindings, err}
			}
			js, _ := json.MarshalIndent(rep, "", "  ")
			if p := cmd.String("output"); p != "" {
				if !filepath.IsAbs(p) {
					wd := env.Dir
					if wd == "" {
						wd, _ = os.Getwd()
					}
					p = filepath.Join(wd, p)
				}
				if werr := os.WriteFile(p, append(js, '\n'), 0o644); werr != nil {
					return &exitError{ExitError, werr}
				}
			}
			switch format {
			case "json":
				fmt.Fprintf(env.Stdout, "%s\n", js)
			case "markdown":
				fmt.Fprint(env.Stdout, rep.Markdown())
			default:
				fmt.Fprint(env.Stdout, rep.Text())
			}
			if err != nil {
				return &exitError{ExitFindings, err}
			}
			if !rep.OK() {
				return &exitError{code: ExitFindings}
			}
			return nil
		},
	}
}
