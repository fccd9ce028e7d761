package plan

import (
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/migsafe/migsafe/rollout/execgate"
	"github.com/migsafe/migsafe/rollout/gate"
)

// CompileExec compiles {exec: [argv], timeout: D, name: S}. Its errors
// are *Error with the node's line, so the gates branch can call it for
// bodies that carry an exec key and keep the positions.
func CompileExec(node *yaml.Node) (gate.Gate, error) {
	p := &parser{}
	g := &execgate.Gate{}
	if node.Kind != yaml.MappingNode {
		return nil, &Error{Line: node.Line, Col: node.Column, Msg: "an analysis gate is a mapping, for example {exec: [\"./count-errors\"], timeout: 30s}"}
	}
	p.fields(node, "analysis", []string{"exec", "timeout", "name"}, func(k string, _, v *yaml.Node) {
		switch k {
		case "exec":
			g.Argv = p.argv(v, "analysis.exec")
		case "timeout":
			g.Timeout = p.duration(v, "analysis.timeout")
		case "name":
			g.Label = p.str(v, "analysis.name")
		}
	})
	if len(p.errs) == 0 && g.Argv == nil {
		p.errf(node, "analysis: this migsafe knows exec gates: {exec: [argv], timeout: 30s}")
	}
	if len(p.errs) > 0 {
		return nil, p.errs[0]
	}
	if g.Timeout == 0 {
		g.Timeout = time.Minute
	}
	return g, nil
}
