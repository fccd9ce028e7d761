package migrate

import (
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Engine kinds.
const (
	Postgres = "postgres"
	MySQL    = "mysql"
)

// target is a parsed database URL. The password is kept only to open
// connections and to scrub it from every message.
type target struct {
	kind     string
	raw      string
	redacted string
	secrets  []string // the password as given, decoded and escaped
	database string
	pg       *pgx.ConnConfig
	my       *mysql.Config
}

// parseTarget reads postgres://, postgresql:// and mysql:// URLs.
func parseTarget(raw string) (*target, error) {
	if raw == "" {
		return nil, errors.New("no database: give --database URL or set MIGSAFE_DATABASE_URL (postgres://user:password@host:5432/db, mysql://user:password@host:3306/db)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url's message quotes the URL: say only which part is wrong
		return nil, errors.New("the database URL cannot be parsed (escape special characters of the password with %XX, e.g. %40 for @, %2F for /)")
	}
	t := &target{raw: raw, redacted: u.Redacted()}
	if pw, ok := u.User.Password(); ok && pw != "" {
		t.secrets = uniq(pw, url.QueryEscape(pw), url.PathEscape(pw), strings.ReplaceAll(url.QueryEscape(pw), "+", "%20"))
		if i := strings.Index(raw, "@"); i > 0 {
			// the password as written in the URL
			if j := strings.Index(raw, "://"); j >= 0 && j+3 < i {
				if _, p, ok := strings.Cut(raw[j+3:i], ":"); ok && p != "" {
					t.secrets = uniq(append(t.secrets, p)...)
				}
			}
		}
	}
	switch u.Scheme {
	case "postgres", "postgresql":
		t.kind = Postgres
		cfg, err := pgx.ParseConfig(raw)
		if err != nil {
			return nil, t.scrub(fmt.Errorf("the database URL %s: %w", t.redacted, err))
		}
		t.pg, t.database = cfg, cfg.Database
	case "mysql", "mariadb":
		t.kind = MySQL
		cfg := mysql.NewConfig()
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
		cfg.Net = "tcp"
		host, port := u.Hostname(), u.Port()
		if host == "" {
			host = "127.0.0.1"
		}
		if port == "" {
			port = "3306"
		}
		cfg.Addr = net.JoinHostPort(host, port)
		cfg.DBName = strings.TrimPrefix(u.Path, "/")
		if cfg.DBName == "" {
			return nil, fmt.Errorf("the database URL %s names no database (mysql://user:password@host:3306/DATABASE)", t.redacted)
		}
		cfg.MultiStatements = true
		cfg.ParseTime = true
		cfg.Loc = time.UTC
		cfg.Params = map[string]string{}
		for k, vs := range u.Query() {
			if len(vs) > 0 {
				cfg.Params[k] = vs[len(vs)-1]
			}
		}
		t.my, t.database = cfg, cfg.DBName
	default:
		return nil, fmt.Errorf("the database URL %s: unknown scheme %q (want postgres:// or mysql://)", t.redacted, u.Scheme)
	}
	return t, nil
}

func uniq(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s == "" {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o == s
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out
}

// scrubString removes the password from a message.
func (t *target) scrubString(s string) string {
	if t == nil {
		return s
	}
	if t.raw != "" && strings.Contains(s, t.raw) {
		s = strings.ReplaceAll(s, t.raw, t.redacted)
	}
	for _, sec := range t.secrets {
		s = strings.ReplaceAll(s, sec, "xxxxx")
	}
	return s
}

// scrubbed is an error whose message has no secret; the cause stays
// reachable for classification (errors.As) but is never printed.
type scrubbed struct {
	msg   string
	cause error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.cause }

func (t *target) scrub(err error) error {
	if err == nil {
		return nil
	}
	msg := t.scrubString(err.Error())
	if msg == err.Error() {
		return err
	}
	return &scrubbed{msg: msg, cause: err}
}

// pool opens a database/sql pool on the target with extra session
// settings (PostgreSQL runtime parameters, MySQL system variables).
func (t *target) pool(settings map[string]string, maxConns int) (*sql.DB, error) {
	var db *sql.DB
	switch t.kind {
	case Postgres:
		cfg := t.pg.Copy()
		if cfg.RuntimeParams == nil {
			cfg.RuntimeParams = map[string]string{}
		}
		for k, v := range settings {
			cfg.RuntimeParams[k] = v
		}
		db = stdlib.OpenDB(*cfg)
	default:
		cfg := t.my.Clone()
		for k, v := range settings {
			cfg.Params[k] = v
		}
		c, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, t.scrub(fmt.Errorf("the database URL %s: %w", t.redacted, err))
		}
		db = sql.OpenDB(c)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// seconds formats a duration for a MySQL variable that takes seconds.
func seconds(d time.Duration, min int) string {
	s := int(d.Round(time.Second) / time.Second)
	if s < min {
		s = min
	}
	return strconv.Itoa(s)
}

// pgDuration formats a duration for a PostgreSQL setting ("1500ms").
func pgDuration(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}
