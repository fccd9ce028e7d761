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

// openCache wraps d with the parse cache the options ask for. A default
// directory that cannot be created (a read-only home) means no cache, not
// an error; a directory the user named must work.
func openCache(o CacheOptions, d analyzer.Dialect) (analyzer.Dialect, *parsecache.Cache, error) {
	if o.Off {
		return d, nil, nil
	}
	dir := o.Dir
	if dir == "" {
		def, err := parsecache.DefaultDir()
		if err != nil {
			return d, nil, nil
		}
		c, err := parsecache.Open(def)
		if err != nil {
			return d, nil, nil
		}
		return c.Wrap(d), c, nil
	}
	c, err := parsecache.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	return c.Wrap(d), c, nil
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
