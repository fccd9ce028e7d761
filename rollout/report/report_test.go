package report

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/migsafe/migsafe/internal/testdb"
	"github.com/migsafe/migsafe/rollout/checklist"
	"github.com/migsafe/migsafe/rollout/gate"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func f(v float64) *float64 { return &v }

// sampleRun is a run rolled back on its error-rate gate at 5 %: six
// measurements of two canary-vs-stable metrics (the error rate with its
// threshold, the latency with its threshold).
func sampleRun() Run {
	t0 := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	var ms []gate.Measurement
	for i := range 6 {
		at := t0.Add(time.Duration(70+30*i) * time.Second)
		ms = append(ms,
			gate.Measurement{Metric: "error-rate", Version: "canary", At: at, Value: 0.02 + 0.006*float64(i), Threshold: f(0.015)},
			gate.Measurement{Metric: "error-rate", Version: "stable", At: at, Value: 0.01},
			gate.Measurement{Metric: "latency", Version: "canary", At: at, Value: 0.012, Threshold: f(0.0625)},
			gate.Measurement{Metric: "latency", Version: "stable", At: at, Value: 0.011},
		)
	}
	post := checklist.Report{Title: "post-rollback checklist", Passed: true, Outcomes: []checklist.Outcome{
		{Name: "health checks pass", Passed: true, Phase: gate.Successful, Message: "healthz: 5 measurement(s), 0 failed"},
		{Name: "error rates back to baseline", Passed: true, Phase: gate.Successful, Message: "stable 1.0% vs baseline 1.0%"},
	}}
	return Run{
		ID: "r-20261202-1400", Service: "checkout", Plan: "rollout.yaml", Stable: "1.41.0", Canary: "1.42.0",
		Started: t0, Ended: t0.Add(5 * time.Minute), Outcome: "rolled_back",
		Steps: []Step{
			{Kind: "deploy", Name: "deploy 1.42.0", Started: t0, Ended: t0.Add(20 * time.Second)},
			{Kind: "set_weight", Name: "set_weight 5", Started: t0.Add(20 * time.Second), Ended: t0.Add(21 * time.Second), Weight: 5},
			{Kind: "analysis", Name: "canary analysis", Started: t0.Add(21 * time.Second), Ended: t0.Add(4 * time.Minute), Weight: 5,
				Phase: gate.Failed, Message: "error-rate: 1 failed measurement(s), more than failureLimit 0: canary error rate 5.00% (15/300) is significantly above the tolerated 1.50%",
				Measurements: ms},
		},
		Rollback: []Action{
			{At: t0.Add(4*time.Minute + time.Second), What: "set_weight 0"},
			{At: t0.Add(4*time.Minute + 2*time.Second), What: "flag checkout.new_path off", Err: "unleash: connection refused"},
			{At: t0.Add(4*time.Minute + 3*time.Second), What: "undeploy 1.42.0"},
		},
		PostRollback: &post,
	}
}

func TestPostmortem(t *testing.T) {
	var b bytes.Buffer
	if err := Postmortem(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "postmortem.md")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("postmortem.md differs (go test -update to accept):\n%s", b.String())
	}
	for _, s := range []string{"Post-mortem due: 2026-12-04 14:04 UTC", "## Cause", "## Fix", "## Prevention", "## Follow-up tickets", "flag checkout.new_path off: **failed**"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("the draft lacks %q", s)
		}
	}
}

type chartInfo struct {
	Metric string `json:"metric"`
	Series []struct {
		Name   string  `json:"name"`
		Points int     `json:"points"`
		Width  float64 `json:"width"`
	} `json:"series"`
}

// TestHTMLInChromium opens the report in headless Chromium (Debian's
// chromium, driven by chromedp), checks that each chart rendered with the
// right series and points, and takes a screenshot that must show the
// charts' colours.
func TestHTMLInChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		msg := "chromium is not installed: install the Debian package chromium, or run scripts/test"
		if testdb.Required() {
			t.Fatal(msg + " (MIGSAFE_REQUIRE_TOOLS=1)")
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := HTML(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b.Bytes(), []byte("http://")) || bytes.Contains(b.Bytes(), []byte("https://")) || bytes.Contains(b.Bytes(), []byte("<script")) {
		// The SVG namespace is the one URL allowed: it is a name, not fetched.
		if strings.Count(b.String(), "http://") != strings.Count(b.String(), `xmlns="http://www.w3.org/2000/svg"`) || bytes.Contains(b.Bytes(), []byte("<script")) {
			t.Error("the report refers to the network or runs scripts")
		}
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(dir, "profile")), chromedp.WindowSize(1000, 1400))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitVisible("figure.chart")); err != nil {
		t.Fatal(err)
	}
	outcome, err := chromedp.Run(ctx, chromedp.Text("#outcome"))
	if err != nil {
		t.Fatal(err)
	}
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[[]chartInfo](`[...document.querySelectorAll('figure.chart')].map(f => ({
		metric: f.dataset.metric,
		series: [...f.querySelectorAll('g.series')].map(g => ({
			name: g.dataset.series,
			points: g.querySelectorAll('circle.point').length,
			width: g.querySelector('polyline').getBBox().width,
		})),
	}))`))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if outcome != "rolled_back" {
		t.Errorf("outcome %q", outcome)
	}
	if len(charts) != 2 || charts[0].Metric != "error-rate" || charts[1].Metric != "latency" {
		t.Fatalf("charts: %+v", charts)
	}
	for _, c := range charts {
		var names []string
		for _, s := range c.Series {
			names = append(names, s.Name)
			if s.Points != 6 || s.Width < 100 {
				t.Errorf("%s %s: %d points over %.0f px, want 6 points drawn across the chart", c.Metric, s.Name, s.Points, s.Width)
			}
		}
		if strings.Join(names, ",") != "canary,stable,threshold" {
			t.Errorf("%s series %v, want canary, stable, threshold", c.Metric, names)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "report.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	// Not empty: the screenshot has the canary's orange and stable's blue.
	if !hasColour(img, 0xd9, 0x48, 0x0f) || !hasColour(img, 0x19, 0x71, 0xc2) {
		t.Error("the screenshot does not show the canary and stable series")
	}
}

func hasColour(img image.Image, r, g, b uint8) bool {
	bounds := img.Bounds()
	n := 0
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if near(pr, r) && near(pg, g) && near(pb, b) {
				n++
				if n > 50 {
					return true
				}
			}
		}
	}
	return false
}

func near(v uint32, c uint8) bool {
	d := int(v>>8) - int(c)
	return d > -12 && d < 12
}
