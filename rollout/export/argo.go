// Package export writes a rollout plan in other tools' formats: an Argo
// Rollouts Rollout (canary strategy) with one AnalysisTemplate per
// analysis step, for teams whose cluster already runs Argo.
package export

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/migsafe/migsafe/rollout/execgate"
	"github.com/migsafe/migsafe/rollout/gate"
	"github.com/migsafe/migsafe/rollout/plan"
)

// ArgoMetric is what a gate implements to be exported: the body of one
// AnalysisTemplate metric (name, provider, successCondition …), as Argo
// Rollouts' AnalysisTemplate spec.metrics[] describes it.
type ArgoMetric interface {
	ArgoMetric() (map[string]any, error)
}

// JobImage is the image of the Job that runs an exec gate's command in
// the cluster; the command must exist in it.
var JobImage = "registry.example/rollout-gates:latest"

var dns = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^a-z0-9-]+`) })

func dnsName(s string) string {
	s = strings.Trim(dns().ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	if s == "" {
		s = "gate"
	}
	return s
}

// Argo returns the YAML documents: the Rollout, then the templates.
func Argo(p *plan.Plan) ([]byte, error) {
	name := dnsName(p.Name)
	var steps []any
	var templates []map[string]any
	var skipped []string
	for i, s := range p.Steps {
		switch s.Kind {
		case plan.SetWeight:
			steps = append(steps, map[string]any{"setWeight": s.Weight})
		case plan.Bake:
			steps = append(steps, map[string]any{"pause": map[string]any{"duration": s.Duration.String()}})
		case plan.Pause:
			if s.Duration > 0 {
				steps = append(steps, map[string]any{"pause": map[string]any{"duration": s.Duration.String()}})
			} else {
				steps = append(steps, map[string]any{"pause": map[string]any{}})
			}
		case plan.Approve:
			steps = append(steps, map[string]any{"pause": map[string]any{}})
		case plan.Analysis:
			tname := fmt.Sprintf("%s-step-%d", name, i+1)
			metric, err := argoMetric(s.Gate, p)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: analysis: %w", p.File, s.Line, err)
			}
			templates = append(templates, map[string]any{
				"apiVersion": "argoproj.io/v1alpha1",
				"kind":       "AnalysisTemplate",
				"metadata":   map[string]any{"name": tname},
				"spec":       map[string]any{"metrics": []any{metric}},
			})
			steps = append(steps, map[string]any{"analysis": map[string]any{"templates": []any{map[string]any{"templateName": tname}}}})
		case plan.Promote:
			// Argo promotes when the steps are over.
		default:
			skipped = append(skipped, fmt.Sprintf("step %d (%s)", i+1, s))
		}
	}
	rollout := map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Rollout",
		"metadata":   map[string]any{"name": name, "labels": map[string]any{"app.kubernetes.io/managed-by": "migsafe"}},
		"spec": map[string]any{
			"selector":    map[string]any{"matchLabels": map[string]any{"app": p.Service}},
			"workloadRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": p.Service},
			"strategy":    map[string]any{"canary": map[string]any{"steps": steps}},
		},
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Argo Rollouts resources for %s (plan %s), written by migsafe rollout export --argo.\n", p.Name, p.File)
	b.WriteString("# The Rollout takes its pods from the Deployment named by workloadRef; a failed\n# analysis aborts it (Argo's rule: Failed or Error → abort, Inconclusive → pause).\n")
	if len(skipped) > 0 {
		b.WriteString("# Not expressible as Rollout steps (run them before applying): " + strings.Join(skipped, ", ") + "\n")
	}
	docs := []any{rollout}
	for _, t := range templates {
		docs = append(docs, t)
	}
	for i, d := range docs {
		if i > 0 {
			b.WriteString("---\n")
		}
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(d); err != nil {
			return nil, err
		}
		enc.Close()
	}
	return b.Bytes(), nil
}

func argoMetric(g gate.Gate, p *plan.Plan) (map[string]any, error) {
	if m, ok := g.(ArgoMetric); ok {
		return m.ArgoMetric()
	}
	eg, ok := g.(*execgate.Gate)
	if !ok {
		return nil, fmt.Errorf("gate %s has no Argo form", g.Name())
	}
	deadline := int64(eg.Timeout.Seconds())
	if deadline < 1 {
		deadline = 60
	}
	// The Job's exit code decides, as the exec gate's does: a Job that
	// succeeds is Successful, one that fails is Failed.
	return map[string]any{
		"name":                  dnsName(g.Name()),
		"failureLimit":          0,
		"consecutiveErrorLimit": p.Limits.ConsecutiveErrorLimit,
		"provider": map[string]any{"job": map[string]any{"spec": map[string]any{
			"backoffLimit":          0,
			"activeDeadlineSeconds": deadline,
			"template": map[string]any{"spec": map[string]any{
				"restartPolicy": "Never",
				"containers": []any{map[string]any{
					"name":    "gate",
					"image":   JobImage,
					"command": eg.Argv,
					"env": []any{
						map[string]any{"name": "MIGSAFE_STABLE", "value": p.Stable},
						map[string]any{"name": "MIGSAFE_CANARY", "value": p.Canary},
					},
				}},
			}},
		}}},
	}, nil
}
