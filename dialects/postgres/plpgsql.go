package postgres

import (
	"encoding/json"
	"strings"

	pgparser "github.com/pganalyze/pg_query_go/v6/parser"

	"github.com/migsafe/migsafe/analyzer/change"
	"github.com/migsafe/migsafe/dialects/postgres/internal/pgtree"
)

// doBlock translates the static SQL statements of a DO block's PL/pgSQL
// body (libpg_query parses PL/pgSQL), as if they were written outside it:
// DDL hidden in DO blocks takes the same locks. A body that builds SQL at
// run time (EXECUTE) or runs functions (PERFORM, CALL) is also reported as
// opaque, and so is a body in
// another language or one the PL/pgSQL parser rejects.
func (t *translator) doBlock(d *pgtree.DoStmt) {
	body, lang := "", "plpgsql"
	for _, a := range d.Args {
		de := a.GetDefElem()
		if de == nil {
			continue
		}
		switch de.Defname {
		case "as":
			body = de.GetArg().GetString_().GetSval()
		case "language":
			lang = strings.ToLower(de.GetArg().GetString_().GetSval())
		}
	}
	if lang != "plpgsql" || body == "" {
		t.add(&change.Unknown{Kind: "DO", Reason: "an anonymous code block in LANGUAGE " + lang + " is opaque to static analysis"})
		return
	}
	queries, dynamic, err := plpgsqlStatements(body)
	if err != nil {
		t.add(&change.Unknown{Kind: "DO", Reason: "the PL/pgSQL body of the block does not parse on its own (" + err.Error() + "), so its statements were not checked"})
		return
	}
	n := len(t.stmt.Changes)
	text := ""
	if t.stmt.Span.End <= len(t.src) && t.stmt.Span.Start <= t.stmt.Span.End {
		text = string(t.src[t.stmt.Span.Start:t.stmt.Span.End])
	}
	for _, q := range queries {
		// bounded like a statement of the file: a body can nest as deep
		tree, err := parseString(q)
		if err != nil {
			t.add(&change.Unknown{Kind: "DO", Reason: "a statement of the block does not parse: " + err.Error()})
			continue
		}
		// the statement's own offsets, when its text is found in the
		// block; otherwise its changes point at the whole DO statement
		sub := &translator{d: t.d, src: t.src, stmt: t.stmt, base: t.stmt.Span.Start}
		found := strings.Index(text, q)
		if found >= 0 {
			sub.base = t.stmt.Span.Start + found
		}
		from := len(t.stmt.Changes)
		for _, rs := range tree.Stmts {
			sub.translateNested(rs.Stmt)
		}
		if found < 0 {
			for _, ch := range t.stmt.Changes[from:] {
				ch.Base().Span = change.Span{}
			}
		}
	}
	if dynamic {
		t.add(&change.Unknown{Kind: "DO", Reason: "the block builds SQL at run time (EXECUTE) or runs functions (PERFORM, CALL), which static analysis cannot see"})
	}
	if len(t.stmt.Changes) == n {
		t.add(&change.Other{Kind: "DO"})
	}
}

// plpgsqlStatements returns the static SQL statements of a PL/pgSQL body,
// in order, and whether it also runs dynamic SQL.
func plpgsqlStatements(body string) (queries []string, dynamic bool, err error) {
	tag := "$migsafe$"
	for i := 0; strings.Contains(body, tag); i++ {
		tag = "$migsafe" + strings.Repeat("_", i+1) + "$"
	}
	js, err := pgparser.ParsePlPgSqlToJSON("CREATE FUNCTION migsafe_do() RETURNS void LANGUAGE plpgsql AS " + tag + body + tag)
	if err != nil {
		return nil, false, err
	}
	var tree any
	if err := json.Unmarshal([]byte(js), &tree); err != nil {
		return nil, false, err
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			if s, ok := x["PLpgSQL_stmt_execsql"].(map[string]any); ok {
				if e, ok := s["sqlstmt"].(map[string]any); ok {
					if pe, ok := e["PLpgSQL_expr"].(map[string]any); ok {
						if q, ok := pe["query"].(string); ok {
							queries = append(queries, q)
						}
					}
				}
				return
			}
			for _, k := range []string{"PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_perform", "PLpgSQL_stmt_call"} {
				if _, ok := x[k]; ok {
					// EXECUTE builds SQL at run time; PERFORM and CALL
					// run functions whose side effects are not visible
					dynamic = true
					return
				}
			}
			// map iteration order is random: walk the keys that hold
			// statements in their order of execution
			for _, k := range []string{"PLpgSQL_function", "action", "PLpgSQL_stmt_block", "body", "PLpgSQL_stmt_if", "then_body", "elsif_list", "PLpgSQL_if_elsif", "stmts", "else_body",
				"PLpgSQL_stmt_loop", "PLpgSQL_stmt_while", "PLpgSQL_stmt_fori", "PLpgSQL_stmt_fors", "PLpgSQL_stmt_forc", "PLpgSQL_stmt_foreach_a",
				"PLpgSQL_stmt_case", "case_when_list", "PLpgSQL_case_when", "else_stmts", "exceptions", "PLpgSQL_exception_block", "exc_list", "PLpgSQL_exception"} {
				if c, ok := x[k]; ok {
					walk(c)
				}
			}
			if _, ok := x["PLpgSQL_stmt_dynfors"]; ok {
				dynamic = true
			}
		}
	}
	walk(tree)
	return queries, dynamic, nil
}
