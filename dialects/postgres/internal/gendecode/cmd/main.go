// Command gendecode writes the generated decoder of dialects/postgres
// (decode_gen.go) to the file its argument names.
package main

import (
	"fmt"
	"os"

	"github.com/migsafe/migsafe/dialects/postgres/internal/gendecode"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendecode FILE")
		os.Exit(2)
	}
	src, err := gendecode.Generate()
	if err == nil {
		err = os.WriteFile(os.Args[1], src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendecode:", err)
		os.Exit(1)
	}
}
