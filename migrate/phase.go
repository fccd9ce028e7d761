package migrate

import (
	"fmt"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// Phases of --phase.
const (
	PhaseAll      = "all"
	PhaseExpand   = "expand"
	PhaseContract = "contract"
)

// ContractReason says why a parsed up file is a contract step (it removes
// or renames something the running version may use, or tightens a
// column), or "" when it is an expand step that is safe in the deploy
// path.
func ContractReason(f *analyzer.File) string {
	for _, st := range f.Stmts {
		for _, c := range st.Changes {
			what := ""
			switch c.(type) {
			case *change.DropTable:
				what = "drops a table"
			case *change.DropColumn:
				what = "drops a column"
			case *change.DropView:
				what = "drops a view"
			case *change.DropSchema:
				what = "drops a schema"
			case *change.RenameColumn:
				what = "renames a column"
			case *change.RenameTable:
				what = "renames a table"
			case *change.SetNotNull:
				what = "sets NOT NULL"
			case *change.AlterColumnType:
				what = "changes a column type"
			case *change.Truncate:
				what = "truncates a table"
			}
			if what != "" {
				p := f.Lines.Position(st.Span.Start)
				return fmt.Sprintf("%s:%d %s", f.Path, p.Line, what)
			}
		}
	}
	return ""
}
