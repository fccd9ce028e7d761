package mysql_test

import (
	"context"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/dialects/mysql"
)

// TestTransactions checks the engine's transaction model for MySQL: DDL
// commits implicitly, so it never shares a transaction with the statements
// around it, even when the tool wraps the file in one (goose); statements
// sent together are not one implicit transaction (golang-migrate).
func TestTransactions(t *testing.T) {
	d, err := mysql.New("")
	if err != nil {
		t.Fatal(err)
	}
	src := "INSERT INTO t VALUES (1);\nALTER TABLE t ADD COLUMN c INT;\nINSERT INTO t VALUES (2);\nBEGIN;\nINSERT INTO t VALUES (3);\nCOMMIT;\nSET foreign_key_checks = 0;\nALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id);"
	for _, c := range []struct {
		mode analyzer.TxMode
		want []analyzer.TxKind
	}{
		{analyzer.TxModeWholeFile, []analyzer.TxKind{analyzer.TxImplicit, analyzer.TxNone, analyzer.TxNone, analyzer.TxExplicit, analyzer.TxExplicit, analyzer.TxExplicit, analyzer.TxNone, analyzer.TxNone}},
		{analyzer.TxModeMultiExecImplicit, []analyzer.TxKind{analyzer.TxNone, analyzer.TxNone, analyzer.TxNone, analyzer.TxExplicit, analyzer.TxExplicit, analyzer.TxExplicit, analyzer.TxNone, analyzer.TxNone}},
		{analyzer.TxModeAutocommit, []analyzer.TxKind{analyzer.TxNone, analyzer.TxNone, analyzer.TxNone, analyzer.TxExplicit, analyzer.TxExplicit, analyzer.TxExplicit, analyzer.TxNone, analyzer.TxNone}},
	} {
		f := &analyzer.File{Path: "m.sql", Src: []byte(src), Lint: true, Deploy: 1, TxMode: c.mode}
		res, err := engine.Run(context.Background(), []*analyzer.File{f}, engine.Options{Dialect: d})
		if err != nil {
			t.Fatal(err)
		}
		stmts := res.Files[0].Stmts
		if len(stmts) != len(c.want) {
			t.Fatalf("%d statements", len(stmts))
		}
		for i, s := range stmts {
			if s.Tx.Kind != c.want[i] {
				t.Errorf("mode %d, statement %d (%s): %s, want %s", c.mode, i, s.Kind, s.Tx.Kind, c.want[i])
			}
		}
		// the session survives the implicit commits
		if got := stmts[7].Session.ForeignKeyChecks; got != "0" {
			t.Errorf("foreign_key_checks after SET = 0: %q", got)
		}
	}
}
