// Package retention keeps the data of COMPLETED attached savepoints that go
// in bulk, with their namespace or with the Savepoint CRD: no user asked for
// that data to go, so by default it is kept as a DetachedSavepoint.
package retention

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/flinkop"
)

// BulkDeletePolicy says what happens to the data of a COMPLETED attached
// savepoint that is deleted in bulk: with its namespace, or with the
// Savepoint CRD. No user asked for that savepoint to go, so by default its
// data is kept.
type BulkDeletePolicy string

const (
	// BulkDetach keeps the data and records it as a DetachedSavepoint in the
	// retention namespace, findable with kubectl savepoint list --detached -A
	// and restorable with kubectl savepoint start. Where no DetachedSavepoint
	// can be made (the CRDs or the retention namespace are going too), it
	// keeps the data as BulkKeep does.
	BulkDetach BulkDeletePolicy = "detach"
	// BulkKeep keeps the data and records its path in a Warning event and
	// the manager's log.
	BulkKeep BulkDeletePolicy = "keep"
	// BulkDispose disposes the data, as an explicit delete does.
	BulkDispose BulkDeletePolicy = "dispose"
)

// Labels and annotations on a DetachedSavepoint that keeps the data of a
// savepoint deleted in bulk.
const (
	// RetainedFromNamespaceLabel is the namespace the savepoint was in.
	RetainedFromNamespaceLabel = "cmf.confluent.io/Retained-from-namespace"
	// RetainedFromAnnotation is "<namespace>/<Kind>/<parent>/<savepoint>".
	RetainedFromAnnotation = "cmf.confluent.io/Retained-from"
)

// savepointCRD is the CustomResourceDefinition of Savepoints: while it is
// being deleted, every Savepoint goes with it.
const savepointCRD = "savepoints.cmf.confluent.io"

// crdGoing starts the reason of a bulk deletion by the CRDs' deletion: the
// DetachedSavepoint CRD is installed and removed with the Savepoint CRD, so
// no DetachedSavepoint can keep the data then.
const crdGoing = "the Savepoint CRD"

// Retained is a savepoint's data to keep when it goes in bulk.
type Retained struct {
	Namespace string
	Kind      cmfv1.ParentKind
	Parent    string
	// Name is the Savepoint's name, or for a stop's savepoint never
	// adopted, a name made for it.
	Name   string
	UID    string
	Path   string
	Origin cmfv1.SavepointOrigin
}

// Retainer keeps the data of savepoints deleted in bulk, by policy.
type Retainer struct {
	// Client creates the DetachedSavepoints.
	Client client.Client
	// Live reads the namespace and the CRD past the cache: a deletion is
	// decided on what the API server says now.
	Live   client.Reader
	Events recorder.EventRecorder
	// Policy says what becomes of the data.
	Policy BulkDeletePolicy
	// Namespace is the retention namespace that BulkDetach records in.
	Namespace string
}

// BulkDeletion says why an object of namespace deleted at deleted goes in
// bulk: its namespace, or the Savepoint CRD, was being deleted by then.
// Empty: it was deleted on its own (an explicit delete that came first
// stays explicit, whatever is deleted after it).
func (r *Retainer) BulkDeletion(ctx context.Context, namespace string, deleted *metav1.Time) (string, error) {
	before := func(t *metav1.Time) bool { return deleted == nil || !deleted.Before(t) }
	ns := &corev1.Namespace{}
	switch err := r.Live.Get(ctx, client.ObjectKey{Name: namespace}, ns); {
	case apierrors.IsNotFound(err):
		return "namespace " + namespace + " is gone", nil
	case err != nil:
		return "", err
	case !ns.DeletionTimestamp.IsZero() && before(ns.DeletionTimestamp):
		return "namespace " + namespace + " is being deleted", nil
	}
	crd := &metav1.PartialObjectMetadata{}
	crd.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
	switch err := r.Live.Get(ctx, client.ObjectKey{Name: savepointCRD}, crd); {
	case apierrors.IsNotFound(err):
		return crdGoing + " is gone", nil
	case err != nil:
		return "", err
	case !crd.GetDeletionTimestamp().IsZero() && before(crd.GetDeletionTimestamp()):
		return crdGoing + " " + savepointCRD + " is being deleted", nil
	}
	return "", nil
}

// Keep records the data of a savepoint deleted in bulk (why) by the
// policy, other than dispose, and says where it is on about (an event's
// object). It is safe to repeat: the DetachedSavepoint's name is derived
// from what it keeps.
func (r *Retainer) Keep(ctx context.Context, about runtime.Object, s Retained, why string) error {
	if r.Policy == BulkDetach && r.Namespace != "" && !strings.HasPrefix(why, crdGoing) {
		name, err := r.detach(ctx, s)
		if err == nil {
			r.Events.Eventf(about, nil, corev1.EventTypeNormal, "Retained", "Delete",
				"%s: savepoint data at %s kept as DetachedSavepoint %s/%s (start from it with kubectl savepoint start --savepoint %s)", why, s.Path, r.Namespace, name, name)
			return nil
		}
		if !cannotDetach(err) {
			return err
		}
		why += "; no DetachedSavepoint can be made (" + flinkop.Message(err) + ")"
	}
	logf.FromContext(ctx).Info("savepoint deleted in bulk: data kept, nothing refers to it any more",
		"reason", why, "path", s.Path, "namespace", s.Namespace, "savepoint", s.Name, "parent", string(s.Kind)+"/"+s.Parent)
	r.Events.Eventf(about, nil, corev1.EventTypeWarning, "Kept", "Delete",
		"%s: savepoint data at %s kept; no resource refers to it any more: import it to use it again (kubectl savepoint import NAME --path %s)", why, s.Path, s.Path)
	return nil
}

// cannotDetach: the DetachedSavepoint cannot be made where it should go
// (the retention namespace or the CRD is going, or there is none).
func cannotDetach(err error) bool {
	return apierrors.IsNotFound(err) || apierrors.IsForbidden(err) || apierrors.IsMethodNotSupported(err) || meta404(err)
}

func meta404(err error) bool {
	return strings.Contains(err.Error(), "no matches for kind")
}

// detach creates the DetachedSavepoint that keeps s, and returns its name.
// The name is <namespace>.<savepoint> when that is free or holds the same
// path; else the same with a suffix derived from the savepoint's UID.
func (r *Retainer) detach(ctx context.Context, s Retained) (string, error) {
	ns := &corev1.Namespace{}
	if err := r.Live.Get(ctx, client.ObjectKey{Name: r.Namespace}, ns); err != nil {
		return "", err
	}
	if !ns.DeletionTimestamp.IsZero() {
		return "", apierrors.NewForbidden(corev1.Resource("namespaces"), r.Namespace, fmt.Errorf("the retention namespace %s is being deleted", r.Namespace))
	}
	var lastErr error
	for _, name := range retainedNames(s) {
		dsp := &cmfv1.DetachedSavepoint{
			ObjectMeta: metav1.ObjectMeta{
				Namespace:   r.Namespace,
				Name:        name,
				Labels:      map[string]string{RetainedFromNamespaceLabel: s.Namespace},
				Annotations: map[string]string{RetainedFromAnnotation: fmt.Sprintf("%s/%s/%s/%s", s.Namespace, s.Kind, s.Parent, s.Name)},
			},
			Spec: cmfv1.DetachedSavepointSpec{Path: s.Path},
		}
		err := r.Client.Create(ctx, dsp)
		if err == nil {
			return name, r.setOrigin(ctx, dsp, s.Origin)
		}
		lastErr = err
		if apierrors.IsAlreadyExists(err) || isNameTaken(err) {
			existing := &cmfv1.DetachedSavepoint{}
			if gerr := r.Live.Get(ctx, client.ObjectKey{Namespace: r.Namespace, Name: name}, existing); gerr == nil && flink.NormalizePath(existing.Spec.Path) == flink.NormalizePath(s.Path) {
				return name, nil // made before a crash or by another replica
			}
			continue
		}
		return "", err
	}
	return "", lastErr
}

// isNameTaken: the webhook refused the name, claimed by a DetachedSavepoint
// of another namespace (their names are unique across namespaces).
func isNameTaken(err error) bool {
	return apierrors.IsForbidden(err) && strings.Contains(err.Error(), "unique across all namespaces")
}

func (r *Retainer) setOrigin(ctx context.Context, dsp *cmfv1.DetachedSavepoint, origin cmfv1.SavepointOrigin) error {
	if origin == "" {
		return nil
	}
	dsp.Status.State = cmfv1.StateCompleted
	dsp.Status.Origin = origin
	return r.Client.Status().Update(ctx, dsp)
}

// retainedNames are the names a Retained savepoint's DetachedSavepoint may
// take, in order: readable first, then made unique.
func retainedNames(s Retained) []string {
	const maxName = 253
	base := s.Namespace + "." + s.Name
	sum := sha256.Sum256([]byte(s.Namespace + "/" + s.Name + "/" + s.UID + "/" + flink.NormalizePath(s.Path)))
	suffix := "-" + hex.EncodeToString(sum[:])[:10]
	unique := base
	if len(unique)+len(suffix) > maxName {
		unique = strings.TrimRight(unique[:maxName-len(suffix)], "-.")
	}
	unique += suffix
	if len(base) > maxName {
		return []string{unique}
	}
	return []string{base, unique}
}
