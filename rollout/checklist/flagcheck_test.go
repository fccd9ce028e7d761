package checklist

import (
	"context"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/internal/testofrep"
	"github.com/migsafe/migsafe/internal/testunleash"
	"github.com/migsafe/migsafe/rollout/flags"
	"github.com/migsafe/migsafe/rollout/gate"
)

func runFlagChecks(t *testing.T, svc *flags.Service, keys ...string) map[string]Outcome {
	t.Helper()
	r := Run(context.Background(), "flags", FlagChecks(svc, keys), gate.Window{})
	out := map[string]Outcome{}
	for _, o := range r.Outcomes {
		out[o.Name] = o
		t.Logf("%s: %s %s", o.Name, o.Phase, o.Message)
	}
	return out
}

// TestFlagChecksOFREP: the flags are read through OFREP, as the
// application reads them (an OFREP server on loopback: none installs here).
func TestFlagChecksOFREP(t *testing.T) {
	srv := testofrep.Start(t, "", map[string]testofrep.Flag{
		"checkout.new_path": {Value: false},
		"banner.text":       {Value: "hi"},
	})
	set, err := flags.NewExec([]string{"true", "{{.Key}}"}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	svc := &flags.Service{Backend: &flags.OFREP{URL: srv.URL, SetCmd: set}, Eval: &flags.OFREP{URL: srv.URL}}
	out := runFlagChecks(t, svc, "checkout.new_path", "no.such.flag", "banner.text")
	for name, want := range map[string]string{
		"checkout.new_path exists":       "Successful OFREP evaluates it to false (reason STATIC)",
		"checkout.new_path kill switch":  "Successful the rollback can turn checkout.new_path off",
		"checkout.new_path safe default": "Successful with the flag service down an OpenFeature client answers false",
		"no.such.flag exists":            "Failed does not exist in the flag service (OFREP: FLAG_NOT_FOUND)",
		"banner.text exists":             "Failed not a boolean flag",
	} {
		o := out[name]
		phase, msg, _ := strings.Cut(want, " ")
		if string(o.Phase) != phase || !strings.Contains(o.Message, msg) {
			t.Errorf("%s: %s %q, want %s %q", name, o.Phase, o.Message, phase, msg)
		}
	}
	if o := out["no.such.flag exists"]; o.Passed || !strings.Contains(o.Fix, "create the flag") {
		t.Errorf("a failed item carries its fix: %+v", o)
	}

	// Read-only OFREP: no kill switch. safe_default: true fails.
	svc = &flags.Service{Backend: &flags.OFREP{URL: srv.URL}, Eval: &flags.OFREP{URL: srv.URL}, SafeDefault: true}
	out = runFlagChecks(t, svc, "checkout.new_path")
	if o := out["checkout.new_path kill switch"]; o.Phase != gate.Failed || !strings.Contains(o.Message, "only reads flags") {
		t.Errorf("read-only kill switch: %+v", o)
	}
	if o := out["checkout.new_path safe default"]; o.Phase != gate.Failed || !strings.Contains(o.Message, "safe_default: true") {
		t.Errorf("safe_default true: %+v", o)
	}

	// The service down: existence is an Error (unknown), never a pass.
	srv.Stop()
	svc = &flags.Service{Backend: &flags.OFREP{URL: srv.URL, SetCmd: set}, Eval: &flags.OFREP{URL: srv.URL}}
	out = runFlagChecks(t, svc, "checkout.new_path")
	if o := out["checkout.new_path exists"]; o.Phase != gate.Error || o.Passed {
		t.Errorf("exists with the service down: %+v", o)
	}
	if o := out["checkout.new_path safe default"]; !o.Passed {
		t.Errorf("safe default with the service down: %+v", o)
	}
}

// TestFlagChecksUnleash: the same checks against the real Unleash server.
func TestFlagChecksUnleash(t *testing.T) {
	srv := testunleash.Start(t)
	testunleash.CreateFlag(t, srv.URL, "checkout.new_path")
	svc := &flags.Service{Backend: &flags.Unleash{URL: srv.URL}}
	out := runFlagChecks(t, svc, "checkout.new_path", "no.such.flag")
	for name, want := range map[string]string{
		"checkout.new_path exists":       "Successful flag checkout.new_path exists (off)",
		"checkout.new_path kill switch":  "Successful the rollback can turn checkout.new_path off",
		"checkout.new_path safe default": "Successful answers false",
		"no.such.flag exists":            "Failed does not exist",
		"no.such.flag kill switch":       "Failed does not exist in project",
	} {
		o := out[name]
		phase, msg, _ := strings.Cut(want, " ")
		if string(o.Phase) != phase || !strings.Contains(o.Message, msg) {
			t.Errorf("%s: %s %q, want %s %q", name, o.Phase, o.Message, phase, msg)
		}
	}
	// Unleash stopped: the kill switch is not reachable (Failed), the
	// flag's existence is unknown (Error).
	srv.Stop()
	svc = &flags.Service{Backend: &flags.Unleash{URL: srv.URL, Timeout: 2e9}}
	out = runFlagChecks(t, svc, "checkout.new_path")
	if o := out["checkout.new_path kill switch"]; o.Phase != gate.Failed || !strings.Contains(o.Message, "connection refused") {
		t.Errorf("kill switch with Unleash stopped: %+v", o)
	}
	if o := out["checkout.new_path exists"]; o.Phase != gate.Error {
		t.Errorf("exists with Unleash stopped: %+v", o)
	}
}
