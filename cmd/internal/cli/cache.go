package cli

import (
	ucli "github.com/urfave/cli/v3"

	"github.com/migsafe/migsafe/analyzer/parsecache"
	"github.com/migsafe/migsafe/lint"
)

// cacheFlags are the flags of the parse cache (check, status).
func cacheFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "cache-dir", Usage: "cache parse results in `DIR` (default: $XDG_CACHE_HOME/migsafe/parse, else ~/.cache/migsafe/parse)", Sources: ucli.EnvVars(parsecache.EnvDir)},
		&ucli.BoolFlag{Name: "no-cache", Usage: "parse and replay every file again: do not read or write the cache", Sources: ucli.EnvVars("MIGSAFE_NO_CACHE")},
	}
}

// cacheOptions reads the cache flags of a command (none: the defaults).
// The cache holds parse results and, for check, each history's findings.
func cacheOptions(cmd *ucli.Command) lint.CacheOptions {
	return lint.CacheOptions{Dir: cmd.String("cache-dir"), Off: cmd.Bool("no-cache"), Results: true}
}
