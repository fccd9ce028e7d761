package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/migsafe/migsafe/rollout/backend"
	"github.com/migsafe/migsafe/rollout/gate"
	"github.com/migsafe/migsafe/rollout/journal"
	"github.com/migsafe/migsafe/rollout/plan"
)

type fakeBackend struct {
	mu    sync.Mutex
	calls []string
	fail  map[backend.Action]int // fail the next n calls
}

func (b *fakeBackend) Name() string { return "fake" }
func (b *fakeBackend) Do(_ context.Context, a backend.Action, p backend.Params, rec backend.Recorder) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	call := string(a)
	if a == backend.SetWeight {
		call += fmt.Sprint(" ", p.Weight)
	}
	b.calls = append(b.calls, call)
	rec(backend.Record{Argv: []string{"fake", call}})
	if b.fail[a] > 0 {
		b.fail[a]--
		return errors.New("connection refused")
	}
	return nil
}

// scripted gates answer phases in order, then the last one forever.
type scripted struct {
	name   string
	phases []gate.Phase
	n      int
}

func (g *scripted) Name() string { return g.name }
func (g *scripted) Evaluate(context.Context, gate.Window) gate.Result {
	p := g.phases[min(g.n, len(g.phases)-1)]
	g.n++
	return gate.Result{Phase: p, Message: "scripted " + string(p)}
}

func loadPlan(t *testing.T, steps string, gates map[string]*scripted) *plan.Plan {
	t.Helper()
	src := `name: t
service: web
release: {stable: v1, canary: v2}
backend: {preset: exec, actions: {set_weight: [[x]], route_stable: [[x]]}}
limits: {consecutive_error_limit: 1, error_interval: 10ms}
` + steps
	compile := func(n *yaml.Node) (gate.Gate, error) {
		var body struct{ Scripted string }
		if err := n.Decode(&body); err != nil {
			return nil, err
		}
		g, ok := gates[body.Scripted]
		if !ok {
			return nil, fmt.Errorf("no scripted gate %q", body.Scripted)
		}
		return g, nil
	}
	p, err := plan.Parse("rollout.yaml", []byte(src), plan.Options{Compile: compile})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newDriver(t *testing.T, p *plan.Plan, b backend.Backend, dir string) (*Driver, *bytes.Buffer) {
	store, err := journal.Open(dir, p.Service)
	if err != nil {
		t.Fatal(err)
	}
	var loud bytes.Buffer
	return &Driver{Plan: p, Store: store, Backend: b, Loud: &loud, Poll: 5 * time.Millisecond,
		Backoff: func(int) time.Duration { return time.Millisecond }}, &loud
}

func TestPromote(t *testing.T) {
	ok := &scripted{name: "ok", phases: []gate.Phase{gate.Successful}}
	p := loadPlan(t, `steps:
  - deploy
  - set_weight: 1
  - bake: 30ms
  - analysis: {scripted: ok}
  - set_weight: 50
  - analysis: {scripted: ok}
  - promote
`, map[string]*scripted{"ok": ok})
	b := &fakeBackend{}
	d, _ := newDriver(t, p, b, t.TempDir())
	start := time.Now()
	st, err := d.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if OutcomeOf(st) != OutcomePromoted || st.Weight != 100 {
		t.Fatalf("state %+v", st)
	}
	if got := strings.Join(b.calls, ", "); got != "deploy, set_weight 1, set_weight 50, promote" {
		t.Errorf("calls %s", got)
	}
	if time.Since(start) < 30*time.Millisecond {
		t.Errorf("the bake did not wait")
	}
	if a, _ := d.Store.Active(); a != nil {
		t.Errorf("active run left: %v", a)
	}
}

func TestFailedGateRollsBack(t *testing.T) {
	bad := &scripted{name: "errors", phases: []gate.Phase{gate.Failed}}
	p := loadPlan(t, `steps:
  - deploy
  - set_weight: 1
  - analysis: {scripted: bad}
  - set_weight: 50
  - analysis: {scripted: bad}
  - promote
`, map[string]*scripted{"bad": bad})
	b := &fakeBackend{fail: map[backend.Action]int{backend.RouteStable: 2}}
	d, loud := newDriver(t, p, b, t.TempDir())
	st, err := d.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if OutcomeOf(st) != OutcomeRolledBack || st.Weight != 0 {
		t.Fatalf("state %+v", st)
	}
	// From the decision to stable: route_stable only (retried twice,
	// loudly), then undo.
	if got := strings.Join(b.calls, ", "); got != "deploy, set_weight 1, route_stable, route_stable, route_stable, undo" {
		t.Errorf("calls %s", got)
	}
	if n := strings.Count(loud.String(), "ROLLBACK STEP 1 (route_stable) FAILED"); n != 2 {
		t.Errorf("loud output %q", loud.String())
	}
	if !strings.Contains(st.Reason, "step 3: errors: Failed") || st.StableAt.Before(st.RollbackDecided) {
		t.Errorf("reason %q, decided %v, stable %v", st.Reason, st.RollbackDecided, st.StableAt)
	}
}

func TestErrorLimit(t *testing.T) {
	flaky := &scripted{name: "flaky", phases: []gate.Phase{gate.Error, gate.Successful, gate.Error, gate.Error}}
	p := loadPlan(t, `steps:
  - set_weight: 1
  - analysis: {scripted: flaky}
  - analysis: {scripted: flaky}
  - promote
`, map[string]*scripted{"flaky": flaky})
	b := &fakeBackend{}
	d, _ := newDriver(t, p, b, t.TempDir())
	st, err := d.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// One Error is tolerated (limit 1), two in a row roll back.
	if OutcomeOf(st) != OutcomeRolledBack || flaky.n != 4 || !strings.Contains(st.Reason, "Error (2 in a row)") {
		t.Fatalf("n=%d state %+v", flaky.n, st)
	}
}

func TestInconclusivePausesThenResume(t *testing.T) {
	g := &scripted{name: "few-requests", phases: []gate.Phase{gate.Inconclusive, gate.Successful}}
	p := loadPlan(t, `steps:
  - set_weight: 1
  - analysis: {scripted: g}
  - approve
  - promote
`, map[string]*scripted{"g": g})
	b := &fakeBackend{}
	dir := t.TempDir()
	d, _ := newDriver(t, p, b, dir)
	st, err := d.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if OutcomeOf(st) != OutcomePaused || !strings.Contains(st.PauseReason, "inconclusive") {
		t.Fatalf("state %+v", st)
	}
	// A second start of the same plan continues the run (still paused).
	d2, _ := newDriver(t, p, b, dir)
	st, err = d2.Start(context.Background())
	if err != nil || st.Status != Paused || st.RunID != d.st.RunID {
		t.Fatalf("restart: %v %+v", err, st)
	}
	if err := d.Store.SendControl(st.RunID, journal.Control{Action: "resume", Actor: "ana"}); err != nil {
		t.Fatal(err)
	}
	st, err = d.Continue(context.Background())
	if err != nil || st.Status != Paused || !strings.Contains(st.PauseReason, "approve") {
		t.Fatalf("after resume: %v %+v", err, st)
	}
	if err := d.Store.SendControl(st.RunID, journal.Control{Action: "resume", Actor: "ana"}); err != nil {
		t.Fatal(err)
	}
	st, err = d.Continue(context.Background())
	if err != nil || OutcomeOf(st) != OutcomePromoted {
		t.Fatalf("after approval: %v %+v", err, st)
	}
	if got := strings.Join(b.calls, ", "); got != "set_weight 1, promote" {
		t.Errorf("calls %s", got)
	}
}

func TestAbortWhilePaused(t *testing.T) {
	p := loadPlan(t, "steps:\n  - set_weight: 5\n  - approve\n  - promote\n", nil)
	b := &fakeBackend{}
	d, _ := newDriver(t, p, b, t.TempDir())
	st, _ := d.Start(context.Background())
	_ = d.Store.SendControl(st.RunID, journal.Control{Action: "abort", Actor: "bo"})
	st, err := d.Continue(context.Background())
	if err != nil || OutcomeOf(st) != OutcomeRolledBack || st.Reason != "aborted by bo" {
		t.Fatalf("%v %+v", err, st)
	}
}

func TestExclusiveAndPlanChange(t *testing.T) {
	p := loadPlan(t, "steps:\n  - set_weight: 5\n  - approve\n  - promote\n", nil)
	dir := t.TempDir()
	d, _ := newDriver(t, p, &fakeBackend{}, dir)
	st, _ := d.Start(context.Background())
	lock, err := d.Store.TryLock()
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := newDriver(t, p, &fakeBackend{}, dir)
	_, err = d2.Start(context.Background())
	if !errors.Is(err, journal.ErrBusy) || !strings.Contains(err.Error(), "run "+st.RunID) {
		t.Errorf("second start: %v", err)
	}
	_ = lock.Unlock()
	p2 := loadPlan(t, "steps:\n  - set_weight: 6\n  - approve\n  - promote\n", nil)
	d3, _ := newDriver(t, p2, &fakeBackend{}, dir)
	_, err = d3.Start(context.Background())
	if !errors.Is(err, ErrPlanChanged) || !strings.Contains(err.Error(), "run "+st.RunID) {
		t.Errorf("changed plan: %v", err)
	}
}

// TestDecide: the pure state machine on the states a crash leaves.
func TestDecide(t *testing.T) {
	p := loadPlan(t, "steps:\n  - set_weight: 5\n  - bake: 1h\n  - approve\n  - promote\n", nil)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		s    State
		want Decision
	}{
		{"new", State{Status: New}, Decision{What: DoStart}},
		{"intent without done", State{Status: Running, Step: 0, Phase: PhaseIntent}, Decision{What: DoStep, Step: 0, Again: true}},
		{"boundary", State{Status: Running, Step: 1}, Decision{What: DoStep, Step: 1}},
		{"bake left", State{Status: Running, Step: 1, Phase: PhaseWaiting, Until: now.Add(time.Minute)}, Decision{What: DoWait, Step: 1, Until: now.Add(time.Minute)}},
		{"bake over", State{Status: Running, Step: 1, Phase: PhaseWaiting, Until: now.Add(-time.Second)}, Decision{What: DoneWaiting, Step: 1}},
		{"paused", State{Status: Paused, Step: 2, Phase: PhaseIntent}, Decision{What: DoExit}},
		{"rollback interrupted", State{Status: RollingBack, Rollback: 0, RollbackPhase: PhaseIntent}, Decision{What: DoRollback, Step: 0, Again: true}},
		{"rollback next", State{Status: RollingBack, Rollback: 1}, Decision{What: DoRollback, Step: 1}},
		{"rollback over", State{Status: RollingBack, Rollback: 2}, Decision{What: DoFinishBack}},
		{"all done", State{Status: Running, Step: 4}, Decision{What: DoPromoted}},
	}
	for _, c := range cases {
		if got := Decide(p, c.s, now); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestResumedBakeWaitsWhatIsLeft: the bake's deadline is absolute, so a
// run stopped in the middle of it waits only the rest when resumed.
func TestResumedBakeWaitsWhatIsLeft(t *testing.T) {
	p := loadPlan(t, "steps:\n  - set_weight: 5\n  - bake: 1s\n  - approve\n  - promote\n", nil)
	dir := t.TempDir()
	d, _ := newDriver(t, p, &fakeBackend{}, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	begin := time.Now()
	if _, err := d.Start(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stopped run: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	d2, _ := newDriver(t, p, &fakeBackend{}, dir)
	resumed := time.Now()
	st, err := d2.Start(context.Background())
	if err != nil || st.Status != Paused || !strings.Contains(st.PauseReason, "approve") {
		t.Fatalf("%v %+v", err, st)
	}
	// about 400ms were left; a bake started over would wait 1s
	if waited := time.Since(resumed); waited > 800*time.Millisecond {
		t.Errorf("the resumed bake waited %s of its 1s, %s after it began", waited, resumed.Sub(begin))
	}
	if total := time.Since(begin); total < time.Second {
		t.Errorf("the bake lasted %s, less than 1s", total)
	}
}

// TestSecretsRedacted: a secret in a command's output or a failure reason
// is not written to the journal.
func TestSecretsRedacted(t *testing.T) {
	t.Setenv("MIGSAFE_TEST_DB_PASSWORD", "hunter22")
	p := loadPlan(t, "steps:\n  - exec: [sh, -c, 'echo connecting with $MIGSAFE_TEST_DB_PASSWORD; exit 3']\n  - approve\n  - promote\n", nil)
	d, _ := newDriver(t, p, &fakeBackend{}, t.TempDir())
	st, err := d.Start(context.Background())
	if err != nil || st.Status != RolledBack {
		t.Fatalf("%v %+v", err, st)
	}
	events, _ := d.Store.ReadEvents(st.RunID)
	seen := false
	for _, e := range events {
		data := fmt.Sprintf("%+v %+v", e, e.Command)
		seen = seen || strings.Contains(data, "connecting with ***")
		if strings.Contains(data, "hunter22") {
			t.Errorf("secret in the journal: %s", data)
		}
	}
	if !seen {
		t.Error("the command's output is not in the journal")
	}
}

// hangingMirror never answers, as a database behind a dead network does;
// flaky fails its first calls, then copies.
type hangingMirror struct{ release chan struct{} }

func (m hangingMirror) Record(string, []journal.Event) error {
	<-m.release
	return errors.New("i/o timeout")
}

type flakyMirror struct {
	mu    sync.Mutex
	fail  int
	seqs  map[int]bool
	runs  map[string][]string // the kinds copied, by run
	calls int
}

func (m *flakyMirror) Record(runID string, events []journal.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.fail > 0 {
		m.fail--
		return errors.New("connection refused")
	}
	for _, e := range events {
		m.seqs[e.Seq] = true
		if m.runs != nil {
			m.runs[runID] = append(m.runs[runID], e.Kind)
		}
	}
	return nil
}

// TestMirrorNeverDelaysTheRun: the copy of the journal in the database
// is made beside the run. A database that never answers delays neither
// the rollback (decision to stable) nor the end of the run by more than
// the final flush, and what is not copied is said; one that fails for a
// while gets every event once it answers.
func TestMirrorNeverDelaysTheRun(t *testing.T) {
	defer func(r, f time.Duration) { mirrorRetry, mirrorFlush = r, f }(mirrorRetry, mirrorFlush)
	mirrorRetry, mirrorFlush = 10*time.Millisecond, 300*time.Millisecond
	bad := &scripted{name: "errors", phases: []gate.Phase{gate.Failed}}
	steps := `steps:
  - deploy
  - set_weight: 1
  - analysis: {scripted: bad}
  - promote
`
	t.Run("hanging", func(t *testing.T) {
		p := loadPlan(t, steps, map[string]*scripted{"bad": bad})
		d, loud := newDriver(t, p, &fakeBackend{}, t.TempDir())
		m := hangingMirror{release: make(chan struct{})}
		defer close(m.release)
		d.Mirror = m
		start := time.Now()
		st, err := d.Start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		if OutcomeOf(st) != OutcomeRolledBack {
			t.Fatalf("state %+v", st)
		}
		if back := st.StableAt.Sub(st.RollbackDecided); back > 100*time.Millisecond {
			t.Errorf("decision to stable took %s with a database that does not answer", back)
		}
		if took > mirrorFlush+time.Second {
			t.Errorf("the run took %s; the copy may hold it up only for the final flush (%s)", took, mirrorFlush)
		}
		if !strings.Contains(loud.String(), "journal event(s) are not in the database's copy") {
			t.Errorf("nothing said about the copy: %q", loud.String())
		}
	})
	t.Run("flaky", func(t *testing.T) {
		// the database fails the first two copies, then answers while
		// the run bakes
		p := loadPlan(t, strings.Replace(steps, "  - analysis", "  - bake: 200ms\n  - analysis", 1), map[string]*scripted{"bad": bad})
		dir := t.TempDir()
		d, loud := newDriver(t, p, &fakeBackend{}, dir)
		m := &flakyMirror{fail: 2, seqs: map[int]bool{}}
		d.Mirror = m
		st, err := d.Start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		_, events, err := d.Store.OpenJournal(st.RunID)
		if err != nil {
			t.Fatal(err)
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, e := range events {
			if !m.seqs[e.Seq] {
				t.Errorf("event %d (%s) not copied", e.Seq, e.Kind)
			}
		}
		out := loud.String()
		if strings.Count(out, "the copy of the journal in the database failed") != 1 || !strings.Contains(out, "works again") || strings.Contains(out, "not in the database's copy") {
			t.Errorf("loud output %q", out)
		}
	})
}

// TestDefaultBackoff: a failed rollback action is retried after 1 s,
// 2 s, 4 s … and never more than 30 s apart.
func TestDefaultBackoff(t *testing.T) {
	var d Driver
	var got []string
	for n := 1; n <= 8; n++ {
		got = append(got, d.backoff(n).String())
	}
	if want := "1s 2s 4s 8s 16s 30s 30s 30s"; strings.Join(got, " ") != want {
		t.Errorf("backoff %v, want %s", got, want)
	}
}

// TestRollbackStepGivesUp: a rollback step after route_stable that keeps
// failing gives up after its attempts, loudly; the run is rolled back
// (traffic is on stable) and says which step a person must finish.
func TestRollbackStepGivesUp(t *testing.T) {
	bad := &scripted{name: "errors", phases: []gate.Phase{gate.Failed}}
	p := loadPlan(t, `steps:
  - deploy
  - set_weight: 1
  - analysis: {scripted: bad}
  - promote
`, map[string]*scripted{"bad": bad})
	b := &fakeBackend{fail: map[backend.Action]int{backend.Undo: 100}}
	d, loud := newDriver(t, p, b, t.TempDir())
	st, err := d.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if OutcomeOf(st) != OutcomeRolledBack || st.Weight != 0 || st.StableAt.IsZero() {
		t.Fatalf("state %+v", st)
	}
	if got := strings.Join(b.calls, ", "); got != "deploy, set_weight 1, route_stable, undo, undo, undo, undo, undo" {
		t.Errorf("calls %s", got)
	}
	if len(st.Unfinished) != 1 || st.Unfinished[0] != "undo" {
		t.Errorf("unfinished %v", st.Unfinished)
	}
	out := loud.String()
	if strings.Count(out, "ROLLBACK STEP 2 (undo) FAILED") != 5 || strings.Count(out, "retrying in") != 4 || !strings.Contains(out, "GAVE UP after 5 attempts") {
		t.Errorf("loud output %q", out)
	}
}

// fakeLocker answers Lock from a script: busy for an unfinished run
// until the mirror got that run's end, or replaced when asked for it.
type fakeLocker struct {
	calls      int
	unfinished string // the table's newest unfinished run
	mirror     *flakyMirror
}

type fakeBusy struct{ run string }

func (e fakeBusy) Error() string         { return "run " + e.run + " is unfinished" }
func (e fakeBusy) Busy() bool            { return true }
func (e fakeBusy) UnfinishedRun() string { return e.run }

func (l *fakeLocker) Lock(_, replace string) (func(), bool, error) {
	l.calls++
	if l.unfinished != "" {
		ended := false
		l.mirror.mu.Lock()
		for _, e := range l.mirror.runs[l.unfinished] {
			ended = ended || e == journal.Promoted || e == journal.RolledBack
		}
		l.mirror.mu.Unlock()
		switch {
		case ended:
		case replace == l.unfinished:
			return func() {}, true, nil
		default:
			return nil, false, fakeBusy{l.unfinished}
		}
	}
	return func() {}, false, nil
}

// TestLockOnlyForNewRuns: the lock beyond this machine is taken for a new
// run only, not to resume a run of this state folder (a rollback never
// waits for it); a run this folder finished whose end the table lacks is
// copied again and the start retried; --replace is journaled only when
// it replaced the table's unfinished run.
func TestLockOnlyForNewRuns(t *testing.T) {
	steps := "steps:\n  - set_weight: 1\n  - approve\n  - promote\n"
	p := loadPlan(t, steps, nil)
	dir := t.TempDir()
	m := &flakyMirror{seqs: map[int]bool{}, runs: map[string][]string{}}
	l := &fakeLocker{mirror: m}
	newDrv := func() *Driver {
		d, _ := newDriver(t, p, &fakeBackend{}, dir)
		d.Mirror, d.Lock = m, l
		return d
	}
	st, err := newDrv().Start(context.Background())
	if err != nil || st.Status != Paused || l.calls != 1 {
		t.Fatalf("new run: %v %v, %d locks", err, st.Status, l.calls)
	}
	// resumed from this folder: no lock
	d := newDrv()
	if err := d.Store.SendControl(st.RunID, journal.Control{Action: "resume"}); err != nil {
		t.Fatal(err)
	}
	if st, err = d.Continue(context.Background()); err != nil || st.Status != Promoted || l.calls != 1 {
		t.Fatalf("resumed: %v %v, %d locks", err, st.Status, l.calls)
	}
	// the table lost the run's end: this folder copies it and starts
	m.mu.Lock()
	m.runs[st.RunID] = []string{journal.RunStarted}
	m.mu.Unlock()
	l.unfinished = st.RunID
	second, err := newDrv().Start(context.Background())
	if err != nil || second.RunID == st.RunID || l.calls != 3 {
		t.Fatalf("after a lost end: %v, run %s, %d locks", err, second.RunID, l.calls)
	}
	// another folder is refused; --replace replaces, and says so
	other := t.TempDir()
	l.unfinished = second.RunID
	d2, _ := newDriver(t, p, &fakeBackend{}, other)
	d2.Mirror, d2.Lock = m, l
	if _, err := d2.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "is unfinished") {
		t.Fatalf("another folder: %v", err)
	}
	d3, _ := newDriver(t, p, &fakeBackend{}, other)
	d3.Mirror, d3.Lock, d3.Replace = m, l, second.RunID
	third, err := d3.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, events, err := d3.Store.OpenJournal(third.RunID)
	if err != nil {
		t.Fatal(err)
	}
	warned := false
	for _, e := range events {
		warned = warned || (e.Kind == journal.Warning && strings.Contains(e.Reason, "replaces run "+second.RunID))
	}
	if !warned {
		t.Errorf("the replacing run does not say so")
	}
}
