package v1

// OperatorStatus is what the manager keeps of an operator-mode application's
// Flink Kubernetes Operator FlinkDeployment.
type OperatorStatus struct {
	// deployment is the FlinkDeployment (flink.apache.org/v1beta1) the
	// application is rendered into: same name, same namespace.
	// +optional
	Deployment string `json:"deployment,omitempty"`

	// adoptedUpgradeSavepointPath is the deployment's last
	// status.jobStatus.upgradeSavepointPath that was adopted as a Savepoint.
	// The operator keeps that value after the upgrade: recording it here
	// adopts it once, even when its Savepoint was deleted since.
	// +optional
	AdoptedUpgradeSavepointPath string `json:"adoptedUpgradeSavepointPath,omitempty"`

	// adoptedSavepointTimestamp is the timeStamp (epoch milliseconds) of the
	// newest savepoint of the deployment's legacy
	// status.jobStatus.savepointInfo that was adopted as a Savepoint; older
	// ones are not adopted again.
	// +optional
	AdoptedSavepointTimestamp int64 `json:"adoptedSavepointTimestamp,omitempty"`
}
