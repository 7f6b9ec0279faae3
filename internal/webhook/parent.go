package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/rules"
)

// parentValidator enforces the rules of FlinkApplications and Statements: no
// deletion while savepoints are attached; a startFromSavepoint that names a
// savepoint the parent may start from and the user may read; no Flink
// setting that only the manager chooses; the force-delete annotation only
// from a user who may delete the parent; and an application run by the
// Flink Kubernetes Operator only from a user who may write the
// FlinkDeployment the manager renders it into.
type parentValidator struct {
	decoder     admission.Decoder
	lookups     *lookups
	access      *access
	managerUser string
	endpoints   *EndpointRules
}

func (v *parentValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	kind := cmfv1.ParentKind(req.Kind.Kind)
	if kind != cmfv1.ParentApplication && kind != cmfv1.ParentStatement {
		return admission.Allowed("")
	}
	switch req.Operation {
	case admissionv1.Delete:
		return v.validateDelete(ctx, kind, req.Namespace, req.Name)
	case admissionv1.Create, admissionv1.Update:
		obj, old, err := v.decode(req, kind)
		if err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		if resp := v.validateSettings(req, obj, old); !resp.Allowed {
			return resp
		}
		if resp := v.validateRestURL(req, obj, old); !resp.Allowed {
			return resp
		}
		if resp := v.requireDeleteToForce(ctx, req, obj, old); !resp.Allowed {
			return resp
		}
		if resp := v.requireDeploymentRights(ctx, req, obj); !resp.Allowed {
			return resp
		}
		return v.validateStartFrom(ctx, req, obj, old)
	}
	return admission.Allowed("")
}

// decode decodes the new and (on update) the old object of the request.
func (v *parentValidator) decode(req admission.Request, kind cmfv1.ParentKind) (obj, old cmfv1.Parent, err error) {
	obj = kind.NewParent()
	if err := v.decoder.DecodeRaw(req.Object, obj); err != nil {
		return nil, nil, fmt.Errorf("decode %s: %w", kind, err)
	}
	if len(req.OldObject.Raw) == 0 {
		return obj, nil, nil
	}
	old = kind.NewParent()
	if err := v.decoder.DecodeRaw(req.OldObject, old); err != nil {
		return nil, nil, fmt.Errorf("decode old %s: %w", kind, err)
	}
	return obj, old, nil
}

// validateSettings refuses the Flink settings only the manager chooses
// (rules.ReservedSetting), whenever the spec is written: an edit of
// metadata alone (the manager's finalizers) passes, so a parent admitted
// before this rule is refused only once its spec is changed.
func (v *parentValidator) validateSettings(req admission.Request, obj, old cmfv1.Parent) admission.Response {
	if old != nil && equality.Semantic.DeepEqual(specOf(obj), specOf(old)) {
		return admission.Allowed("")
	}
	if why := rules.ReservedSetting(obj); why != "" {
		return admission.Denied(fmt.Sprintf("%s %s: %s", obj.ParentKind(), req.Name, why))
	}
	return admission.Allowed("")
}

// validateRestURL caps the rest-url annotation at the length of an
// endpoint URL (cmfv1.MaxEndpointURLLength) when it is set or changed, so a
// parent admitted before with a longer one still passes the manager's
// edits of its metadata. The denial does not repeat the value.
func (v *parentValidator) validateRestURL(req admission.Request, obj, old cmfv1.Parent) admission.Response {
	url := obj.GetAnnotations()[cmfv1.RestURLAnnotation]
	if url == "" || (old != nil && old.GetAnnotations()[cmfv1.RestURLAnnotation] == url) {
		return admission.Allowed("")
	}
	field := fmt.Sprintf("%s %s: metadata.annotations[%s]", obj.ParentKind(), req.Name, cmfv1.RestURLAnnotation)
	if len(url) > cmfv1.MaxEndpointURLLength {
		return admission.Denied(fmt.Sprintf("%s is %d bytes long, and an endpoint URL may be at most %d: give the JobManager's REST URL (scheme, host, port, path), or remove it to use the ComputePool's restURL",
			field, len(url), cmfv1.MaxEndpointURLLength))
	}
	if v.endpoints == nil {
		return admission.Allowed("")
	}
	if !v.endpoints.AllowRestURLAnnotation {
		return admission.Denied(field + " is not honoured on this cluster (its admin has not passed --allow-rest-url-annotation to the manager): remove it and name a ComputePool in spec.computePoolName")
	}
	if err := v.endpoints.Policy.CheckURL(url, req.Namespace); err != nil {
		return admission.Denied(field + ": " + err.Error())
	}
	return admission.Allowed("")
}

func specOf(obj cmfv1.Parent) any {
	switch p := obj.(type) {
	case *cmfv1.FlinkApplication:
		return p.Spec
	case *cmfv1.Statement:
		return p.Spec
	}
	return nil
}

// requireDeleteToForce allows setting the force-delete annotation on a
// parent only to a user who may delete it: on a parent's delete it skips
// recording the savepoint of a stop in flight and cancelling the job, so
// it is part of the delete, and must not be left for another's delete.
func (v *parentValidator) requireDeleteToForce(ctx context.Context, req admission.Request, obj, old cmfv1.Parent) admission.Response {
	var before map[string]string
	if old != nil {
		before = old.GetAnnotations()
	}
	if !forceSet(obj.GetAnnotations(), before) || (v.managerUser != "" && req.UserInfo.Username == v.managerUser) {
		return admission.Allowed("")
	}
	kind := obj.ParentKind()
	ok, err := v.access.allowed(ctx, req.UserInfo, "delete", kind, req.Namespace, req.Name)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if !ok {
		return admission.Denied(fmt.Sprintf("%s %s: metadata.annotations[%s] makes its delete skip the savepoint of a stop in flight and the cancelling of its job, which needs the right to delete it: user %q may not delete %s %s; ask for delete on %s in namespace %s",
			kind, req.Name, cmfv1.ForceDeleteAnnotation, req.UserInfo.Username, kind, req.Name, kind.Resource(), req.Namespace))
	}
	return admission.Allowed("")
}

// flinkDeployments is the Flink Kubernetes Operator's resource that the
// manager renders an application without computePoolName into.
var flinkDeployments = authorizationv1.ResourceAttributes{Group: "flink.apache.org", Version: "v1beta1", Resource: "flinkdeployments"}

// requireDeploymentRights allows an application without computePoolName
// only to a user who may write its FlinkDeployment themselves: the manager
// renders the spec into one of the same name with its own rights, with
// whatever the spec says (serviceAccount, podTemplate, image), so a user
// allowed FlinkApplications but not FlinkDeployments would otherwise get
// FlinkDeployments. create on a create (unnamed, as the API server
// authorizes a create), update of that FlinkDeployment when the spec
// changes, fields the manager does not know included; a change of metadata
// alone (the manager's finalizers, annotations) renders nothing and passes.
func (v *parentValidator) requireDeploymentRights(ctx context.Context, req admission.Request, obj cmfv1.Parent) admission.Response {
	app, ok := obj.(*cmfv1.FlinkApplication)
	if !ok || app.Spec.ComputePoolName != "" {
		return admission.Allowed("")
	}
	attrs := flinkDeployments
	attrs.Namespace, attrs.Verb = req.Namespace, "create"
	way := "ask for create on flinkdeployments.flink.apache.org there, or set spec.computePoolName to run the job on a ComputePool"
	if req.Operation == admissionv1.Update {
		changed, err := specChanged(req.Object.Raw, req.OldObject.Raw)
		if err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		if !changed {
			return admission.Allowed("")
		}
		attrs.Verb, attrs.Name = "update", req.Name
		way = fmt.Sprintf("ask for update on flinkdeployments.flink.apache.org %s there", req.Name)
	}
	ok, err := v.access.mayDo(ctx, req.UserInfo, attrs)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if !ok {
		return admission.Denied(fmt.Sprintf("FlinkApplication %s: without spec.computePoolName the savepoint manager renders it into the FlinkDeployment %s, which needs the right to %s that: user %q may not %s flinkdeployments.flink.apache.org in namespace %s; %s",
			req.Name, req.Name, attrs.Verb, req.UserInfo.Username, attrs.Verb, req.Namespace, way))
	}
	return admission.Allowed("")
}

// specChanged compares the spec of two stored objects as JSON, fields our
// types do not know included: they are rendered too. No old object counts
// as a change.
func specChanged(obj, old []byte) (bool, error) {
	if len(old) == 0 {
		return true, nil
	}
	var now, before struct {
		Spec any `json:"spec"`
	}
	if err := json.Unmarshal(obj, &now); err != nil {
		return false, fmt.Errorf("decode the spec: %w", err)
	}
	if err := json.Unmarshal(old, &before); err != nil {
		return false, fmt.Errorf("decode the old spec: %w", err)
	}
	return !reflect.DeepEqual(now.Spec, before.Spec), nil
}

// validateStartFrom resolves a new or changed startFromSavepoint as the
// requesting user: a DetachedSavepoint of another namespace counts only if
// that user may get it there, and one they may not is answered as one that
// does not exist, so that neither a denial nor a dry run reveals its path.
func (v *parentValidator) validateStartFrom(ctx context.Context, req admission.Request, obj, old cmfv1.Parent) admission.Response {
	ref := obj.StartFrom()
	if ref == nil || (old != nil && equality.Semantic.DeepEqual(ref, old.StartFrom())) {
		// Unchanged references are not judged again: the savepoint may
		// have been deleted since, and that must not block other edits.
		return admission.Allowed("")
	}
	kind := obj.ParentKind()
	if _, err := rules.ResolveStartFromSavepoint(ctx, readableAs(v.lookups, v.access, req), kind, req.Namespace, req.Name, ref); err != nil {
		return admission.Denied(fmt.Sprintf("%s %s: %v", kind, req.Name, err))
	}
	return admission.Allowed("")
}

// validateDelete denies deleting a parent while savepoints are attached.
func (v *parentValidator) validateDelete(ctx context.Context, kind cmfv1.ParentKind, namespace, name string) admission.Response {
	attached, err := v.lookups.attachedLive(ctx, kind, namespace, name)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if len(attached) == 0 {
		return admission.Allowed("")
	}
	names := make([]string, 0, maxSavepointsListedInDenial)
	for i, sp := range attached {
		if i == maxSavepointsListedInDenial {
			names = append(names, fmt.Sprintf("and %d more", len(attached)-i))
			break
		}
		names = append(names, sp.Name)
	}
	return admission.Denied(fmt.Sprintf("%s %s cannot be deleted while %d savepoint(s) are attached (%s): delete them, or detach them (applications only)",
		kind, name, len(attached), strings.Join(names, ", ")))
}
