package ruledoc

import (
	"testing"

	"github.com/migsafe/migsafe/analyzer"
)

func TestURLAt(t *testing.T) {
	r := &analyzer.Rule{Name: "drop-column"}
	for v, ref := range map[string]string{
		"dev":                                  "main",
		"":                                     "main",
		"(devel)":                              "main",
		"main":                                 "main",
		"v0.1.0":                               "v0.1.0",
		"v1.2.0-rc.1":                          "v1.2.0-rc.1",
		"v2.0.0+incompatible":                  "v2.0.0",
		"v0.0.0-20261125013000-0123456789ab":   "0123456789ab",
		"v1.2.4-0.20261125013000-abcdefabcdef": "abcdefabcdef",
		"0123456789abcdef0123456789abcdef01234567": "0123456789abcdef0123456789abcdef01234567",
		"v1/../../evil": "main",
	} {
		want := "https://github.com/migsafe/migsafe/blob/" + ref + "/docs/rules/drop-column.md"
		if got := URLAt(r, v); got != want {
			t.Errorf("URLAt(%q) = %s, want %s", v, got, want)
		}
	}
}

// TestDialectsNeverEmpty: explain and the rule pages name the dialects of
// every rule, also of those that name none (they apply to all).
func TestDialectsNeverEmpty(t *testing.T) {
	if got := Dialects(&analyzer.Rule{}); got != "PostgreSQL, MySQL/MariaDB" {
		t.Errorf("Dialects of a rule that names none = %q, want every dialect", got)
	}
}
