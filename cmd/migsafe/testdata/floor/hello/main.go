// Command hello is the Go runtime's own floor for issue 13's start-up
// goals: a cgo program (as migsafe is) that calls C once and exits.
// BenchmarkGoals builds it and times it next to squawk.
package main

/*
static int one(void) { return 1; }
*/
import "C"

import "os"

func main() { os.Exit(int(C.one()) - 1) }
