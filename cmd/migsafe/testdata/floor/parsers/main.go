// Command parsers is a floor for issue 13's start-up goals: it links the
// two parsers migsafe is built on (pg_query_go's libpg_query and the TiDB
// parser, with the literal values migsafe's MySQL dialect registers),
// runs their package initialisation and exits. No migsafe run can start
// faster, or with less memory, than this program. BenchmarkGoals builds
// it and times it next to squawk.
package main

import (
	"os"

	_ "github.com/pganalyze/pg_query_go/v6/parser"
	_ "github.com/pingcap/tidb/pkg/parser"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"
)

func main() { os.Exit(0) }
