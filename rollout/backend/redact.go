package backend

import (
	"os"
	"regexp"
	"strings"
	"sync"
)

// secretName is an environment variable that holds a secret.
var secretName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)(PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|PRIVATE_?KEY|CREDENTIAL)`)
})

// urlPassword is the password of a URL's userinfo (postgres://u:p@h/db).
var urlPassword = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(://[^:/@\s]*:)[^@\s]+@`) })

// Redactor hides secrets in what the journal and the terminal show: the
// values of environment variables whose names say they are secrets, and
// passwords in URLs.
type Redactor struct{ secrets []string }

// NewRedactor collects the secrets of an environment (os.Environ when
// env is nil).
func NewRedactor(env []string) *Redactor {
	if env == nil {
		env = os.Environ()
	}
	r := &Redactor{}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if ok && len(v) >= 4 && secretName().MatchString(k) {
			r.secrets = append(r.secrets, v)
		}
	}
	return r
}

// String redacts s.
func (r *Redactor) String(s string) string {
	for _, v := range r.secrets {
		s = strings.ReplaceAll(s, v, "***")
	}
	return urlPassword().ReplaceAllString(s, "${1}***@")
}

// Record redacts a command record.
func (r *Redactor) Record(rec Record) Record {
	argv := make([]string, len(rec.Argv))
	for i, a := range rec.Argv {
		argv[i] = r.String(a)
	}
	rec.Argv = argv
	rec.Output = r.String(rec.Output)
	rec.Note = r.String(rec.Note)
	return rec
}
