package pgxstore

// MigrateTo lets the external tests build a database of an earlier schema
// version, to check that later migrations carry its rows over.
var MigrateTo = migrateTo
