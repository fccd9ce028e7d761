package runner

import (
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
				return analysis.Compile(n)
			}
		}
	}
	return plan.CompileExec(node)
}
