module github.com/migsafe/migsafe

go 1.26.8

require (
	github.com/go-sql-driver/mysql v1.10.1
	github.com/pganalyze/pg_query_go/v6 v6.2.5
	github.com/urfave/cli/v3 v3.14.0
	go.yaml.in/yaml/v3 v3.0.6
)

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	google.golang.org/protobuf v1.33.0 // indirect
)
