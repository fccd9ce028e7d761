package parsecache

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"testing"
)

// TestEveryChangeRegistered reads analyzer/change: every struct that embeds
// Meta is a change and must be registered with gob, or its statements
// could not be cached.
func TestEveryChangeRegistered(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../change/change.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return false
		}
		for _, fd := range st.Fields.List {
			if id, ok := fd.Type.(*ast.Ident); ok && len(fd.Names) == 0 && id.Name == "Meta" {
				want = append(want, "*change."+ts.Name.Name)
			}
		}
		return false
	})
	var got []string
	for _, c := range changeTypes {
		got = append(got, fmt.Sprintf("%T", c))
	}
	slices.Sort(want)
	slices.Sort(got)
	if len(want) < 40 || !slices.Equal(want, got) {
		t.Errorf("registered change types:\n%v\nchange types in analyzer/change:\n%v", got, want)
	}
}
