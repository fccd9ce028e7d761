package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/migsafe/migsafe/rollout/checklist"
	"github.com/migsafe/migsafe/rollout/engine"
	"github.com/migsafe/migsafe/rollout/journal"
	"github.com/migsafe/migsafe/rollout/notify"
)

// checklistPlan has a readiness item (%[2]s: its command), a
// post-rollback checklist and two notification sinks: a Slack-shaped
// webhook (%[3]s) and a command that fails.
const checklistPlan = `name: t
service: web
release: {stable: v1, canary: v2}
backend: {preset: exec, actions: {deploy: [[true]], set_weight: [[true]], route_stable: [[true]], promote: [[true]], undo: [[true]]}}
readiness:
  - name: revert commit identified
    fix: tag the last promoted release
    check:
      metrics:
        - name: tag
          provider: {exec: {argv: ["%[2]s"]}}
%[4]s
post_rollback:
  - name: health checks pass
    fix: look at stable's logs
    check:
      metrics:
        - name: healthz
          provider: {exec: {argv: ["true"]}}
  - name: CI is green for the revert commit
    fix: re-run CI on the revert commit
    check:
      metrics:
        - name: ci
          provider: {exec: {argv: ["false"]}}
notify:
  - webhook: {url: "%[3]s"}
  - exec: ["%[1]s/no-such-notifier"]
steps:
  - deploy
  - set_weight: 5
  - analysis: {exec: ["false"]}
  - promote
`

func writeChecklistPlan(t *testing.T, readiness, url, waive string) Options {
	dir := t.TempDir()
	f := filepath.Join(dir, "rollout.yaml")
	if err := os.WriteFile(f, []byte(fmt.Sprintf(checklistPlan, dir, readiness, url, waive)), 0o644); err != nil {
		t.Fatal(err)
	}
	return Options{PlanFile: f, StateDir: filepath.Join(dir, "state"), Backoff: func(int) time.Duration { return time.Millisecond }}
}

func TestReadinessRefusesToStart(t *testing.T) {
	o := writeChecklistPlan(t, "false", "http://127.0.0.1:1/", "")
	_, r, err := Readiness(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if r.Passed || len(r.Outcomes) != 1 || r.Outcomes[0].Fix != "tag the last promoted release" {
		t.Fatalf("readiness %+v", r)
	}
	_, _, err = Start(context.Background(), o)
	var nr *NotReadyError
	if !errors.As(err, &nr) || !strings.Contains(err.Error(), "revert commit identified") {
		t.Fatalf("Start: %v", err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(o.PlanFile), "state", "web", "active.json")); err == nil {
		t.Error("a refused run left an active run behind")
	}
	// the same item waived with a reason: the run starts
	o = writeChecklistPlan(t, "false", "http://127.0.0.1:1/", "  - name: on-call named\n    waive: release on a weekday, the team is here")
	data, _ := os.ReadFile(o.PlanFile)
	src := strings.Replace(string(data), "    fix: tag the last promoted release\n    check:\n      metrics:\n        - name: tag\n          provider: {exec: {argv: [\"false\"]}}\n", "    waive: \"first release of this service: there is nothing to revert to\"\n", 1)
	_ = os.WriteFile(o.PlanFile, []byte(src), 0o644)
	var seen checklist.Report
	o.Readiness = func(r checklist.Report) { seen = r }
	_, st, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !seen.Passed || len(seen.Outcomes) != 2 || seen.Outcomes[0].Waived == "" {
		t.Errorf("readiness %+v", seen)
	}
	if st.Status != engine.RolledBack {
		t.Errorf("status %s", st.Status)
	}
}

// After a rollback: the post-rollback checklist runs, the webhook gets a
// Slack-shaped message (and one when the rollback starts), a failing
// sink is a warning, and the post-mortem draft is written next to the
// journal. A webhook that hangs does not slow the route-back.
func TestAfterRollback(t *testing.T) {
	old := NotifyTimeout
	NotifyTimeout = 500 * time.Millisecond
	defer func() { NotifyTimeout = old }()
	var mu sync.Mutex
	var got []notify.SlackMessage
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m notify.SlackMessage
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("webhook body %s: %v", body, err)
		}
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
		if strings.Contains(m.Text, "rolling_back") {
			time.Sleep(time.Second) // a hanging webhook
		}
	}))
	defer srv.Close()
	o := writeChecklistPlan(t, "true", srv.URL+"/services/T0/B0/secret", "")
	var loud strings.Builder
	o.Loud = &loud
	var decided, stable time.Time
	o.Observe = func(e journal.Event) {
		switch {
		case e.Kind == journal.RollbackStarted:
			decided = time.Now()
		case e.Kind == journal.StepDone && e.Rollback && e.Step == 0:
			stable = time.Now()
		}
	}
	var after *AfterRollback
	o.AfterRollback = func(a *AfterRollback) { after = a }
	_, st, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != engine.RolledBack {
		t.Fatalf("status %s", st.Status)
	}
	t.Logf("all traffic on stable %s after the decision, with the webhook hanging", stable.Sub(decided))
	if stable.Sub(decided) > 300*time.Millisecond {
		t.Errorf("route-back took %s", stable.Sub(decided))
	}
	if after == nil || after.Checklist == nil {
		t.Fatal("no post-rollback checklist")
	}
	c := after.Checklist
	if c.Passed || len(c.Outcomes) != 2 || !c.Outcomes[0].Passed || c.Outcomes[1].Fix != "re-run CI on the revert commit" {
		t.Errorf("post-rollback %+v", c)
	}
	if len(after.SinkErrors) != 1 || !strings.Contains(after.SinkErrors[0].Error(), "no-such-notifier") {
		t.Errorf("sink errors %v", after.SinkErrors)
	}
	if !strings.Contains(loud.String(), "notification failed") || strings.Contains(loud.String(), "secret") {
		t.Errorf("warnings %q: the failing sink is reported, the webhook's secret path is not", loud.String())
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	var texts []string
	for _, m := range got {
		texts = append(texts, m.Text)
	}
	mu.Unlock()
	all := strings.Join(texts, "\n---\n")
	if len(texts) != 2 || !strings.Contains(all, "[rolling_back]") || !strings.Contains(all, "[post_rollback]") || !strings.Contains(all, "FAIL CI is green") {
		t.Errorf("webhook got:\n%s", all)
	}
	pm, err := os.ReadFile(after.Postmortem)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(after.Postmortem, filepath.Join(filepath.Dir(o.PlanFile), "state", "web", "runs", st.RunID)) {
		t.Errorf("post-mortem at %s", after.Postmortem)
	}
	for _, want := range []string{st.RunID, "analysis", "CI is green for the revert commit"} {
		if !strings.Contains(string(pm), want) {
			t.Errorf("post-mortem lacks %q:\n%s", want, pm)
		}
	}
	// LoadRun reads it all back for the report
	r, err := LoadRun(o, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != st.RunID || r.Outcome != "rolled_back" || r.PostRollback == nil || len(r.Rollback) != 2 {
		t.Errorf("run %+v", r)
	}
}

// TestIncompleteRollbackSaid: a rollback step that gave up is in the
// post-rollback notification and the post-mortem draft, not only on the
// terminal of the process that drove the run.
func TestIncompleteRollbackSaid(t *testing.T) {
	var mu sync.Mutex
	var texts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m struct{ Text string }
		_ = json.Unmarshal(body, &m)
		mu.Lock()
		texts = append(texts, m.Text)
		mu.Unlock()
	}))
	defer srv.Close()
	o := writeChecklistPlan(t, "true", srv.URL+"/hook", "")
	src, err := os.ReadFile(o.PlanFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(o.PlanFile, []byte(strings.Replace(string(src), "undo: [[true]]", "undo: [[false]]", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	var after *AfterRollback
	o.AfterRollback = func(a *AfterRollback) { after = a }
	_, st, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != engine.RolledBack || len(st.Unfinished) != 1 || after == nil {
		t.Fatalf("status %s, unfinished %v", st.Status, st.Unfinished)
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	all := strings.Join(texts, "\n---\n")
	mu.Unlock()
	if !strings.Contains(all, "ROLLBACK INCOMPLETE: rollback step undo gave up") {
		t.Errorf("the post-rollback notification does not say the rollback is incomplete:\n%s", all)
	}
	pm, err := os.ReadFile(after.Postmortem)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(pm), "undo: **failed**: GAVE UP after 5 attempts") {
		t.Errorf("post-mortem:\n%s", pm)
	}
}
