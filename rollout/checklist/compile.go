package checklist

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/rollout/analysis"
	"github.com/migsafe/migsafe/rollout/gate"
)

var itemKeys = []string{"name", "fix", "waive", "check"}

// Builtins are the checks an item may name instead of writing one
// (revert_commit: {…}, on_call: {…}): the key, and what builds the gate
// from its body. The runner supplies them, built from the plan and the
// records around it (rollout/runner).
type Builtins map[string]func(body *yaml.Node) (gate.Gate, error)

// Compile reads a checklist without built-in checks (see CompileWith).
func Compile(node *yaml.Node) ([]Item, error) { return CompileWith(node, nil) }

// CompileWith reads a checklist written in a plan: a list of items, each
// with a name, the advice to give when it fails (fix), and either a check
// (an analysis body, see package analysis), one of the builtins' keys, or
// waive (the reason it is not checked). Errors are *analysis.Error values
// with the line and column.
func CompileWith(node *yaml.Node, builtins Builtins) ([]Item, error) {
	if node == nil {
		return nil, errors.New("checklist: no body")
	}
	if node.Kind == yaml.DocumentNode && len(node.Content) > 0 {
		node = node.Content[0]
	}
	if node.Kind != yaml.SequenceNode {
		return nil, at(node, "a checklist is a list of items (name, fix, check or waive)")
	}
	keys := append([]string{}, itemKeys...)
	for k := range builtins {
		keys = append(keys, k)
	}
	sort.Strings(keys[len(itemKeys):])
	var items []Item
	seen := map[string]bool{}
	for _, n := range node.Content {
		if n.Kind != yaml.MappingNode {
			return nil, at(n, "a checklist item is a mapping with name, fix, and check or waive")
		}
		var it Item
		var check, builtinKey *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if b := builtins[k.Value]; b != nil {
				if check != nil || builtinKey != nil {
					return nil, at(k, "a checklist item has one check: check: or one built-in (%s)", strings.Join(keys[len(itemKeys):], ", "))
				}
				g, err := b(v)
				if err != nil {
					var ae *analysis.Error
					if errors.As(err, &ae) {
						return nil, err
					}
					return nil, at(v, "%s: %v", k.Value, err)
				}
				builtinKey, it.Gate = k, g
				continue
			}
			switch k.Value {
			case "name", "fix", "waive":
				if v.Kind != yaml.ScalarNode {
					return nil, at(v, "%s must be text", k.Value)
				}
				switch k.Value {
				case "name":
					it.Name = strings.TrimSpace(v.Value)
				case "fix":
					it.Fix = strings.TrimSpace(v.Value)
				default:
					it.Waived = strings.TrimSpace(v.Value)
				}
			case "check":
				if builtinKey != nil {
					return nil, at(k, "a checklist item has one check: check: or the built-in %s", builtinKey.Value)
				}
				check = v
			default:
				msg := fmt.Sprintf("unknown key %q in a checklist item", k.Value)
				if sug := analyzer.Suggest(k.Value, keys); sug != "" {
					msg += fmt.Sprintf("; did you mean %q?", sug)
				} else {
					msg += " (known keys: " + strings.Join(keys, ", ") + ")"
				}
				return nil, at(k, "%s", msg)
			}
		}
		switch {
		case it.Name == "":
			return nil, at(n, "a checklist item needs a name")
		case seen[it.Name]:
			return nil, at(n, "two checklist items are named %q", it.Name)
		case check == nil && builtinKey == nil && it.Waived == "":
			return nil, at(n, "checklist item %q needs a check, or waive: with the reason it is not checked", it.Name)
		}
		seen[it.Name] = true
		if check != nil {
			g, err := analysis.Compile(check)
			if err != nil {
				return nil, err
			}
			it.Gate = g
		}
		items = append(items, it)
	}
	return items, nil
}

func at(n *yaml.Node, format string, args ...any) error {
	return &analysis.Error{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)}
}
