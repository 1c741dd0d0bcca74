package schemas

import _ "embed"

// MetricsDuckDB creates the metric views (conversation_metrics, admin_metrics, team_metrics) over the
// views of DDL("duckdb", ...), which prints it after them. It is also shipped as a file,
// schemas/sql/metrics.duckdb.sql, to read into a database that has the tables under those names.
//
//go:embed sql/metrics.duckdb.sql
var MetricsDuckDB string
