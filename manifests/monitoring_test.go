package manifests

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"

	_ "github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/metrics" // registers the manager's metrics
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/testenv/controlplane"
)

// policyMetrics are the metrics of the SavepointPolicy controller the rules
// and the dashboard were written against, with their labels: the registered
// ones (internal/controller/metrics) must have these labels.
var policyMetrics = map[string][]string{
	"savepoint_last_success_timestamp_seconds":           {"namespace", "kind", "parent"},
	"savepoint_manager_policy_interval_seconds":          {"namespace", "kind", "parent", "policy"},
	"savepoint_manager_policy_runs_total":                {"namespace", "policy"},
	"savepoint_manager_policy_skips_total":               {"namespace", "policy", "reason"},
	"savepoint_manager_policy_retention_deletions_total": {"namespace", "policy"},
}

// managerMetrics are the series the manager serves on /metrics, by name,
// with their labels: what its registry describes (a histogram as its
// _bucket, _sum and _count series).
func managerMetrics(t *testing.T) map[string][]string {
	t.Helper()
	collector, ok := crmetrics.Registry.(prometheus.Collector)
	require.True(t, ok, "controller-runtime's registry describes its metrics")
	descs := make(chan *prometheus.Desc, 1000)
	collector.Describe(descs)
	close(descs)
	field := regexp.MustCompile(`fqName: "([^"]+)".*variableLabels: \{([^}]*)\}`)
	metrics := map[string][]string{}
	for d := range descs {
		m := field.FindStringSubmatch(d.String())
		require.NotNil(t, m, d.String())
		var labels []string
		if m[2] != "" {
			labels = strings.Split(m[2], ",")
		}
		metrics[m[1]] = labels
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			metrics[m[1]+suffix] = append(slices.Clone(labels), "le")
		}
	}
	for name, labels := range policyMetrics {
		registered, ok := metrics[name]
		require.True(t, ok, "%s is not registered by internal/controller/metrics", name)
		assert.ElementsMatch(t, labels, registered, "%s is registered with other labels than the rules and the dashboard use", name)
	}
	return metrics
}

// promqlWords are the functions, aggregations and keywords the rules and the
// dashboard use.
var promqlWords = []string{
	"sum", "max", "min", "avg", "count", "rate", "increase", "irate", "histogram_quantile", "time",
	"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
}

// grafanaVariables are replaced by what Grafana puts in their place.
var grafanaVariables = strings.NewReplacer("$__rate_interval", "5m", "$namespace", ".*")

var (
	identifier = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*`)
	number     = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?`)
	rangeDur   = regexp.MustCompile(`^[0-9]+[smhdwy]$`)
	matcher    = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$`)
	operator   = regexp.MustCompile(`^(==|!=|>=|<=|[-+*/%^><,])`)
)

// checkPromQL reads expr as PromQL's grammar would at its surface: brackets
// balance, functions are known ones, label matchers and ranges are well
// formed, every metric is one the manager serves and every label one of
// its metrics has. It returns the labels of its by() clauses (what an
// alert's $labels can name), and the problems found.
func checkPromQL(expr string, metrics map[string][]string) (byLabels []string, problems []string) {
	expr = grafanaVariables.Replace(expr)
	var stack []byte
	var used []string // metrics
	var labels []string
	pairs := map[byte]byte{')': '(', '}': '{', ']': '['}
	s := expr
	prevWord := ""
	for len(s) > 0 {
		switch c := s[0]; {
		case c == ' ' || c == '\n' || c == '\t':
			s = s[1:]
		case c == '(' || c == '[' || c == '{':
			closing := map[byte]string{'(': ")", '[': "]", '{': "}"}[c]
			end := strings.Index(s, closing)
			switch c {
			case '{':
				if end < 0 {
					return nil, append(problems, "a { that is not closed")
				}
				for _, m := range strings.Split(s[1:end], ",") {
					if strings.TrimSpace(m) == "" {
						continue
					}
					parts := matcher.FindStringSubmatch(m)
					if parts == nil {
						problems = append(problems, fmt.Sprintf("label matcher %q is not LABEL OP \"VALUE\"", m))
						continue
					}
					if strings.HasPrefix(parts[2], "=~") || strings.HasPrefix(parts[2], "!~") {
						if _, err := regexp.Compile(parts[3]); err != nil {
							problems = append(problems, fmt.Sprintf("label matcher %q: %v", m, err))
						}
					}
					labels = append(labels, parts[1])
				}
				s = s[end+1:]
				continue
			case '[':
				if end < 0 || !rangeDur.MatchString(s[1:end]) {
					return nil, append(problems, fmt.Sprintf("a range that is not [DURATION] at %q", s))
				}
				s = s[end+1:]
				continue
			}
			if slices.Contains([]string{"by", "without", "on", "ignoring"}, prevWord) {
				for _, l := range strings.Split(s[1:end], ",") {
					l = strings.TrimSpace(l)
					if !identifier.MatchString(l) || identifier.FindString(l) != l {
						problems = append(problems, fmt.Sprintf("%s (%s): %q is no label name", prevWord, s[1:end], l))
					}
					labels = append(labels, l)
					if prevWord == "by" {
						byLabels = append(byLabels, l)
					}
				}
				s = s[end+1:]
				prevWord = ""
				continue
			}
			stack = append(stack, c)
			s = s[1:]
		case c == ')' || c == ']' || c == '}':
			if len(stack) == 0 || stack[len(stack)-1] != pairs[c] {
				return nil, append(problems, fmt.Sprintf("an unmatched %c at %q", c, s))
			}
			stack = stack[:len(stack)-1]
			s = s[1:]
		case c == '"':
			end := strings.Index(s[1:], `"`)
			if end < 0 {
				return nil, append(problems, "a string that is not closed")
			}
			s = s[end+2:]
		case number.MatchString(s):
			s = s[len(number.FindString(s)):]
		case identifier.MatchString(s):
			word := identifier.FindString(s)
			s = s[len(word):]
			next := strings.TrimLeft(s, " \n\t")
			switch {
			case slices.Contains(promqlWords, word):
				if (word == "time" || word == "histogram_quantile" || word == "rate" || word == "increase") && !strings.HasPrefix(next, "(") {
					problems = append(problems, fmt.Sprintf("%s without its (", word))
				}
			case strings.HasPrefix(next, "("):
				problems = append(problems, fmt.Sprintf("%s( is no function these rules know", word))
			case metrics[word] != nil || strings.HasPrefix(word, "savepoint_"):
				if _, ok := metrics[word]; !ok {
					problems = append(problems, fmt.Sprintf("metric %s is not one the manager serves", word))
				}
				used = append(used, word)
			default:
				problems = append(problems, fmt.Sprintf("%q is neither a metric of the manager nor PromQL", word))
			}
			prevWord = word
		case operator.MatchString(s):
			s = s[len(operator.FindString(s)):]
		default:
			return nil, append(problems, fmt.Sprintf("cannot read %q", s))
		}
	}
	if len(stack) > 0 {
		problems = append(problems, fmt.Sprintf("%d bracket(s) not closed", len(stack)))
	}
	if len(used) == 0 && !strings.Contains(expr, "time()") {
		problems = append(problems, "no metric")
	}
	for _, l := range labels {
		known := false
		for _, m := range used {
			known = known || slices.Contains(metrics[m], l)
		}
		if !known {
			problems = append(problems, fmt.Sprintf("label %s is none of %v's", l, used))
		}
	}
	return byLabels, problems
}

// TestCheckPromQL: the check finds what it is there to find.
func TestCheckPromQL(t *testing.T) {
	metrics := map[string][]string{"savepoint_x_total": {"namespace", "policy"}, "savepoint_h_bucket": {"le"}}
	for _, tt := range []struct {
		expr string
		want string // a problem found; "" for none
	}{
		{expr: `sum by (namespace) (increase(savepoint_x_total{namespace=~"a|b", policy!=""}[5m])) > 0`},
		{expr: `histogram_quantile(0.9, sum by (le) (rate(savepoint_h_bucket[$__rate_interval])))`},
		{expr: `sum(savepoint_x_total`, want: "1 bracket(s) not closed"},
		{expr: `sum(savepoint_x_total))`, want: "an unmatched )"},
		{expr: `sum(savepoint_y_total)`, want: "metric savepoint_y_total is not one the manager serves"},
		{expr: `sum by (parent) (savepoint_x_total)`, want: "label parent is none of [savepoint_x_total]'s"},
		{expr: `savepoint_x_total{namespace~"a"}`, want: `label matcher "namespace~\"a\"" is not LABEL OP "VALUE"`},
		{expr: `rate(savepoint_x_total[5 minutes])`, want: "a range that is not [DURATION]"},
		{expr: `humanize(savepoint_x_total)`, want: "humanize( is no function these rules know"},
		{expr: `savepoint_x_total{namespace=~"("}`, want: "error parsing regexp"},
	} {
		t.Run(tt.expr, func(t *testing.T) {
			_, problems := checkPromQL(tt.expr, metrics)
			if tt.want == "" {
				assert.Empty(t, problems)
				return
			}
			require.NotEmpty(t, problems)
			assert.Contains(t, strings.Join(problems, "; "), tt.want)
		})
	}
}

// TestMonitoringQueries: every alert and dashboard query reads, names the
// manager's metrics and their labels, and an alert's text names only the
// labels its query keeps.
func TestMonitoringQueries(t *testing.T) {
	metrics := managerMetrics(t)

	data, err := os.ReadFile(filepath.Join("monitoring", "prometheusrule.yaml"))
	require.NoError(t, err)
	var rule struct { // strict: a misspelt field of a rule is an error
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   map[string]any `json:"metadata"`
		Spec       struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Alert       string            `json:"alert"`
					Expr        string            `json:"expr"`
					For         string            `json:"for"`
					Labels      map[string]string `json:"labels"`
					Annotations map[string]string `json:"annotations"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	require.NoError(t, yaml.UnmarshalStrict(data, &rule))
	var alerts []string
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			by, problems := checkPromQL(r.Expr, metrics)
			assert.Empty(t, problems, "alert %s: %s", r.Alert, r.Expr)
			assert.Regexp(t, `^[0-9]+[smh]$`, r.For, r.Alert)
			assert.Contains(t, []string{"info", "warning", "critical"}, r.Labels["severity"], r.Alert)
			for _, text := range r.Annotations {
				for _, m := range regexp.MustCompile(`\$labels\.([a-z_]+)`).FindAllStringSubmatch(text, -1) {
					assert.Contains(t, by, m[1], "alert %s names $labels.%s, which its query's by() drops", r.Alert, m[1])
				}
			}
		}
	}
	assert.Contains(t, alerts, "SavepointTooOld", "the alert on a covered parent's newest good savepoint")

	data, err = os.ReadFile(filepath.Join("monitoring", "grafana-dashboard.json"))
	require.NoError(t, err)
	var dashboard struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	require.NoError(t, json.Unmarshal(data, &dashboard))
	require.NotEmpty(t, dashboard.UID)
	shown := map[string]bool{}
	for _, p := range dashboard.Panels {
		if p.Type == "row" {
			continue
		}
		require.NotEmpty(t, p.Targets, "panel %q has queries", p.Title)
		for _, target := range p.Targets {
			_, problems := checkPromQL(target.Expr, metrics)
			assert.Empty(t, problems, "panel %q: %s", p.Title, target.Expr)
			for name := range metrics {
				if regexp.MustCompile(`\b` + name + `\b`).MatchString(target.Expr) {
					shown[strings.TrimSuffix(name, "_bucket")] = true
				}
			}
		}
	}
	labelValues := regexp.MustCompile(`^label_values\(([a-z_:]+), *([a-z_]+)\)$`)
	for _, v := range dashboard.Templating.List {
		if v.Definition == "" {
			continue
		}
		m := labelValues.FindStringSubmatch(v.Definition)
		require.NotNil(t, m, "variable %s: %s is label_values(METRIC, LABEL)", v.Name, v.Definition)
		assert.Contains(t, metrics[m[1]], m[2], "variable %s: %s", v.Name, v.Definition)
	}
	for name := range policyMetrics {
		assert.True(t, shown[name], "the dashboard shows %s", name)
	}
	for _, name := range []string{"savepoint_manager_savepoints", "savepoint_manager_trigger_to_complete_seconds", "savepoint_manager_disposal_failures_total", "savepoint_manager_flink_rest_errors_total"} {
		assert.True(t, shown[name], "the dashboard shows %s", name)
	}
}

// prometheusOperatorVersion is the Prometheus Operator whose CRDs the
// component is checked against; its Go module carries them as YAML under
// example/prometheus-operator-crd.
const prometheusOperatorVersion = "v0.85.0"

// TestMonitoringComponent: an installation with the component renders, and
// a server-side dry run of it passes the real API server with the
// Prometheus Operator's real CRDs installed, in the manager's namespace.
func TestMonitoringComponent(t *testing.T) {
	env := controlplane.Start(t, controlplane.Options{})
	ctx := context.Background()
	require.NoError(t, env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: managerNamespace}}))

	crds := filepath.Join(goModuleDir(t, "github.com/prometheus-operator/prometheus-operator@"+prometheusOperatorVersion), "example", "prometheus-operator-crd")
	_, errOut, err := env.RunKubectl(ctx, "apply", "--server-side", "-f", filepath.Join(crds, "monitoring.coreos.com_prometheusrules.yaml"), "-f", filepath.Join(crds, "monitoring.coreos.com_servicemonitors.yaml"))
	require.NoError(t, err, errOut)
	_, errOut, err = env.RunKubectl(ctx, "wait", "--for=condition=Established", "--timeout=60s", "crd/prometheusrules.monitoring.coreos.com", "crd/servicemonitors.monitoring.coreos.com")
	require.NoError(t, err, errOut)

	// An installation as the README writes it: default, with the component
	// (by relative paths: kustomize takes no absolute ones).
	here, err := os.Getwd()
	require.NoError(t, err)
	install := t.TempDir()
	rel := func(dir string) string {
		p, err := filepath.Rel(install, filepath.Join(here, dir))
		require.NoError(t, err)
		return p
	}
	require.NoError(t, os.WriteFile(filepath.Join(install, "kustomization.yaml"), fmt.Appendf(nil, `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- %s
components:
- %s
`, rel("default"), rel("monitoring")), 0o644))

	rendered, errOut, err := env.RunKubectl(ctx, "kustomize", install)
	require.NoError(t, err, errOut)
	for _, want := range []string{"kind: PrometheusRule", "kind: ServiceMonitor", "name: savepoint-manager-dashboard", "grafana_dashboard: \"1\"", "alert: SavepointTooOld"} {
		assert.Contains(t, rendered, want)
	}

	out, errOut, err := env.RunKubectl(ctx, "apply", "--dry-run=server", "-k", install)
	require.NoError(t, err, errOut)
	for _, want := range []string{
		"prometheusrule.monitoring.coreos.com/savepoint-manager", "servicemonitor.monitoring.coreos.com/savepoint-manager",
		"configmap/savepoint-manager-dashboard", "networkpolicy.networking.k8s.io/savepoint-manager-metrics",
		"deployment.apps/savepoint-manager",
	} {
		assert.Contains(t, out, want+" ")
	}
	out, errOut, err = env.RunKubectl(ctx, "apply", "--dry-run=server", "-k", install, "-o", `jsonpath={range .items[?(@.metadata.labels.app\.kubernetes\.io/name=="savepoint-manager")]}{.kind}/{.metadata.namespace}{"\n"}{end}`)
	require.NoError(t, err, errOut)
	for _, kind := range []string{"PrometheusRule", "ServiceMonitor", "ConfigMap", "NetworkPolicy"} {
		assert.Contains(t, out, kind+"/"+managerNamespace+"\n", "the component's %s lands in the manager's namespace", kind)
	}
}

// goModuleDir returns the folder of module@version, fetched through the Go
// module proxy (and cached in the module cache like any module).
func goModuleDir(t *testing.T, moduleAtVersion string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", moduleAtVersion)
	cmd.Dir = t.TempDir() // outside our module: nothing is added to go.mod
	out, err := cmd.Output()
	require.NoError(t, err, "go mod download %s: %s", moduleAtVersion, out)
	var module struct{ Dir, Error string }
	require.NoError(t, json.Unmarshal(out, &module))
	require.Empty(t, module.Error)
	return module.Dir
}
