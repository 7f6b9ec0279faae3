package webhook

import (
	"context"
	"fmt"
	"net/http"

	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/egress"
)

// EndpointRules are the admin's rules for the URLs the manager calls for a
// namespace (the manager's --allow-endpoint, --allow-loopback-endpoints and
// --allow-rest-url-annotation).
type EndpointRules struct {
	Policy                 egress.Policy
	AllowRestURLAnnotation bool
}

// computePoolValidator denies a ComputePool whose URLs the manager would
// refuse to call: the user learns it when writing the pool, not from a
// condition later.
type computePoolValidator struct {
	decoder   admission.Decoder
	endpoints *EndpointRules
}

func (v *computePoolValidator) Handle(_ context.Context, req admission.Request) admission.Response {
	if v.endpoints == nil {
		return admission.Allowed("")
	}
	pool := &cmfv1.ComputePool{}
	if err := v.decoder.DecodeRaw(req.Object, pool); err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	old := &cmfv1.ComputePool{}
	if len(req.OldObject.Raw) > 0 {
		if err := v.decoder.DecodeRaw(req.OldObject, old); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
	}
	for _, u := range []struct{ field, url, was string }{
		{"spec.restURL", pool.Spec.RestURL, old.Spec.RestURL},
		{"spec.sqlGatewayURL", pool.Spec.SQLGatewayURL, old.Spec.SQLGatewayURL},
	} {
		// An unchanged URL stays: a pool admitted under an earlier list is
		// not made unwritable (the controllers refuse to call it anyway).
		if u.url == "" || u.url == u.was {
			continue
		}
		if err := v.endpoints.Policy.CheckURL(u.url, req.Namespace); err != nil {
			return admission.Denied(fmt.Sprintf("ComputePool %s: %s: %v", req.Name, u.field, err))
		}
	}
	return admission.Allowed("")
}
