package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/migsafe/migsafe/rollout/gate"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH = 640.0, 220.0
	padL, padR     = 56.0, 12.0
	padT, padB     = 12.0, 28.0
)

type htmlRun struct {
	Run
	Generated string
	Rows      []htmlRow
	Analyses  []htmlAnalysis
}

type htmlRow struct {
	Start, Duration, Name, Kind, Phase, Message string
	Weight                                      int
}

type htmlAnalysis struct {
	Name, Phase, Message string
	Weight               int
	Charts               []htmlChart
}

type htmlChart struct {
	Metric         string
	Series         []htmlSeries
	YTicks, XTicks []tick
	W, H           float64
	PlotX0, PlotX1 float64
	PlotY0, PlotY1 float64
}

type htmlSeries struct {
	Name, Class, Color, Dash string
	Points                   string // SVG polyline points
	Dots                     []dot
}

type dot struct {
	X, Y  float64
	Title string
}

type tick struct {
	Pos    float64
	Label  string
	Anchor string
}

var colors = map[string]string{"canary": "#d9480f", "stable": "#1971c2", "value": "#2f9e44", "threshold": "#868e96"}

// HTML writes the run report: one self-contained HTML file (inline CSS and
// SVG, no script, nothing fetched) with the timeline and, for each
// analysis step, one chart per metric: a series per version (canary,
// stable, or the value of an absolute check) and the threshold the canary
// was held against, dashed.
func HTML(w io.Writer, r Run) error {
	h := htmlRun{Run: r, Generated: time.Now().UTC().Format("2006-01-02 15:04:05 UTC")}
	for _, s := range r.Steps {
		row := htmlRow{Start: s.Started.UTC().Format("15:04:05"), Name: s.Name, Kind: s.Kind, Phase: string(s.Phase), Message: s.Message, Weight: s.Weight}
		if !s.Ended.IsZero() {
			row.Duration = s.Ended.Sub(s.Started).Round(time.Second).String()
		}
		h.Rows = append(h.Rows, row)
		if len(s.Measurements) == 0 {
			continue
		}
		a := htmlAnalysis{Name: s.Name, Phase: string(s.Phase), Message: s.Message, Weight: s.Weight}
		var metrics []string
		for _, m := range s.Measurements {
			if !slices.Contains(metrics, m.Metric) {
				metrics = append(metrics, m.Metric)
			}
		}
		for _, name := range metrics {
			a.Charts = append(a.Charts, chart(s, name))
		}
		h.Analyses = append(h.Analyses, a)
	}
	return page().Execute(w, h)
}

func chart(s Step, metric string) htmlChart {
	type pt struct {
		at time.Time
		v  float64
	}
	byVersion := map[string][]pt{}
	var order []string
	var threshold []pt
	t0, t1 := s.Started, s.Ended
	for _, m := range s.Measurements {
		if m.Metric != metric || math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			continue
		}
		v := m.Version
		if v == "" {
			v = "value"
		}
		if _, ok := byVersion[v]; !ok {
			order = append(order, v)
		}
		byVersion[v] = append(byVersion[v], pt{m.At, m.Value})
		if m.Threshold != nil && !math.IsNaN(*m.Threshold) {
			threshold = append(threshold, pt{m.At, *m.Threshold})
		}
		if t0.IsZero() || m.At.Before(t0) {
			t0 = m.At
		}
		if m.At.After(t1) {
			t1 = m.At
		}
	}
	if !t1.After(t0) {
		t1 = t0.Add(time.Second)
	}
	ymax := 0.0
	for _, ps := range byVersion {
		for _, p := range ps {
			ymax = math.Max(ymax, p.v)
		}
	}
	for _, p := range threshold {
		ymax = math.Max(ymax, p.v)
	}
	if ymax <= 0 {
		ymax = 1
	}
	ymax *= 1.1
	c := htmlChart{Metric: metric, W: chartW, H: chartH, PlotX0: padL, PlotX1: chartW - padR, PlotY0: padT, PlotY1: chartH - padB}
	x := func(t time.Time) float64 {
		return padL + (chartW-padL-padR)*t.Sub(t0).Seconds()/t1.Sub(t0).Seconds()
	}
	y := func(v float64) float64 { return chartH - padB - (chartH-padT-padB)*v/ymax }
	add := func(name string, ps []pt, dash string) {
		se := htmlSeries{Name: name, Class: name, Color: colors[name], Dash: dash}
		if se.Color == "" {
			se.Color = "#7048e8"
		}
		var pts []string
		for _, p := range ps {
			px, py := x(p.at), y(p.v)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, py))
			se.Dots = append(se.Dots, dot{X: px, Y: py, Title: fmt.Sprintf("%s %s at %s: %s", metric, name, p.at.UTC().Format("15:04:05"), num(p.v))})
		}
		se.Points = strings.Join(pts, " ")
		c.Series = append(c.Series, se)
	}
	for _, v := range order {
		add(v, byVersion[v], "")
	}
	if len(threshold) > 0 {
		add("threshold", threshold, "6 4")
	}
	for i := 0; i <= 4; i++ {
		v := ymax * float64(i) / 4
		c.YTicks = append(c.YTicks, tick{Pos: y(v), Label: num(v)})
	}
	span := t1.Sub(t0)
	for i := 0; i <= 4; i++ {
		t := t0.Add(span * time.Duration(i) / 4)
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case 4:
			anchor = "end"
		}
		c.XTicks = append(c.XTicks, tick{Pos: x(t), Label: "+" + t.Sub(t0).Round(time.Second).String(), Anchor: anchor})
	}
	return c
}

func phaseClass(p string) string {
	switch gate.Phase(p) {
	case gate.Successful:
		return "ok"
	case gate.Failed, gate.Error:
		return "bad"
	case gate.Inconclusive:
		return "wait"
	}
	return ""
}

// page is parsed when a report is first written, not when migsafe starts.
var page = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{"phaseClass": phaseClass, "add": func(a, b float64) float64 { return a + b }, "sub": func(a, b float64) float64 { return a - b }}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>migsafe rollout {{.ID}}: {{.Service}} {{.Outcome}}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 960px; color: #212529; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #dee2e6; padding: .3em .5em; text-align: left; vertical-align: top; }
.ok { color: #2b8a3e; } .bad { color: #c92a2a; font-weight: bold; } .wait { color: #e67700; }
figure { margin: 1em 0; } figcaption span { margin-right: 1.5em; }
svg.chart { background: #f8f9fa; border: 1px solid #dee2e6; }
svg.chart text { font-size: 11px; fill: #495057; }
.swatch { display: inline-block; width: 1.5em; height: .25em; vertical-align: middle; margin-right: .3em; }
</style>
</head>
<body>
<h1>Rollout {{.ID}}: {{.Service}} {{.Stable}} → {{.Canary}}: <span class="{{if eq .Outcome "succeeded"}}ok{{else}}bad{{end}}" id="outcome">{{.Outcome}}</span></h1>
<p>Plan {{.Plan}}. Report written {{.Generated}}.</p>
<section id="timeline">
<h2>Timeline</h2>
<table>
<tr><th>start (UTC)</th><th>step</th><th>weight</th><th>took</th><th>result</th></tr>
{{range .Rows}}<tr class="step"><td>{{.Start}}</td><td>{{.Name}}</td><td>{{.Weight}}%</td><td>{{.Duration}}</td><td><span class="{{phaseClass .Phase}}">{{.Phase}}</span> {{.Message}}</td></tr>
{{end}}{{range .Rollback}}<tr class="rollback"><td>{{.At.UTC.Format "15:04:05"}}</td><td>rollback: {{.What}}</td><td></td><td></td><td>{{if .Err}}<span class="bad">failed</span> {{.Err}}{{else}}<span class="ok">done</span>{{end}}</td></tr>
{{end}}</table>
</section>
{{range .Analyses}}<section class="analysis">
<h2>{{.Name}} at {{.Weight}}%: <span class="{{phaseClass .Phase}}">{{.Phase}}</span></h2>
<p class="why">{{.Message}}</p>
{{range .Charts}}<figure class="chart" data-metric="{{.Metric}}">
<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="{{.Metric}}">
<line x1="{{.PlotX0}}" y1="{{.PlotY1}}" x2="{{.PlotX1}}" y2="{{.PlotY1}}" stroke="#adb5bd"/>
<line x1="{{.PlotX0}}" y1="{{.PlotY0}}" x2="{{.PlotX0}}" y2="{{.PlotY1}}" stroke="#adb5bd"/>
{{$c := .}}{{range .YTicks}}<text x="{{sub $c.PlotX0 6}}" y="{{.Pos}}" text-anchor="end" dominant-baseline="middle">{{.Label}}</text>
{{end}}{{range .XTicks}}<text x="{{.Pos}}" y="{{add $c.PlotY1 16}}" text-anchor="{{.Anchor}}">{{.Label}}</text>
{{end}}{{range .Series}}<g class="series" data-series="{{.Name}}">
<polyline fill="none" stroke="{{.Color}}" stroke-width="2"{{if .Dash}} stroke-dasharray="{{.Dash}}"{{end}} points="{{.Points}}"/>
{{$s := .}}{{range .Dots}}<circle class="point" cx="{{.X}}" cy="{{.Y}}" r="3" fill="{{$s.Color}}"><title>{{.Title}}</title></circle>
{{end}}</g>
{{end}}</svg>
<figcaption><strong>{{.Metric}}</strong> {{range .Series}}<span><i class="swatch" style="background: {{.Color}}"></i>{{.Name}}</span>{{end}}</figcaption>
</figure>
{{end}}</section>
{{end}}{{with .PostRollback}}<section id="post-rollback">
<h2>{{.Title}}: <span class="{{if .Passed}}ok{{else}}bad{{end}}">{{if .Passed}}passed{{else}}FAILED{{end}}</span></h2>
<table>{{range .Outcomes}}<tr><td class="{{if .Passed}}ok{{else}}bad{{end}}">{{if .Waived}}waived{{else if .Passed}}ok{{else}}FAIL{{end}}</td><td>{{.Name}}</td><td>{{.Message}}{{if .Fix}}<br><em>Fix:</em> {{.Fix}}{{end}}</td></tr>
{{end}}</table>
</section>
{{end}}</body>
</html>
`))
})
