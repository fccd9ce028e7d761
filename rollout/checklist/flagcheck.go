package checklist

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"

	"github.com/migsafe/migsafe/rollout/flags"
	"github.com/migsafe/migsafe/rollout/gate"
)

// FlagChecks are `migsafe flags check`'s items, three per flag the plan
// uses:
//
//   - "K exists": the flag service knows it (through OFREP, as the
//     application reads it, when the plan has ofrep:; else the driver);
//     its current value is in the message.
//   - "K kill switch": the driver could turn it off now (flags.KillSwitch:
//     the admin API answers with the plan's token, or the set command is
//     there); nothing is changed.
//   - "K safe default": the value the application gets when the flag
//     service is unreachable is the old behaviour. The plan's
//     safe_default must be false, and an OpenFeature client whose OFREP
//     provider points at a closed loopback port (the service down) must
//     answer it, with reason ERROR.
func FlagChecks(svc *flags.Service, keys []string) []Item {
	var items []Item
	for _, k := range keys {
		items = append(items,
			Item{Name: k + " exists", Gate: flagExists(svc, k),
				Fix: "create the flag in the flag service, off, before the rollout (flags are created by people, with an owner)"},
			Item{Name: k + " kill switch", Gate: killSwitch(svc.Backend, k),
				Fix: "give the flags: driver what a rollback needs to turn the flag off: a reachable admin API with tokenEnv, or a set: command that is installed"},
			Item{Name: k + " safe default", Gate: safeDefault(svc, k),
				Fix: "write the code path so that false is the old behaviour, declare safe_default: false, and pass false as the default value where the application evaluates the flag"})
	}
	return items
}

func flagExists(svc *flags.Service, key string) gate.Gate {
	return &check{name: "flag-exists", fn: func(ctx context.Context) (gate.Phase, string) {
		if svc.Eval == nil {
			s, err := svc.Backend.Get(ctx, key)
			switch {
			case err != nil:
				return gate.Error, fmt.Sprintf("reading flag %s: %v", key, err)
			case !s.Exists:
				return gate.Failed, fmt.Sprintf("flag %s does not exist in the flag service", key)
			}
			return gate.Successful, fmt.Sprintf("flag %s exists (%s)", key, s)
		}
		api := isolated.NewAPI()
		defer func() { _ = api.Shutdown(context.Background()) }()
		if err := api.SetProviderAndWait(ctx, svc.Eval.Provider()); err != nil {
			return gate.Error, err.Error()
		}
		d, err := api.NewClient().BooleanValueDetails(ctx, key, svc.SafeDefault, openfeature.NewTargetlessEvaluationContext(svc.Eval.Context))
		switch {
		case d.ErrorCode == openfeature.FlagNotFoundCode:
			return gate.Failed, fmt.Sprintf("flag %s does not exist in the flag service (OFREP: FLAG_NOT_FOUND)", key)
		case d.ErrorCode == openfeature.TypeMismatchCode:
			return gate.Failed, fmt.Sprintf("flag %s is not a boolean flag: a kill switch is on or off", key)
		case err != nil:
			return gate.Error, fmt.Sprintf("evaluating flag %s through OFREP: %s", key, d.ErrorMessage)
		}
		return gate.Successful, fmt.Sprintf("flag %s exists: OFREP evaluates it to %v (reason %s)", key, d.Value, d.Reason)
	}}
}

func killSwitch(b flags.Backend, key string) gate.Gate {
	return &check{name: "kill-switch", fn: func(ctx context.Context) (gate.Phase, string) {
		ks, ok := b.(flags.KillSwitch)
		if !ok {
			return gate.Error, "this flag driver cannot tell whether it could turn the flag off"
		}
		if err := ks.CanTurnOff(ctx, key); err != nil {
			return gate.Failed, err.Error()
		}
		return gate.Successful, fmt.Sprintf("the rollback can turn %s off", key)
	}}
}

// safeDefault evaluates the flag through an OpenFeature client whose
// provider's service is down.
func safeDefault(svc *flags.Service, key string) gate.Gate {
	return &check{name: "safe-default", fn: func(ctx context.Context) (gate.Phase, string) {
		if svc.SafeDefault {
			return gate.Failed, "the plan declares safe_default: true: with the flag service down every user would get the new code path, and the kill switch would do nothing"
		}
		down, err := closedPort()
		if err != nil {
			return gate.Error, err.Error()
		}
		o := flags.OFREP{URL: down, Timeout: 2 * time.Second}
		if svc.Eval != nil {
			o.Context, o.Token = svc.Eval.Context, svc.Eval.Token
		}
		api := isolated.NewAPI()
		defer func() { _ = api.Shutdown(context.Background()) }()
		if err := api.SetProviderAndWait(ctx, o.Provider()); err != nil {
			return gate.Error, err.Error()
		}
		t0 := time.Now()
		d, _ := api.NewClient().BooleanValueDetails(ctx, key, svc.SafeDefault, openfeature.NewTargetlessEvaluationContext(o.Context))
		took := time.Since(t0).Round(time.Millisecond)
		if d.Value || d.Reason != openfeature.ErrorReason {
			return gate.Failed, fmt.Sprintf("with the flag service down the OpenFeature client answered %v (reason %s), not false", d.Value, d.Reason)
		}
		return gate.Successful, fmt.Sprintf("with the flag service down an OpenFeature client answers false, the old behaviour (reason ERROR, %s, in %s)", d.ErrorCode, took)
	}}
}

// closedPort is the URL of a loopback port nothing listens on: a flag
// service that is down.
func closedPort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a closed port: %w", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr, nil
}
