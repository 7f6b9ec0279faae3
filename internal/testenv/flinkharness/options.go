package flinkharness

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// StatefulJobEntryClass is the main class to pass as entryClass to /jars/{id}/run to run
// the stateful job on a session cluster; its program arguments are "--job-name", "NAME"
// and optionally "--rate", "--parallelism", "--variant".
const StatefulJobEntryClass = "io.kubectlsavepoint.e2e.StatefulJob"

// JobVariant selects a shape of the stateful job.
type JobVariant string

const (
	// JobVariantStateful is the normal job: DataGen source → keyBy(value % 16) →
	// per-key ValueState counter (uid "per-key-counter") → discarding sink.
	JobVariantStateful JobVariant = ""
	// JobVariantWithoutCounter replaces the counter with a stateless map: a savepoint of
	// the normal job restores into it only with AllowNonRestoredState.
	JobVariantWithoutCounter JobVariant = "dropped-counter"
)

// Options describe a session cluster to start. The zero value is an empty session cluster
// (no job, no SQL Gateway, no default savepoint directory) on free ports.
type Options struct {
	// JobName, when set, runs the stateful job under this name and waits until all its
	// tasks run; empty starts no job.
	JobName string
	// Variant selects the job's shape; see JobVariantWithoutCounter.
	Variant JobVariant
	// RecordsPerSecond is the source's rate; 0 means 50.
	RecordsPerSecond float64
	// Parallelism of the job; 0 means Flink's default (1).
	Parallelism int
	// RestoreFrom is a savepoint path to start the job from.
	RestoreFrom string
	// AllowNonRestoredState lets RestoreFrom skip state that maps to no operator.
	AllowNonRestoredState bool
	// CheckpointInterval enables periodic checkpoints; 0 leaves them off, so that the
	// checkpoint history holds only savepoints.
	CheckpointInterval time.Duration

	// SavepointDir becomes execution.checkpointing.savepoint-dir; empty leaves the
	// cluster without a default, so triggers must name a target directory.
	SavepointDir string
	// AsyncStoreDuration is rest.async.store-duration, how long the JobManager remembers
	// a trigger's result (Flink's default: 5 minutes).
	AsyncStoreDuration time.Duration
	// Slots is the number of task slots; 0 means 8.
	Slots int
	// FlinkConfig holds further Flink configuration, key → value.
	FlinkConfig map[string]string

	// SQLGateway also starts a SQL Gateway REST endpoint submitting to the cluster.
	SQLGateway bool
	// RESTPort and SQLGatewayPort fix the ports; 0 lets the JVM pick free ones and
	// report them, which never races with other clusters.
	RESTPort, SQLGatewayPort int

	// WorkDir holds the JVM's temporary files and uploads. Start defaults it to
	// t.TempDir(); StartProcess to a new temporary folder that Stop removes.
	WorkDir string
	// ReadyTimeout bounds the wait for the ready line; 0 means 2 minutes.
	ReadyTimeout time.Duration
	// JVMArgs are added to the java command line (e.g. "-Xmx512m").
	JVMArgs []string
	// DisableClassDataSharing skips the class-data archive that halves the JVM's start.
	DisableClassDataSharing bool
	// Logf receives the harness's notes (e.g. a one-off class-data archive build); nil
	// discards them. Start sets it to t.Logf.
	Logf func(format string, args ...any)
}

const (
	defaultReadyTimeout = 2 * time.Minute
	jobSubmitGrace      = 10 * time.Second
)

func (o Options) readyTimeout() time.Duration {
	if o.ReadyTimeout > 0 {
		return o.ReadyTimeout
	}
	return defaultReadyTimeout
}

func (o Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

// clusterArgs are SessionCluster's program arguments for these options.
func (o Options) clusterArgs(workDir string) ([]string, error) {
	args := []string{
		"--work-dir", workDir,
		"--rest-port", strconv.Itoa(o.RESTPort),
		"--ready-timeout", flinkDuration(o.readyTimeout()),
		// The JVM exits when we do, even when we are killed without running Stop.
		"--exit-on-stdin-eof",
	}
	if o.SavepointDir != "" {
		dir, err := filepath.Abs(o.SavepointDir)
		if err != nil {
			return nil, fmt.Errorf("savepoint directory: %w", err)
		}
		args = append(args, "--savepoint-dir", dir)
	}
	if o.AsyncStoreDuration > 0 {
		args = append(args, "--async-store-duration", flinkDuration(o.AsyncStoreDuration))
	}
	if o.Slots > 0 {
		args = append(args, "--slots", strconv.Itoa(o.Slots))
	}
	if o.SQLGateway {
		args = append(args, "--sql-gateway-port", strconv.Itoa(o.SQLGatewayPort))
	}
	keys := make([]string, 0, len(o.FlinkConfig))
	for key := range o.FlinkConfig {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		args = append(args, "--set", key+"="+o.FlinkConfig[key])
	}
	if o.JobName == "" {
		if o.RestoreFrom != "" || o.Variant != "" || o.Parallelism != 0 {
			return nil, fmt.Errorf("RestoreFrom, Variant and Parallelism need a JobName")
		}
		return args, nil
	}
	args = append(args, "--job-name", o.JobName)
	if o.Variant != "" {
		args = append(args, "--variant", string(o.Variant))
	}
	if o.RecordsPerSecond > 0 {
		args = append(args, "--rate", strconv.FormatFloat(o.RecordsPerSecond, 'f', -1, 64))
	}
	if o.Parallelism > 0 {
		args = append(args, "--parallelism", strconv.Itoa(o.Parallelism))
	}
	if o.RestoreFrom != "" {
		args = append(args, "--restore-from", o.RestoreFrom)
	}
	if o.AllowNonRestoredState {
		args = append(args, "--allow-non-restored-state")
	}
	if o.CheckpointInterval > 0 {
		args = append(args, "--checkpoint-interval", flinkDuration(o.CheckpointInterval))
	}
	return args, nil
}

// flinkDuration writes d as Flink's duration syntax understands it.
func flinkDuration(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
}

// javaOpens are the packages Flink reflects into on Java 17: what Flink's own config.yaml
// opens (env.java.opts.all) plus a few more. The jar's manifest repeats them for
// `java -jar` users; a failed static initialiser would poison the JVM until restart.
var javaOpens = []string{
	"java.base/java.lang", "java.base/java.lang.invoke", "java.base/java.lang.reflect",
	"java.base/java.io", "java.base/java.math", "java.base/java.net", "java.base/java.nio",
	"java.base/java.security", "java.base/java.text", "java.base/java.time",
	"java.base/java.util", "java.base/java.util.concurrent",
	"java.base/java.util.concurrent.atomic", "java.base/java.util.concurrent.locks",
	"java.base/sun.nio.ch", "java.rmi/sun.rmi.transport",
}

var javaExports = []string{
	"java.base/sun.net.util", "java.rmi/sun.rmi.registry", "java.security.jgss/sun.security.krb5",
	"jdk.compiler/com.sun.tools.javac.api", "jdk.compiler/com.sun.tools.javac.file",
	"jdk.compiler/com.sun.tools.javac.parser", "jdk.compiler/com.sun.tools.javac.tree",
	"jdk.compiler/com.sun.tools.javac.util",
}

// jvmArgs are the java options before -jar, except the class-data archive.
func jvmArgs(tmpDir string, extra []string) []string {
	args := []string{
		// C1 only: the JVM starts in about half the time, and a 50 records/s job never
		// needs C2.
		"-XX:TieredStopAtLevel=1",
		"-XX:-UsePerfData",
		// JVM warnings (e.g. an unusable class-data archive) go to stdout by default,
		// where they would precede the ready line.
		"-Xlog:disable", "-Xlog:all=warning:stderr",
		"-Djava.io.tmpdir=" + tmpDir,
	}
	for _, pkg := range javaOpens {
		args = append(args, "--add-opens="+pkg+"=ALL-UNNAMED")
	}
	for _, pkg := range javaExports {
		args = append(args, "--add-exports="+pkg+"=ALL-UNNAMED")
	}
	return append(args, extra...)
}
