package flags

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Unleash drives a flag through Unleash's admin API (tested on
// unleash-server 8.2): a flexibleRollout strategy carries the share, and
// the environment is switched on or off.
type Unleash struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:4242.
	URL string
	// Token is an admin API token, sent as the Authorization header; empty
	// when the server runs without authentication. It never appears in
	// errors.
	Token string
	// Project defaults to "default"; Environment to "development".
	Project     string
	Environment string
	// Timeout bounds each request (default 10 s).
	Timeout time.Duration
	// Client defaults to http.DefaultClient.
	Client *http.Client
}

var _ Backend = (*Unleash)(nil)

func (u *Unleash) project() string {
	if u.Project == "" {
		return "default"
	}
	return u.Project
}

func (u *Unleash) env() string {
	if u.Environment == "" {
		return "development"
	}
	return u.Environment
}

func (u *Unleash) featurePath(key string) string {
	return "/api/admin/projects/" + url.PathEscape(u.project()) + "/features/" + url.PathEscape(key)
}

// APIError is a request Unleash answered with an error status.
type APIError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("unleash: %s %s: %d %s", e.Method, e.Path, e.Status, e.Body)
}

func (u *Unleash) do(ctx context.Context, method, path string, body, out any) error {
	timeout := u.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(u.URL, "/")+path, rd)
	if err != nil {
		return fmt.Errorf("unleash: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if u.Token != "" {
		req.Header.Set("Authorization", u.Token)
	}
	c := u.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("unleash: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("unleash: %s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := strings.TrimSpace(string(data))
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return &APIError{Method: method, Path: path, Status: resp.StatusCode, Body: msg}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("unleash: %s %s: %w", method, path, err)
		}
	}
	return nil
}

type unleashStrategy struct {
	ID         string            `json:"id,omitempty"`
	Name       string            `json:"name"`
	Parameters map[string]string `json:"parameters"`
	// Constraints and segments are kept as they are when the strategy is
	// updated.
	Constraints []json.RawMessage `json:"constraints"`
	Segments    []int             `json:"segments,omitempty"`
	Disabled    bool              `json:"disabled,omitempty"`
}

type unleashFeature struct {
	Name         string `json:"name"`
	Environments []struct {
		Name       string            `json:"name"`
		Enabled    bool              `json:"enabled"`
		Strategies []unleashStrategy `json:"strategies"`
	} `json:"environments"`
}

func (u *Unleash) feature(ctx context.Context, key string) (*unleashFeature, error) {
	var f unleashFeature
	err := u.do(ctx, http.MethodGet, u.featurePath(key), nil, &f)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// Get reads the flag's state in the environment: the share is the largest
// rollout of its flexibleRollout strategies without constraints (100 for
// a "default" strategy).
func (u *Unleash) Get(ctx context.Context, key string) (State, error) {
	f, err := u.feature(ctx, key)
	if err != nil || f == nil {
		return State{}, err
	}
	for _, e := range f.Environments {
		if e.Name != u.env() {
			continue
		}
		s := State{Exists: true, Enabled: e.Enabled}
		if e.Enabled {
			s.Percent = percentOf(e.Strategies)
		}
		return s, nil
	}
	return State{}, fmt.Errorf("unleash: flag %q has no environment %q in project %q", key, u.env(), u.project())
}

func percentOf(ss []unleashStrategy) int {
	p := 0
	for _, s := range ss {
		if s.Disabled || len(s.Constraints) > 0 || len(s.Segments) > 0 {
			continue
		}
		switch s.Name {
		case "default":
			return 100
		case "flexibleRollout":
			if n, err := strconv.Atoi(s.Parameters["rollout"]); err == nil && n > p {
				p = n
			}
		}
	}
	return p
}

// Set turns the flag on for percent % of users, or off with 0. Turning
// off is one request (the environment off), so that a rollback is as
// fast as the service allows. Turning on updates the flag's
// flexibleRollout strategy (or adds one) and then switches the
// environment on. A flag that does not exist is an error: flags are
// created by people, with their description and owner, not by a rollout.
func (u *Unleash) Set(ctx context.Context, key string, percent int) error {
	if err := checkPercent(percent); err != nil {
		return err
	}
	envPath := u.featurePath(key) + "/environments/" + url.PathEscape(u.env())
	if percent == 0 {
		err := u.do(ctx, http.MethodPost, envPath+"/off", nil, nil)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			return fmt.Errorf("unleash: flag %q does not exist in project %q: %w", key, u.project(), err)
		}
		return err
	}
	f, err := u.feature(ctx, key)
	if err != nil {
		return err
	}
	if f == nil {
		return fmt.Errorf("unleash: flag %q does not exist in project %q; create it in Unleash first", key, u.project())
	}
	var existing *unleashStrategy
	for _, e := range f.Environments {
		if e.Name != u.env() {
			continue
		}
		for i, s := range e.Strategies {
			if s.Name == "flexibleRollout" && len(s.Constraints) == 0 && len(s.Segments) == 0 {
				existing = &e.Strategies[i]
				break
			}
		}
	}
	rollout := strconv.Itoa(percent)
	switch {
	case existing == nil:
		st := unleashStrategy{Name: "flexibleRollout", Constraints: []json.RawMessage{},
			Parameters: map[string]string{"rollout": rollout, "stickiness": "default", "groupId": key}}
		if err := u.do(ctx, http.MethodPost, envPath+"/strategies", st, nil); err != nil {
			return err
		}
	case existing.Parameters["rollout"] != rollout || existing.Disabled:
		st := *existing
		st.Parameters = map[string]string{}
		for k, v := range existing.Parameters {
			st.Parameters[k] = v
		}
		st.Parameters["rollout"] = rollout
		st.Disabled = false
		id := st.ID
		st.ID = ""
		if err := u.do(ctx, http.MethodPut, envPath+"/strategies/"+url.PathEscape(id), st, nil); err != nil {
			return err
		}
	}
	return u.do(ctx, http.MethodPost, envPath+"/on", nil, nil)
}

// CanTurnOff reads the flag through the admin API a rollback uses (with
// the same token) and checks that it has the environment turned off.
func (u *Unleash) CanTurnOff(ctx context.Context, key string) error {
	f, err := u.feature(ctx, key)
	if err != nil {
		return err
	}
	if f == nil {
		return fmt.Errorf("unleash: flag %q does not exist in project %q", key, u.project())
	}
	for _, e := range f.Environments {
		if e.Name == u.env() {
			return nil
		}
	}
	return fmt.Errorf("unleash: flag %q has no environment %q in project %q", key, u.env(), u.project())
}
