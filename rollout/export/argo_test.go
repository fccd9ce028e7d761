package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/migsafe/migsafe/internal/testdb"
	"github.com/migsafe/migsafe/rollout/plan"
)

// validate checks v against an OpenAPI v3 structural schema, the way the
// API server does for a custom resource (types, required fields, enum,
// pattern, anyOf, int-or-string), and also reports fields the schema does
// not know (the server would drop them silently).
func validate(s map[string]any, v any, path string) []string {
	if s == nil {
		return nil
	}
	if s["x-kubernetes-int-or-string"] == true {
		switch v.(type) {
		case int, string:
			return nil
		}
		return []string{fmt.Sprintf("%s: want an integer or a string, got %T", path, v)}
	}
	var errs []string
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %T", path, v)}
		}
		props, _ := s["properties"].(map[string]any)
		for _, r := range asList(s["required"]) {
			if _, ok := m[r.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: missing required %s", path, r))
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch {
			case props[k] != nil:
				errs = append(errs, validate(props[k].(map[string]any), m[k], path+"."+k)...)
			case s["additionalProperties"] != nil:
				if ap, ok := s["additionalProperties"].(map[string]any); ok {
					errs = append(errs, validate(ap, m[k], path+"."+k)...)
				}
			case s["x-kubernetes-preserve-unknown-fields"] == true || props == nil:
			default:
				errs = append(errs, fmt.Sprintf("%s: unknown field %s", path, k))
			}
		}
	case "array":
		l, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an array, got %T", path, v)}
		}
		items, _ := s["items"].(map[string]any)
		for i, x := range l {
			errs = append(errs, validate(items, x, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case "string":
		if _, ok := v.(string); !ok {
			errs = append(errs, fmt.Sprintf("%s: want a string, got %T", path, v))
		}
	case "integer":
		if _, ok := v.(int); !ok {
			errs = append(errs, fmt.Sprintf("%s: want an integer, got %T", path, v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			errs = append(errs, fmt.Sprintf("%s: want a boolean, got %T", path, v))
		}
	}
	if pat, ok := s["pattern"].(string); ok {
		if str, isStr := v.(string); isStr && !regexp.MustCompile(pat).MatchString(str) {
			errs = append(errs, fmt.Sprintf("%s: %q does not match %s", path, str, pat))
		}
	}
	if alts := asList(s["anyOf"]); alts != nil && s["x-kubernetes-int-or-string"] != true {
		ok := false
		for _, a := range alts {
			if sub, isMap := a.(map[string]any); isMap && len(validate(sub, v, path)) == 0 {
				ok = true
			}
		}
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: matches none of anyOf", path))
		}
	}
	if enum := asList(s["enum"]); enum != nil {
		found := false
		for _, e := range enum {
			if e == v {
				found = true
			}
		}
		if !found {
			errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", path, v, enum))
		}
	}
	return errs
}

func asList(v any) []any { l, _ := v.([]any); return l }

// The parts of Argo Rollouts' CRD schemas (manifests/crds/rollout-crd.yaml
// and analysis-template-crd.yaml, v1alpha1, read at argo-rollouts
// 9f8d111d8) that the export writes, transcribed as types and required
// fields; every other field is unknown here, so the export cannot drift
// into fields Argo does not have. TestArgoExport also validates against
// the published CRD files themselves (argoCRDs).
func obj(required []string, props map[string]any) map[string]any {
	s := map[string]any{"type": "object", "properties": props}
	if required != nil {
		r := make([]any, len(required))
		for i, x := range required {
			r[i] = x
		}
		s["required"] = r
	}
	return s
}

var (
	str       = map[string]any{"type": "string"}
	integer   = map[string]any{"type": "integer"}
	intOrStr  = map[string]any{"x-kubernetes-int-or-string": true}
	anyObject = map[string]any{"type": "object"}
	strMap    = map[string]any{"type": "object", "additionalProperties": str}
	list      = func(items map[string]any) map[string]any { return map[string]any{"type": "array", "items": items} }
)

var rolloutSchema = obj([]string{"spec"}, map[string]any{
	"apiVersion": str, "kind": str, "metadata": anyObject,
	"spec": obj(nil, map[string]any{
		"selector":    obj(nil, map[string]any{"matchLabels": strMap}),
		"workloadRef": obj(nil, map[string]any{"apiVersion": str, "kind": str, "name": str, "scaleDown": str}),
		"strategy": obj(nil, map[string]any{"canary": obj(nil, map[string]any{
			"steps": list(obj(nil, map[string]any{
				"setWeight": integer,
				"pause":     obj(nil, map[string]any{"duration": intOrStr}),
				"analysis": obj(nil, map[string]any{"templates": list(obj(nil, map[string]any{
					"templateName": str, "clusterScope": map[string]any{"type": "boolean"},
				}))}),
			})),
		})}),
	}),
})

var analysisTemplateSchema = obj([]string{"spec"}, map[string]any{
	"apiVersion": str, "kind": str, "metadata": anyObject,
	"spec": obj(nil, map[string]any{"metrics": list(obj([]string{"name", "provider"}, map[string]any{
		"name": str, "failureLimit": intOrStr, "consecutiveErrorLimit": intOrStr,
		"provider": obj(nil, map[string]any{"job": obj([]string{"spec"}, map[string]any{
			"spec": obj([]string{"template"}, map[string]any{
				"backoffLimit": integer, "activeDeadlineSeconds": integer,
				"template": obj(nil, map[string]any{"spec": obj([]string{"containers"}, map[string]any{
					"restartPolicy": str,
					"containers": list(obj([]string{"name"}, map[string]any{
						"name": str, "image": str, "command": list(str),
						"env": list(obj([]string{"name"}, map[string]any{"name": str, "value": str})),
					})),
				})}),
			}),
		})}),
	}))}),
})

func crdSchema(t *testing.T, file string) map[string]any {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var crd map[string]any
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	versions := crd["spec"].(map[string]any)["versions"].([]any)
	return versions[0].(map[string]any)["schema"].(map[string]any)["openAPIV3Schema"].(map[string]any)
}

// argoRolloutsModule is the Argo Rollouts release whose published CRDs
// (manifests/crds in its Go module) the export is validated against.
const argoRolloutsModule = "github.com/argoproj/argo-rollouts@v1.8.5"

// argoCRDs returns a folder holding Argo Rollouts' published
// rollout-crd.yaml and analysis-template-crd.yaml: $MIGSAFE_ARGO_CRDS when
// set, else the release's Go module, downloaded through the Go module proxy
// (checked against the checksum database as any module is). Without a
// proxy the test skips, or fails under MIGSAFE_REQUIRE_TOOLS as CI runs it.
func argoCRDs(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("MIGSAFE_ARGO_CRDS"); dir != "" {
		return dir
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", argoRolloutsModule)
	cmd.Dir = t.TempDir() // outside this module: only the named module is fetched
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GO111MODULE=on")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var mod struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &mod); err != nil || jerr != nil || mod.Error != "" || mod.Dir == "" {
		testdb.MissingTool(t, fmt.Sprintf("go mod download %s: %v %s %s", argoRolloutsModule, err, mod.Error, strings.TrimSpace(stderr.String())))
	}
	dir := filepath.Join(mod.Dir, "manifests", "crds")
	t.Logf("validating against the CRDs of %s", argoRolloutsModule)
	return dir
}

func TestArgoExport(t *testing.T) {
	p, err := plan.Load("../../examples/rollout/rollout.yaml", plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Argo(p)
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var d map[string]any
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		docs = append(docs, d)
	}
	if len(docs) != 4 || docs[0]["kind"] != "Rollout" {
		t.Fatalf("documents: %d\n%s", len(docs), out)
	}
	templates := map[string]bool{}
	for _, d := range docs {
		if d["kind"] == "AnalysisTemplate" {
			templates[d["metadata"].(map[string]any)["name"].(string)] = true
		}
	}
	validateAll := func(t *testing.T, schemas map[string]map[string]any) {
		for _, d := range docs {
			kind := d["kind"].(string)
			if schemas[kind] == nil {
				t.Fatalf("no schema for %s", kind)
			}
			if errs := validate(schemas[kind], d, kind); len(errs) > 0 {
				t.Errorf("%s does not validate:\n%s\n%s", kind, strings.Join(errs, "\n"), out)
			}
		}
	}
	t.Run("transcribed", func(t *testing.T) {
		validateAll(t, map[string]map[string]any{"Rollout": rolloutSchema, "AnalysisTemplate": analysisTemplateSchema})
	})
	t.Run("published CRDs", func(t *testing.T) {
		dir := argoCRDs(t)
		validateAll(t, map[string]map[string]any{
			"Rollout":          crdSchema(t, filepath.Join(dir, "rollout-crd.yaml")),
			"AnalysisTemplate": crdSchema(t, filepath.Join(dir, "analysis-template-crd.yaml")),
		})
	})
	// the steps, and every analysis step names a template written here
	var got []string
	steps := docs[0]["spec"].(map[string]any)["strategy"].(map[string]any)["canary"].(map[string]any)["steps"].([]any)
	for _, s := range steps {
		for k, v := range s.(map[string]any) {
			switch k {
			case "setWeight":
				got = append(got, fmt.Sprint("setWeight ", v))
			case "pause":
				got = append(got, fmt.Sprint("pause ", v.(map[string]any)["duration"]))
			case "analysis":
				name := v.(map[string]any)["templates"].([]any)[0].(map[string]any)["templateName"].(string)
				if !templates[name] {
					t.Errorf("analysis step names %s, which is not written", name)
				}
				got = append(got, "analysis")
			}
		}
	}
	want := "setWeight 1, pause 1s, analysis, setWeight 5, pause 1s, analysis, setWeight 25, pause 1s, analysis"
	if strings.Join(got, ", ") != want {
		t.Errorf("steps %s\nwant  %s", strings.Join(got, ", "), want)
	}
	if !strings.Contains(string(out), "Not expressible as Rollout steps (run them before applying): step 1 (check migrations (pending)), step 2 (migrate migrations (expand)), step 3 (deploy)") {
		t.Errorf("the check, migrate and deploy steps are not mentioned:\n%s", out)
	}
}

// TestValidatorCatches: the validator is not a rubber stamp, with the
// transcribed schema or with the published CRD.
func TestValidatorCatches(t *testing.T) {
	bad := map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "spec": map[string]any{
		"strategy": map[string]any{"canary": map[string]any{"steps": []any{
			map[string]any{"setWeight": "5"}, map[string]any{"bake": "1m"},
		}}},
	}}
	check := func(t *testing.T, schema map[string]any) {
		errs := validate(schema, bad, "Rollout")
		if len(errs) != 2 || !strings.Contains(errs[0], "setWeight: want an integer") || !strings.Contains(errs[1], "unknown field bake") {
			t.Errorf("errors %q", errs)
		}
	}
	t.Run("transcribed", func(t *testing.T) { check(t, rolloutSchema) })
	t.Run("pattern and anyOf", func(t *testing.T) {
		quantity := map[string]any{"anyOf": []any{map[string]any{"type": "integer"}, map[string]any{"type": "string", "pattern": "^[0-9]+(Mi|Gi)?$"}}}
		if errs := validate(quantity, "64Mi", "memory"); len(errs) != 0 {
			t.Errorf("64Mi: %q", errs)
		}
		if errs := validate(quantity, 64, "memory"); len(errs) != 0 {
			t.Errorf("64: %q", errs)
		}
		if errs := validate(quantity, "lots", "memory"); len(errs) != 1 || !strings.Contains(errs[0], "none of anyOf") {
			t.Errorf("lots: %q", errs)
		}
	})
	t.Run("published CRD", func(t *testing.T) {
		check(t, crdSchema(t, filepath.Join(argoCRDs(t), "rollout-crd.yaml")))
	})
}
