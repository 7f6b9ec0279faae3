// Package rules holds the savepoint rules that more than one part needs (the
// webhook enforces them, the plugin checks them before it asks, the
// controller resolves references with them), written once. It decides; it
// does not fetch: lookups come through the Lookup interface.
package rules

import (
	"context"
	"fmt"
	"strings"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// Lookup finds savepoints for the rules. A nil result with a nil error means
// "not found".
type Lookup interface {
	// Savepoint returns the attached Savepoint namespace/name.
	Savepoint(ctx context.Context, namespace, name string) (*cmfv1.Savepoint, error)
	// SavepointByUID returns the attached Savepoint in namespace with that UID.
	SavepointByUID(ctx context.Context, namespace, uid string) (*cmfv1.Savepoint, error)
	// DetachedSavepoint returns the DetachedSavepoint of that name, in any
	// namespace (names are unique across namespaces).
	DetachedSavepoint(ctx context.Context, name string) (*cmfv1.DetachedSavepoint, error)
	// DetachedSavepointByUID returns the DetachedSavepoint with that UID.
	DetachedSavepointByUID(ctx context.Context, uid string) (*cmfv1.DetachedSavepoint, error)
}

// Resolved is the savepoint a startFromSavepoint reference names.
type Resolved struct {
	// Path is the savepoint's exact location, to start the job from.
	Path string
	// Description names the savepoint for messages and events, e.g.
	// "Savepoint orders-20261125t101500" or "path s3://…".
	Description string
	// AllowNonRestoredState is the reference's allowNonRestoredState.
	AllowNonRestoredState bool
}

// ResolveStartFromSavepoint resolves a parent's startFromSavepoint to a path.
// An application may start from its own attached savepoints, from any
// detached savepoint, or from a raw path; a statement only from its own
// attached savepoints. Every error is one sentence a user can act on.
func ResolveStartFromSavepoint(ctx context.Context, lookup Lookup, kind cmfv1.ParentKind, namespace, parent string, ref *cmfv1.StartFromSavepoint) (*Resolved, error) {
	if ref == nil {
		return nil, nil
	}
	field := kind.StartFromField()
	set := 0
	// savepointName and uid together name one savepoint: the uid pins the
	// name to the object admission resolved it to (see PinnedUID).
	for _, v := range []string{ref.SavepointName + ref.UID, ref.InitialSavepointPath} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		return nil, fmt.Errorf("%s must name exactly one of savepointName (with or without its uid), uid or initialSavepointPath (it names %d)", field, set)
	}
	allow := ref.AllowNonRestoredState != nil && *ref.AllowNonRestoredState

	if ref.InitialSavepointPath != "" {
		if kind == cmfv1.ParentStatement {
			return nil, fmt.Errorf("%s.initialSavepointPath is not supported for a Statement: start it from one of its own Savepoints with savepointName or uid", field)
		}
		return &Resolved{Path: ref.InitialSavepointPath, Description: "path " + ref.InitialSavepointPath, AllowNonRestoredState: allow}, nil
	}

	var attached *cmfv1.Savepoint
	var detached *cmfv1.DetachedSavepoint
	var err error
	what := fmt.Sprintf("%s.savepointName %q", field, ref.SavepointName)
	switch {
	case ref.SavepointName != "" && ref.UID != "":
		what = fmt.Sprintf("%s.savepointName %q (uid %s)", field, ref.SavepointName, ref.UID)
		if attached, detached, err = pinned(ctx, lookup, kind, namespace, ref); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	case ref.SavepointName != "":
		attached, err = lookup.Savepoint(ctx, namespace, ref.SavepointName)
		if err == nil && attached == nil && kind == cmfv1.ParentApplication {
			detached, err = lookup.DetachedSavepoint(ctx, ref.SavepointName)
		}
	default:
		what = fmt.Sprintf("%s.uid %q", field, ref.UID)
		attached, err = lookup.SavepointByUID(ctx, namespace, ref.UID)
		if err == nil && attached == nil && kind == cmfv1.ParentApplication {
			detached, err = lookup.DetachedSavepointByUID(ctx, ref.UID)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", what, err)
	}

	switch {
	case detached != nil:
		// Detached savepoints are always COMPLETED.
		return &Resolved{Path: detached.Spec.Path, Description: "DetachedSavepoint " + detached.Name, AllowNonRestoredState: allow}, nil
	case attached == nil && kind == cmfv1.ParentStatement:
		return nil, fmt.Errorf("%s names no Savepoint of Statement %s in namespace %s: a Statement starts only from its own attached Savepoints (kubectl savepoint list -s %s)", what, parent, namespace, parent)
	case attached == nil:
		return nil, fmt.Errorf("%s names no Savepoint in namespace %s and no DetachedSavepoint the requester may read (one in another namespace needs get on it there): list them with kubectl savepoint list -a %s and kubectl savepoint list --detached -A, or import the path with kubectl savepoint import", what, namespace, parent)
	}

	ownKind, owner := attached.Parent()
	if ownKind != kind || owner != parent {
		if kind == cmfv1.ParentStatement {
			return nil, fmt.Errorf("%s is Savepoint %s of %s %s: a Statement starts only from its own attached Savepoints", what, attached.Name, ownKind, owner)
		}
		return nil, fmt.Errorf("%s is Savepoint %s of %s %s, not of this application: detach it first (kubectl savepoint detach %s) and start from the detached savepoint", what, attached.Name, ownKind, owner, attached.Name)
	}
	if attached.Status.State != cmfv1.StateCompleted || attached.Status.Path == "" {
		return nil, fmt.Errorf("%s is Savepoint %s in state %s: only a COMPLETED savepoint can be started from (kubectl savepoint wait %s --for COMPLETED)", what, attached.Name, attached.Status.EffectiveState(), attached.Name)
	}
	return &Resolved{Path: attached.Status.Path, Description: "Savepoint " + attached.Name, AllowNonRestoredState: allow}, nil
}

// pinned finds a savepointName pinned to a uid: the object of that uid,
// which must still carry that name. A DetachedSavepoint deleted since (its
// global name released, perhaps claimed again by someone else with another
// path) is never replaced by what the name names now.
func pinned(ctx context.Context, lookup Lookup, kind cmfv1.ParentKind, namespace string, ref *cmfv1.StartFromSavepoint) (*cmfv1.Savepoint, *cmfv1.DetachedSavepoint, error) {
	field := kind.StartFromField()
	attached, err := lookup.SavepointByUID(ctx, namespace, ref.UID)
	var detached *cmfv1.DetachedSavepoint
	if err == nil && attached == nil && kind == cmfv1.ParentApplication {
		detached, err = lookup.DetachedSavepointByUID(ctx, ref.UID)
	}
	switch {
	case err != nil:
		return nil, nil, fmt.Errorf("look it up: %w", err)
	case attached != nil && attached.Name == ref.SavepointName, detached != nil && detached.Name == ref.SavepointName:
		return attached, detached, nil
	case attached != nil || detached != nil:
		return nil, nil, fmt.Errorf("that uid is not the savepoint of that name: set savepointName alone (its uid is then filled in) or uid alone")
	}
	return nil, nil, fmt.Errorf("the savepoint this %s was admitted with is gone (deleted; the name may since name another savepoint, with another path, which is never used in its place): to start from what %q names now, remove %s.uid (the reference is then checked and pinned again), or name another savepoint",
		kind.Noun(), ref.SavepointName, field)
}

// PinnedUID is the uid a startFromSavepoint that names a savepoint by name
// is pinned to at admission: the DetachedSavepoint the name resolves to
// through lookup (as the requester reads them); "" when it names an
// attached Savepoint, a path or nothing that resolves (the validation
// decides about those). A DetachedSavepoint's name is global and can be
// released and claimed again: the uid keeps the reference on the object
// that admission resolved and the requester's access was checked for.
func PinnedUID(ctx context.Context, lookup Lookup, kind cmfv1.ParentKind, namespace string, ref *cmfv1.StartFromSavepoint) (string, error) {
	if kind != cmfv1.ParentApplication || ref == nil || ref.SavepointName == "" {
		return "", nil
	}
	attached, err := lookup.Savepoint(ctx, namespace, ref.SavepointName)
	if err != nil || attached != nil {
		return "", err
	}
	detached, err := lookup.DetachedSavepoint(ctx, ref.SavepointName)
	if err != nil || detached == nil {
		return "", err
	}
	return string(detached.UID), nil
}

// CanDetach says whether an attached savepoint may become a detached one:
// only an application's, only COMPLETED. The error is the reason, in the
// words of CMF (Confluent Manager for Apache Flink) where it has them.
func CanDetach(sp *cmfv1.Savepoint) error {
	kind, parent := sp.Parent()
	if kind == cmfv1.ParentStatement {
		return fmt.Errorf("savepoint %s belongs to Statement %s: Savepoints attached to a Statement cannot be detached", sp.Name, parent)
	}
	if sp.Status.State != cmfv1.StateCompleted || sp.Status.Path == "" {
		return fmt.Errorf("savepoint %s is %s: only a COMPLETED savepoint can be detached (kubectl savepoint wait %s --for COMPLETED)", sp.Name, sp.Status.EffectiveState(), sp.Name)
	}
	return nil
}

// nativeOnlySettings are Flink settings that select state that only NATIVE
// savepoints can hold: the ForSt state backend, and SQL's async state.
var nativeOnlySettings = []struct {
	key, value string
}{
	{"state.backend.type", "forst"},
	{"state.backend", "forst"},
	{"table.exec.async-state.enabled", "true"},
}

// NativeOnly returns the setting that makes a job's state backend support
// only NATIVE savepoints (as "key: value"), or "" when CANONICAL is possible.
// Each of configs is searched in order (e.g. flinkConfiguration, then SQL
// session properties).
func NativeOnly(configs ...map[string]string) string {
	for _, config := range configs {
		for _, s := range nativeOnlySettings {
			if v, ok := config[s.key]; ok && strings.EqualFold(strings.TrimSpace(v), s.value) {
				return s.key + ": " + v
			}
		}
	}
	return ""
}
