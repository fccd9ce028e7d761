package catalog

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/migsafe/migsafe/analyzer/change"
)

// Dump renders the schema as text, one object per line, sorted: the form
// of the replay goldens and of `migsafe status --verbose`.
func (c *Catalog) Dump() string {
	var b strings.Builder
	for _, t := range c.Tables() {
		kind := "table"
		if t.View {
			kind = "view"
		}
		fmt.Fprintf(&b, "%s %s%s\n", kind, t.Name, originNote(t.Origin, t.Deprecated, nil))
		if t.Filled != nil {
			fmt.Fprintf(&b, "  filled from %s at %s\n", qnames(t.Filled.Tables), where(t.Filled.Origin))
		}
		for _, col := range t.Columns {
			fmt.Fprintf(&b, "  column %s %s", col.Name, orUnknown(col.Type.String()))
			if col.NotNull {
				b.WriteString(" not null")
			}
			if col.Default != nil {
				fmt.Fprintf(&b, " default %s", col.Default.Text)
			}
			if col.Identity != "" {
				fmt.Fprintf(&b, " identity %s", col.Identity)
			}
			if col.Generated != "" {
				fmt.Fprintf(&b, " generated %s", col.Generated)
			}
			b.WriteString(originNote(col.Origin, col.Deprecated, col.Backfill))
			b.WriteString("\n")
		}
		for _, k := range t.Constraints {
			what := strings.Join(k.Columns, ", ")
			if what == "" {
				what = k.Expr
			}
			fmt.Fprintf(&b, "  constraint %s %s (%s)", orUnknown(k.Name), k.Kind, what)
			if k.RefTable != nil {
				fmt.Fprintf(&b, " references %s", k.RefTable)
			}
			if !k.Validated {
				b.WriteString(" not valid")
			}
			b.WriteString("\n")
		}
		ixs := c.IndexesOf(t)
		slices.SortFunc(ixs, func(a, b *Index) int { return strings.Compare(a.Name, b.Name) })
		for _, ix := range ixs {
			u := ""
			if ix.Unique {
				u = "unique "
			}
			fmt.Fprintf(&b, "  %sindex %s (%s)\n", u, ix.Name, strings.Join(ix.Columns, ", "))
		}
	}
	for _, e := range c.Enums() {
		fmt.Fprintf(&b, "enum %s (%s)\n", e.Name, strings.Join(e.Values, ", "))
	}
	for _, u := range c.Unmodeled {
		fmt.Fprintf(&b, "unmodeled %s: %s: %s\n", where(u.Origin), u.Kind, u.Reason)
	}
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

func qnames(qs []change.QName) string {
	var out []string
	for _, q := range qs {
		out = append(out, q.String())
	}
	return strings.Join(out, ", ")
}

// where renders an origin as file:line (the base name of the file).
func where(o Origin) string {
	if o.Base {
		return "before the migrations"
	}
	return fmt.Sprintf("%s:%d", path.Base(o.Path), o.Line)
}

func originNote(o Origin, dep *Origin, bf *Backfill) string {
	var parts []string
	if o.Base {
		parts = append(parts, "pre-existing")
	}
	if bf != nil {
		from := strings.Join(bf.Columns, ", ")
		if len(bf.Tables) > 0 {
			from = strings.TrimPrefix(from+", "+qnames(bf.Tables), ", ")
		}
		m := ""
		if bf.Marker {
			m = " (marker)"
		}
		parts = append(parts, fmt.Sprintf("backfilled from %s at %s%s", from, where(bf.Origin), m))
	}
	if dep != nil {
		parts = append(parts, "deprecated at "+where(*dep))
	}
	if len(parts) == 0 {
		return ""
	}
	return "  [" + strings.Join(parts, "; ") + "]"
}
