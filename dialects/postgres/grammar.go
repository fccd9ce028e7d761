package postgres

import (
	"fmt"
	"sync"
)

// GrammarVersion is the PostgreSQL release whose grammar the bundled parser
// implements ("17.7"), as libpg_query reports it in every parse result
// (its PG_VERSION_NUM): whatever pg_query_go go.mod pins, never a copy.
var GrammarVersion = sync.OnceValue(func() string {
	tree, err := parseBounded([]byte("SELECT 1"), 1)
	if err != nil || tree.GetVersion() <= 0 {
		return "unknown"
	}
	return formatVersionNum(int(tree.GetVersion()))
})

// formatVersionNum turns PG_VERSION_NUM into a release: 170007 is 17.7,
// 90624 (before PostgreSQL 10) is 9.6.24.
func formatVersionNum(n int) string {
	if n >= 100000 {
		return fmt.Sprintf("%d.%d", n/10000, n%10000)
	}
	return fmt.Sprintf("%d.%d.%d", n/10000, n/100%100, n%100)
}
