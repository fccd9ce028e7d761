package flags

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/open-feature/go-sdk/openfeature"
)

// OFREP reads flags through the OpenFeature Remote Evaluation Protocol
// (OFREP 0.2: POST {url}/ofrep/v1/evaluate/flags/{key} with the
// evaluation context; flagd, GO Feature Flag's relay proxy and others
// serve it). The protocol only evaluates: Set needs a command that changes
// the flag in the service behind it (SetCmd); without one Set fails.
//
// Provider gives the same client as an OpenFeature provider, which is how
// `migsafe flags check` evaluates a flag the way an application does.
type OFREP struct {
	// URL is the service's base URL, e.g. http://127.0.0.1:8016.
	URL string
	// Token, when set, is sent as "Authorization: Bearer TOKEN"; it never
	// appears in errors.
	Token string
	// Context is the evaluation context Get sends (OFREP's context object:
	// targetingKey and attributes).
	Context map[string]any
	// Timeout bounds each request (default 10 s).
	Timeout time.Duration
	// Client defaults to http.DefaultClient.
	Client *http.Client
	// SetCmd turns flags on and off (OFREP cannot); nil: Set fails.
	SetCmd *Exec
}

var _ Backend = (*OFREP)(nil)

// ErrReadOnly is Set on an OFREP driver without a set command.
var ErrReadOnly = errors.New("ofrep: the remote evaluation protocol only reads flags; give the ofrep driver a set: command that changes them")

// Evaluation is an OFREP answer for one flag.
type Evaluation struct {
	Key      string         `json:"key"`
	Value    any            `json:"value"`
	Reason   string         `json:"reason,omitempty"`
	Variant  string         `json:"variant,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// OFREPError is an evaluation the service answered with an error: a
// status other than 200, with OFREP's errorCode (FLAG_NOT_FOUND,
// PARSE_ERROR, TARGETING_KEY_MISSING, INVALID_CONTEXT, GENERAL) when the
// body has one.
type OFREPError struct {
	Key     string
	Status  int
	Code    string
	Details string
	// RetryAfter is the 429 answer's Retry-After, when given.
	RetryAfter string
}

func (e *OFREPError) Error() string {
	msg := fmt.Sprintf("ofrep: flag %s: %d", e.Key, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Details != "" {
		msg += ": " + e.Details
	}
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		msg += " (the token is missing or not allowed: check tokenEnv)"
	case http.StatusTooManyRequests:
		msg += " (rate limited"
		if e.RetryAfter != "" {
			msg += "; retry after " + e.RetryAfter
		}
		msg += ")"
	}
	return msg
}

// NotFound reports whether the service does not know the flag.
func (e *OFREPError) NotFound() bool {
	return e.Status == http.StatusNotFound || e.Code == string(openfeature.FlagNotFoundCode)
}

// Evaluate asks the service for key's value in the evaluation context
// evalCtx (nil: an empty context).
func (o *OFREP) Evaluate(ctx context.Context, key string, evalCtx map[string]any) (Evaluation, error) {
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if evalCtx == nil {
		evalCtx = map[string]any{}
	}
	body, err := json.Marshal(map[string]any{"context": evalCtx})
	if err != nil {
		return Evaluation{}, fmt.Errorf("ofrep: flag %s: the evaluation context: %w", key, err)
	}
	path := "/ofrep/v1/evaluate/flags/" + url.PathEscape(key)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(o.URL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return Evaluation{}, fmt.Errorf("ofrep: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if o.Token != "" {
		req.Header.Set("Authorization", "Bearer "+o.Token)
	}
	c := o.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the message below, once
		}
		return Evaluation{}, fmt.Errorf("ofrep: POST %s%s: %w", o.host(), path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Evaluation{}, fmt.Errorf("ofrep: flag %s: reading the answer: %w", key, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &OFREPError{Key: key, Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After")}
		var b struct {
			ErrorCode    string `json:"errorCode"`
			ErrorDetails string `json:"errorDetails"`
		}
		if json.Unmarshal(data, &b) == nil {
			e.Code, e.Details = b.ErrorCode, b.ErrorDetails
		} else if s := strings.TrimSpace(string(data)); s != "" {
			if len(s) > 300 {
				s = s[:300] + "…"
			}
			e.Details = s
		}
		return Evaluation{}, e
	}
	var ev Evaluation
	if err := json.Unmarshal(data, &ev); err != nil {
		return Evaluation{}, fmt.Errorf("ofrep: flag %s: the answer is not OFREP JSON: %w", key, err)
	}
	if ev.Value == nil {
		return Evaluation{}, fmt.Errorf("ofrep: flag %s: the answer has no value", key)
	}
	return ev, nil
}

// host is the URL without its user information, path or query, for
// messages.
func (o *OFREP) host() string {
	u, err := url.Parse(o.URL)
	if err != nil {
		return "the OFREP service"
	}
	return u.Scheme + "://" + u.Host
}

// Get evaluates key in the driver's evaluation context. OFREP gives a
// value, not a rollout: a boolean flag that is true is on for 100 %,
// false is off. A flag the service does not know does not exist; a flag
// that is not boolean is an error.
func (o *OFREP) Get(ctx context.Context, key string) (State, error) {
	ev, err := o.Evaluate(ctx, key, o.Context)
	var oe *OFREPError
	if errors.As(err, &oe) && oe.NotFound() {
		return State{}, nil
	}
	if err != nil {
		return State{}, err
	}
	on, ok := ev.Value.(bool)
	if !ok {
		return State{}, fmt.Errorf("ofrep: flag %s is not a boolean flag (its value is %v)", key, ev.Value)
	}
	if !on {
		return State{Exists: true}, nil
	}
	return State{Exists: true, Enabled: true, Percent: 100}, nil
}

// Set runs the set command; OFREP itself cannot change a flag.
func (o *OFREP) Set(ctx context.Context, key string, percent int) error {
	if err := checkPercent(percent); err != nil {
		return err
	}
	if o.SetCmd == nil {
		return ErrReadOnly
	}
	return o.SetCmd.Set(ctx, key, percent)
}

// Provider is the client as an OpenFeature provider.
func (o *OFREP) Provider() openfeature.FeatureProvider { return &ofrepProvider{o: o} }

type ofrepProvider struct{ o *OFREP }

func (p *ofrepProvider) Metadata() openfeature.Metadata {
	return openfeature.Metadata{Name: "migsafe-ofrep"}
}

func (p *ofrepProvider) Hooks() []openfeature.Hook { return nil }

// resolve evaluates the flag and maps failures to OpenFeature's error
// codes; the client then answers the caller's default.
func (p *ofrepProvider) resolve(ctx context.Context, key string, flat openfeature.FlattenedContext) (Evaluation, openfeature.ProviderResolutionDetail) {
	ev, err := p.o.Evaluate(ctx, key, map[string]any(flat))
	if err == nil {
		return ev, openfeature.ProviderResolutionDetail{Reason: openfeature.Reason(ev.Reason), Variant: ev.Variant,
			FlagMetadata: openfeature.FlagMetadata(ev.Metadata)}
	}
	var re openfeature.ResolutionError
	var oe *OFREPError
	switch {
	case errors.As(err, &oe) && oe.NotFound():
		re = openfeature.NewFlagNotFoundResolutionError(err.Error())
	case errors.As(err, &oe) && oe.Code == string(openfeature.ParseErrorCode):
		re = openfeature.NewParseErrorResolutionError(err.Error())
	case errors.As(err, &oe) && oe.Code == string(openfeature.TargetingKeyMissingCode):
		re = openfeature.NewTargetingKeyMissingResolutionError(err.Error())
	case errors.As(err, &oe) && oe.Code == string(openfeature.InvalidContextCode):
		re = openfeature.NewInvalidContextResolutionError(err.Error())
	default:
		re = openfeature.NewGeneralResolutionError(err.Error())
	}
	return Evaluation{}, openfeature.ProviderResolutionDetail{ResolutionError: re, Reason: openfeature.ErrorReason}
}

func mismatch(key string, v any, want string) openfeature.ProviderResolutionDetail {
	return openfeature.ProviderResolutionDetail{Reason: openfeature.ErrorReason,
		ResolutionError: openfeature.NewTypeMismatchResolutionError(fmt.Sprintf("flag %s is %T, not %s", key, v, want))}
}

func (p *ofrepProvider) BooleanEvaluation(ctx context.Context, flag string, def bool, flat openfeature.FlattenedContext) openfeature.BoolResolutionDetail {
	ev, d := p.resolve(ctx, flag, flat)
	if d.Reason == openfeature.ErrorReason {
		return openfeature.BoolResolutionDetail{Value: def, ProviderResolutionDetail: d}
	}
	v, ok := ev.Value.(bool)
	if !ok {
		return openfeature.BoolResolutionDetail{Value: def, ProviderResolutionDetail: mismatch(flag, ev.Value, "a boolean")}
	}
	return openfeature.BoolResolutionDetail{Value: v, ProviderResolutionDetail: d}
}

func (p *ofrepProvider) StringEvaluation(ctx context.Context, flag string, def string, flat openfeature.FlattenedContext) openfeature.StringResolutionDetail {
	ev, d := p.resolve(ctx, flag, flat)
	if d.Reason == openfeature.ErrorReason {
		return openfeature.StringResolutionDetail{Value: def, ProviderResolutionDetail: d}
	}
	v, ok := ev.Value.(string)
	if !ok {
		return openfeature.StringResolutionDetail{Value: def, ProviderResolutionDetail: mismatch(flag, ev.Value, "a string")}
	}
	return openfeature.StringResolutionDetail{Value: v, ProviderResolutionDetail: d}
}

func (p *ofrepProvider) FloatEvaluation(ctx context.Context, flag string, def float64, flat openfeature.FlattenedContext) openfeature.FloatResolutionDetail {
	ev, d := p.resolve(ctx, flag, flat)
	if d.Reason == openfeature.ErrorReason {
		return openfeature.FloatResolutionDetail{Value: def, ProviderResolutionDetail: d}
	}
	v, ok := ev.Value.(float64) // JSON numbers
	if !ok {
		return openfeature.FloatResolutionDetail{Value: def, ProviderResolutionDetail: mismatch(flag, ev.Value, "a number")}
	}
	return openfeature.FloatResolutionDetail{Value: v, ProviderResolutionDetail: d}
}

func (p *ofrepProvider) IntEvaluation(ctx context.Context, flag string, def int64, flat openfeature.FlattenedContext) openfeature.IntResolutionDetail {
	ev, d := p.resolve(ctx, flag, flat)
	if d.Reason == openfeature.ErrorReason {
		return openfeature.IntResolutionDetail{Value: def, ProviderResolutionDetail: d}
	}
	v, ok := ev.Value.(float64)
	if !ok || v != math.Trunc(v) || math.Abs(v) > 1<<53 {
		return openfeature.IntResolutionDetail{Value: def, ProviderResolutionDetail: mismatch(flag, ev.Value, "an integer")}
	}
	return openfeature.IntResolutionDetail{Value: int64(v), ProviderResolutionDetail: d}
}

func (p *ofrepProvider) ObjectEvaluation(ctx context.Context, flag string, def any, flat openfeature.FlattenedContext) openfeature.InterfaceResolutionDetail {
	ev, d := p.resolve(ctx, flag, flat)
	if d.Reason == openfeature.ErrorReason {
		return openfeature.InterfaceResolutionDetail{Value: def, ProviderResolutionDetail: d}
	}
	return openfeature.InterfaceResolutionDetail{Value: ev.Value, ProviderResolutionDetail: d}
}

// CanTurnOff: OFREP cannot change a flag; the set command must be there.
func (o *OFREP) CanTurnOff(ctx context.Context, key string) error {
	if o.SetCmd == nil {
		return ErrReadOnly
	}
	return o.SetCmd.CanTurnOff(ctx, key)
}
