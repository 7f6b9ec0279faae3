// Package adopt records as Savepoints the savepoints taken for a parent
// outside a Savepoint resource, once each, and tells which paths a parent's
// Savepoints already hold.
package adopt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/index"
)

// Where an adopted savepoint was found (its AdoptedFromAnnotation), when its
// path is what the parent's own JobManager answered the manager.
const (
	// FromStop: the savepoint of the manager's stop-with-savepoint.
	FromStop = "stop-with-savepoint"
	// FromCheckpointHistory: a savepoint in the checkpoint history of the
	// job the manager submitted.
	FromCheckpointHistory = "checkpoint-history"
)

// ReportedByJobManager says whether a savepoint adopted from from has a path
// that the JobManager the manager runs the job on reported, as opposed to
// one read from an object users can write (a FlinkStateSnapshot, a
// FlinkDeployment's status).
func ReportedByJobManager(from string) bool {
	return from == FromStop || from == FromCheckpointHistory
}

// Adoption is a savepoint taken for a parent outside a Savepoint resource:
// by the manager's own suspend or upgrade, by the Flink Kubernetes Operator,
// or by hand through Flink's REST API or CLI.
type Adoption struct {
	Namespace string
	Kind      cmfv1.ParentKind
	Parent    string
	// Path is the savepoint's exact, complete location.
	Path   string
	JobID  string
	Origin cmfv1.SavepointOrigin
	// From says where it was found (AdoptedFromAnnotation).
	From string
	// Format is the savepoint's format when known; default CANONICAL.
	Format cmfv1.FormatType
}

// Name is the Savepoint name of an Adoption: the same savepoint
// always gets the same name, so that adopting twice (after a crash, by two
// replicas) creates one Savepoint.
func Name(parent string, origin cmfv1.SavepointOrigin, path string) string {
	sum := sha256.Sum256([]byte(flink.NormalizePath(path)))
	suffix := "-" + strings.ToLower(string(origin)) + "-" + hex.EncodeToString(sum[:])[:10]
	const maxName = 253
	if len(parent)+len(suffix) > maxName {
		parent = strings.TrimRight(parent[:maxName-len(suffix)], "-.")
	}
	return parent + suffix
}

// Savepoint makes the Savepoint for a, once: it returns the name of the
// Savepoint that holds a.Path, created now or already there (adopted before,
// or a Savepoint of the parent that completed at that path), and whether it
// was created now. The Savepoint is attached to its parent like any other:
// an explicit delete disposes its data, a detach keeps it.
func Savepoint(ctx context.Context, c client.Client, a Adoption) (string, bool, error) {
	var list cmfv1.SavepointList
	if err := c.List(ctx, &list, client.InNamespace(a.Namespace), client.MatchingFields{index.Parent: index.ParentKey(a.Kind, a.Parent)}); err != nil {
		return "", false, err
	}
	want := flink.NormalizePath(a.Path)
	for _, sp := range list.Items {
		if flink.NormalizePath(sp.Status.Path) == want || flink.NormalizePath(sp.Annotations[cmfv1.AdoptedPathAnnotation]) == want {
			return sp.Name, false, nil
		}
	}
	sp := &cmfv1.Savepoint{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: a.Namespace,
			Name:      Name(a.Parent, a.Origin, a.Path),
			Annotations: map[string]string{
				cmfv1.AdoptedPathAnnotation:   a.Path,
				cmfv1.AdoptedOriginAnnotation: string(a.Origin),
				cmfv1.AdoptedFromAnnotation:   a.From,
			},
		},
	}
	if a.Format != "" {
		sp.Spec.FormatType = a.Format
	}
	if a.JobID != "" {
		sp.Annotations[cmfv1.AdoptedJobAnnotation] = a.JobID
	}
	if a.Kind == cmfv1.ParentStatement {
		sp.Spec.Statement = a.Parent
	} else {
		sp.Spec.Application = a.Parent
	}
	err := c.Create(ctx, sp)
	switch {
	case apierrors.IsAlreadyExists(err):
		return sp.Name, false, nil
	case err != nil:
		return "", false, fmt.Errorf("adopt the %s savepoint at %s as Savepoint %s: %w", a.Origin, a.Path, sp.Name, err)
	}
	return sp.Name, true, nil
}
