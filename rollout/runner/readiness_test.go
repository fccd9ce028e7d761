package runner

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/migsafe/migsafe/internal/testdb"
	"github.com/migsafe/migsafe/migrate"
	"github.com/migsafe/migsafe/rollout/checklist"
	"github.com/migsafe/migsafe/rollout/journal"
)

func outcomes(t *testing.T, r checklist.Report) map[string]checklist.Outcome {
	t.Helper()
	m := map[string]checklist.Outcome{}
	for _, o := range r.Outcomes {
		m[o.Name] = o
		t.Logf("%s: %s %s", o.Name, o.Phase, o.Message)
	}
	return m
}

func want(t *testing.T, o checklist.Outcome, phase, msg string) {
	t.Helper()
	if string(o.Phase) != phase || !strings.Contains(o.Message, msg) {
		t.Errorf("%s: %s %q, want %s containing %q", o.Name, o.Phase, o.Message, phase, msg)
	}
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// TestReadinessBuiltins: revert_commit (from the plan's stable release,
// then from the run history), on_call (through the plan's webhook) and
// flags_safe, declared in the plan.
func TestReadinessBuiltins(t *testing.T) {
	dir := t.TempDir()
	git(t, dir, "init", "-q")
	git(t, dir, "commit", "-q", "--allow-empty", "-m", "v1")
	git(t, dir, "tag", "v1")
	var got []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, string(b))
	}))
	defer hook.Close()
	flagctl := filepath.Join(dir, "flagctl")
	if err := os.WriteFile(flagctl, []byte("#!/bin/sh\necho off\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(dir, "rollout.yaml")
	writePlan := func(person string) {
		src := fmt.Sprintf(`name: web-v2
service: web
release: {stable: v1, canary: v2}
backend: {preset: exec, actions: {set_weight: [[true]], route_stable: [[true]]}}
flags: {exec: {set: [%[1]q, set], get: [%[1]q, get, "{{.Key}}"]}}
notify:
  - webhook: {url: %[2]q}
readiness:
  - name: revert commit identified
    fix: tag the last promoted release
    revert_commit: {}
  - name: on-call notified
    fix: name the on-call person
    on_call: {person: %[3]q}
  - name: flags exist and are off
    flags_safe:
steps:
  - flag: {key: checkout.new_path, percent: 5}
  - analysis: {exec: ["true"]}
  - promote
`, flagctl, hook.URL, person)
		if err := os.WriteFile(planFile, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writePlan("ana")
	o := Options{PlanFile: planFile, StateDir: filepath.Join(dir, "state")}
	_, r, err := Readiness(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	m := outcomes(t, r)
	want(t, m["revert commit identified"], "Successful", "revert commit v1 is ")
	want(t, m["revert commit identified"], "Successful", "(the plan's stable release (no promoted run in the history))")
	want(t, m["on-call notified"], "Successful", "ana was notified through 1 of 1 sinks")
	want(t, m["flags exist and are off"], "Successful", "flags exist and are off: checkout.new_path")
	if len(r.Outcomes) != 3 || !r.Passed {
		t.Errorf("the declared flags_safe replaces the automatic flags item: %d items, passed %v", len(r.Outcomes), r.Passed)
	}
	if len(got) != 1 || !strings.Contains(got[0], "on call: ana") {
		t.Errorf("the webhook got %q", got)
	}

	// The run history has a promoted run of v3, which git does not know:
	// the revert commit is v3, and it fails.
	store, err := journal.Open(o.StateDir, "web")
	if err != nil {
		t.Fatal(err)
	}
	j, _, err := store.OpenJournal("20261202T100000Z-aaaa")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []journal.Event{{Kind: journal.RunStarted, Stable: "v1", Canary: "v3"}, {Kind: journal.Promoted}} {
		if _, err := j.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	writePlan("")
	_, r, err = Readiness(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	m = outcomes(t, r)
	want(t, m["revert commit identified"], "Failed", "revert commit v3 does not exist")
	want(t, m["revert commit identified"], "Failed", "the release of 20261202T100000Z-aaaa, the last promoted run")
	want(t, m["on-call notified"], "Failed", "no on-call person is named")
	if r.Passed || m["revert commit identified"].Fix != "tag the last promoted release" {
		t.Errorf("passed %v; fix %q", r.Passed, m["revert commit identified"].Fix)
	}
}

func TestReadinessBuiltinErrors(t *testing.T) {
	dir := t.TempDir()
	for item, msg := range map[string]string{
		"revert_commit: {comit: v1}":            `unknown key "comit" in revert_commit; did you mean "commit"?`,
		"revert_comit: {}":                      `unknown key "revert_comit" in a checklist item; did you mean "revert_commit"?`,
		"migrations: {}":                        "migrations needs the plan's migrations: section",
		"flags_safe: {x: 1}":                    `unknown key "x" in flags_safe (it takes no settings)`,
		"alert_rules: {}":                       "alert_rules needs prometheus",
		"on_call: {person: ana}\n    check: {}": "a checklist item has one check",
	} {
		src := `name: web-v2
service: web
release: {stable: v1, canary: v2}
backend: {preset: exec, actions: {set_weight: [[true]], route_stable: [[true]]}}
readiness:
  - name: item
    ` + item + `
steps:
  - analysis: {exec: ["true"]}
  - promote
`
		planFile := filepath.Join(dir, "rollout.yaml")
		if err := os.WriteFile(planFile, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := Readiness(context.Background(), Options{PlanFile: planFile, StateDir: dir})
		if err == nil || !strings.Contains(err.Error(), msg) || !regexp.MustCompile(`rollout.yaml:[78]:\d+: readiness: `).MatchString(err.Error()) {
			t.Errorf("%s: %v, want rollout.yaml:7 or 8: … %q", item, err, msg)
		}
	}
}

func TestMetricNames(t *testing.T) {
	got := metricNames([]string{
		`sum(rate(http_requests_total{version="{{.Canary}}",code=~"5.."}[1m])) / sum(rate(http_requests_total{version="{{.Canary}}"}[1m]))`,
		`histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{version="{{.Version}}"}[1m])))`,
	})
	if strings.Join(got, " ") != "http_requests_total http_request_duration_seconds_bucket" {
		t.Errorf("%q", got)
	}
}

// TestReadinessMigrations: the migrations and rollback_tested items read
// the target database's records (its version and migsafe_history) and
// verify-rollback's records (the scratch database's
// migsafe_rollback_verifications, or its --output report), on a real
// PostgreSQL.
func TestReadinessMigrations(t *testing.T) {
	srv := testdb.PostgreSQL(t)
	admin, err := sql.Open("pgx", srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, db := range []string{"target", "scratch"} {
		if _, err := admin.Exec("CREATE DATABASE " + db); err != nil {
			t.Fatal(err)
		}
	}
	url := func(db string) string {
		return fmt.Sprintf("postgres://postgres:pw-never-shown@127.0.0.1:%d/%s?sslmode=disable", srv.Port, db)
	}
	dir := t.TempDir()
	mig := filepath.Join(dir, "migrations")
	files := map[string]string{
		"1_users.up.sql":      "CREATE TABLE users (id bigint PRIMARY KEY);",
		"1_users.down.sql":    "DROP TABLE users;",
		"2_email.up.sql":      "ALTER TABLE users ADD COLUMN email text;",
		"2_email.down.sql":    "ALTER TABLE users DROP COLUMN email;",
		"3_orders.up.sql":     "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);",
		"3_orders.down.sql":   "DROP TABLE orders;",
		"4_drop_old.up.sql":   "ALTER TABLE users DROP COLUMN email;",
		"4_drop_old.down.sql": "ALTER TABLE users ADD COLUMN email text;",
	}
	write := func(name, body string) {
		if err := os.MkdirAll(mig, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mig, name), []byte(body+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for n, b := range files {
		if n[0] != '4' {
			write(n, b)
		}
	}
	ctx := context.Background()
	var src *migrate.Source
	// The target is at version 1, applied by migsafe (migsafe_history).
	src, err = migrate.LoadDir(mig)
	if err != nil {
		t.Fatal(err)
	}
	mr, err := migrate.Open(ctx, migrate.Options{DatabaseURL: url("target"), Source: src})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mr.Up(ctx, 1, nil); err != nil {
		t.Fatal(err)
	}
	mr.Close()

	planFile := filepath.Join(dir, "rollout.yaml")
	if err := os.WriteFile(planFile, []byte(`name: web-v2
service: web
release: {stable: v1, canary: v2}
backend: {preset: exec, actions: {set_weight: [[true]], route_stable: [[true]]}}
migrations: {path: migrations, database_env: TARGET_URL}
readiness:
  - name: pending migrations are backward-compatible
    fix: split the change (expand now, contract after the release)
    migrations: {}
  - name: the rollback was tested
    fix: run migsafe verify-rollback on a scratch database
    rollback_tested: {database_env: SCRATCH_URL}
  - name: the rollback was tested (report)
    fix: run migsafe verify-rollback --output verify.json
    rollback_tested: {report: verify.json}
steps:
  - migrate
  - analysis: {exec: ["true"]}
  - promote
`), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TARGET_URL": url("target"), "SCRATCH_URL": url("scratch")}
	o := Options{PlanFile: planFile, StateDir: filepath.Join(dir, "state"), Getenv: func(k string) string { return env[k] }}
	readiness := func() map[string]checklist.Outcome {
		t.Helper()
		_, r, err := Readiness(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, oc := range r.Outcomes {
			if strings.Contains(oc.Message, "pw-never-shown") {
				t.Errorf("the password leaked: %s", oc.Message)
			}
		}
		return outcomes(t, r)
	}

	// verify-rollback never ran.
	m := readiness()
	want(t, m["pending migrations are backward-compatible"], "Successful", "2 pending migration(s) linted")
	want(t, m["the rollback was tested"], "Failed", "no pass for 2 of 2 pending migration(s)")
	want(t, m["the rollback was tested"], "Failed", "2_email: never verified")
	want(t, m["the rollback was tested (report)"], "Error", "verify.json")

	// verify-rollback on the scratch database, with its report.
	vr, err := migrate.Open(ctx, migrate.Options{DatabaseURL: url("scratch"), Source: src})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := vr.VerifyRollback(ctx, -1)
	vr.Close()
	if err != nil || !rep.OK() {
		t.Fatalf("verify-rollback: %v %+v", err, rep)
	}
	js, _ := json.Marshal(rep)
	if err := os.WriteFile(filepath.Join(dir, "verify.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	m = readiness()
	want(t, m["the rollback was tested"], "Successful", "verify-rollback passed for the 2 pending migration(s) (2_email, 3_orders)")
	want(t, m["the rollback was tested (report)"], "Successful", "verify-rollback passed for the 2 pending migration(s)")

	// A down file edited after its verification no longer counts; a new
	// migration that drops a column is a contract step the lint gate
	// refuses for this release.
	write("3_orders.down.sql", "DROP TABLE IF EXISTS orders;")
	write("4_drop_old.up.sql", files["4_drop_old.up.sql"])
	write("4_drop_old.down.sql", files["4_drop_old.down.sql"])
	m = readiness()
	want(t, m["the rollback was tested"], "Failed", "3_orders: changed since it was verified")
	want(t, m["the rollback was tested"], "Failed", "4_drop_old: never verified")
	if oc := m["pending migrations are backward-compatible"]; oc.Passed || oc.Fix == "" {
		t.Errorf("a pending DROP COLUMN passed the migrations item: %+v", oc)
	}
}

// The automatic flags item fails a plan that declares safe_default: true,
// even with every flag off.
func TestReadinessSafeDefault(t *testing.T) {
	dir := t.TempDir()
	flagctl := filepath.Join(dir, "flagctl")
	if err := os.WriteFile(flagctl, []byte("#!/bin/sh\necho off\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for safe, phase := range map[string]string{"false": "Successful", "true": "Failed"} {
		planFile := filepath.Join(dir, "rollout.yaml")
		src := fmt.Sprintf(`name: web-v2
service: web
release: {stable: v1, canary: v2}
backend: {preset: exec, actions: {set_weight: [[true]], route_stable: [[true]]}}
flags:
  exec: {set: [%[1]q, set], get: [%[1]q, get]}
  safe_default: %[2]s
steps:
  - flag: {key: checkout.new_path, percent: 5}
  - analysis: {exec: ["true"]}
  - promote
`, flagctl, safe)
		if err := os.WriteFile(planFile, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		_, r, err := Readiness(context.Background(), Options{PlanFile: planFile, StateDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		m := outcomes(t, r)
		msg := map[string]string{"false": "flags exist and are off", "true": "safe_default: true"}[safe]
		want(t, m["flags"], phase, msg)
	}
}
