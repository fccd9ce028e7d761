package rules

import (
	"strings"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// Helpers of the MySQL/MariaDB rules. The dialect fills each change's
// Effect with what the server does for the statement as a whole (Online DDL
// algorithm, whether writes wait, and the option that requests the cheap
// path); these helpers turn it into the words every MySQL finding uses.

// onlinePhrase says which algorithm the server chooses and whether writes
// wait: what happens to the statement, for its message.
func onlinePhrase(e change.Effect) string {
	var b strings.Builder
	b.WriteString("it runs with ALGORITHM=" + e.Algorithm)
	b.WriteString(blocksClause(e.Blocks, ", which lets reads and writes through"))
	switch e.Work {
	case change.WorkRewrite:
		b.WriteString(" while it rebuilds the whole table")
	case change.WorkIndexBuild:
		b.WriteString(" while it builds the index")
	}
	if e.Note != "" {
		b.WriteString(" (" + e.Note + ")")
	}
	if e.Request == "" && (e.Algorithm == "INSTANT" || (e.Algorithm != "COPY" && e.Blocks == change.BlocksNothing)) {
		b.WriteString("; its ALGORITHM=/LOCK= options already make the server fail instead of copying or blocking writes")
	}
	return b.String()
}

// onlineAdvice says how to request the cheap path, or that there is none:
// the recipe, for the finding's help.
func onlineAdvice(e change.Effect) string {
	switch {
	case e.Request == "ALGORITHM=INSTANT" && e.Algorithm != "INSTANT":
		return "it could run instantly: request ALGORITHM=INSTANT so that the server does so or fails fast instead of copying"
	case e.Request == "ALGORITHM=INSTANT":
		return "write ALGORITHM=INSTANT (without LOCK=) so that the server fails fast instead of silently copying if that ever changes"
	case e.Request != "":
		return "write " + e.Request + " so that the server fails fast instead of silently blocking writes or copying"
	case e.Algorithm == "INSTANT" || (e.Algorithm != "COPY" && e.Blocks == change.BlocksNothing):
		return ""
	}
	return "no online algorithm exists for it on this server: use an online schema change tool (gh-ost, pt-online-schema-change) or expand-contract"
}

// mdlNote is the metadata-lock warning of MySQL findings, a note once per
// run rather than the tail of every message.
const mdlNote = "MySQL/MariaDB: every DDL statement takes an exclusive metadata lock at its start and end: a long-running transaction on the table makes it wait, and every query on the table queues behind it (set lock_wait_timeout: missing-lock-wait-timeout)"

// stmtOptions returns the statement's AlterOptions (the MySQL dialect adds
// one to every ALTER TABLE, CREATE INDEX and DROP INDEX), or nil.
func stmtOptions(s *analyzer.Statement) *change.AlterOptions {
	for _, ch := range s.Changes {
		if o, ok := ch.(*change.AlterOptions); ok {
			return o
		}
	}
	return nil
}

// serverCharset is the target's default character set, which a table
// gets when neither it nor its database gives one: utf8mb4 on MySQL 8+
// and MariaDB 10.6+ (as Debian and the official images configure it),
// latin1 before (the dialect assumes the same).
func serverCharset(t analyzer.Target) string {
	if (t.Flavor == "mariadb" && t.AtLeast(10, 6, 0)) || (t.Flavor != "mariadb" && t.AtLeast(8, 0, 0)) {
		return "utf8mb4"
	}
	return "latin1"
}

// isMySQL reports whether the pass is for the MySQL dialect.
func isMySQL(p *analyzer.Pass) bool { return p.Target.Dialect == analyzer.MySQL }

// createdHere reports whether the pass's statement itself creates the table
// (CREATE TABLE with inline indexes).
func createdHere(p *analyzer.Pass, t change.QName) bool {
	for _, ch := range p.Stmt.Changes {
		if c, ok := ch.(*change.CreateTable); ok && sameTable(c.Table, t) {
			return true
		}
	}
	return false
}
