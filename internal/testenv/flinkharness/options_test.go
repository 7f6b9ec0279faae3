package flinkharness

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestClusterArgs(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		want    []string
		wantErr bool
	}{
		{
			name: "empty session cluster",
			opts: Options{},
			want: []string{"--work-dir", "/w", "--rest-port", "0", "--ready-timeout", "120000 ms", "--exit-on-stdin-eof"},
		},
		{
			name: "job restored with a gateway",
			opts: Options{
				JobName: "j", RestoreFrom: "file:/sp/savepoint-1", AllowNonRestoredState: true,
				Parallelism: 2, Variant: JobVariantWithoutCounter, RecordsPerSecond: 12.5,
				SQLGateway: true, AsyncStoreDuration: 2 * time.Second, SavepointDir: "/sp",
				FlinkConfig: map[string]string{"b": "2", "a": "1"}, ReadyTimeout: time.Minute,
			},
			want: []string{
				"--work-dir", "/w", "--rest-port", "0", "--ready-timeout", "60000 ms", "--exit-on-stdin-eof",
				"--savepoint-dir", "/sp", "--async-store-duration", "2000 ms", "--sql-gateway-port", "0",
				"--set", "a=1", "--set", "b=2",
				"--job-name", "j", "--variant", "dropped-counter", "--rate", "12.5", "--parallelism", "2",
				"--restore-from", "file:/sp/savepoint-1", "--allow-non-restored-state",
			},
		},
		{name: "restore without a job", opts: Options{RestoreFrom: "/sp"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.opts.clusterArgs("/w")
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestSourceKeyFollowsSources(t *testing.T) {
	project := t.TempDir()
	write := func(rel, content string) {
		path := filepath.Join(project, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	write("pom.xml", "<project/>")
	write("src/main/java/A.java", "class A {}")
	first, err := sourceKey(project)
	require.NoError(t, err)

	write("target/ignored.jar", "build output")
	again, err := sourceKey(project)
	require.NoError(t, err)
	require.Equal(t, first, again, "files outside pom.xml and src/ must not change the key")

	write("src/main/java/A.java", "class A { int x; }")
	changed, err := sourceKey(project)
	require.NoError(t, err)
	require.NotEqual(t, first, changed)
}

func TestRepoRootIsTheRootModule(t *testing.T) {
	root, err := repoRoot()
	require.NoError(t, err)
	require.True(t, isRootModule(filepath.Join(root, "go.mod")))
	require.DirExists(t, filepath.Join(root, "e2e", "flink-job"))
}
