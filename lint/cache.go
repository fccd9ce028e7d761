package lint

import (
	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/parsecache"
)

// CacheOptions say where parse results are cached.
type CacheOptions struct {
	// Dir is the cache directory; "" means parsecache.DefaultDir()
	// ($MIGSAFE_CACHE_DIR, else $XDG_CACHE_HOME/migsafe/parse, else
	// ~/.cache/migsafe/parse).
	Dir string
	// Off: parse every file (--no-cache).
	Off bool
	// Results also caches what Check found in each history, keyed by
	// everything the findings depend on (every file of the history, in
	// order, the settings, the deploys, the build): a history in which
	// nothing changed is not replayed. Check's files then have no
	// statements, whether replayed or not (Result.Statements still counts
	// them), and each history's catalog only its unmodelled statements.
	Results bool
}

// openCache opens the cache the options ask for (nil: none). A default
// directory that cannot be created (a read-only home) means no cache, not
// an error; a directory the user named must work.
func openCache(o CacheOptions) (*parsecache.Cache, error) {
	if o.Off {
		return nil, nil
	}
	dir := o.Dir
	if dir == "" {
		def, err := parsecache.DefaultDir()
		if err != nil {
			return nil, nil
		}
		c, err := parsecache.Open(def)
		if err != nil {
			return nil, nil
		}
		return c, nil
	}
	return parsecache.Open(dir)
}

// cachedDialect is d with its parses kept in c (d itself without a
// cache).
func cachedDialect(c *parsecache.Cache, d analyzer.Dialect) analyzer.Dialect {
	if c == nil {
		return d
	}
	return c.WrapFrom(d, minCached(d))
}

// minCached is the smallest part whose parse the cache keeps. libpg_query
// parses a PostgreSQL part under 512 bytes (most down migrations) in
// less time than the cache opens, reads and decodes its entry: on the
// corpus's 1,215 such files, 8.8 µs against 16 µs a file, in process; the
// larger ones take longer to parse (29.6 µs against 24.6 µs from 512
// bytes to 1 KB). For a history of 557 files with one changed, a run took
// 43 ms instead of 49. MySQL's parser is as fast as the cache on those
// small files, but the cache spares the memory of a parser instance when
// every part is cached, so MySQL caches every part.
func minCached(d analyzer.Dialect) int {
	if d.Name() == analyzer.Postgres {
		return 512
	}
	return 0
}

// Cache is the parse cache of the run, nil without one.
func (s *Settings) Cache() *parsecache.Cache { return s.cache }

// Done ends a run: when it wrote cache entries, the cache is trimmed to
// its size bound if it is due (at most once an hour: TrimIfDue). Errors
// are ignored: the cache only saves time.
func (s *Settings) Done() {
	if s.cache != nil && s.cache.Stats().Writes > 0 {
		_ = s.cache.TrimIfDue()
	}
}
