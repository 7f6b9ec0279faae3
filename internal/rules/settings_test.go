package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

func TestReservedSetting(t *testing.T) {
	const stmtWay = "remove it; to start from one of its savepoints, set spec.startFromSavepoint (kubectl savepoint start -s clicks --savepoint NAME)"
	statement := func(sql string, properties, config map[string]string) *cmfv1.Statement {
		return &cmfv1.Statement{
			ObjectMeta: metav1.ObjectMeta{Name: "clicks"},
			Spec:       cmfv1.StatementSpec{Statement: sql, ComputePoolName: "pool", Properties: properties, FlinkConfiguration: config},
		}
	}
	application := func(pool string, config map[string]string) *cmfv1.FlinkApplication {
		return &cmfv1.FlinkApplication{
			ObjectMeta: metav1.ObjectMeta{Name: "orders"},
			Spec:       cmfv1.FlinkApplicationSpec{ComputePoolName: pool, FlinkConfiguration: config},
		}
	}
	const insert = "INSERT INTO sink SELECT * FROM source"
	tests := []struct {
		name string
		obj  cmfv1.Parent
		want string
	}{
		{"a plain statement", statement(insert, map[string]string{"sql.current-catalog": "default_catalog"}, map[string]string{"state.backend.type": "rocksdb"}), ""},
		{"execution.savepoint.path in properties", statement(insert, map[string]string{"execution.savepoint.path": "s3://b/team-a/savepoint-1"}, nil),
			"spec.properties[execution.savepoint.path] chooses the savepoint the job restores from, which only the savepoint manager sets on a compute pool: " + stmtWay},
		{"execution.state-recovery.path in flinkConfiguration", statement(insert, nil, map[string]string{"execution.state-recovery.path": "s3://b/x"}),
			"spec.flinkConfiguration[execution.state-recovery.path] chooses the savepoint the job restores from, which only the savepoint manager sets on a compute pool: " + stmtWay},
		{"execution.savepoint-restore-mode", statement(insert, map[string]string{"execution.savepoint-restore-mode": "CLAIM"}, nil),
			"spec.properties[execution.savepoint-restore-mode] chooses the savepoint the job restores from"},
		{"$internal.pipeline.job-id", statement(insert, map[string]string{"$internal.pipeline.job-id": "0123456789abcdef0123456789abcdef"}, nil),
			"spec.properties[$internal.pipeline.job-id] is internal to Flink (the manager submits the job under a job ID of its own), which only the savepoint manager sets on a compute pool"},
		{"pipeline.name", statement(insert, nil, map[string]string{"pipeline.name": "orders"}),
			"spec.flinkConfiguration[pipeline.name] names the job (the manager names it after the parent), which only the savepoint manager sets on a compute pool"},
		{"another case and spaces", statement(insert, map[string]string{" Execution.Savepoint.Path": "s3://b/x"}, nil),
			"spec.properties[ Execution.Savepoint.Path] chooses the savepoint"},
		{"pipeline.name is not a prefix", statement(insert, map[string]string{"pipeline.name-suffix": "x", "pipeline.jars": "y"}, nil), ""},
		{"SET with quotes", statement("SET 'execution.savepoint.path' = 's3://b/team-a/savepoint-1';\n"+insert, nil, nil),
			"spec.statement sets execution.savepoint.path (SET 'execution.savepoint.path' = 's3://b/team-a/savepoint-1'), which chooses the savepoint the job restores from and only the savepoint manager sets on a compute pool: " + stmtWay},
		{"SET without quotes, lower case, after a comment", statement("-- restore\nset execution.state-recovery.path=s3://b/x;"+insert, nil, nil),
			"spec.statement sets execution.state-recovery.path (set execution.state-recovery.path=s3://b/x)"},
		{"SET with a comment between", statement("SET/* x */'$internal.pipeline.job-id'='00';"+insert, nil, nil),
			"spec.statement sets $internal.pipeline.job-id"},
		{"SET of an allowed key", statement("SET 'table.exec.state.ttl' = '1 h';"+insert, nil, nil), ""},
		{"a bare SET", statement("SET;"+insert, nil, nil), ""},
		{"literals Flink would join", statement("SET 'execution.' 'savepoint.path' = 's3://b/x';"+insert, nil, nil),
			`spec.statement: the key of "SET 'execution.' 'savepoint.path' = 's3://b/x'" cannot be read: write it as SET 'key' = 'value', or move the setting to spec.properties`},
		{"an escaped literal", statement("SET U&'\\0065xecution.savepoint.path' = 's3://b/x';"+insert, nil, nil), "cannot be read"},
		{"a doubled quote in a key", statement("SET 'pipeline.name''' = 'x';"+insert, nil, nil), ""},
		{"SET inside a string is no SET", statement("INSERT INTO sink SELECT 'SET ''pipeline.name'' = 1' FROM source", nil, nil), ""},
		{"a word that starts with SET", statement("SETTINGS;"+insert, nil, nil), ""},
		{"a session-mode application", application("pool", map[string]string{"execution.savepoint.path": "s3://b/x"}),
			"spec.flinkConfiguration[execution.savepoint.path] chooses the savepoint the job restores from, which only the savepoint manager sets on a compute pool: remove it; to start from a savepoint, set spec.job.startFromSavepoint (kubectl savepoint start -a orders --savepoint NAME)"},
		{"an operator-mode application has a cluster of its own", application("", map[string]string{"execution.savepoint.path": "s3://b/x", "pipeline.name": "orders"}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ReservedSetting(tt.obj)
			if tt.want == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, tt.want)
		})
	}
}
