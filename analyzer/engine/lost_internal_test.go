package engine

import (
	"testing"

	"github.com/migsafe/migsafe/analyzer/change"
)

func TestLostTable(t *testing.T) {
	for _, c := range []struct {
		stmt string
		want change.QName
		ok   bool
	}{
		{"CREATE TABLE widgets (id int,, x int)", change.QName{Name: "widgets"}, true},
		{"create unlogged table if not exists App.Things (", change.QName{Schema: "app", Name: "things"}, true},
		{`CREATE TEMP TABLE "Mixed"."Case Name" (`, change.QName{Schema: "Mixed", Name: "Case Name"}, true},
		{"CREATE TABLE `db`.`t` (id INT,)", change.QName{Schema: "db", Name: "t"}, true},
		{"CREATE INDEX i ON t (x", change.QName{}, false},
		{"ALTER TABLE t ADD", change.QName{}, false},
	} {
		got, ok := lostTable(c.stmt)
		if got != c.want || ok != c.ok {
			t.Errorf("lostTable(%q) = %v, %v; want %v, %v", c.stmt, got, ok, c.want, c.ok)
		}
	}
}
