// Package testofrep is an OpenFeature Remote Evaluation Protocol server
// for tests, on loopback: no OFREP server (flagd, GO Feature Flag's relay
// proxy) can be installed here. It serves OFREP 0.2's single-flag
// evaluation, POST /ofrep/v1/evaluate/flags/{key}, with the spec's answers:
// 200 with value, reason and variant; 404 FLAG_NOT_FOUND; 400
// PARSE_ERROR for a body that is not {"context": {…}}; 401 without the
// bearer token when one is set. Flags with a rollout answer by
// targetingKey, like a fractional evaluation.
package testofrep

import (
	"encoding/json"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Flag is a flag as the server holds it: Value for everyone, or, when
// Percent is between 1 and 99, true for that share of targeting keys.
type Flag struct {
	Value   any
	Percent int
}

// Server is a running OFREP server.
type Server struct {
	URL string
	srv *httptest.Server

	mu       sync.Mutex
	flags    map[string]Flag
	token    string
	requests int
}

// Start serves flags on loopback until the test ends; token, when set, is
// required as "Authorization: Bearer TOKEN".
func Start(t testing.TB, token string, flags map[string]Flag) *Server {
	t.Helper()
	s := &Server{flags: map[string]Flag{}, token: token}
	for k, f := range flags {
		s.flags[k] = f
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.Stop)
	return s
}

// Set changes (or, with nil Value, deletes) a flag.
func (s *Server) Set(key string, f Flag) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Value == nil {
		delete(s.flags, key)
		return
	}
	s.flags[key] = f
}

// Requests is how many evaluations the server answered.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Stop closes the server and its connections: the flag service is down.
func (s *Server) Stop() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutPrefix(r.URL.Path, "/ofrep/v1/evaluate/flags/")
	if !ok || key == "" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if s.token != "" && r.Header.Get("Authorization") != "Bearer "+s.token {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var body struct {
		Context map[string]any `json:"context"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Context == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"key": key, "errorCode": "PARSE_ERROR", "errorDetails": "the body is not {\"context\": {…}}"})
		return
	}
	f, ok := s.flags[key]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"key": key, "errorCode": "FLAG_NOT_FOUND", "errorDetails": "flag " + key + " was not found"})
		return
	}
	value, reason, variant := f.Value, "STATIC", "default"
	if f.Percent > 0 && f.Percent < 100 {
		tk, _ := body.Context["targetingKey"].(string)
		if tk == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"key": key, "errorCode": "TARGETING_KEY_MISSING", "errorDetails": "a fractional flag needs a targetingKey"})
			return
		}
		h := fnv.New32a()
		_, _ = h.Write([]byte(key + "/" + tk))
		on := int(h.Sum32()%100) < f.Percent
		value, reason, variant = on, "SPLIT", map[bool]string{true: "on", false: "off"}[on]
	} else if b, ok := f.Value.(bool); ok {
		variant = map[bool]string{true: "on", false: "off"}[b]
	}
	writeJSON(w, http.StatusOK, map[string]any{"key": key, "value": value, "reason": reason, "variant": variant, "metadata": map[string]any{}})
}
