// Command flagsvc is the application of the flag tests: GET / takes the
// risky new path when the feature flag is on and the old path otherwise,
// and answers which one it took. It reads the flag from Unleash's client
// API through a cache refreshed every -refresh (the seed: "flag evaluation
// must be fast (cached)"): a request never waits for Unleash. When a
// refresh fails, the flag is taken as -default (false: the old path), so
// the service keeps serving the safe behaviour while the flag service is
// down. It prints its address on stdout once it listens.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

func main() {
	unleash := flag.String("unleash", "", "Unleash base URL")
	key := flag.String("flag", "", "the flag's name")
	refresh := flag.Duration("refresh", time.Second, "cache refresh interval")
	def := flag.Bool("default", false, "the value when Unleash cannot be read")
	flag.Parse()
	var on atomic.Bool
	on.Store(*def)
	client := &http.Client{Timeout: *refresh}
	fetch := func() {
		resp, err := client.Get(*unleash + "/api/client/features/" + *key)
		if err != nil {
			on.Store(*def)
			return
		}
		defer resp.Body.Close()
		var f struct {
			Enabled    bool `json:"enabled"`
			Strategies []struct {
				Name       string            `json:"name"`
				Parameters map[string]string `json:"parameters"`
			} `json:"strategies"`
		}
		if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&f) != nil {
			on.Store(*def)
			return
		}
		full := false
		for _, s := range f.Strategies {
			full = full || s.Name == "default" || (s.Name == "flexibleRollout" && s.Parameters["rollout"] == "100")
		}
		on.Store(f.Enabled && full)
	}
	fetch()
	go func() {
		for range time.Tick(*refresh) {
			fetch()
		}
	}()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if on.Load() {
			fmt.Fprintln(w, "new")
			return
		}
		fmt.Fprintln(w, "old")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Fprintln(os.Stdout, ln.Addr().String())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
