package webhook

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/egress"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
)

// TestEndpointsAtAdmission: a URL the manager would refuse to call is
// denied when a user writes it (the requests come from namespace team-b).
func TestEndpointsAtAdmission(t *testing.T) {
	decoder := admission.NewDecoder(controlplane.NewScheme())
	rules := &EndpointRules{Policy: egress.MustParse(egress.DefaultEntries(), egress.Options{}), AllowRestURLAnnotation: true}
	pool := func(rest, sql string) *cmfv1.ComputePool {
		return &cmfv1.ComputePool{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "x"}, Spec: cmfv1.ComputePoolSpec{RestURL: rest, SQLGatewayURL: sql}}
	}
	own := "http://flink-rest.team-b.svc:8081"
	tests := []struct {
		name     string
		rules    *EndpointRules
		obj, old *cmfv1.ComputePool
		want     string // empty: allowed
	}{
		{name: "its own namespace's Service", rules: rules, obj: pool(own, "http://sql.team-b.svc:8083")},
		{name: "another team's JobManager", rules: rules, obj: pool("http://flink-rest.team-a.svc:8081", ""), want: "ComputePool x: spec.restURL: "},
		{name: "cloud metadata as the SQL Gateway", rules: rules, obj: pool(own, "http://169.254.169.254/"), want: "ComputePool x: spec.sqlGatewayURL: "},
		{name: "the manager's own loopback ports", rules: rules, obj: pool("http://127.0.0.1:8081", ""), want: "--allow-loopback-endpoints"},
		{name: "an unchanged URL stays writable", rules: rules, obj: pool("http://flink-rest.team-a.svc:8081", own), old: pool("http://flink-rest.team-a.svc:8081", "")},
		{name: "no rules configured (a webhook alone): not checked here", obj: pool("http://127.0.0.1:8081", "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, old := admissionv1.Create, runtime.Object(nil)
			if tt.old != nil {
				op, old = admissionv1.Update, tt.old
			}
			v := &computePoolValidator{decoder: decoder, endpoints: tt.rules}
			resp := v.Handle(context.Background(), review(t, op, "ComputePool", tt.obj, old))
			if tt.want == "" {
				assert.True(t, resp.Allowed, resp.Result)
				return
			}
			assert.False(t, resp.Allowed)
			assert.Contains(t, resp.Result.Message, tt.want)
			assert.NotContains(t, resp.Result.Message, "\n")
		})
	}
}

func TestRestURLAnnotationAtAdmission(t *testing.T) {
	app := func(url string) *cmfv1.FlinkApplication {
		return &cmfv1.FlinkApplication{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "x", Annotations: map[string]string{cmfv1.RestURLAnnotation: url}}}
	}
	policy := egress.MustParse(egress.DefaultEntries(), egress.Options{})
	tests := []struct {
		name  string
		rules *EndpointRules
		url   string
		want  string
	}{
		{name: "not honoured on this cluster", rules: &EndpointRules{Policy: policy}, url: "http://flink-rest.team-b.svc:8081", want: "--allow-rest-url-annotation"},
		{name: "honoured, its own namespace", rules: &EndpointRules{Policy: policy, AllowRestURLAnnotation: true}, url: "http://flink-rest.team-b.svc:8081"},
		{name: "honoured, another team's JobManager", rules: &EndpointRules{Policy: policy, AllowRestURLAnnotation: true}, url: "http://flink-rest.team-a.svc:8081", want: "metadata.annotations[cmf.confluent.io/rest-url]: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &parentValidator{endpoints: tt.rules}
			resp := v.validateRestURL(review(t, admissionv1.Create, "FlinkApplication", app(tt.url), nil), app(tt.url), nil)
			if tt.want == "" {
				assert.True(t, resp.Allowed, resp.Result)
				return
			}
			assert.False(t, resp.Allowed)
			assert.Contains(t, resp.Result.Message, tt.want)
		})
	}
}
