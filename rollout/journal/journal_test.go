package journal

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestJournal(t *testing.T) {
	s, err := Open(t.TempDir(), "web")
	if err != nil {
		t.Fatal(err)
	}
	j, events, err := s.OpenJournal("r1")
	if err != nil || len(events) != 0 {
		t.Fatal(err, events)
	}
	w := 5
	for _, e := range []Event{{Kind: RunStarted, Step: -1, RunID: "r1"}, {Kind: StepIntent, Step: 0, Weight: &w}} {
		if _, err := j.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	// A crash in the middle of a write leaves a partial line: it is
	// dropped, and the next event gets the next number after the last
	// complete one.
	f, _ := os.OpenFile(s.Path("r1"), os.O_APPEND|os.O_WRONLY, 0)
	if _, err := f.WriteString(`{"seq":3,"kind":"step_do`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	j, events, err = s.OpenJournal("r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[1].Kind != StepIntent || *events[1].Weight != 5 {
		t.Fatalf("events %+v", events)
	}
	e, err := j.Append(Event{Kind: StepDone, Step: 0})
	if err != nil || e.Seq != 3 {
		t.Fatal(err, e)
	}
	j.Close()
	events, err = s.ReadEvents("r1")
	if err != nil || len(events) != 3 || events[2].Kind != StepDone {
		t.Fatalf("%v %+v", err, events)
	}
}

func TestExclusive(t *testing.T) {
	s, _ := Open(t.TempDir(), "web")
	l, err := s.TryLock()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetActive(Active{RunID: "r1", PlanFile: "rollout.yaml", Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	_, err = s.TryLock()
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "run r1 (plan rollout.yaml") {
		t.Fatalf("second lock: %v", err)
	}
	_ = l.Unlock()
	l2, err := s.TryLock()
	if err != nil {
		t.Fatal(err)
	}
	_ = l2.Unlock()
	if err := s.ClearActive("r1"); err != nil {
		t.Fatal(err)
	}
	if a, err := s.Active(); a != nil || err != nil {
		t.Fatal(a, err)
	}
}

func TestControl(t *testing.T) {
	s, _ := Open(t.TempDir(), "web")
	for _, a := range []string{"pause", "resume", "abort"} {
		if err := s.SendControl("r1", Control{Action: a}); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := s.ReadControl("r1", 1)
	if err != nil || len(cs) != 2 || cs[0].Action != "resume" || cs[1].Action != "abort" {
		t.Fatal(err, cs)
	}
}
