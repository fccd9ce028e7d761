package migrate

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Results of verify-rollback, per migration.
const (
	Reversible       = "reversible"            // up, down, up again: the schema came back each time
	Irreversible     = "irreversible"          // no down file
	NotRestored      = "down-does-not-restore" // the down left the schema different from before the up
	DataLost         = "down-loses-data"       // --with-data: the schema came back, the rows did not
	DownFails        = "down-fails"
	UpFailsAfterDown = "up-fails-after-down"
	UpFails          = "up-fails"
	NotReached       = "not-verified" // an earlier migration stopped the run
)

// scratchMarker is the table that marks a database as scratch: verify-
// rollback runs downs only in an empty database or one that has it.
const scratchMarker = "migsafe_scratch"

// Verification is the result for one migration.
type Verification struct {
	Version     uint         `json:"version"`
	Name        string       `json:"name"`
	Result      string       `json:"result"`
	Diff        []Difference `json:"diff,omitempty"`         // before the up vs after the down
	ReapplyDiff []Difference `json:"reapply_diff,omitempty"` // after the first up vs after the second
	Error       string       `json:"error,omitempty"`
	// DataLoss (--with-data) is what of the rows seeded before the up
	// the down did not bring back; Seeding notes the tables that could
	// not be seeded.
	DataLoss   []string `json:"data_loss,omitempty"`
	Seeding    []string `json:"seeding,omitempty"`
	UpSHA256   string   `json:"up_sha256"`
	DownSHA256 string   `json:"down_sha256,omitempty"`
}

// VerifyReport is what verify-rollback found.
type VerifyReport struct {
	Database string         `json:"database"`
	Engine   string         `json:"engine"`
	Server   string         `json:"server"`
	RunID    string         `json:"run_id"`
	At       time.Time      `json:"verified_at"`
	Results  []Verification `json:"results"`
}

// OK reports whether every verified migration is reversible.
func (v *VerifyReport) OK() bool {
	for _, r := range v.Results {
		if r.Result != Reversible {
			return false
		}
	}
	return true
}

// ScratchError is a database verify-rollback will not run downs in.
type ScratchError struct{ Objects []string }

func (e *ScratchError) Error() string {
	return fmt.Sprintf("refusing to run downs: the database is not empty (%s) and not marked as scratch; give verify-rollback an empty database (CREATE DATABASE migsafe_verify), or mark a throwaway one with CREATE TABLE %s (id int) — it will be emptied", strings.Join(e.Objects, ", "), scratchMarker)
}

// VerifyRollback checks every migration from version from (-1: all) on a
// scratch database: snapshot, up, snapshot, down, snapshot (compared with
// the first), up again (compared with the second). The database must be
// empty or marked scratch; a marked one is emptied first.
func (r *Runner) VerifyRollback(ctx context.Context, from int64) (*VerifyReport, error) {
	rep := &VerifyReport{Database: r.t.redacted, Engine: r.t.kind, RunID: r.opt.RunID, At: time.Now().UTC()}
	_ = r.ctl.QueryRowContext(ctx, map[string]string{Postgres: "SHOW server_version", MySQL: "SELECT VERSION()"}[r.t.kind]).Scan(&rep.Server)
	if err := r.lock(ctx, time.Now().Add(r.opt.LockWait)); err != nil {
		return nil, err
	}
	defer r.release()
	if err := r.scratch(ctx); err != nil {
		return nil, err
	}
	if err := r.ensureTables(ctx); err != nil {
		return nil, err
	}
	if err := r.openMigrate(ctx); err != nil {
		return nil, err
	}
	snap := func() (*Schema, error) {
		s, err := snapshot(ctx, r.ctl, r.t.kind)
		return s, r.t.scrub(err)
	}
	stopped := false
	for _, m := range r.opt.Source.Migrations {
		v := Verification{Version: m.Version, Name: m.Name, UpSHA256: m.Up.SHA256}
		if m.Down != nil {
			v.DownSHA256 = m.Down.SHA256
		}
		if stopped {
			v.Result = NotReached
			rep.Results = append(rep.Results, v)
			continue
		}
		if from >= 0 && int64(m.Version) < from {
			// reach the starting version without verifying
			if _, err := r.runStep(ctx, m, "up", nil); err != nil {
				return rep, err
			}
			continue
		}
		var d0 tableData
		var err error
		if r.opt.VerifyWithData {
			if v.Seeding, err = r.seed(ctx); err != nil {
				return rep, err
			}
			if d0, err = r.data(ctx); err != nil {
				return rep, err
			}
		}
		s0, err := snap()
		if err != nil {
			return rep, err
		}
		if _, err := r.runStep(ctx, m, "up", nil); err != nil {
			v.Result, v.Error, stopped = UpFails, err.Error(), true
			if r.opt.VerifyWithData {
				v.Error = "with seeded rows in the tables: " + v.Error
			}
			rep.Results = append(rep.Results, v)
			continue
		}
		if m.Down == nil {
			v.Result = Irreversible
			rep.Results = append(rep.Results, v)
			continue
		}
		s1, err := snap()
		if err != nil {
			return rep, err
		}
		if _, err := r.runStep(ctx, m, "down", nil); err != nil {
			v.Result, v.Error, stopped = DownFails, err.Error(), true
			rep.Results = append(rep.Results, v)
			continue
		}
		s0b, err := snap()
		if err != nil {
			return rep, err
		}
		v.Diff = Diff(s0, s0b)
		if d0 != nil {
			d0b, err := r.data(ctx)
			if err != nil {
				return rep, err
			}
			v.DataLoss = lost(d0, d0b)
		}
		if _, err := r.runStep(ctx, m, "up", nil); err != nil {
			v.Result, v.Error, stopped = UpFailsAfterDown, err.Error(), true
			rep.Results = append(rep.Results, v)
			continue
		}
		s1b, err := snap()
		if err != nil {
			return rep, err
		}
		v.ReapplyDiff = Diff(s1, s1b)
		v.Result = Reversible
		switch {
		case len(v.Diff) > 0 || len(v.ReapplyDiff) > 0:
			v.Result = NotRestored
		case len(v.DataLoss) > 0:
			v.Result = DataLost
		}
		rep.Results = append(rep.Results, v)
	}
	return rep, r.record(ctx, rep)
}

// scratch refuses a database that is neither empty nor marked, marks an
// empty one and empties a marked one.
func (r *Runner) scratch(ctx context.Context) error {
	s, err := snapshot(ctx, r.ctl, r.t.kind)
	if err != nil {
		return r.t.scrub(err)
	}
	var marked int
	q := "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = current_schema()"
	if r.t.kind == MySQL {
		q = "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = DATABASE()"
	}
	if err := r.ctl.QueryRowContext(ctx, r.q(q), scratchMarker).Scan(&marked); err != nil {
		return r.t.scrub(err)
	}
	cur, _, err := r.version(ctx)
	if err != nil {
		return err
	}
	if marked == 0 {
		if len(s.Objects) > 0 || cur >= 0 {
			keys := s.Keys()
			if len(keys) > 5 {
				keys = append(keys[:5], fmt.Sprintf("and %d more", len(s.Objects)-5))
			}
			if len(keys) == 0 {
				keys = []string{"schema_migrations at version " + versionString(cur)}
			}
			return &ScratchError{Objects: keys}
		}
	}
	var stmts []string
	if r.t.kind == Postgres {
		// every non-system schema the snapshot saw, and public recreated
		stmts = append(stmts, "DROP SCHEMA IF EXISTS public CASCADE", "CREATE SCHEMA public")
		for _, k := range s.Keys() {
			if name, ok := strings.CutPrefix(k, "schema "); ok {
				stmts = append(stmts, fmt.Sprintf(`DROP SCHEMA IF EXISTS "%s" CASCADE`, strings.ReplaceAll(name, `"`, `""`)))
			}
		}
	} else {
		rows, err := r.ctl.QueryContext(ctx, "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
		if err != nil {
			return r.t.scrub(err)
		}
		stmts = append(stmts, "SET FOREIGN_KEY_CHECKS = 0")
		for rows.Next() {
			var n, typ string
			if err := rows.Scan(&n, &typ); err != nil {
				rows.Close()
				return r.t.scrub(err)
			}
			kw := "TABLE"
			if strings.Contains(typ, "VIEW") {
				kw = "VIEW"
			}
			stmts = append(stmts, fmt.Sprintf("DROP %s IF EXISTS `%s`", kw, strings.ReplaceAll(n, "`", "``")))
		}
		rows.Close()
	}
	stmts = append(stmts, fmt.Sprintf("CREATE TABLE %s (id int)", scratchMarker))
	conn, err := r.ctl.Conn(ctx)
	if err != nil {
		return r.t.scrub(err)
	}
	defer conn.Close()
	for _, st := range stmts {
		if _, err := conn.ExecContext(ctx, st); err != nil {
			return r.t.scrub(fmt.Errorf("emptying the scratch database: %s: %w", st, err))
		}
	}
	if r.t.kind == MySQL {
		_, _ = conn.ExecContext(ctx, "SET FOREIGN_KEY_CHECKS = 1")
	}
	return nil
}

// record writes the results into migsafe_rollback_verifications.
func (r *Runner) record(ctx context.Context, rep *VerifyReport) error {
	ddl := `CREATE TABLE IF NOT EXISTS migsafe_rollback_verifications (
  version bigint NOT NULL, name text NOT NULL, up_sha256 text NOT NULL, down_sha256 text NOT NULL,
  engine text NOT NULL, server text NOT NULL, result text NOT NULL, detail text NOT NULL,
  run_id text NOT NULL, verified_at timestamptz NOT NULL)`
	if r.t.kind == MySQL {
		ddl = strings.ReplaceAll(strings.ReplaceAll(ddl, "timestamptz", "datetime(6)"), " text NOT NULL", " varchar(255) NOT NULL")
		ddl = strings.Replace(ddl, "detail varchar(255)", "detail text", 1)
	}
	if _, err := r.ctl.ExecContext(ctx, ddl); err != nil {
		return r.t.scrub(fmt.Errorf("recording the verification: %w", err))
	}
	for _, v := range rep.Results {
		detail, _ := json.Marshal(map[string]any{"diff": v.Diff, "reapply_diff": v.ReapplyDiff, "data_loss": v.DataLoss, "error": v.Error})
		_, err := r.ctl.ExecContext(ctx, r.q("INSERT INTO migsafe_rollback_verifications VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			v.Version, v.Name, v.UpSHA256, v.DownSHA256, rep.Engine, rep.Server, v.Result, r.t.scrubString(string(detail)), rep.RunID, rep.At)
		if err != nil {
			return r.t.scrub(fmt.Errorf("recording the verification: %w", err))
		}
	}
	return nil
}

// Text is the report for a terminal.
func (v *VerifyReport) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "verify-rollback on %s (%s %s)\n", v.Database, v.Engine, v.Server)
	for _, r := range v.Results {
		fmt.Fprintf(&b, "%-24s %d_%s\n", r.Result, r.Version, r.Name)
		for _, d := range r.Diff {
			fmt.Fprintf(&b, "    after the down: %s\n", d)
		}
		for _, d := range r.ReapplyDiff {
			fmt.Fprintf(&b, "    after up again: %s\n", d)
		}
		for _, d := range r.DataLoss {
			fmt.Fprintf(&b, "    data after the down: %s\n", d)
		}
		for _, d := range r.Seeding {
			fmt.Fprintf(&b, "    note: %s\n", d)
		}
		if r.Error != "" {
			fmt.Fprintf(&b, "    %s\n", strings.ReplaceAll(r.Error, "\n", "\n    "))
		}
	}
	fmt.Fprintf(&b, "%s\n", v.summary())
	return b.String()
}

func (v *VerifyReport) summary() string {
	n := map[string]int{}
	for _, r := range v.Results {
		n[r.Result]++
	}
	var parts []string
	for _, k := range []string{Reversible, Irreversible, NotRestored, DataLost, DownFails, UpFailsAfterDown, UpFails, NotReached} {
		if n[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[k], k))
		}
	}
	return fmt.Sprintf("%d migration(s): %s", len(v.Results), strings.Join(parts, ", "))
}

// Markdown is the report for a pull request comment.
func (v *VerifyReport) Markdown() string {
	var b strings.Builder
	icon := map[string]string{Reversible: "✅", Irreversible: "⚠️", NotReached: "⏸️"}
	fmt.Fprintf(&b, "### migsafe verify-rollback\n\n%s on %s %s.\n\n| migration | result | details |\n|---|---|---|\n", v.summary(), v.Engine, v.Server)
	for _, r := range v.Results {
		ic := icon[r.Result]
		if ic == "" {
			ic = "❌"
		}
		var det []string
		for _, d := range r.Diff {
			det = append(det, "after the down: `"+mdCell(d.String())+"`")
		}
		for _, d := range r.ReapplyDiff {
			det = append(det, "after up again: `"+mdCell(d.String())+"`")
		}
		for _, d := range r.DataLoss {
			det = append(det, "data after the down: "+mdCell(d))
		}
		if r.Error != "" {
			det = append(det, mdCell(firstLine(r.Error)))
		}
		if r.Result == Irreversible {
			det = append(det, "no down file")
		}
		fmt.Fprintf(&b, "| `%d_%s` | %s %s | %s |\n", r.Version, r.Name, ic, r.Result, strings.Join(det, "<br>"))
	}
	return b.String()
}

func mdCell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "`", "'") }

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }

// Verified is the newest verify-rollback record of one migration version
// in a database's migsafe_rollback_verifications table.
type Verified struct {
	Version    uint      `json:"version"`
	Name       string    `json:"name"`
	Result     string    `json:"result"`
	UpSHA256   string    `json:"up_sha256"`
	DownSHA256 string    `json:"down_sha256"`
	RunID      string    `json:"run_id"`
	At         time.Time `json:"verified_at"`
}

// Verifications reads what verify-rollback recorded in this (scratch)
// database: the newest record per version. A database verify-rollback
// never ran in has none. It changes nothing.
func (r *Runner) Verifications(ctx context.Context) (map[uint]Verified, error) {
	out := map[uint]Verified{}
	rows, err := r.ctl.QueryContext(ctx, "SELECT version, name, result, up_sha256, down_sha256, run_id, verified_at FROM migsafe_rollback_verifications ORDER BY verified_at, version")
	if err != nil {
		if missingTable(err) {
			return out, nil
		}
		return nil, r.t.scrub(fmt.Errorf("reading the rollback verifications: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		var v Verified
		if err := rows.Scan(&v.Version, &v.Name, &v.Result, &v.UpSHA256, &v.DownSHA256, &v.RunID, &v.At); err != nil {
			return nil, r.t.scrub(fmt.Errorf("reading the rollback verifications: %w", err))
		}
		v.At = v.At.UTC()
		out[v.Version] = v // ordered by time: the newest wins
	}
	return out, r.t.scrub(rows.Err())
}
