package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// seedRows is how many rows verify-rollback --with-data puts in each
// table.
const seedRows = 3

// column is what seeding needs to know of a column.
type column struct {
	name     string
	typ      string // PostgreSQL data_type / udt_name, MySQL DATA_TYPE
	full     string // MySQL COLUMN_TYPE ("enum('a','b')"), PostgreSQL udt_name
	maxLen   int64
	nullable bool
	skip     bool // generated or identity ALWAYS: the server fills it
}

// tableColumns reads the columns of the application's tables.
func (r *Runner) tableColumns(ctx context.Context) (map[string][]column, error) {
	q := `SELECT c.table_name, c.column_name, c.data_type, c.udt_name, COALESCE(c.character_maximum_length, 0), c.is_nullable = 'YES',
	    c.is_generated = 'ALWAYS' OR COALESCE(c.identity_generation, '') = 'ALWAYS'
	  FROM information_schema.columns c JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
	  WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.table_name NOT IN ({{internal}})
	  ORDER BY c.table_name, c.ordinal_position`
	if r.t.kind == MySQL {
		q = `SELECT c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, COALESCE(c.CHARACTER_MAXIMUM_LENGTH, 0), c.IS_NULLABLE = 'YES',
		    c.EXTRA LIKE '%GENERATED%'
		  FROM information_schema.COLUMNS c JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
		  WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' AND c.TABLE_NAME NOT IN ({{internal}})
		  ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`
	}
	rows, err := r.ctl.QueryContext(ctx, strings.ReplaceAll(q, "{{internal}}", sqlList(internalTables)))
	if err != nil {
		return nil, r.t.scrub(fmt.Errorf("reading the columns: %w", err))
	}
	defer rows.Close()
	out := map[string][]column{}
	for rows.Next() {
		var tbl string
		var c column
		if err := rows.Scan(&tbl, &c.name, &c.typ, &c.full, &c.maxLen, &c.nullable, &c.skip); err != nil {
			return nil, r.t.scrub(fmt.Errorf("reading the columns: %w", err))
		}
		out[tbl] = append(out[tbl], c)
	}
	return out, r.t.scrub(rows.Err())
}

func (r *Runner) ident(s string) string {
	if r.t.kind == MySQL {
		return "`" + strings.ReplaceAll(s, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// value is row i's value for a column, as an SQL literal, or "" when
// seeding does not know the type.
func (r *Runner) value(ctx context.Context, c column, i int) string {
	str := func(s string) string {
		if c.maxLen > 0 && int64(len(s)) > c.maxLen {
			s = s[len(s)-int(c.maxLen):]
		}
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	n := fmt.Sprint(i)
	switch strings.ToLower(c.typ) {
	case "smallint", "integer", "bigint", "int", "tinyint", "mediumint", "numeric", "decimal", "real", "double precision", "double", "float":
		return "'" + n + "'"
	case "character varying", "character", "text", "varchar", "char", "tinytext", "mediumtext", "longtext", "citext",
		"binary", "varbinary", "blob", "tinyblob", "mediumblob", "longblob":
		return str(fmt.Sprintf("seed%d", i))
	case "boolean":
		return map[bool]string{true: "'true'", false: "'false'"}[i%2 == 0]
	case "bit":
		return "b'" + fmt.Sprint(i%2) + "'"
	case "date":
		return fmt.Sprintf("'2024-01-0%d'", i)
	case "timestamp without time zone", "timestamp with time zone", "datetime", "timestamp":
		return fmt.Sprintf("'2024-01-0%d 12:00:00'", i)
	case "time without time zone", "time":
		return fmt.Sprintf("'12:00:0%d'", i)
	case "year":
		return fmt.Sprint(2020 + i)
	case "interval":
		return fmt.Sprintf("'%d days'", i)
	case "uuid":
		return fmt.Sprintf("'00000000-0000-0000-0000-%012d'", i)
	case "json", "jsonb":
		return fmt.Sprintf(`'{"seed": %d}'`, i)
	case "bytea":
		return fmt.Sprintf(`'\x%02x'`, i)
	case "inet":
		return fmt.Sprintf("'10.0.0.%d'", i)
	case "enum", "set":
		// MySQL: the first member of enum('a','b')
		if _, rest, ok := strings.Cut(c.full, "('"); ok {
			if v, _, ok := strings.Cut(rest, "'"); ok {
				return str(v)
			}
		}
	case "user-defined":
		var label string
		if err := r.ctl.QueryRowContext(ctx, `SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = $1 ORDER BY e.enumsortorder LIMIT 1`, c.full).Scan(&label); err == nil {
			return str(label)
		}
	}
	return ""
}

// seed gives every application table with fewer than seedRows rows some
// generated ones: row i has i in its numbers (so that a foreign key to
// another seeded table's id finds its row), "seed<i>" in its strings. A
// table whose row cannot be made (a type seeding does not know, a check
// constraint) is left out and named in the returned notes.
func (r *Runner) seed(ctx context.Context) ([]string, error) {
	cols, err := r.tableColumns(ctx)
	if err != nil {
		return nil, err
	}
	tables := make([]string, 0, len(cols))
	for t := range cols {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	failed := map[string]string{}
	todo := tables
	// a table referencing another goes in once that one has rows: retry
	// what failed while something succeeds
	for pass := 0; pass <= len(tables) && len(todo) > 0; pass++ {
		var again []string
		for _, t := range todo {
			var have int
			if err := r.ctl.QueryRowContext(ctx, "SELECT count(*) FROM "+r.ident(t)).Scan(&have); err != nil {
				return nil, r.t.scrub(fmt.Errorf("seeding %s: %w", t, err))
			}
			if have >= seedRows {
				continue
			}
			if why := r.seedTable(ctx, t, cols[t], have); why != "" {
				failed[t] = why
				again = append(again, t)
			} else {
				delete(failed, t)
			}
		}
		if len(again) == len(todo) {
			break
		}
		todo = again
	}
	var notes []string
	for _, t := range tables {
		if why, ok := failed[t]; ok {
			notes = append(notes, fmt.Sprintf("table %s not seeded: %s", t, why))
		}
	}
	return notes, nil
}

func (r *Runner) seedTable(ctx context.Context, t string, cols []column, have int) string {
	for i := have + 1; i <= seedRows; i++ {
		var names, vals []string
		for _, c := range cols {
			if c.skip {
				continue
			}
			v := r.value(ctx, c, i)
			if v == "" {
				if c.nullable {
					continue
				}
				return fmt.Sprintf("column %s has a type seeding does not know (%s)", c.name, c.typ)
			}
			names, vals = append(names, r.ident(c.name)), append(vals, v)
		}
		q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", r.ident(t), strings.Join(names, ", "), strings.Join(vals, ", "))
		if len(names) == 0 {
			q = fmt.Sprintf("INSERT INTO %s DEFAULT VALUES", r.ident(t))
			if r.t.kind == MySQL {
				q = fmt.Sprintf("INSERT INTO %s () VALUES ()", r.ident(t))
			}
		}
		if _, err := r.ctl.ExecContext(ctx, q); err != nil {
			return firstLine(r.t.scrubString(err.Error()))
		}
	}
	return ""
}

// tableData is the data of the application's tables: table → column →
// the column's values, sorted (a multiset: rows need no key).
type tableData map[string]map[string][]string

func (r *Runner) data(ctx context.Context) (tableData, error) {
	cols, err := r.tableColumns(ctx)
	if err != nil {
		return nil, err
	}
	out := tableData{}
	for t := range cols {
		var args []any
		if r.t.kind == Postgres {
			// the columns change between reads: no cached plan
			args = append(args, pgx.QueryExecModeSimpleProtocol)
		}
		rows, err := r.ctl.QueryContext(ctx, "SELECT * FROM "+r.ident(t), args...)
		if err != nil {
			return nil, r.t.scrub(fmt.Errorf("reading %s: %w", t, err))
		}
		names, _ := rows.Columns()
		vals := map[string][]string{}
		for _, n := range names {
			vals[n] = []string{}
		}
		for rows.Next() {
			cells := make([]any, len(names))
			ptrs := make([]any, len(names))
			for i := range cells {
				ptrs[i] = &cells[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return nil, r.t.scrub(fmt.Errorf("reading %s: %w", t, err))
			}
			for i, n := range names {
				vals[n] = append(vals[n], cell(cells[i]))
			}
		}
		rows.Close()
		for _, v := range vals {
			sort.Strings(v)
		}
		out[t] = vals
	}
	return out, nil
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(x)
	case sql.RawBytes:
		return string(x)
	}
	return fmt.Sprint(v)
}

// lost says what of before's data after does not have: tables and
// columns gone, rows gone, values changed (NULL where there was a value).
func lost(before, after tableData) []string {
	var out []string
	tables := make([]string, 0, len(before))
	for t := range before {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		bc := before[t]
		n := 0
		for _, v := range bc {
			n = len(v)
		}
		if n == 0 {
			continue
		}
		ac, ok := after[t]
		if !ok {
			out = append(out, fmt.Sprintf("table %s: its %d row(s) are gone with the table", t, n))
			continue
		}
		m := 0
		for _, v := range ac {
			m = len(v)
		}
		if m < n {
			out = append(out, fmt.Sprintf("table %s: %d row(s) before, %d after", t, n, m))
		}
		names := make([]string, 0, len(bc))
		for c := range bc {
			names = append(names, c)
		}
		sort.Strings(names)
		for _, c := range names {
			av, ok := ac[c]
			if !ok {
				out = append(out, fmt.Sprintf("column %s.%s: its %d value(s) are gone with the column", t, c, n))
				continue
			}
			if m < n {
				continue // the row count says it
			}
			if diff := missing(bc[c], av); diff > 0 {
				ex := ""
				if v := firstMissing(bc[c], av); v != "" {
					ex = fmt.Sprintf(" (e.g. %s)", clip(v, 40))
				}
				out = append(out, fmt.Sprintf("column %s.%s: %d of %d value(s) not restored%s", t, c, diff, n, ex))
			}
		}
	}
	return out
}

// missing counts the values of a (a sorted multiset) that b lacks.
func missing(a, b []string) int {
	have := map[string]int{}
	for _, v := range b {
		have[v]++
	}
	n := 0
	for _, v := range a {
		if have[v] > 0 {
			have[v]--
		} else {
			n++
		}
	}
	return n
}

func firstMissing(a, b []string) string {
	have := map[string]int{}
	for _, v := range b {
		have[v]++
	}
	for _, v := range a {
		if have[v] > 0 {
			have[v]--
		} else if v != "NULL" {
			return v
		}
	}
	return ""
}
