package runner

import (
	"errors"

	"go.yaml.in/yaml/v3"

	"github.com/migsafe/migsafe/rollout/analysis"
	"github.com/migsafe/migsafe/rollout/gate"
	"github.com/migsafe/migsafe/rollout/plan"
)

// Compile is the plan compiler migsafe uses: an analysis body with a
// metrics: key is an Argo-style analysis (package analysis: Prometheus,
// web, exec and log providers, canary-vs-stable error rate and latency);
// anything else is plan.CompileExec, so plans written as
// `analysis: {exec: [...]}` keep working.
func Compile(node *yaml.Node) (gate.Gate, error) {
	n := node
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "metrics" {
				g, err := analysis.Compile(n)
				var ae *analysis.Error
				if errors.As(err, &ae) && ae.Line > 0 {
					// plan.Error carries the file name and the position.
					return nil, &plan.Error{Line: ae.Line, Col: ae.Column, Msg: "analysis: " + ae.Msg}
				}
				return g, err
			}
		}
	}
	return plan.CompileExec(node)
}
