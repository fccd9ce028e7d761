// Package postgres is migsafe's PostgreSQL dialect: it parses migrations with
// the PostgreSQL parser itself (libpg_query through pg_query_go), translates
// each statement into the change model, and knows the locks and table work
// of every operation on the target server version.
package postgres

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
)

// DefaultVersion is the oldest PostgreSQL release still supported upstream,
// so that advice is conservative.
const DefaultVersion = "14"

// Dialect is the PostgreSQL adapter.
type Dialect struct {
	target analyzer.Target
}

// New returns the adapter for a target version such as "14" or "12.4".
func New(version string) (*Dialect, error) {
	if version == "" {
		version = DefaultVersion
	}
	t, err := ParseVersion(version)
	if err != nil {
		return nil, err
	}
	return &Dialect{target: t}, nil
}

// ParseVersion reads a PostgreSQL major version ("14", "9.6", "16.2").
func ParseVersion(v string) (analyzer.Target, error) {
	s := strings.TrimSpace(strings.TrimPrefix(strings.ToLower(v), "postgres"))
	s = strings.TrimPrefix(s, "ql")
	s = strings.TrimLeft(s, "-@ ")
	parts := strings.Split(s, ".")
	nums := make([]int, 0, 3)
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return analyzer.Target{}, fmt.Errorf("invalid PostgreSQL version %q: want a major version such as 14 or 16", v)
		}
		nums = append(nums, n)
	}
	if len(nums) == 0 || len(nums) > 3 {
		return analyzer.Target{}, fmt.Errorf("invalid PostgreSQL version %q: want a major version such as 14 or 16", v)
	}
	t := analyzer.Target{Dialect: analyzer.Postgres, Flavor: "postgres", Major: nums[0], Text: "PostgreSQL " + s}
	if len(nums) > 1 {
		t.Minor = nums[1]
	}
	if t.Major < 9 || t.Major > 18 || (t.Major == 9 && t.Minor < 6) {
		return analyzer.Target{}, fmt.Errorf("unsupported PostgreSQL version %q: migsafe knows 9.6 to 18", v)
	}
	if t.Major >= 10 && len(nums) > 2 {
		return analyzer.Target{}, fmt.Errorf("invalid PostgreSQL version %q: since PostgreSQL 10 a version is major.minor", v)
	}
	return t, nil
}

// Name implements analyzer.Dialect.
func (d *Dialect) Name() string { return analyzer.Postgres }

// Target implements analyzer.Dialect.
func (d *Dialect) Target() analyzer.Target { return d.target }
