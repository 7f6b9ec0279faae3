package rules

import (
	"fmt"
	"time"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
)

// Parents are the FlinkApplications and Statements of one namespace.
type Parents struct {
	Applications []cmfv1.FlinkApplication
	Statements   []cmfv1.Statement
}

// RestorePoint says why deleting sp would take a parent's restore point
// away, or "" when it would not. siblings are the Savepoints attached to
// sp's own parent (sp among them or not). A savepoint is a restore point
// when:
//   - its parent's job does not run and will resume from the recorded
//     resume path;
//   - its parent is suspended and will resume from it: the Flink
//     Kubernetes Operator's upgrade savepoint, or its newest COMPLETED
//     savepoint;
//   - any parent of the namespace names it in startFromSavepoint (by name,
//     uid or path) or in job.initialSavepointPath.
func RestorePoint(sp *cmfv1.Savepoint, siblings []cmfv1.Savepoint, parents Parents) string {
	if sp.Status.State != cmfv1.StateCompleted || sp.Status.Path == "" {
		return ""
	}
	path := flink.NormalizePath(sp.Status.Path)
	kind, name := sp.Parent()
	names := func(ref *cmfv1.StartFromSavepoint) bool {
		return ref != nil && (ref.SavepointName == sp.Name || ref.UID == string(sp.UID) ||
			(ref.InitialSavepointPath != "" && flink.NormalizePath(ref.InitialSavepointPath) == path))
	}
	for i := range parents.Applications {
		app := &parents.Applications[i]
		if app.Spec.Job == nil {
			continue
		}
		if app.Name == name && kind == cmfv1.ParentApplication {
			suspended := app.Spec.Job.State == cmfv1.JobSuspended
			if why := resumePoint(sp, path, siblings, suspended, app.Status.JobStatus.State == "RUNNING", app.Status.Session, app.Status.Operator); why != "" {
				return fmt.Sprintf("FlinkApplication %s will resume from it (%s)", app.Name, why)
			}
		}
		if names(app.Spec.Job.StartFromSavepoint) {
			return fmt.Sprintf("FlinkApplication %s starts from it (spec.job.startFromSavepoint)", app.Name)
		}
		if p := app.Spec.Job.InitialSavepointPath; p != "" && flink.NormalizePath(p) == path {
			return fmt.Sprintf("FlinkApplication %s starts from it (spec.job.initialSavepointPath)", app.Name)
		}
	}
	for i := range parents.Statements {
		stmt := &parents.Statements[i]
		if stmt.Name == name && kind == cmfv1.ParentStatement {
			if why := resumePoint(sp, path, siblings, stmt.Spec.Stopped, stmt.Status.JobStatus.State == "RUNNING", stmt.Status.Session, nil); why != "" {
				return fmt.Sprintf("Statement %s will resume from it (%s)", stmt.Name, why)
			}
		}
		// A statement starts only from its own savepoints.
		if stmt.Name == name && kind == cmfv1.ParentStatement && names(stmt.Spec.StartFromSavepoint) {
			return fmt.Sprintf("Statement %s starts from it (spec.startFromSavepoint)", stmt.Name)
		}
	}
	return ""
}

// resumePoint says why a parent resumes from sp, or "": the recorded
// resume path while its job does not run; the operator's upgrade savepoint
// or the newest COMPLETED savepoint while it is suspended.
func resumePoint(sp *cmfv1.Savepoint, path string, siblings []cmfv1.Savepoint, suspended, running bool, session *cmfv1.SessionStatus, operator *cmfv1.OperatorStatus) string {
	if !running && session != nil && session.ResumeFrom != "" && flink.NormalizePath(session.ResumeFrom) == path {
		return "status.session.resumeFrom"
	}
	if !suspended {
		return ""
	}
	if operator != nil && operator.AdoptedUpgradeSavepointPath != "" && flink.NormalizePath(operator.AdoptedUpgradeSavepointPath) == path {
		return "the Flink Kubernetes Operator's upgrade savepoint"
	}
	newest := sp
	for i := range siblings {
		other := &siblings[i]
		if other.Status.State == cmfv1.StateCompleted && other.Status.Path != "" && other.UID != sp.UID && completedAfter(other, newest) {
			newest = other
		}
	}
	if newest == sp {
		// Two completed in the same second are both the newest: both kept.
		return "its newest COMPLETED savepoint"
	}
	return ""
}

func completedAfter(a, b *cmfv1.Savepoint) bool {
	return completedAt(a).After(completedAt(b))
}

// completedAt is when sp completed, else when it was made (adopted ones).
func completedAt(sp *cmfv1.Savepoint) time.Time {
	if sp.Status.ResultTimestamp != nil {
		return sp.Status.ResultTimestamp.Time
	}
	return sp.CreationTimestamp.Time
}
