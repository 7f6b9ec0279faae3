package flink

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSplitStatements(t *testing.T) {
	for _, tc := range []struct {
		name, sql string
		want      []string
	}{
		{"one", "INSERT INTO s SELECT * FROM t", []string{"INSERT INTO s SELECT * FROM t"}},
		{"trailing semicolon and space", "INSERT INTO s SELECT 1;  \n", []string{"INSERT INTO s SELECT 1"}},
		{"two", "CREATE TEMPORARY TABLE t (a INT) WITH ('connector'='datagen'); INSERT INTO s SELECT a FROM t;",
			[]string{"CREATE TEMPORARY TABLE t (a INT) WITH ('connector'='datagen')", "INSERT INTO s SELECT a FROM t"}},
		{"semicolon in a string", "INSERT INTO s SELECT 'a;b'", []string{"INSERT INTO s SELECT 'a;b'"}},
		{"doubled quote in a string", "INSERT INTO s SELECT 'it''s; here'; SELECT 2", []string{"INSERT INTO s SELECT 'it''s; here'", "SELECT 2"}},
		{"semicolon in identifiers", "SELECT `a;b`, \"c;d\" FROM t", []string{"SELECT `a;b`, \"c;d\" FROM t"}},
		{"line comment", "-- first; still a comment\nSELECT 1; -- done;\nSELECT 2", []string{"SELECT 1", "SELECT 2"}},
		{"block comment", "SELECT /* a; b */ 1; SELECT 2", []string{"SELECT   1", "SELECT 2"}},
		{"unterminated comment", "SELECT 1; /* open", []string{"SELECT 1"}},
		{"unterminated string", "SELECT 'open;", []string{"SELECT 'open;"}},
		{"only comments and semicolons", " ; -- x\n ; /* y */", nil},
		{"empty", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, SplitStatements(tc.sql))
		})
	}
}
