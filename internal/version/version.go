// Package version is the build's version, stamped into both binaries by
// -ldflags, and the ConfigMap through which the running manager publishes
// its own, so that `kubectl savepoint version` can show client and manager
// side by side.
package version

import (
	"fmt"
	"runtime"
	"time"
)

// Version and Commit are set at build time (the Makefile's LDFLAGS, the
// Dockerfile, krew/dist.sh):
//
//	-ldflags "-X github.com/kubectl-savepoint/kubectl-savepoint/internal/version.Version=v0.1.0
//	          -X github.com/kubectl-savepoint/kubectl-savepoint/internal/version.Commit=abc1234"
//
// They are variables only because -X can set nothing else; nothing writes
// them at run time.
var (
	Version = "dev"
	Commit  = "unknown"
)

// Info describes one build.
type Info struct {
	Version   string
	Commit    string
	GoVersion string
	// Platform is GOOS/GOARCH.
	Platform string
}

// Get returns this binary's build.
func Get() Info {
	return Info{Version: Version, Commit: Commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
}

// String is the build as `kubectl savepoint version` shows it, e.g.
// "v0.1.0 (commit abc1234, go1.26.0, linux/amd64)".
func (i Info) String() string {
	return fmt.Sprintf("%s (commit %s, %s, %s)", i.Version, i.Commit, i.GoVersion, i.Platform)
}

// ConfigMapName is the ConfigMap in the manager's namespace into which the
// elected manager writes its build and start time when it starts leading.
// A ConfigMap, like kube-public/cluster-info, because any user can be
// allowed to read exactly this one object (manifests/rbac binds a Role for
// it to all authenticated users) without learning anything else about the
// manager's namespace.
const ConfigMapName = "savepoint-manager-version"

// The keys of the ConfigMap's data.
const (
	versionKey   = "version"
	commitKey    = "commit"
	goVersionKey = "goVersion"
	platformKey  = "platform"
	startTimeKey = "startTime"
)

// Published is what the running manager tells about itself.
type Published struct {
	Info
	// StartTime is when the manager's process started.
	StartTime time.Time
}

// Data is p as the ConfigMap's data.
func (p Published) Data() map[string]string {
	return map[string]string{
		versionKey:   p.Version,
		commitKey:    p.Commit,
		goVersionKey: p.GoVersion,
		platformKey:  p.Platform,
		startTimeKey: p.StartTime.UTC().Format(time.RFC3339),
	}
}

// FromData reads what Data wrote; a missing key stays empty, a start time
// that does not parse stays zero: an older or newer manager may write other
// keys, and the client still shows what it can.
func FromData(data map[string]string) Published {
	p := Published{Info: Info{
		Version: data[versionKey], Commit: data[commitKey], GoVersion: data[goVersionKey], Platform: data[platformKey],
	}}
	p.StartTime, _ = time.Parse(time.RFC3339, data[startTimeKey])
	return p
}

// String is the published build and its start time, e.g. "v0.1.0 (commit
// abc1234, go1.26.0, linux/amd64), started 2026-11-25T07:54:30Z".
func (p Published) String() string {
	s := p.Info.String()
	if !p.StartTime.IsZero() {
		s += ", started " + p.StartTime.UTC().Format(time.RFC3339)
	}
	return s
}
