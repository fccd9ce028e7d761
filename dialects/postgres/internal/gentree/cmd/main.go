// Command gentree writes the generated parse-tree package of
// dialects/postgres (internal/pgtree): tree_gen.go, decode_gen.go and
// ctree_gen.go, in the directory its argument names.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/migsafe/migsafe/dialects/postgres/internal/gentree"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gentree DIR")
		os.Exit(2)
	}
	tree, decode, err := gentree.Generate()
	if err == nil {
		err = os.WriteFile(filepath.Join(os.Args[1], "tree_gen.go"), tree, 0o644)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(os.Args[1], "decode_gen.go"), decode, 0o644)
	}
	var ctree []byte
	if err == nil {
		ctree, err = gentree.GenerateCTree()
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(os.Args[1], "ctree_gen.go"), ctree, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gentree:", err)
		os.Exit(1)
	}
}
