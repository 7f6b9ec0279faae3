package controlplane

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// RecordJob writes into a parent's status the job it runs, as the manager
// does: session mode when it submits a job (or takes one over by the ID the
// parent names), operator mode when it mirrors the Flink Kubernetes
// Operator's status.jobStatus.jobId. The manager finds a parent's job only
// by this ID, never by its name, so a test whose parent's job runs on a
// cluster no controller of its own started (a harness job, with the operator
// not installed or the pool absent) writes it here. The rest of the status
// is left as it is.
func (e *Env) RecordJob(t testing.TB, parent cmfv1.Parent, jobID string) {
	t.Helper()
	ctx := context.Background()
	var obj client.Object = parent
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := e.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		*parent.ObservedJob() = cmfv1.JobStatus{JobID: jobID, State: "RUNNING", JobName: obj.GetName()}
		return e.Client.Status().Update(ctx, obj)
	}), "record job %s in the status of %s %s", jobID, parent.ParentKind(), obj.GetName())
}
