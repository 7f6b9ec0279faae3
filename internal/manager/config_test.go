package manager

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubectl-savepoint/kubectl-savepoint/internal/webhook"
)

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		name    string
		config  Config
		want    func(*testing.T, Config)
		wantErr string
	}{
		{
			name:    "the namespace is required",
			config:  Config{ServiceAccount: "savepoint-manager"},
			wantErr: "the manager's namespace is required",
		},
		{
			name:   "the claims, the certificates and the manager's user follow the namespace",
			config: Config{Namespace: "savepoint-system", ServiceAccount: "savepoint-manager", CertRotation: &webhook.CertOptions{SecretName: "cert"}},
			want: func(t *testing.T, c Config) {
				assert.Equal(t, "savepoint-system", c.Webhook.ClaimNamespace)
				assert.Equal(t, "system:serviceaccount:savepoint-system:savepoint-manager", c.Webhook.ManagerUser)
				assert.Equal(t, webhook.CertOptions{Namespace: "savepoint-system", SecretName: "cert"}, *c.CertRotation)
				assert.NotNil(t, c.Now)
			},
		},
		{
			name: "what is set is kept",
			config: Config{Namespace: "savepoint-system", ServiceAccount: "savepoint-manager",
				Webhook:      webhook.Options{ClaimNamespace: "claims", ManagerUser: "manager"},
				CertRotation: &webhook.CertOptions{Namespace: "certs"}},
			want: func(t *testing.T, c Config) {
				assert.Equal(t, "claims", c.Webhook.ClaimNamespace)
				assert.Equal(t, "manager", c.Webhook.ManagerUser)
				assert.Equal(t, "certs", c.CertRotation.Namespace)
			},
		},
		{
			name:   "without a service account no request is the manager's, and without rotation the certificates are provided",
			config: Config{Namespace: "savepoint-system"},
			want: func(t *testing.T, c Config) {
				assert.Empty(t, c.Webhook.ManagerUser)
				assert.Nil(t, c.CertRotation)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.config.withDefaults()
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			tt.want(t, got)
		})
	}
}

// TestConfigDefaultsKeepCallersCertOptions: the defaults fill a copy, so a
// caller's CertOptions (e.g. shared by two replicas in a test) is left as
// it was.
func TestConfigDefaultsKeepCallersCertOptions(t *testing.T) {
	rotation := &webhook.CertOptions{SecretName: "cert"}
	_, err := Config{Namespace: "savepoint-system", CertRotation: rotation}.withDefaults()
	require.NoError(t, err)
	assert.Empty(t, rotation.Namespace)
}
