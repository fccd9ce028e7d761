// Package rules holds migsafe's rules, one per file, each a single
// *analyzer.Rule value named after the rule (drop-column → DropColumn in
// drop_column.go, fixtures in fixtures/rules/drop-column, docs in
// docs/rules/drop-column.md). All lists them explicitly: there is no
// registration by side effect.
package rules

import (
	"slices"
	"strings"

	"github.com/migsafe/migsafe/analyzer"
)

// All returns every rule, sorted by code.
func All() []*analyzer.Rule {
	all := []*analyzer.Rule{
		AddColumnRewrite,
		DropColumn,
		DropTable,
		DropSchema,
		TruncateTable,
		RenameTable,
		RenameSchema,
		RenameColumn,
		ChangeColumnType,
		AddRequiredColumn,
		UniqueOnExistingRows,
		SyntaxError,
		UnusedSuppression,
		NonConcurrentIndex,
		NonConcurrentIndexDrop,
		NonConcurrentReindex,
		NonConcurrentRefresh,
		NonConcurrentDetach,
		SetNotNull,
		ConstraintWithoutNotValid,
		AddUniqueConstraint,
		AddPrimaryKey,
		ExclusionConstraint,
		VacuumFullOrCluster,
		TableRewrite,
		LockTable,
		CascadeDrop,
		RenameEnumValue,
		DropNotNull,
		ConcurrentInTransaction,
		MixedTransactionMigration,
		EnumValueInTransaction,
		ValidateInSameTransaction,
		BackfillInDDLTransaction,
		MissingLockTimeout,
		StatementAfterExclusiveLock,
		PreferBigint,
		PreferText,
		PreferTimestamptz,
		PreferIdentity,
		PreferJSONB,
		CopyAlgorithm,
		ColumnReorder,
		CharsetConversion,
		AddForeignKey,
		AddCheckConstraint,
		MakeColumnNotNull,
		FulltextOrSpatialIndex,
		DropPrimaryKey,
		TableRebuild,
		AlgorithmNotSupported,
		MissingLockWaitTimeout,
		MultipleAlterSameTable,
		RepeatedTableScan,
		ContractSameDeploy,
		ContractTooSoon,
		BackfillWithDDL,
		WholeTableUpdate,
		MissingDownMigration,
		EditedAppliedMigration,
	}
	slices.SortFunc(all, func(a, b *analyzer.Rule) int { return strings.Compare(a.Code, b.Code) })
	return all
}

// Lookup finds a rule by name or code (case-insensitive).
func Lookup(nameOrCode string) *analyzer.Rule {
	for _, r := range All() {
		if strings.EqualFold(r.Name, nameOrCode) || strings.EqualFold(r.Code, nameOrCode) {
			return r
		}
	}
	return nil
}
