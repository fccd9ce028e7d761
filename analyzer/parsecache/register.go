package parsecache

import (
	"github.com/migsafe/migsafe/analyzer/change"
)

// changeTypes are every implementation of change.Change, for the codec (a
// test reads analyzer/change and fails when one is missing). Their order is
// part of the entry format.
var changeTypes = []change.Change{
	&change.CreateTable{},
	&change.CreateIndex{},
	&change.CreateSchema{},
	&change.CreateEnum{},
	&change.CreateFunction{},
	&change.CreateView{},
	&change.DropTable{},
	&change.DropIndex{},
	&change.DropSchema{},
	&change.DropView{},
	&change.DropOther{},
	&change.Truncate{},
	&change.AddColumn{},
	&change.DropColumn{},
	&change.RenameColumn{},
	&change.RenameTable{},
	&change.RenameOther{},
	&change.AlterColumnType{},
	&change.SetNotNull{},
	&change.DropNotNull{},
	&change.SetDefault{},
	&change.AddConstraint{},
	&change.ValidateConstraint{},
	&change.DropConstraint{},
	&change.AttachPartition{},
	&change.DetachPartition{},
	&change.TableRewrite{},
	&change.ConvertCharset{},
	&change.AlterOptions{},
	&change.AlterTableOther{},
	&change.Reindex{},
	&change.RefreshMatView{},
	&change.Vacuum{},
	&change.Cluster{},
	&change.LockTable{},
	&change.AlterSequence{},
	&change.AddEnumValue{},
	&change.RenameEnumValue{},
	&change.SetParam{},
	&change.Transaction{},
	&change.DML{},
	&change.Other{},
	&change.Unknown{},
	&change.AlterDomain{},
}
