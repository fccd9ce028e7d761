package catalog

import (
	"testing"

	"github.com/migsafe/migsafe/analyzer/change"
)

// TestHasFulltextFollowsIndexes: the count behind HasFulltext agrees with
// the indexes the model keeps, through creation, replacement under the
// same name, DROP INDEX, the drop of the index's column, and an overlay,
// which leaves the catalog under it alone.
func TestHasFulltextFollowsIndexes(t *testing.T) {
	posts := change.QName{Name: "posts"}
	at := Origin{Path: "m.sql"}
	c := New()
	c.Apply(&change.CreateTable{Table: posts, Columns: []change.Column{{Name: "id"}, {Name: "body"}, {Name: "title"}}}, at)
	consistent := func(c *Catalog, want bool, step string) {
		t.Helper()
		tb := c.Table(posts)
		scanned := false
		for _, ix := range c.IndexesOf(tb) {
			scanned = scanned || ix.Kind == change.IndexFulltext
		}
		if tb.HasFulltext() != want || scanned != want {
			t.Errorf("after %s: HasFulltext %v, a FULLTEXT index among the indexes %v, want %v", step, tb.HasFulltext(), scanned, want)
		}
	}
	consistent(c, false, "CREATE TABLE")
	c.Apply(&change.CreateIndex{Table: posts, Name: "ft", Columns: []string{"body"}, Kind: change.IndexFulltext}, at)
	consistent(c, true, "CREATE FULLTEXT INDEX")
	c.Apply(&change.CreateIndex{Table: posts, Name: "ft", Columns: []string{"body"}}, at)
	consistent(c, false, "a plain index under the same name")
	c.Apply(&change.CreateIndex{Table: posts, Name: "ft2", Columns: []string{"title"}, Kind: change.IndexFulltext}, at)
	consistent(c, true, "a second FULLTEXT index")
	o := c.Overlay()
	o.Apply(&change.DropColumn{Table: posts, Column: "title"}, at)
	consistent(o, false, "DROP COLUMN of its column, in an overlay")
	consistent(c, true, "the same, under the overlay")
	c.Apply(&change.DropIndex{Name: change.QName{Name: "ft2"}, Table: &posts}, at)
	consistent(c, false, "DROP INDEX")
}
