// Package docs holds migsafe's documentation. The rule pages in docs/rules
// are generated from the rules' metadata; a test fails when they are stale.
package docs

//go:generate go run ../cmd/internal/gendocs -dir rules
