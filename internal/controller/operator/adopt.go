package operator

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/adopt"
)

// AdoptedAsAnnotation on a FlinkStateSnapshot names the Savepoint it was
// adopted as. It is the record that adopts each snapshot once: a Savepoint a
// user deleted (and whose data was disposed) is not adopted again while the
// operator keeps the snapshot object.
const AdoptedAsAnnotation = "cmf.confluent.io/adopted-as"

// The operator's snapshot labels and values (FlinkStateSnapshot, 1.10+).
const (
	snapshotTriggerTypeLabel = "snapshot.trigger-type"
	snapshotJobNameLabel     = "job-reference.name"
	snapshotJobKindLabel     = "job-reference.kind"
	// upgradePlaceholder is what the operator writes to upgradeSavepointPath
	// for a last-state upgrade: no savepoint at all.
	upgradePlaceholder = "KUBERNETES_OPERATOR_LAST_STATE"
)

// adopt turns the savepoints the operator took for the application's
// deployment into Savepoints, each once: its FlinkStateSnapshots, then what
// its status reports without them (an operator before 1.10, or with
// snapshot resources turned off).
func (r *reconciler) adopt(ctx context.Context, app *cmfv1.FlinkApplication, dep *unstructured.Unstructured) error {
	round := &adoptionRound{app: app}
	if r.snapshots {
		if err := r.adoptSnapshots(ctx, round); err != nil {
			return err
		}
	}
	return r.adoptLegacy(ctx, round, dep)
}

// adoptionRound is one reconcile's adoption for an application.
type adoptionRound struct {
	app *cmfv1.FlinkApplication
	// suspended, read once a savepoint is found: whether the application
	// asks for its job suspended.
	suspended *bool
}

// origin maps the operator's trigger type to a Savepoint origin. The
// operator calls a suspend's savepoint an UPGRADE too; the application's
// spec says which it was. The operator takes that savepoint after the spec
// asked for the suspend, so the spec is read now rather than as it was when
// this reconcile began.
func (r *reconciler) origin(ctx context.Context, round *adoptionRound, triggerType string) (cmfv1.SavepointOrigin, error) {
	switch strings.ToUpper(triggerType) {
	case "UPGRADE":
		if round.suspended == nil {
			app := &cmfv1.FlinkApplication{}
			if err := r.live.Get(ctx, client.ObjectKeyFromObject(round.app), app); err != nil {
				return "", err
			}
			round.suspended = ptr.To(app.Spec.Job != nil && app.Spec.Job.State == cmfv1.JobSuspended)
		}
		if *round.suspended {
			return cmfv1.OriginSuspend, nil
		}
		return cmfv1.OriginUpgrade, nil
	case "PERIODIC":
		return cmfv1.OriginPeriodic, nil
	}
	return cmfv1.OriginManual, nil
}

func (r *reconciler) adoptSnapshots(ctx context.Context, round *adoptionRound) error {
	app := round.app
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(snapshotGVK.GroupVersion().WithKind(snapshotGVK.Kind + "List"))
	if err := r.cache.List(ctx, list, client.InNamespace(app.Namespace)); err != nil {
		return fmt.Errorf("list FlinkStateSnapshots in %s: %w", app.Namespace, err)
	}
	// Oldest first, so that events tell the story in order.
	sort.SliceStable(list.Items, func(i, j int) bool {
		return list.Items[i].GetCreationTimestamp().Time.Before(list.Items[j].GetCreationTimestamp().Time)
	})
	for i := range list.Items {
		snap := &list.Items[i]
		if name, _ := snapshotDeployment(snap); name != app.Name || snap.GetAnnotations()[AdoptedAsAnnotation] != "" {
			continue
		}
		path, format := snapshotPath(snap)
		if path == "" {
			continue // a checkpoint, or a savepoint still in flight
		}
		// The cache may not show our own annotation yet: the record that
		// makes this once must be read as it is now.
		if err := r.live.Get(ctx, client.ObjectKeyFromObject(snap), snap); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return err
		}
		if snap.GetAnnotations()[AdoptedAsAnnotation] != "" {
			continue
		}
		origin, err := r.origin(ctx, round, snap.GetLabels()[snapshotTriggerTypeLabel])
		if err != nil {
			return err
		}
		name, err := r.adoptOne(ctx, app, adopt.Adoption{
			Namespace: app.Namespace,
			Kind:      cmfv1.ParentApplication,
			Parent:    app.Name,
			Path:      path,
			Origin:    origin,
			From:      "flinkstatesnapshot/" + snap.GetName(),
			Format:    format,
		})
		if err != nil {
			return err
		}
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, AdoptedAsAnnotation, name)
		if err := r.client.Patch(ctx, snap, client.RawPatch(types.MergePatchType, []byte(patch))); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("record the adoption of FlinkStateSnapshot %s as Savepoint %s: %w", snap.GetName(), name, err)
		}
		if dispose, set, _ := unstructured.NestedBool(snap.Object, "spec", "savepoint", "disposeOnDelete"); dispose || !set {
			r.events.Eventf(app, nil, "Warning", "SnapshotDisposesOnDelete", "Adopt",
				"FlinkStateSnapshot %s is adopted as Savepoint %s but has spec.savepoint.disposeOnDelete on: deleting the snapshot disposes the data that Savepoint %s holds; set it to false on the snapshot", snap.GetName(), name, name)
		}
	}
	return nil
}

// adoptLegacy adopts the savepoints the deployment's status reports:
// upgradeSavepointPath (also set beside an UPGRADE FlinkStateSnapshot of
// the same path, which adopt finds), and savepointInfo's last savepoint
// and history. The application's status.operator records what was adopted.
func (r *reconciler) adoptLegacy(ctx context.Context, round *adoptionRound, dep *unstructured.Unstructured) error {
	app := round.app
	st := app.Status.Operator
	upgrade, _, _ := unstructured.NestedString(dep.Object, "status", "jobStatus", "upgradeSavepointPath")
	jobID, _, _ := unstructured.NestedString(dep.Object, "status", "jobStatus", "jobId")
	if upgrade != "" && upgrade != upgradePlaceholder && flink.NormalizePath(upgrade) != flink.NormalizePath(st.AdoptedUpgradeSavepointPath) {
		origin, err := r.origin(ctx, round, "UPGRADE")
		if err != nil {
			return err
		}
		_, err = r.adoptOne(ctx, app, adopt.Adoption{
			Namespace: app.Namespace,
			Kind:      cmfv1.ParentApplication,
			Parent:    app.Name,
			Path:      upgrade,
			Origin:    origin,
			From:      "flinkdeployment/" + dep.GetName() + " status.jobStatus.upgradeSavepointPath",
		})
		if err != nil {
			return err
		}
		st.AdoptedUpgradeSavepointPath = upgrade
	}

	info, _, _ := unstructured.NestedMap(dep.Object, "status", "jobStatus", "savepointInfo")
	var infos []map[string]any
	if last, ok := info["lastSavepoint"].(map[string]any); ok {
		infos = append(infos, last)
	}
	if history, ok := info["savepointHistory"].([]any); ok {
		for _, h := range history {
			if m, ok := h.(map[string]any); ok {
				infos = append(infos, m)
			}
		}
	}
	sort.Slice(infos, func(i, j int) bool { return int64Of(infos[i]["timeStamp"]) < int64Of(infos[j]["timeStamp"]) })
	watermark := st.AdoptedSavepointTimestamp
	for _, sp := range infos {
		location, _ := sp["location"].(string)
		ts := int64Of(sp["timeStamp"])
		if location == "" || location == upgradePlaceholder || ts <= watermark {
			continue
		}
		triggerType, _ := sp["triggerType"].(string)
		format, _ := sp["formatType"].(string)
		origin, err := r.origin(ctx, round, triggerType)
		if err != nil {
			return err
		}
		_, err = r.adoptOne(ctx, app, adopt.Adoption{
			Namespace: app.Namespace,
			Kind:      cmfv1.ParentApplication,
			Parent:    app.Name,
			Path:      location,
			JobID:     jobIDIfPeriodic(triggerType, jobID),
			Origin:    origin,
			From:      "flinkdeployment/" + dep.GetName() + " status.jobStatus.savepointInfo",
			Format:    savepointFormat(format),
		})
		if err != nil {
			return err
		}
		st.AdoptedSavepointTimestamp = max(st.AdoptedSavepointTimestamp, ts)
	}
	return nil
}

// adoptOne adopts a and says so on the application when it is new.
func (r *reconciler) adoptOne(ctx context.Context, app *cmfv1.FlinkApplication, a adopt.Adoption) (string, error) {
	name, created, err := adopt.Savepoint(ctx, r.client, a)
	if err != nil {
		return "", err
	}
	if created {
		r.events.Eventf(app, nil, "Normal", "Adopted", "Adopt", "%s savepoint at %s adopted as Savepoint %s (from %s)", a.Origin, a.Path, name, a.From)
	}
	return name, nil
}

// snapshotDeployment is the FlinkDeployment a FlinkStateSnapshot belongs
// to: the operator labels its snapshots, a user's may only say it in spec.
func snapshotDeployment(snap *unstructured.Unstructured) (string, bool) {
	name := snap.GetLabels()[snapshotJobNameLabel]
	kind := snap.GetLabels()[snapshotJobKindLabel]
	if name == "" {
		name, _, _ = unstructured.NestedString(snap.Object, "spec", "jobReference", "name")
		kind, _, _ = unstructured.NestedString(snap.Object, "spec", "jobReference", "kind")
	}
	if kind != "" && kind != deploymentGVK.Kind {
		return "", false // a FlinkSessionJob's
	}
	return name, name != ""
}

// snapshotPath is where a savepoint snapshot's data is, once the operator
// says it is there: status.path of a COMPLETED snapshot (an UPGRADE
// snapshot, whose spec names a savepoint the operator already took, is
// marked so by the operator at once). A checkpoint snapshot has none.
func snapshotPath(snap *unstructured.Unstructured) (string, cmfv1.FormatType) {
	sp, found, _ := unstructured.NestedMap(snap.Object, "spec", "savepoint")
	if !found {
		return "", ""
	}
	format, _ := sp["formatType"].(string)
	// Only what the operator wrote in status: it marks a snapshot that
	// names a savepoint that "already exists" COMPLETED with that path
	// itself. A spec is what a user wrote; a path read from it would make
	// any path a Savepoint whose delete disposes it.
	state, _, _ := unstructured.NestedString(snap.Object, "status", "state")
	path, _, _ := unstructured.NestedString(snap.Object, "status", "path")
	if state != "COMPLETED" {
		return "", ""
	}
	return path, savepointFormat(format)
}

// savepointFormat keeps the operator's format when it is one of ours.
func savepointFormat(format string) cmfv1.FormatType {
	switch f := cmfv1.FormatType(format); f {
	case cmfv1.FormatCanonical, cmfv1.FormatNative:
		return f
	}
	return ""
}

// jobIDIfPeriodic: a periodic savepoint is of the job running now; an
// upgrade's was of the job before.
func jobIDIfPeriodic(triggerType, jobID string) string {
	if strings.EqualFold(triggerType, "PERIODIC") {
		return jobID
	}
	return ""
}

func int64Of(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case float64:
		return int64(n)
	}
	return 0
}
