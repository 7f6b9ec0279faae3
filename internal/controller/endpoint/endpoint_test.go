package endpoint

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/egress"
)

func TestClientsGet(t *testing.T) {
	own := egress.MustParse(egress.DefaultEntries(), egress.Options{})
	tests := []struct {
		name      string
		namespace string
		url       string
		wantErr   string
	}{
		{name: "a Service of its own namespace", namespace: "team-a", url: "http://orders-rest.team-a.svc:8081"},
		{name: "another team's Service", namespace: "team-b", url: "http://orders-rest.team-a.svc:8081", wantErr: "--allow-endpoint"},
		{name: "cloud metadata", namespace: "team-b", url: "http://169.254.169.254/latest/meta-data", wantErr: "169.254.169.254"},
		{name: "the manager's own ports", namespace: "team-b", url: "http://127.0.0.1:8080", wantErr: "--allow-loopback-endpoints"},
		{name: "no URL at all: its form is said first", namespace: "team-a", url: "flink-jobmanager:8081", wantErr: `flink REST URL "flink-jobmanager:8081": want http(s)://host:port`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Clients{Policy: own}
			c, err := f.Get(tt.namespace, tt.url)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Zero(t, f.clients.order, "nothing kept of a refused URL")
				return
			}
			require.NoError(t, err)
			again, err := f.Get(tt.namespace, tt.url)
			require.NoError(t, err)
			assert.Same(t, c, again, "one client per namespace and URL")
		})
	}
}

// TestClientsBounded: a user who writes ever new URLs does not grow the
// manager; the least recently used client goes first.
func TestClientsBounded(t *testing.T) {
	f := &Clients{Policy: egress.MustParse([]string{"*.{namespace}.svc"}, egress.Options{}), Max: 3}
	url := func(i int) string { return fmt.Sprintf("http://pool-%d.team-a.svc:8081", i) }
	first, err := f.Get("team-a", url(0))
	require.NoError(t, err)
	for i := 1; i < 100; i++ {
		_, err := f.Get("team-a", url(i))
		require.NoError(t, err)
		if i%2 == 1 {
			// url(0) stays in use: it is never the least recently used.
			got, err := f.Get("team-a", url(0))
			require.NoError(t, err)
			require.Same(t, first, got)
		}
	}
	assert.Equal(t, 3, f.clients.order.Len())
	assert.Len(t, f.clients.items, 3)
	_, kept := f.clients.items[clientKey{"team-a", url(0)}]
	assert.True(t, kept, "the client in use is kept")
	_, kept = f.clients.items[clientKey{"team-a", url(1)}]
	assert.False(t, kept, "an old one went")
}

func TestAnnotatedURL(t *testing.T) {
	_, err := AnnotatedURL(annotated("http://x.team-a.svc:8081"), false)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrAnnotationNotHonoured))
	assert.Contains(t, err.Error(), "--allow-rest-url-annotation")
	url, err := AnnotatedURL(annotated("http://x.team-a.svc:8081"), true)
	require.NoError(t, err)
	assert.Equal(t, "http://x.team-a.svc:8081", url)
	url, err = AnnotatedURL(annotated(""), false)
	require.NoError(t, err)
	assert.Empty(t, url, "no annotation, nothing to honour")
}

func annotated(url string) *cmfv1.FlinkApplication {
	app := &cmfv1.FlinkApplication{}
	if url != "" {
		app.Annotations = map[string]string{cmfv1.RestURLAnnotation: url}
	}
	return app
}
