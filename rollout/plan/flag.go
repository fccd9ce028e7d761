package plan

import (
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Feature-flag steps:
//
//	flags: {exec: {set: [flagctl, set, "{{.Key}}", "{{.Percent}}"]}}   # or unleash: {url: …}
//	steps:
//	  - flag: {key: checkout.new_path, percent: 5}    # on for 5% of users
//	  - flag: {key: checkout.new_path, percent: 100}
//	rollback:
//	  - route_stable
//	  - flag_off: checkout.new_path                 # added when not written
//
// The driver body stays a *yaml.Node (Plan.Flags): rollout/flags
// compiles it when the run starts.

func flagString(s Step) string {
	if s.Kind == FlagOff {
		return "flag_off " + s.FlagKey
	}
	if s.Weight == 0 {
		return "flag " + s.FlagKey + " off"
	}
	return fmt.Sprintf("flag %s %d%%", s.FlagKey, s.Weight)
}

// flagStep reads `flag: {key: K, percent: P}` or `flag_off: K` (or
// {key: K}); false when it could not.
func (p *parser) flagStep(s *Step, key, val *yaml.Node) bool {
	ok := true
	switch {
	case val != nil && val.Kind == yaml.ScalarNode && val.Tag != "!!null" && s.Kind == FlagOff:
		s.FlagKey = val.Value
	case val != nil && val.Kind == yaml.MappingNode:
		known := []string{"key", "percent"}
		if s.Kind == FlagOff {
			known = []string{"key"}
		}
		s.Weight = -1
		p.fields(val, string(s.Kind), known, func(k string, _, v *yaml.Node) {
			switch k {
			case "key":
				s.FlagKey = p.str(v, string(s.Kind)+".key")
			case "percent":
				n, err := strconv.Atoi(v.Value)
				if v.Kind != yaml.ScalarNode || err != nil || n < 0 || n > 100 {
					p.errf(v, "flag.percent %q: a whole percentage of users from 0 (off) to 100", v.Value)
					ok = false
					return
				}
				s.Weight = n
			}
		})
		if s.Kind == Flag && s.Weight < 0 && ok {
			p.errf(val, "flag needs percent: the share of users it is on for (0 turns it off)")
			ok = false
		}
		if s.Kind == FlagOff {
			s.Weight = 0
		}
	}
	if s.FlagKey == "" && ok {
		p.errf(key, "%s needs the flag's key: %s", s.Kind, map[Kind]string{Flag: "flag: {key: checkout.new_path, percent: 5}", FlagOff: "flag_off: checkout.new_path"}[s.Kind])
		ok = false
	}
	if s.FlagKey != "" && !namePattern().MatchString(s.FlagKey) {
		p.errf(val, "flag key %q: use letters, digits, '.', '_' and '-'", s.FlagKey)
		ok = false
	}
	return ok
}

// checkFlags: flag steps need the flags: driver; every flag the steps
// turn on is turned off by the rollback, right after route_stable (added
// there when the plan does not say so), so that the route-back never
// waits for the flag service.
func (p *parser) checkFlags(pl *Plan, root *yaml.Node) {
	var keys []string
	for _, s := range pl.Steps {
		if s.Kind == Flag && !contains(keys, s.FlagKey) {
			keys = append(keys, s.FlagKey)
			if pl.Flags == nil {
				p.errf(&yaml.Node{Line: s.Line, Column: s.Col}, "flag steps need the plan's flags: section (the flag service: unleash: {url: …} or exec: {set: [...]})")
			}
		}
	}
	off := map[string]bool{}
	for i, s := range pl.Rollback {
		if s.Kind != FlagOff {
			continue
		}
		if pl.Flags == nil {
			p.errf(&yaml.Node{Line: s.Line, Column: s.Col}, "flag_off needs the plan's flags: section")
		}
		if i == 0 {
			p.errf(&yaml.Node{Line: s.Line, Column: s.Col}, "flag_off comes after route_stable: traffic goes back first, whatever the flag service does")
		}
		off[s.FlagKey] = true
	}
	if len(pl.Rollback) == 0 || pl.Rollback[0].Kind != RouteStable {
		return
	}
	var add []Step
	for _, k := range keys {
		if !off[k] {
			add = append(add, Step{Kind: FlagOff, FlagKey: k, Line: root.Line, Col: root.Column})
		}
	}
	if len(add) > 0 {
		rb := append([]Step{pl.Rollback[0]}, add...)
		pl.Rollback = append(rb, pl.Rollback[1:]...)
	}
}
