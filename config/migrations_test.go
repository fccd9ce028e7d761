package config

import (
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"testing"
	"time"
)

func parse(t *testing.T, text string) (*Config, error) {
	t.Helper()
	return Parse("/x/.migsafe.yaml", []byte(text), func(string) bool { return true }, nil)
}

func TestMigrationsSection(t *testing.T) {
	c, err := parse(t, "migrations:\n  layout: goose\n  min-deprecation-age: 14d\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Migrations.Layout != "goose" || c.Migrations.MinDeprecationAge != 14*24*time.Hour {
		t.Errorf("got %+v", c.Migrations)
	}
	c, err = parse(t, "migrations:\n  layout: auto\n  min-deprecation-age: 36h\n")
	if err != nil {
		t.Fatal(err)
	}
	if c.Migrations.Layout != "" || c.Migrations.MinDeprecationAge != 36*time.Hour {
		t.Errorf("got %+v", c.Migrations)
	}
}

func TestMigrationsErrors(t *testing.T) {
	for text, want := range map[string]string{
		"migrations:\n  layuot: goose\n":          `/x/.migsafe.yaml:2:3: unknown key "layuot" in migrations; did you mean "layout"?`,
		"migrations:\n  layout: gose\n":           `/x/.migsafe.yaml:2:11: unknown migration layout "gose"; did you mean "goose"?`,
		"migrations:\n  min-deprecation-age: x\n": `/x/.migsafe.yaml:2:24: invalid age "x"`,
		"migrations: goose\n":                     `/x/.migsafe.yaml:1:13: migrations must be a mapping`,
		"migration:\n  layout: goose\n":           `unknown key "migration"; did you mean "migrations"?`,
	} {
		_, err := parse(t, text)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %s", text, err, want)
		}
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour, "0d": 0} {
		if got, err := analyzer.ParseAge(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "-1d", "seven days", "-3h"} {
		if _, err := analyzer.ParseAge(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
