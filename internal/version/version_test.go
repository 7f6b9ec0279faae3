package version

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPublished(t *testing.T) {
	started := time.Date(2026, 11, 25, 7, 54, 30, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		data map[string]string
		want Published
		text string
	}{
		{
			name: "what Data writes",
			data: Published{Info: Info{Version: "v0.1.0", Commit: "abc1234", GoVersion: "go1.26.0", Platform: "linux/amd64"}, StartTime: started}.Data(),
			want: Published{Info: Info{Version: "v0.1.0", Commit: "abc1234", GoVersion: "go1.26.0", Platform: "linux/amd64"}, StartTime: started.UTC()},
			text: "v0.1.0 (commit abc1234, go1.26.0, linux/amd64), started 2026-11-25T06:54:30Z",
		},
		{
			name: "a start time that does not parse is left out",
			data: map[string]string{"version": "v0.2.0", "commit": "def5678", "goVersion": "go1.27.0", "platform": "darwin/arm64", "startTime": "yesterday"},
			want: Published{Info: Info{Version: "v0.2.0", Commit: "def5678", GoVersion: "go1.27.0", Platform: "darwin/arm64"}},
			text: "v0.2.0 (commit def5678, go1.27.0, darwin/arm64)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromData(tt.data)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.text, got.String())
		})
	}
}

func TestGet(t *testing.T) {
	info := Get()
	assert.Equal(t, Version, info.Version)
	assert.Equal(t, Commit, info.Commit)
	assert.Regexp(t, `^\S+ \(commit \S+, go\S+, \w+/\w+\)$`, info.String())
}
