package flags

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestCompile(t *testing.T) {
	parse := func(src string) *yaml.Node {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(src), &n); err != nil {
			t.Fatal(err)
		}
		return &n
	}
	t.Setenv("TEST_UNLEASH_TOKEN", "*:*.secret")
	b, err := Compile(parse("unleash: {url: 'http://127.0.0.1:4242', tokenEnv: TEST_UNLEASH_TOKEN, environment: production, timeout: 3s}"))
	if err != nil {
		t.Fatal(err)
	}
	if u := b.(*Unleash); u.Token != "*:*.secret" || u.env() != "production" || u.project() != "default" || u.Timeout.Seconds() != 3 {
		t.Errorf("%+v", u)
	}
	if _, err := Compile(parse("exec: {set: [flagctl, set, '{{.Key}}', '{{.Percent}}'], get: [flagctl, get, '{{.Key}}']}")); err != nil {
		t.Error(err)
	}
	for src, want := range map[string]string{
		"unleash: {url: 'http://x', envirnment: prod}":    `line 1, column 28: unknown key "envirnment" in unleash; did you mean "environment"?`,
		"unlesh: {url: 'http://x'}":                       `line 1, column 1: unknown flag driver "unlesh"; did you mean "unleash"?`,
		"unleash: {url: 'x'}":                             `needs url`,
		"unleash: {url: 'http://x', tokenEnv: NOT_SET_X}": `NOT_SET_X (tokenEnv) is empty`,
		"exec: {set: [flagctl, '{{.Kye}}']}":              `line 1, column 7: flags exec: argv "{{.Kye}}"`,
		"exec: {get: [flagctl]}":                          `set needs an argv`,
	} {
		_, err := Compile(parse(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", src, err, want)
		}
	}
}
