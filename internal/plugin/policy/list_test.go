package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdtesting"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

// table is the rows of a table, cells split where two spaces or more are.
func table(s string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		var cells []string
		for _, cell := range strings.Split(line, "  ") {
			if cell = strings.TrimSpace(cell); cell != "" {
				cells = append(cells, cell)
			}
		}
		rows = append(rows, cells)
	}
	return rows
}

func policies() []client.Object {
	at := func(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(d)); return &t }
	return []client.Object{
		nightly(),
		&cmfv1.SavepointPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default", CreationTimestamp: metav1.NewTime(now.Add(-48 * time.Hour))},
			Spec:       cmfv1.SavepointPolicySpec{Schedule: "@every 6h", Suspend: true},
			Status:     cmfv1.SavepointPolicyStatus{ParentCount: 5, NextScheduleTime: at(time.Hour)},
		},
		&cmfv1.SavepointPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "overdue", CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
			Spec: cmfv1.SavepointPolicySpec{
				Schedule: "*/5 * * * *", TimeZone: "Asia/Tokyo",
				Parents: &cmfv1.PolicyParents{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "critical"}}},
			},
			Status: cmfv1.SavepointPolicyStatus{ParentCount: 1, LastSuccessTime: at(-3 * time.Minute), NextScheduleTime: at(-10 * time.Second)},
		},
		&cmfv1.SavepointPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "defaults", CreationTimestamp: metav1.NewTime(now.Add(-time.Hour))},
			Spec:       cmfv1.SavepointPolicySpec{Template: &cmfv1.SavepointTemplate{FormatType: cmfv1.FormatNative}},
		},
	}
}

func TestList(t *testing.T) {
	header := []string{"NAME", "SCHEDULE", "SUSPENDED", "PARENTS", "LAST SUCCESS", "NEXT", "AGE"}
	tests := []struct {
		name      string
		namespace string // default: team-a
		args      []string

		wantTable  [][]string // instead of wantOut
		wantOut    string
		wantErrOut string
		wantErr    string
	}{{
		name: "the namespace's policies: last success as an age, next relative to now",
		wantTable: [][]string{
			header,
			{"default", "@every 6h", "true", "5", "<none>", "<suspended>", "2d"},
			{"nightly", "0 2 * * *", "false", "2", "32h", "in 15h", "30d"},
			{"overdue", "*/5 * * * *", "false", "1", "3m", "due", "60m"},
		},
	}, {
		name: "-o wide: time zones and what each covers",
		args: []string{"-o", "wide"},
		wantTable: [][]string{
			append(header, "TIME ZONE", "COVERS"),
			{"default", "@every 6h", "true", "5", "<none>", "<suspended>", "2d", "UTC", "namespace default"},
			{"nightly", "0 2 * * *", "false", "2", "32h", "in 15h", "30d", "Europe/Berlin", "applications orders; statements clicks"},
			{"overdue", "*/5 * * * *", "false", "1", "3m", "due", "60m", "Asia/Tokyo", "labels tier=critical"},
		},
	}, {
		name: "every namespace",
		args: []string{"-A", "--no-headers"},
		wantTable: [][]string{
			{"team-a", "default", "@every 6h", "true", "5", "<none>", "<suspended>", "2d"},
			{"team-a", "nightly", "0 2 * * *", "false", "2", "32h", "in 15h", "30d"},
			{"team-a", "overdue", "*/5 * * * *", "false", "1", "3m", "due", "60m"},
			{"team-b", "defaults", "<none>", "false", "0", "<none>", "<none>", "60m"},
		},
	}, {
		name:    "by name, as itself",
		args:    []string{"nightly", "-o", "jsonpath={.spec.schedule}"},
		wantOut: "0 2 * * *",
	}, {
		name:    "-o name",
		args:    []string{"-o", "name"},
		wantOut: "savepointpolicy.cmf.confluent.io/default\nsavepointpolicy.cmf.confluent.io/nightly\nsavepointpolicy.cmf.confluent.io/overdue\n",
	}, {
		name:    "names not there are an error",
		args:    []string{"ghost"},
		wantErr: "no savepoint policy ghost in namespace team-a: list them with kubectl savepoint policy list",
	}, {
		name:       "none: told on stderr, not an error",
		namespace:  "team-c",
		wantErrOut: "No savepoint policies found in namespace team-c.\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cmdtesting.NewFactory(ns, policies()...)
			if tt.namespace != "" {
				f.NS = tt.namespace
			}
			streams, _, out, errOut := genericiooptions.NewTestIOStreams()
			o := &ListOptions{Output: cmdutil.NewOutput(), IOStreams: streams, now: func() time.Time { return now }}
			err := cmdtesting.Execute(newListCmd(f, o), streams, tt.args...)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			if tt.wantTable != nil {
				assert.Equal(t, tt.wantTable, table(out.String()))
			} else {
				assert.Equal(t, tt.wantOut, out.String())
			}
			assert.Equal(t, tt.wantErrOut, errOut.String())
		})
	}
}
