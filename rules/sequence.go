package rules

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/catalog"
	"github.com/migsafe/migsafe/analyzer/change"
)

// The expand-contract sequence, as the sequence rules speak of it:
//
//  1. add the new column (nullable)   2. write both (application)
//  3. backfill old rows               4. read the new column (application)
//  5. stop writing the old one (application; -- migsafe:deprecate)
//  6. drop the old column, in a separate, later deploy
//
// A DROP COLUMN or DROP TABLE gets exactly one verdict, and each of
// drop-column / drop-table, contract-same-deploy and contract-too-soon
// reports only its own.

type verdict int

const (
	contractOK              verdict = iota // new object, or the sequence is complete
	contractNeverDeprecated                // drop-column / drop-table
	contractSameDeploy                     // contract-same-deploy
	contractTooSoon                        // contract-too-soon
)

// contract is what the history says about dropping an object.
type contract struct {
	verdict     verdict
	object      string          // "users.name" or "users"
	deprecated  *catalog.Origin // the deprecation marker, if any
	replacement string          // the object that replaces it, if known
	expanded    *catalog.Origin // where the replacement was created
	backfilled  *catalog.Origin // where it was filled from the dropped object
	age         time.Duration   // of the deprecation, for contractTooSoon
	allowed     time.Time       // when the drop becomes allowed
}

// contractOf judges the drop of table (column "") or of table.column in
// the pass's statement.
func contractOf(p *analyzer.Pass, table change.QName, column string) contract {
	c := contract{object: table.String()}
	if column != "" {
		c.object += "." + column
	}
	if p.IsNew(table) || (column != "" && newColumn(p, table, column)) {
		return c // created in this deploy: no running code knows it
	}
	tab := p.Catalog.Table(table)
	if tab != nil {
		if col := tab.Column(column); column != "" && col != nil {
			c.deprecated = col.Deprecated
		}
		if c.deprecated == nil {
			c.deprecated = tab.Deprecated
		}
	}
	c.findReplacement(p, tab, table, column)
	sameDeploy := func(o *catalog.Origin) bool { return o != nil && !o.Base && o.Deploy == p.Deploy }
	switch {
	case sameDeploy(c.deprecated) || sameDeploy(c.expanded) || sameDeploy(c.backfilled):
		c.verdict = contractSameDeploy
	case c.deprecated == nil:
		c.verdict = contractNeverDeprecated
	default:
		h := p.History
		depTime, now := h.Time(c.deprecated.Deploy), h.Time(p.Deploy)
		if h == nil || !h.Dated || depTime.IsZero() || now.IsZero() {
			p.Note("deploy dates are unknown (no git history), so contract-too-soon could not check how long ago " + c.object + " was deprecated; run migsafe inside the git repository (with --since) to check it")
			return c
		}
		c.age = now.Sub(depTime)
		c.allowed = depTime.Add(h.MinimumAge())
		if c.age < h.MinimumAge() {
			c.verdict = contractTooSoon
		}
	}
	return c
}

// findReplacement looks for the object that replaces the dropped one: a
// column of the same table, or a table, that was filled from it.
func (c *contract) findReplacement(p *analyzer.Pass, tab *catalog.Table, table change.QName, column string) {
	take := func(name string, created catalog.Origin, bf *catalog.Backfill) {
		// prefer the replacement whose work is in this deploy
		if c.replacement != "" && (bf.Origin.Deploy != p.Deploy || c.backfilled.Deploy == p.Deploy) {
			return
		}
		c.replacement = name
		if !created.Base {
			o := created
			c.expanded = &o
		}
		o := bf.Origin
		c.backfilled = &o
	}
	if column != "" {
		if tab == nil {
			return
		}
		for _, col := range tab.Columns {
			if !strings.EqualFold(col.Name, column) && col.Backfill.Reads(column) {
				take(table.String()+"."+col.Name, col.Origin, col.Backfill)
			}
		}
		return
	}
	for _, t := range p.Catalog.FilledFrom(table) {
		if t.Filled.ReadsTable(table) {
			take(t.Name.String(), t.Origin, t.Filled)
		}
		for _, col := range t.Columns {
			if col.Backfill.ReadsTable(table) {
				take(t.Name.String()+"."+col.Name, col.Origin, col.Backfill)
			}
		}
	}
}

// where renders an origin for messages: "0004_deprecate.up.sql:1".
func where(o *catalog.Origin) string {
	return fmt.Sprintf("%s:%d", path.Base(o.Path), o.Line)
}

// deployOf renders the deploy of an origin: "this deploy", "the deploy of
// 2024-06-01 (1a2b3c4)".
func deployOf(p *analyzer.Pass, o *catalog.Origin) string {
	if o.Deploy == p.Deploy {
		return "this deploy"
	}
	return p.History.Deploy(o.Deploy).Label()
}

// missingSteps says, for a drop that was never deprecated, what the
// sequence lacks: a short clause for the message and the advice for the
// help.
func (c contract) missingSteps(p *analyzer.Pass) (what, advice string) {
	marker := "-- migsafe:deprecate " + c.object
	// when the drop becomes allowed: the marker's deploy plus the minimum age
	when := "the drop (step 6) is allowed in " + laterDeploy(p, "that one")
	if c.replacement != "" {
		return fmt.Sprintf("it was never deprecated, though %s replaces it (filled at %s)", c.replacement, where(c.backfilled)),
			fmt.Sprintf("once the application reads only %s and stops writing %s (steps 4 and 5), record it with '%s' in a deploy of its own; %s", c.replacement, c.object, marker, when)
	}
	return "it was never deprecated",
		fmt.Sprintf("once the application stops reading and writing it (steps 4 and 5), record it with '%s' in a deploy of its own; %s", marker, when)
}

// sameDeployNext says, for a drop in the same deploy as an earlier step,
// what must come between and when the drop becomes allowed.
func (c contract) sameDeployNext(p *analyzer.Pass) string {
	later := laterDeploy(p, "this one")
	if c.deprecated != nil {
		return "ship the drop (step 6) in " + later
	}
	steps := "steps 4 and 5 come between: the application stops reading and writing " + c.object
	if c.replacement != "" {
		steps = "steps 2, 4 and 5 come between: the application writes both, then reads only " + c.replacement + " and stops writing " + c.object
	}
	return steps + ", recorded by '-- migsafe:deprecate " + c.object + "' in a deploy of its own; the drop (step 6) is allowed in " + laterDeploy(p, "that one")
}

// laterDeploy says when a drop may follow the deprecation's deploy: "a
// later deploy, 7 days after that one ships", or only "a later deploy"
// when the minimum age is 0.
func laterDeploy(p *analyzer.Pass, that string) string {
	age := p.History.MinimumAge()
	if age <= 0 {
		return "a later deploy"
	}
	return "a later deploy, " + analyzer.FormatAge(age) + " after " + that + " ships"
}

// sameDeployReason says which earlier step ships with the drop.
func (c contract) sameDeployReason(p *analyzer.Pass) string {
	var parts []string
	if c.deprecated != nil && c.deprecated.Deploy == p.Deploy {
		parts = append(parts, "deprecates it (step 5, "+where(c.deprecated)+")")
	}
	if c.expanded != nil && c.expanded.Deploy == p.Deploy {
		parts = append(parts, "adds its replacement "+c.replacement+" (step 1, "+where(c.expanded)+")")
	}
	if c.backfilled != nil && c.backfilled.Deploy == p.Deploy {
		parts = append(parts, "fills "+c.replacement+" from it (step 3, "+where(c.backfilled)+")")
	}
	return strings.Join(parts, " and ")
}
