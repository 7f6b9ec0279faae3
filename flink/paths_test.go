package flink

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPathUnder(t *testing.T) {
	for _, tc := range []struct {
		name, path, dir string
		want            bool
	}{
		{"inside", "s3://b/savepoints/savepoint-1", "s3://b/savepoints", true},
		{"the dir itself", "s3://b/savepoints", "s3://b/savepoints/", true},
		{"a sibling sharing a prefix", "s3://b/savepoints-other/sp", "s3://b/savepoints", false},
		{"another bucket", "s3://team-a/savepoints/sp", "s3://team-b/savepoints", false},
		{"climbing out", "s3://b/savepoints/../team-a/sp", "s3://b/savepoints", false},
		{"file: and a bare path are one", "/tmp/sp/savepoint-1", "file:///tmp/sp", true},
		{"file:// against file:", "file:///tmp/sp/savepoint-1", "file:/tmp/sp", true},
		{"no dir", "s3://b/sp", "", false},
		{"no path", "", "s3://b", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, PathUnder(tc.path, tc.dir))
		})
	}
}
