package flags

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"go.yaml.in/yaml/v3"

	"github.com/migsafe/migsafe/internal/testofrep"
)

func TestOFREP(t *testing.T) {
	ctx := context.Background()
	srv := testofrep.Start(t, "ofrep-secret-token", map[string]testofrep.Flag{
		"checkout.new_path": {Value: false},
		"search.v2":         {Value: true},
		"banner.text":       {Value: "hello"},
		"ramp":              {Value: true, Percent: 50},
	})
	o := &OFREP{URL: srv.URL, Token: "ofrep-secret-token", Context: map[string]any{"targetingKey": "user-1"}}

	ev, err := o.Evaluate(ctx, "search.v2", nil)
	if err != nil || ev.Value != true || ev.Reason != "STATIC" || ev.Variant != "on" {
		t.Fatalf("search.v2: %+v %v", ev, err)
	}
	for key, want := range map[string]State{
		"checkout.new_path": {Exists: true},
		"search.v2":         {Exists: true, Enabled: true, Percent: 100},
		"no.such.flag":      {},
	} {
		if s, err := o.Get(ctx, key); err != nil || s != want {
			t.Errorf("Get %s: %+v %v, want %+v", key, s, err, want)
		}
	}
	if _, err := o.Get(ctx, "banner.text"); err == nil || !strings.Contains(err.Error(), "not a boolean flag") {
		t.Errorf("Get of a string flag: %v", err)
	}

	// The protocol's errors, each with its code; the token never shows.
	var oe *OFREPError
	_, err = o.Evaluate(ctx, "ramp", map[string]any{})
	if !errors.As(err, &oe) || oe.Status != 400 || oe.Code != "TARGETING_KEY_MISSING" {
		t.Errorf("ramp without a targeting key: %v", err)
	}
	bad := &OFREP{URL: srv.URL, Token: "wrong-token"}
	_, err = bad.Evaluate(ctx, "search.v2", nil)
	if !errors.As(err, &oe) || oe.Status != 401 || !strings.Contains(err.Error(), "tokenEnv") || strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("wrong token: %v", err)
	}
	limited := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer limited.Close()
	_, err = (&OFREP{URL: limited.URL}).Evaluate(ctx, "x", nil)
	if !errors.As(err, &oe) || oe.Status != 429 || !strings.Contains(err.Error(), "retry after 7") {
		t.Errorf("429: %v", err)
	}

	// OFREP cannot change flags: Set fails unless a set command is given.
	if err := o.Set(ctx, "checkout.new_path", 0); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Set without a command: %v", err)
	}
	if err := o.CanTurnOff(ctx, "checkout.new_path"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("CanTurnOff without a command: %v", err)
	}
	log := filepath.Join(t.TempDir(), "set.log")
	set, err := NewExec([]string{"sh", "-c", `echo "$0 $1" >> ` + log, "{{.Key}}", "{{.Percent}}"}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	o.SetCmd = set
	if err := o.Set(ctx, "checkout.new_path", 25); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(log); string(b) != "checkout.new_path 25\n" {
		t.Errorf("the set command got %q", b)
	}
	if err := o.CanTurnOff(ctx, "checkout.new_path"); err != nil {
		t.Errorf("CanTurnOff with a command: %v", err)
	}

	// Through an OpenFeature client, as an application reads flags.
	api := isolated.NewAPI()
	t.Cleanup(func() { _ = api.Shutdown(ctx) })
	if err := api.SetProviderAndWait(ctx, o.Provider()); err != nil {
		t.Fatal(err)
	}
	c := api.NewClient()
	ec := openfeature.NewEvaluationContext("user-1", nil)
	if v, err := c.BooleanValue(ctx, "search.v2", false, ec); err != nil || !v {
		t.Errorf("search.v2 through OpenFeature: %v %v", v, err)
	}
	if v, err := c.StringValue(ctx, "banner.text", "", ec); err != nil || v != "hello" {
		t.Errorf("banner.text through OpenFeature: %q %v", v, err)
	}
	d, _ := c.BooleanValueDetails(ctx, "no.such.flag", false, ec)
	if d.Value || d.ErrorCode != openfeature.FlagNotFoundCode {
		t.Errorf("missing flag through OpenFeature: %+v", d)
	}
	d, _ = c.BooleanValueDetails(ctx, "banner.text", false, ec)
	if d.Value || d.ErrorCode != openfeature.TypeMismatchCode {
		t.Errorf("string flag read as boolean: %+v", d)
	}
	n := 0
	for i := range 200 {
		v, err := c.BooleanValue(ctx, "ramp", false, openfeature.NewEvaluationContext("user-"+string(rune('a'+i%26))+string(rune('a'+i/26)), nil))
		if err != nil {
			t.Fatal(err)
		}
		if v {
			n++
		}
	}
	if n < 60 || n > 140 {
		t.Errorf("a 50%% flag was on for %d of 200 users", n)
	}

	// The flag service goes down: the client answers the caller's default
	// (false, the old behaviour) with reason ERROR, within the timeout.
	srv.Set("checkout.new_path", testofrep.Flag{Value: true})
	if v, _ := c.BooleanValue(ctx, "checkout.new_path", false, ec); !v {
		t.Fatal("the flag did not turn on")
	}
	srv.Stop()
	o.Timeout = 2 * time.Second
	t0 := time.Now()
	d, err = c.BooleanValueDetails(ctx, "checkout.new_path", false, ec)
	if d.Value || d.Reason != openfeature.ErrorReason || err == nil || time.Since(t0) > 3*time.Second {
		t.Errorf("with the service down: %+v %v after %s", d, err, time.Since(t0))
	}
	if strings.Contains(d.ErrorMessage, "ofrep-secret-token") {
		t.Errorf("the token leaked: %s", d.ErrorMessage)
	}
	if _, err := o.Get(ctx, "checkout.new_path"); err == nil || strings.Contains(err.Error(), "ofrep-secret-token") {
		t.Errorf("Get with the service down: %v", err)
	}
}

func TestCompileOFREP(t *testing.T) {
	parse := func(src string) *yaml.Node {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(src), &n); err != nil {
			t.Fatal(err)
		}
		return &n
	}
	t.Setenv("TEST_OFREP_TOKEN", "tok")
	s, err := CompileService(parse("ofrep: {url: 'http://127.0.0.1:8016', tokenEnv: TEST_OFREP_TOKEN, context: {targetingKey: migsafe}, set: [flagctl, '{{.Key}}']}\nsafe_default: false"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Eval == nil || s.Backend != Backend(s.Eval) || s.Eval.Token != "tok" || s.Eval.Context["targetingKey"] != "migsafe" || s.Eval.SetCmd == nil || s.SafeDefault {
		t.Errorf("%+v", s)
	}
	s, err = CompileService(parse("unleash: {url: 'http://127.0.0.1:4242'}\nofrep: {url: 'http://127.0.0.1:8016'}\nsafe_default: true"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Backend.(*Unleash); !ok || s.Eval == nil || !s.SafeDefault {
		t.Errorf("unleash beside ofrep: %+v", s)
	}
	for src, want := range map[string]string{
		"ofrep: {url: 'x'}":                             "ofrep needs url",
		"ofrep: {url: 'http://x', contxt: {}}":          `unknown key "contxt" in ofrep; did you mean "context"?`,
		"safe_default: false":                           "flags needs a driver",
		"ofrep: {url: 'http://x'}\nsafe_default: maybe": "line 2, column 15: safe_default is true or false",
		"unleash: {url: 'http://x'}\nexec: {set: [x]}":  "line 2, column 1: flags has two drivers, unleash and exec",
		"ofrep: {url: 'http://x'}\nsafe_defalt: false":  `line 2, column 1: unknown flag driver "safe_defalt"; did you mean "safe_default"?`,
	} {
		_, err := CompileService(parse(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", src, err, want)
		}
	}
}
