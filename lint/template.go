package lint

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// placeholders finds the Go template actions of src, {{ … }}
// (text/template, as supabase-auth and other tools render their
// migrations with): for each, its start and end and those of the action
// inside, as the regular expression `\{\{-?\s*(.*?)\s*-?\}\}` would
// (FindAllSubmatchIndex). That expression was used until its lazy group
// made the matcher backtrack, 20 µs for each of the corpus's 70 templated
// files, every run (3% of a warm one); TestPlaceholders and
// FuzzPlaceholders compare the two.
//
// The pattern's choices come down to this: after "{{" and an optional
// "-", all the whitespace (\s: tab, LF, FF, CR, space) is skipped, and
// the action is the shortest run of characters other than LF after
// which whitespace and "}}" or "-}}" follow. Taking less whitespace
// first, or leaving the "-" to the action, finds no match that this
// misses.
func placeholders(src []byte) [][]int {
	var locs [][]int
	isSpace := func(c byte) bool { return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' ' }
	for i := 0; i+1 < len(src); {
		k := bytes.Index(src[i:], []byte("{{"))
		if k < 0 {
			break
		}
		i += k
		p := i + 2
		if p < len(src) && src[p] == '-' {
			p++
		}
		for p < len(src) && isSpace(src[p]) {
			p++
		}
		end, e := -1, p
		for ; e <= len(src); e++ {
			j := e
			for j < len(src) && isSpace(src[j]) {
				j++
			}
			if bytes.HasPrefix(src[j:], []byte("}}")) {
				end = j + 2
			} else if bytes.HasPrefix(src[j:], []byte("-}}")) {
				end = j + 3
			}
			if end >= 0 || e == len(src) || src[e] == '\n' {
				break
			}
		}
		if end < 0 {
			i++
			continue
		}
		locs = append(locs, []int{i, end, p, e})
		i = end
	}
	return locs
}

// templateKey is the name a placeholder looks up: its last quoted string
// (index .Options "Namespace") or its last .Field (.Namespace).
var templateKey = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`"([^"]+)"|\.([A-Za-z_][A-Za-z0-9_]*)`) })

// renderTemplate makes a templated migration parseable: a placeholder
// whose key vars names becomes that value, any other becomes an
// identifier of underscores of the same length (so that positions stay
// exact). It returns src unchanged and "" when src holds no placeholder,
// else the notice that says so, once for the file.
func renderTemplate(name string, src []byte, vars map[string]string) ([]byte, string) {
	if !bytes.Contains(src, []byte("{{")) {
		return src, ""
	}
	locs := placeholders(src)
	if len(locs) == 0 {
		return src, ""
	}
	var out bytes.Buffer
	last, used, firstKey := 0, 0, ""
	for _, l := range locs {
		out.Write(src[last:l[0]])
		key := keyOf(string(src[l[2]:l[3]]))
		if firstKey == "" {
			firstKey = key
		}
		if v, ok := vars[key]; ok && key != "" {
			out.WriteString(v)
			used++
		} else {
			// newlines stay, so that lines keep their numbers
			for _, c := range src[l[0]:l[1]] {
				if c == '\n' {
					out.WriteByte('\n')
				} else {
					out.WriteByte('_')
				}
			}
		}
		last = l[1]
	}
	out.Write(src[last:])
	line := bytes.Count(src[:locs[0][0]], []byte("\n")) + 1
	what := fmt.Sprintf("%s is a Go template (%d {{ … }} placeholders, the first on line %d)", name, len(locs), line)
	switch {
	case used == len(locs):
		return out.Bytes(), ""
	case used > 0:
		return out.Bytes(), fmt.Sprintf("%s: --template-var set %d of them; the others are linted as names", what, used)
	case firstKey != "":
		return out.Bytes(), fmt.Sprintf("%s: its placeholders are linted as names; to lint it as rendered, give their values (--template-var %s=VALUE)", what, firstKey)
	}
	return out.Bytes(), what + ": its placeholders are linted as names; render it and lint the output to check it as it runs"
}

func keyOf(action string) string {
	var key string
	for _, m := range templateKey().FindAllStringSubmatch(action, -1) {
		key = m[1] + m[2]
	}
	return strings.TrimSpace(key)
}
