package operator

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// The Flink Kubernetes Operator's kinds, handled as unstructured objects: the
// operator publishes no Go types, and its CRD schema (checked by the API
// server) is the contract.
var (
	deploymentGVK = schema.GroupVersionKind{Group: "flink.apache.org", Version: "v1beta1", Kind: "FlinkDeployment"}
	snapshotGVK   = schema.GroupVersionKind{Group: "flink.apache.org", Version: "v1beta1", Kind: "FlinkStateSnapshot"}
)

const (
	// operatorFieldManager owns, by server-side apply, exactly the fields
	// the manager renders into a FlinkDeployment; fields anyone else sets
	// there stay theirs.
	operatorFieldManager = "savepoint-manager"
	// disposeOnDeleteKey is the operator's switch to dispose a savepoint's
	// data when its FlinkStateSnapshot is deleted: always off, since an
	// adopted Savepoint references that data.
	disposeOnDeleteKey = "kubernetes.operator.savepoint.dispose-on-delete"
	// savepointCleanupKey is the operator's savepoint history cleanup (on by
	// default): past kubernetes.operator.savepoint.history.max.count or
	// max.age it disposes legacy savepoints (status.jobStatus.savepointInfo)
	// and deletes FlinkStateSnapshots. Always off: the manager adopted those
	// savepoints as COMPLETED Savepoints, and deleting a Savepoint is what
	// disposes its data.
	savepointCleanupKey = "kubernetes.operator.savepoint.cleanup.enabled"
)

// startPoint is the savepoint an operator-mode job starts from.
type startPoint struct {
	// path is the savepoint's exact location.
	path string
	// allowNonRestoredState, when set, overrides job.allowNonRestoredState.
	allowNonRestoredState *bool
	// description names it for events, e.g. "Savepoint orders-nightly".
	description string
}

func newDeployment() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(deploymentGVK)
	return u
}

// renderDeployment returns the FlinkDeployment an operator-mode application
// runs as. The application's spec mirrors a FlinkDeployment's, so its
// stored spec is copied whole, fields the manager does not know included
// (podTemplate, ingress, logConfiguration, …: whatever the installed
// operator's schema accepts); then what only the manager understands is
// translated: computePoolName dropped, startFromSavepoint resolved into
// job.initialSavepointPath, CPU quantities made the numbers the operator's
// schema wants. start is the resolved startFromSavepoint, or nil.
func renderDeployment(app *unstructured.Unstructured, start *startPoint) (*unstructured.Unstructured, error) {
	spec, _, err := unstructured.NestedMap(app.Object, "spec")
	if err != nil {
		return nil, fmt.Errorf("FlinkApplication %s: spec: %w", app.GetName(), err)
	}
	if spec == nil {
		spec = map[string]any{}
	}
	delete(spec, "computePoolName")

	conf, _, _ := unstructured.NestedStringMap(spec, "flinkConfiguration")
	if conf == nil {
		conf = map[string]string{}
	}
	// Set over whatever the application says: the operator must never
	// dispose data that a Savepoint holds.
	conf[disposeOnDeleteKey] = "false"
	conf[savepointCleanupKey] = "false"
	if err := unstructured.SetNestedStringMap(spec, conf, "flinkConfiguration"); err != nil {
		return nil, err
	}

	for _, process := range []string{"jobManager", "taskManager"} {
		cpu, found, _ := unstructured.NestedFieldNoCopy(spec, process, "resource", "cpu")
		if !found {
			continue
		}
		q, err := resource.ParseQuantity(fmt.Sprint(cpu))
		if err != nil {
			return nil, fmt.Errorf("FlinkApplication %s: spec.%s.resource.cpu %v is not a quantity: write cores as 1, 0.5 or 500m", app.GetName(), process, cpu)
		}
		if err := unstructured.SetNestedField(spec, cpuNumber(q), process, "resource", "cpu"); err != nil {
			return nil, err
		}
	}

	if job, found, _ := unstructured.NestedMap(spec, "job"); found {
		delete(job, "startFromSavepoint")
		if start != nil {
			job["initialSavepointPath"] = start.path
			if start.allowNonRestoredState != nil {
				job["allowNonRestoredState"] = *start.allowNonRestoredState
			}
		}
		spec["job"] = job
	}

	d := newDeployment()
	d.SetName(app.GetName())
	d.SetNamespace(app.GetNamespace())
	d.SetLabels(map[string]string{"app.kubernetes.io/managed-by": operatorFieldManager})
	d.SetOwnerReferences([]metav1.OwnerReference{{
		APIVersion:         cmfv1.GroupVersion.String(),
		Kind:               string(cmfv1.ParentApplication),
		Name:               app.GetName(),
		UID:                app.GetUID(),
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}})
	d.Object["spec"] = spec
	return d, nil
}

// cpuNumber is a CPU quantity as the operator's schema types it (a
// number): whole cores as an integer, so that 2 stays 2 and not 2.0.
func cpuNumber(q resource.Quantity) any {
	if v, ok := q.AsInt64(); ok {
		return v
	}
	return q.AsApproximateFloat64()
}
