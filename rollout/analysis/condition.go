package analysis

import (
	"fmt"
	"math"
	"strconv"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/migsafe/migsafe/rollout/gate"
)

// condition is a compiled successCondition or failureCondition: an
// expr-lang expression over `result`, as Argo Rollouts evaluates them
// (utils/evaluate/evaluate.go), with Argo's helper functions isNaN, isInf,
// asInt and asFloat.
type condition struct {
	src  string
	prog *vm.Program
}

// env is what a condition sees. result is an interface so that one
// expression may index a list, read a map's field or compare a number.
// stdout is an exec check's standard output (trimmed).
type env struct {
	Result any    `expr:"result"`
	Stdout string `expr:"stdout"`
}

func conditionEnv(result any) env { return env{Result: result} }

var conditionFuncs = []expr.Option{
	expr.Function("isNaN", func(p ...any) (any, error) {
		f, err := toFloat(p[0])
		return err == nil && math.IsNaN(f), nil
	}, new(func(any) bool)),
	expr.Function("isInf", func(p ...any) (any, error) {
		f, err := toFloat(p[0])
		return err == nil && math.IsInf(f, 0), nil
	}, new(func(any) bool)),
	expr.Function("asFloat", func(p ...any) (any, error) { return toFloat(p[0]) }, new(func(any) float64)),
	expr.Function("asInt", func(p ...any) (any, error) {
		f, err := toFloat(p[0])
		if err != nil {
			return nil, err
		}
		return int(f), nil
	}, new(func(any) int)),
}

func compileCondition(src string) (*condition, error) {
	if src == "" {
		return nil, nil
	}
	opts := append([]expr.Option{expr.Env(conditionEnv(nil)), expr.AsBool()}, conditionFuncs...)
	p, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, err
	}
	return &condition{src: src, prog: p}, nil
}

func (c *condition) eval(e env) (bool, error) {
	out, err := expr.Run(c.prog, e)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("%q returned %v, not true or false", c.src, out)
	}
	return b, nil
}

// judge applies Argo's rules to a result: with no conditions the
// measurement is Successful; with only a success condition, not meeting it
// is a failure; with only a failure condition, not meeting it is a
// success; with both, meeting neither is Inconclusive. An expression that
// cannot be evaluated is an Error.
func judgeConditions(success, failure *condition, result any) (gate.Phase, string) {
	return judgeEnv(success, failure, conditionEnv(result))
}

func judgeEnv(success, failure *condition, e env) (gate.Phase, string) {
	if success == nil && failure == nil {
		return gate.Successful, "no condition"
	}
	var ok, bad bool
	var err error
	if success != nil {
		if ok, err = success.eval(e); err != nil {
			return gate.Error, fmt.Sprintf("successCondition %q: %v", success.src, err)
		}
	}
	if failure != nil {
		if bad, err = failure.eval(e); err != nil {
			return gate.Error, fmt.Sprintf("failureCondition %q: %v", failure.src, err)
		}
	}
	switch {
	case success != nil && failure == nil:
		bad = !ok
	case success == nil && failure != nil:
		ok = !bad
	}
	switch {
	case bad && failure != nil:
		return gate.Failed, fmt.Sprintf("failureCondition %q is true", failure.src)
	case bad:
		return gate.Failed, fmt.Sprintf("successCondition %q is false", success.src)
	case !ok:
		return gate.Inconclusive, fmt.Sprintf("neither %q nor %q is true", success.src, failure.src)
	case success != nil:
		return gate.Successful, fmt.Sprintf("successCondition %q is true", success.src)
	}
	return gate.Successful, fmt.Sprintf("failureCondition %q is false", failure.src)
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case string:
		return strconv.ParseFloat(x, 64)
	case []float64:
		if len(x) == 1 {
			return x[0], nil
		}
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	}
	return math.NaN(), fmt.Errorf("%v (%T) is not a number", v, v)
}
