package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/index"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/rules"
)

// savepointDefaulter fills in what a user may leave out of a Savepoint:
// formatType, backoffLimit, a name, and the parent label; and it adds the
// dispose finalizer. Nothing else changes.
type savepointDefaulter struct {
	now func() time.Time
	// policies reads the namespace's SavepointPolicies (the cache).
	policies client.Reader
}

func (d *savepointDefaulter) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create {
		return admission.Allowed("")
	}
	var sp cmfv1.Savepoint
	if err := json.Unmarshal(req.Object.Raw, &sp); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("decode Savepoint: %w", err))
	}
	original, err := json.Marshal(&sp)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	// The namespace default policy's template first, then the global
	// defaults. The CRD has no schema defaults for these fields, so that
	// what a user left out is still empty here; the controller reads empty
	// as the global defaults should this webhook not run.
	if sp.Annotations[cmfv1.AdoptedPathAnnotation] == "" && d.policies != nil {
		def, err := namespaceDefault(ctx, d.policies, req.Namespace)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		if def != nil && def.Spec.Template != nil {
			t := def.Spec.Template
			if sp.Spec.FormatType == "" {
				sp.Spec.FormatType = t.FormatType
			}
			if sp.Spec.Path == "" {
				sp.Spec.Path = t.Path
			}
			if sp.Spec.BackoffLimit == nil && t.BackoffLimit != nil {
				limit := *t.BackoffLimit
				sp.Spec.BackoffLimit = &limit
			}
		}
	}
	if sp.Spec.FormatType == "" {
		sp.Spec.FormatType = cmfv1.FormatCanonical
	}
	if sp.Spec.BackoffLimit == nil {
		limit := cmfv1.DefaultBackoffLimit
		sp.Spec.BackoffLimit = &limit
	}
	kind, parent := sp.Parent()
	if sp.Name == "" && sp.GenerateName == "" && parent != "" {
		sp.Name = GenerateName(parent, d.now())
	}
	if parent != "" {
		// From the first moment, not when the controller first sees it: a
		// delete that read the object before a finalizer was added deletes
		// it outright, even one added while its admission ran, and the
		// controller may have sent the trigger by then. Its data would be
		// orphaned.
		controllerutil.AddFinalizer(&sp, cmfv1.DisposeFinalizer)
	}
	if kind != "" && len(validation.IsValidLabelValue(parent)) == 0 {
		if sp.Labels == nil {
			sp.Labels = map[string]string{}
		}
		sp.Labels[kind.Label()] = parent
	}
	defaulted, err := json.Marshal(&sp)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	// Patch against the decoded original, not the raw request, so that only
	// the fields set here are in the patch.
	return admission.PatchResponseFromRaw(original, defaulted)
}

// GenerateName names a savepoint after its parent and the UTC time, e.g.
// orders-20261125t101500-3f9a, trimming the parent so the name stays a valid
// object name. The random suffix keeps two savepoints of one second apart.
func GenerateName(parent string, now time.Time) string {
	var suffix [2]byte
	_, _ = rand.Read(suffix[:])
	tail := "-" + strings.ToLower(now.UTC().Format("20060102T150405")) + "-" + hex.EncodeToString(suffix[:])
	if max := validation.DNS1123SubdomainMaxLength - len(tail); len(parent) > max {
		parent = strings.TrimRight(parent[:max], "-.")
	}
	return parent + tail
}

// savepointValidator enforces the rules of an attached Savepoint: its parent
// exists and is not being deleted, the user may act on the parent, and the
// parent's state backend can write the format.
type savepointValidator struct {
	decoder     admission.Decoder
	lookups     *lookups
	access      *access
	managerUser string
}

func (v *savepointValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	var sp cmfv1.Savepoint
	raw := req.Object
	if req.Operation == admissionv1.Delete {
		raw = req.OldObject
	}
	if err := v.decoder.DecodeRaw(raw, &sp); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("decode Savepoint: %w", err))
	}
	kind, parent := sp.Parent()
	if kind == "" {
		// The CRD's own validation names the field; nothing to add.
		return admission.Allowed("")
	}

	switch req.Operation {
	case admissionv1.Create:
		return v.validateCreate(ctx, req, &sp, kind, parent)
	case admissionv1.Update:
		var old cmfv1.Savepoint
		if err := v.decoder.DecodeRaw(req.OldObject, &old); err != nil {
			return admission.Errored(http.StatusBadRequest, fmt.Errorf("decode old Savepoint: %w", err))
		}
		if resp := v.requireManager(req, &sp, &old); !resp.Allowed {
			return resp
		}
		if resp := v.requireAccess(ctx, req, "update", &sp, kind, parent); !resp.Allowed {
			return resp
		}
		return v.requireDeleteToForce(ctx, req, &sp, &old, kind, parent)
	case admissionv1.Delete:
		// Every delete needs delete on the parent, the manager's aside: so
		// a force-delete annotation is honoured only on a delete that was
		// allowed, whoever set it.
		resp := v.requireAccess(ctx, req, "delete", &sp, kind, parent)
		if resp.Allowed {
			resp = v.guardRestorePoint(ctx, req, &sp, kind, parent)
		}
		if resp.Allowed && sp.Status.State == cmfv1.StateCompleted && sp.Status.Path != "" {
			resp = resp.WithWarnings(deleteWarning(&sp, kind))
		}
		return resp
	}
	return admission.Allowed("")
}

func (v *savepointValidator) validateCreate(ctx context.Context, req admission.Request, sp *cmfv1.Savepoint, kind cmfv1.ParentKind, parent string) admission.Response {
	field := kind.SavepointField()
	obj, err := v.lookups.parent(ctx, kind, req.Namespace, parent)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if obj == nil {
		return admission.Denied(fmt.Sprintf("Savepoint %s: %s %q does not exist in namespace %s: create the %s first, or name an existing one",
			sp.Name, field, parent, req.Namespace, kind))
	}
	// The manager still records a savepoint it took for a parent that is
	// being deleted (a stop-with-savepoint in flight): data is never left
	// behind unrecorded.
	managerAdopts := (v.managerUser == "" || req.UserInfo.Username == v.managerUser) && sp.Annotations[cmfv1.AdoptedPathAnnotation] != ""
	if obj.GetDeletionTimestamp() != nil && !managerAdopts {
		return admission.Denied(fmt.Sprintf("Savepoint %s: %s %q is being deleted: no new savepoints can attach to it", sp.Name, field, parent))
	}
	if resp := v.requireManager(req, sp, nil); !resp.Allowed {
		return resp
	}
	if resp := v.requireAccess(ctx, req, "update", sp, kind, parent); !resp.Allowed {
		return resp
	}
	if resp := v.requireDeleteToForce(ctx, req, sp, nil, kind, parent); !resp.Allowed {
		return resp
	}
	adopted := sp.Annotations[cmfv1.AdoptedPathAnnotation] != "" // its data exists already, in whatever format
	if !adopted && (sp.Spec.FormatType == "" || sp.Spec.FormatType == cmfv1.FormatCanonical) {
		if setting := rules.NativeOnly(obj.FlinkConfigurations()...); setting != "" {
			return admission.Denied(fmt.Sprintf("Savepoint %s: spec.formatType CANONICAL is not supported by %s %s, whose state backend supports only NATIVE savepoints (%s): set spec.formatType: NATIVE",
				sp.Name, kind, parent, setting))
		}
	}
	return admission.Allowed("")
}

// managerOnlyAnnotations steer the manager past the checks a user's own
// request would meet, so only the manager sets, changes or removes them;
// each with why and the user's way out.
var managerOnlyAnnotations = []struct {
	key, why string
}{
	// With them, anyone could attach a path they do not own and have it
	// disposed by a later delete.
	{cmfv1.AdoptedPathAnnotation, adoptionWhy},
	{cmfv1.AdoptedOriginAnnotation, adoptionWhy},
	{cmfv1.AdoptedJobAnnotation, adoptionWhy},
	{cmfv1.AdoptedFromAnnotation, adoptionWhy},
	// With it, update on the parent would be enough to have the manager
	// remove a savepoint without disposal, past the delete permission and
	// the rule that a Statement's savepoints cannot be detached; removed,
	// a detached savepoint's data would be disposed.
	// With them, a manual savepoint would pass for a scheduled one, which
	// a policy's retention deletes.
	{cmfv1.ScheduledTimeAnnotation, "when a SavepointPolicy takes a savepoint: remove it; to take one as a policy would, run the policy (kubectl savepoint policy run POLICY)"},
	{cmfv1.RunRequestAnnotation, "when a SavepointPolicy takes a savepoint: remove it; to take one as a policy would, run the policy (kubectl savepoint policy run POLICY)"},
	{cmfv1.DetachedAsAnnotation, "when it completes a detach: remove it; to keep the data, detach the savepoint (kubectl savepoint detach NAME; an application's only) or delete it with --force (kubectl savepoint delete NAME --force)"},
}

const adoptionWhy = "when it adopts a savepoint taken outside Kubernetes: remove it; to register existing savepoint data, import it (kubectl savepoint import)"

// requireManager refuses the manager-only annotations from anyone but the
// manager. old is nil on create.
func (v *savepointValidator) requireManager(req admission.Request, sp, old *cmfv1.Savepoint) admission.Response {
	if v.managerUser == "" || req.UserInfo.Username == v.managerUser {
		return admission.Allowed("")
	}
	for _, a := range managerOnlyAnnotations {
		value, set := sp.Annotations[a.key]
		if old != nil {
			if oldValue, was := old.Annotations[a.key]; was == set && oldValue == value {
				continue
			}
		} else if !set {
			continue
		}
		return admission.Denied(fmt.Sprintf("Savepoint %s: metadata.annotations[%s] is set only by the savepoint manager %s", sp.Name, a.key, strings.ReplaceAll(a.why, "NAME", sp.Name)))
	}
	return admission.Allowed("")
}

// requireDeleteToForce allows setting the force-delete annotation only to
// a user who may delete the parent: it decides that a delete keeps the
// data, so it is part of the delete. Without this, a user who may update
// but not delete the parent (whose own delete is refused) would leave it
// behind, and turn a later delete by someone else into an orphaning one.
// old is nil on create.
func (v *savepointValidator) requireDeleteToForce(ctx context.Context, req admission.Request, sp, old *cmfv1.Savepoint, kind cmfv1.ParentKind, parent string) admission.Response {
	if !forceSet(sp.Annotations, oldAnnotations(old)) || (v.managerUser != "" && req.UserInfo.Username == v.managerUser) {
		return admission.Allowed("")
	}
	ok, err := v.access.allowed(ctx, req.UserInfo, "delete", kind, req.Namespace, parent)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if !ok {
		return admission.Denied(fmt.Sprintf("Savepoint %s: metadata.annotations[%s] makes its delete keep the data, which needs the right to delete it: user %q may not delete %s %s; ask for delete on %s in namespace %s",
			sp.Name, cmfv1.ForceDeleteAnnotation, req.UserInfo.Username, kind, parent, kind.Resource(), req.Namespace))
	}
	return admission.Allowed("")
}

// forceSet reports whether annotations newly ask for a forced delete.
// Removing the annotation, or any other value, needs nothing: it only
// makes a delete dispose as usual.
func forceSet(annotations, old map[string]string) bool {
	return annotations[cmfv1.ForceDeleteAnnotation] == "true" && old[cmfv1.ForceDeleteAnnotation] != "true"
}

func oldAnnotations(old *cmfv1.Savepoint) map[string]string {
	if old == nil {
		return nil
	}
	return old.Annotations
}

// deleteWarning says what becomes of a COMPLETED savepoint's data on a
// delete that was allowed.
func deleteWarning(sp *cmfv1.Savepoint, kind cmfv1.ParentKind) string {
	if sp.Annotations[cmfv1.ForceDeleteAnnotation] == "true" {
		return fmt.Sprintf("Savepoint %s: deleted with %s=true: its data at %s is kept, not disposed (a Warning event records the path)",
			sp.Name, cmfv1.ForceDeleteAnnotation, sp.Status.Path)
	}
	hint := "detach it first to keep the data (kubectl savepoint detach " + sp.Name + ")"
	if kind == cmfv1.ParentStatement {
		hint = "Savepoints attached to a Statement cannot be detached"
	}
	return fmt.Sprintf("Savepoint %s: its data at %s will be disposed through the Flink cluster; %s", sp.Name, sp.Status.Path, hint)
}

// guardRestorePoint refuses to dispose of the savepoint a parent will
// resume or start from: the next resume would fail, its state lost. A
// forced delete (which keeps the data), a detach, the manager's own
// deletes and a namespace's deletion (which keeps the data) pass.
func (v *savepointValidator) guardRestorePoint(ctx context.Context, req admission.Request, sp *cmfv1.Savepoint, kind cmfv1.ParentKind, parent string) admission.Response {
	if (v.managerUser != "" && req.UserInfo.Username == v.managerUser) ||
		sp.Annotations[cmfv1.ForceDeleteAnnotation] == "true" || sp.Annotations[cmfv1.DetachedAsAnnotation] != "" ||
		sp.Status.State != cmfv1.StateCompleted {
		return admission.Allowed("")
	}
	var parents rules.Parents
	var apps cmfv1.FlinkApplicationList
	var stmts cmfv1.StatementList
	var siblings cmfv1.SavepointList
	for _, list := range []struct {
		list client.ObjectList
		opts []client.ListOption
	}{
		{&apps, []client.ListOption{client.InNamespace(req.Namespace)}},
		{&stmts, []client.ListOption{client.InNamespace(req.Namespace)}},
		{&siblings, []client.ListOption{client.InNamespace(req.Namespace), client.MatchingFields{index.Parent: index.ParentKey(kind, parent)}}},
	} {
		if err := v.lookups.Cache.List(ctx, list.list, list.opts...); err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
	}
	parents.Applications, parents.Statements = apps.Items, stmts.Items
	why := rules.RestorePoint(sp, siblings.Items, parents)
	if why == "" {
		return admission.Allowed("")
	}
	ns := &corev1.Namespace{}
	if err := v.lookups.Live.Get(ctx, client.ObjectKey{Name: req.Namespace}, ns); err == nil && !ns.DeletionTimestamp.IsZero() {
		return admission.Allowed("") // a namespace's deletion keeps the data (the manager's bulk-delete policy)
	}
	ways := "delete it with --force to keep the data (kubectl savepoint delete " + sp.Name + " --force), detach it (kubectl savepoint detach " + sp.Name + "), or change " + string(kind) + " " + parent + " first"
	if kind == cmfv1.ParentStatement {
		ways = "delete it with --force to keep the data (kubectl savepoint delete " + sp.Name + " --force), or change the statement first"
	}
	return admission.Denied(fmt.Sprintf("Savepoint %s: %s, and deleting it would dispose its data at %s: %s", sp.Name, why, sp.Status.Path, ways))
}

// requireAccess allows the request only if its user may verb the parent.
func (v *savepointValidator) requireAccess(ctx context.Context, req admission.Request, verb string, sp *cmfv1.Savepoint, kind cmfv1.ParentKind, parent string) admission.Response {
	if v.managerUser != "" && req.UserInfo.Username == v.managerUser {
		return admission.Allowed("") // the manager acting on its own (finalizers, a detach's removal)
	}
	ok, err := v.access.allowed(ctx, req.UserInfo, verb, kind, req.Namespace, parent)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if !ok {
		return admission.Denied(fmt.Sprintf("Savepoint %s: user %q may not %s %s %s, and a savepoint inherits its permissions from its parent: ask for %s on %s in namespace %s",
			sp.Name, req.UserInfo.Username, verb, kind, parent, verb, kind.Resource(), req.Namespace))
	}
	return admission.Allowed("")
}
