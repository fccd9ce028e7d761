package scaffold

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/catalog"
	"github.com/migsafe/migsafe/analyzer/change"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/migrations"
	"github.com/migsafe/migsafe/lint"
)

// The scaffold's arguments come from a person or a script and end up in
// SQL, in comments and in file names: each is an identifier (quoted or
// not), checked here, quoted by id where it is written, and made a safe
// file-name part by slug.

// maxName is the longest name accepted (PostgreSQL's limit is 63 bytes,
// MySQL's 64 characters; the scaffold builds longer ones from them).
const maxName = 128

// name reads a column name argument: "Name" (or `Name` on MySQL) is
// taken exactly, quotes removed; otherwise as given, dots and all (it is
// quoted where it is written).
func (sc *scaffold) name(kind, arg string) (string, error) {
	q := `"`
	if !sc.pg() {
		q = "`"
	}
	if strings.HasPrefix(arg, q) {
		parts, err := sc.split(kind, arg)
		if err != nil {
			return "", err
		}
		if len(parts) != 1 {
			return "", fmt.Errorf("%s %q: one name, quoted as a whole", kind, arg)
		}
		return parts[0].text, nil
	}
	if err := checkText(kind, arg, arg); err != nil {
		return "", err
	}
	return arg, nil
}

// checkText checks one name: not empty, valid UTF-8, no control
// character (a line break would end a SQL comment the name is written
// in), at most maxName bytes.
func checkText(kind, arg, text string) error {
	switch {
	case !utf8.ValidString(text):
		return fmt.Errorf("%s %q: not valid UTF-8", kind, arg)
	case text == "":
		return fmt.Errorf("%s %q: an empty name", kind, arg)
	case len(text) > maxName:
		return fmt.Errorf("%s %q: longer than %d bytes", kind, arg, maxName)
	}
	if i := strings.IndexFunc(text, unicode.IsControl); i >= 0 {
		return fmt.Errorf("%s %q: a name cannot hold a control character (%U)", kind, arg, []rune(text[i:])[0])
	}
	return nil
}

// qname reads a table argument, schema.table: a quoted part is taken
// exactly; an unquoted part is folded to lower case on PostgreSQL, as
// the server does (a table created as "Users" is found in the history
// and written as the history spells it).
func (sc *scaffold) qname(arg string) (change.QName, error) {
	parts, err := sc.split("table", arg)
	if err != nil {
		return change.QName{}, err
	}
	norm := func(p namePart) string {
		if p.quoted {
			return p.text
		}
		return strings.ToLower(p.text)
	}
	switch len(parts) {
	case 1:
		return change.QName{Name: norm(parts[0])}, nil
	case 2:
		return change.QName{Schema: norm(parts[0]), Name: norm(parts[1])}, nil
	}
	return change.QName{}, fmt.Errorf("table %q: want TABLE or SCHEMA.TABLE", arg)
}

type namePart struct {
	text   string
	quoted bool
}

// split cuts a name at the dots outside quotes and checks each part
// (checkText).
func (sc *scaffold) split(kind, arg string) ([]namePart, error) {
	if err := checkText(kind, arg, strings.ReplaceAll(arg, ".", "_")); err != nil {
		return nil, err
	}
	q := byte('"')
	if !sc.pg() {
		q = '`'
	}
	var parts []namePart
	for s := arg; ; {
		var p namePart
		if len(s) > 0 && s[0] == q {
			// a quoted identifier: a doubled quote stands for one
			var b strings.Builder
			i := 1
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("%s %q: unterminated quote", kind, arg)
				}
				if s[i] == q {
					if i+1 < len(s) && s[i+1] == q {
						b.WriteByte(q)
						i += 2
						continue
					}
					break
				}
				b.WriteByte(s[i])
				i++
			}
			p = namePart{text: b.String(), quoted: true}
			s = s[i+1:]
			if s != "" && s[0] != '.' {
				return nil, fmt.Errorf("%s %q: text after a closing quote", kind, arg)
			}
		} else {
			end := strings.IndexByte(s, '.')
			if end < 0 {
				end = len(s)
			}
			p = namePart{text: s[:end]}
			s = s[end:]
		}
		if err := checkText(kind, arg, p.text); err != nil {
			return nil, err
		}
		parts = append(parts, p)
		if s == "" {
			return parts, nil
		}
		s = s[1:] // the dot
		if s == "" {
			return nil, fmt.Errorf("%s %q: an empty name after the dot", kind, arg)
		}
	}
}

// slug makes a name a part of a file name: letters, digits and
// underscores only (anything else, a slash or a dot included, becomes an
// underscore, runs of them one), at most 60 bytes.
func slug(s string) string {
	var b strings.Builder
	last := byte(0)
	for _, r := range s {
		c := byte('_')
		if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			c = byte(r)
		}
		if c == '_' && last == '_' {
			continue
		}
		b.WriteByte(c)
		last = c
		if b.Len() >= 60 {
			break
		}
	}
	out := strings.Trim(b.String(), "_")
	if out == "" {
		return "x"
	}
	return out
}

// checkNames refuses a plan whose files would not be distinct plain
// names inside the directory.
func checkNames(dir string, names []string) error {
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" || n == "." || n == ".." || strings.ContainsAny(n, `/\`) || filepath.Base(n) != n {
			return fmt.Errorf("internal error: the scaffold made a file name %q that is not a plain name", n)
		}
		if seen[n] {
			return fmt.Errorf("two steps of the change map to one file, %s: choose other names", filepath.Join(dir, n))
		}
		seen[n] = true
	}
	return nil
}

// dollarTag returns a dollar-quote tag that does not occur in body: $$,
// else $migsafe$, $migsafe1$, ...
func dollarTag(body string) string {
	if !strings.Contains(body, "$$") {
		return "$$"
	}
	for i := 0; ; i++ {
		t := "$migsafe$"
		if i > 0 {
			t = fmt.Sprintf("$migsafe%d$", i)
		}
		if !strings.Contains(body, t) {
			return t
		}
	}
}

// maxType is the longest type accepted (the longest SQL type names, with
// precision or an enum's values, are far shorter).
const maxType = 256

// parseType reads --type with the dialect's parser, as the type of a
// column in CREATE TABLE, and returns the type as the schema model
// writes it: never the text verbatim. Anything but one type (a second
// statement, a comment, a default or a constraint) is refused.
func (sc *scaffold) parseType(ctx context.Context, typ string) (string, error) {
	t := strings.TrimSpace(typ)
	bad := func(why string) error {
		return fmt.Errorf("--type %q is not a column type: %s", typ, why)
	}
	if t == "" {
		return "", bad("it is empty")
	}
	if len(t) > maxType {
		return "", bad(fmt.Sprintf("longer than %d bytes", maxType))
	}
	if strings.IndexFunc(t, unicode.IsControl) >= 0 || strings.ContainsAny(t, ";#") || strings.Contains(t, "--") || strings.Contains(t, "/*") {
		return "", bad("it holds a statement end, a comment or a control character")
	}
	if sc.parser == nil {
		return t, nil
	}
	src := fmt.Sprintf("CREATE TABLE migsafe_type_probe (c %s);\n", t)
	if sc.pg() {
		// a list or a constraint passes in CREATE TABLE; not in a cast
		src += fmt.Sprintf("SELECT CAST(NULL AS %s);\n", t)
	}
	stmts, _ := sc.parser.Parse([]byte(src), analyzer.Span{Start: 0, End: len(src)})
	want := 1
	if sc.pg() {
		want = 2
	}
	if len(stmts) != want {
		return "", bad("it does not read as one type")
	}
	for _, st := range stmts {
		if st.SyntaxError != nil {
			return "", bad(sc.dialect + " does not read it as a type (" + st.SyntaxError.Message + ")")
		}
	}
	f := &analyzer.File{Path: "--type", Src: []byte(src), Range: analyzer.Span{Start: 0, End: len(src)}}
	res, err := engine.Run(ctx, []*analyzer.File{f}, engine.Options{Dialect: sc.parser})
	if err != nil {
		return "", err
	}
	tab := res.Catalog.Table(change.QName{Name: "migsafe_type_probe"})
	var col *catalog.Column
	if tab != nil && len(tab.Columns) == 1 {
		col = tab.Column("c")
	}
	if col == nil || col.Type.String() == "" {
		return "", bad("it does not read as one column of one type")
	}
	if col.NotNull || col.Default != nil || col.Generated != "" || col.Identity != "" || col.AutoIncrement || len(tab.Constraints) > 0 {
		return "", bad("it holds a constraint or a default; give the type only")
	}
	return col.Type.String(), nil
}

// arguments checks the change's arguments: the table (TABLE or
// SCHEMA.TABLE, parts quoted or not), column names (quotes removed), and
// change-column-type's TYPE read as --type is.
func (sc *scaffold) arguments(ctx context.Context, change string, args []string) ([]string, error) {
	out := slices.Clone(args)
	if _, err := sc.qname(out[0]); err != nil {
		return nil, err
	}
	var err error
	switch change {
	case "rename-column":
		if out[1], err = sc.name("column", out[1]); err != nil {
			return nil, err
		}
		if out[2], err = sc.name("new column", out[2]); err != nil {
			return nil, err
		}
	case "change-column-type":
		if out[1], err = sc.name("column", out[1]); err != nil {
			return nil, err
		}
		if out[2], err = sc.parseType(ctx, out[2]); err != nil {
			return nil, fmt.Errorf("TYPE: %w", err)
		}
	case "drop-column":
		if out[1], err = sc.name("column", out[1]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// verify parses and lints the plan's files as `migsafe check` would, with
// the directory's history replayed before them, before anything is
// written: a name or a type that slipped through must not become a
// migration that does not parse, that the layout's tool would not read,
// or that fails the project's lint.
func verify(ctx context.Context, s *lint.Settings, hs *lint.History, layout migrations.Layout, dir string, p *Plan) error {
	var srcs []migrations.Source
	seen := map[string]bool{}
	if hs != nil {
		for _, f := range hs.Parts {
			if !seen[f.Path] {
				seen[f.Path] = true
				srcs = append(srcs, migrations.Source{Path: f.Path, Src: f.Src, BOM: f.BOM})
			}
		}
	}
	conf := map[string][]byte{}
	fresh := map[string]bool{}
	for _, f := range p.Files {
		path := lint.Display(s.Dir, filepath.Join(p.Dir, f.Name))
		if strings.HasSuffix(f.Name, ".conf") {
			conf[path] = []byte(f.Content)
			continue
		}
		if seen[path] {
			return fmt.Errorf("%s already exists; nothing written", path)
		}
		fresh[path] = true
		srcs = append(srcs, migrations.Source{Path: path, Src: []byte(f.Content)})
	}
	set := migrations.Build(srcs, migrations.Options{Layout: layout, Dialect: s.Dialect.Name(), Sibling: func(p string) ([]byte, bool) {
		b, ok := conf[p]
		return b, ok
	}})
	for _, sk := range set.Skipped {
		if fresh[sk.Path] {
			return fmt.Errorf("internal error: the %s layout would not read the scaffolded %s: %s; nothing written", layout, sk.Path, sk.Reason)
		}
	}
	h := &lint.History{Root: dir, Set: set, Parts: set.Parts(), Deploys: analyzer.Undated(len(set.Migrations))}
	h.Deploys.Now = s.Now
	h.Deploys.MinAge, h.Deploys.MinAgeSet = s.MinimumAge(), true
	res, err := lint.CheckMigrations(ctx, s, h, func(m *migrations.Migration) bool {
		return slices.ContainsFunc(m.Paths(), func(p string) bool { return fresh[p] })
	})
	if err != nil {
		return err
	}
	if len(res.Errors) > 0 {
		return fmt.Errorf("linting the scaffolded files: %w; nothing written", res.Errors[0])
	}
	for _, f := range res.Findings {
		if f.Suppressed == nil && (f.Code == syntaxErrorCode || lint.Failing([]analyzer.Finding{f}, s.FailOn)) {
			return fmt.Errorf("the scaffolded %s:%d does not lint clean (%s %s: %s); nothing written: check the names and the type given", f.Path, f.Start.Line, f.Code, f.Name, f.Message)
		}
	}
	return nil
}

// syntaxErrorCode is the syntax-error rule's code (scaffold does not
// import the rules).
const syntaxErrorCode = "MS900"
