package io.kubectlsavepoint.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.TimeUtils;

/**
 * A Flink session cluster in one JVM for the end-to-end tests: a {@link MiniCluster} whose
 * REST endpoint outlives any job (unlike a LocalStreamEnvironment's), optionally running
 * {@link StatefulJob} and an embedded SQL Gateway.
 *
 * <p>Once the REST API answers and the job, if any, has all its tasks running (a savepoint
 * triggered earlier fails), it prints exactly one JSON line to stdout:
 * {@code {"restURL":..,"jobID":..,"sqlGatewayURL":..,"flinkVersion":..}}. Everything else
 * goes to stderr. It then runs until SIGTERM (or, with {@code --exit-on-stdin-eof}, until
 * its parent closes stdin) and closes the cluster.
 */
public final class SessionCluster {
    private static final Set<String> FLAGS =
            Set.of(
                    "rest-port",
                    "work-dir",
                    "savepoint-dir",
                    "job-name",
                    "restore-from",
                    "parallelism",
                    "slots",
                    "rate",
                    "variant",
                    "checkpoint-interval",
                    "sql-gateway-port",
                    "async-store-duration",
                    "ready-timeout",
                    "set");
    private static final Set<String> SWITCHES =
            Set.of("allow-non-restored-state", "exit-on-stdin-eof");

    private SessionCluster() {}

    public static void main(String[] args) {
        // Flink and its libraries occasionally print to System.out; the harness reads stdout
        // for the ready line only.
        PrintStream stdout = System.out;
        System.setOut(System.err);
        try {
            run(Flags.parse(args, FLAGS, SWITCHES), stdout);
        } catch (Throwable t) {
            t.printStackTrace(System.err);
            // Last, so that a caller showing the tail of stderr shows the reason.
            System.err.println("session cluster failed: " + t + "; root cause: " + rootCause(t));
            System.exit(1);
        }
    }

    private static Throwable rootCause(Throwable t) {
        Throwable cause = t;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return cause;
    }

    private static void run(Flags flags, PrintStream stdout) throws Exception {
        Path workDir =
                flags.get("work-dir") == null
                        ? Files.createTempDirectory("flink-session-")
                        : Path.of(flags.get("work-dir")).toAbsolutePath();
        Path tmpDir = Files.createDirectories(workDir.resolve("tmp"));
        Path uploadDir = Files.createDirectories(workDir.resolve("upload"));
        // The MiniCluster unpacks tens of MB of jars into java.io.tmpdir on every start.
        System.setProperty("java.io.tmpdir", tmpDir.toString());

        Configuration conf = clusterConfiguration(flags, tmpDir, uploadDir);
        MiniCluster cluster =
                new MiniCluster(
                        new MiniClusterConfiguration.Builder()
                                .setConfiguration(conf)
                                .setNumTaskManagers(1)
                                .setNumSlotsPerTaskManager(flags.getInt("slots", 8))
                                .build());
        EmbeddedSqlGateway[] gateway = new EmbeddedSqlGateway[1];
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(() -> shutdown(cluster, gateway[0]), "session-cluster-shutdown"));
        cluster.start();

        int restPort = cluster.getRestAddress().get(1, TimeUnit.MINUTES).getPort();
        URI restURL = URI.create("http://127.0.0.1:" + restPort);

        String sqlGatewayURL = "";
        if (flags.get("sql-gateway-port") != null) {
            gateway[0] =
                    EmbeddedSqlGateway.start(
                            conf,
                            restPort,
                            flags.getInt("sql-gateway-port", 0),
                            Files.createDirectories(workDir.resolve("sql-gateway-upload")));
            sqlGatewayURL = "http://127.0.0.1:" + gateway[0].port();
        }

        String jobID = "";
        if (flags.get("job-name") != null) {
            jobID = submitJob(flags, restPort).toHexString();
        }

        Duration timeout = TimeUtils.parseDuration(flags.get("ready-timeout", "2 min"));
        Readiness readiness = new Readiness(restURL);
        readiness.awaitCluster(timeout);
        if (!jobID.isEmpty()) {
            readiness.awaitAllTasksRunning(jobID, timeout);
        }

        Map<String, String> ready = new LinkedHashMap<>();
        ready.put("restURL", restURL.toString());
        ready.put("jobID", jobID);
        ready.put("sqlGatewayURL", sqlGatewayURL);
        ready.put("flinkVersion", EnvironmentInformation.getVersion());
        stdout.println(new ObjectMapper().writeValueAsString(ready));
        stdout.flush();

        if (flags.isSet("exit-on-stdin-eof")) {
            exitOnStdinEOF();
        }
        new CountDownLatch(1).await();
    }

    private static Configuration clusterConfiguration(Flags flags, Path tmpDir, Path uploadDir) {
        Configuration conf = new Configuration();
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        int restPort = flags.getInt("rest-port", 0);
        conf.set(RestOptions.PORT, restPort);
        conf.set(RestOptions.BIND_PORT, Integer.toString(restPort));
        conf.set(
                RestOptions.ASYNC_OPERATION_STORE_DURATION,
                TimeUtils.parseDuration(flags.get("async-store-duration", "5 min")));
        conf.set(WebOptions.UPLOAD_DIR, uploadDir.toString());
        conf.set(WebOptions.REFRESH_INTERVAL, Duration.ofSeconds(1));
        conf.set(CoreOptions.TMP_DIRS, tmpDir.toString());
        // Only when asked: tests need clusters without a default savepoint directory.
        if (flags.get("savepoint-dir") != null) {
            conf.set(
                    CheckpointingOptions.SAVEPOINT_DIRECTORY,
                    Path.of(flags.get("savepoint-dir")).toAbsolutePath().toUri().toString());
        }
        for (String setting : flags.settings()) {
            int eq = setting.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--set wants key=value, got " + setting);
            }
            conf.setString(setting.substring(0, eq).trim(), setting.substring(eq + 1).trim());
        }
        return conf;
    }

    /**
     * Submits {@link StatefulJob} through the cluster's own REST API, as any remote client
     * would; the job keeps running after this returns.
     */
    private static JobID submitJob(Flags flags, int restPort) throws Exception {
        Configuration conf = new Configuration();
        conf.set(DeploymentOptions.TARGET, "remote");
        conf.set(DeploymentOptions.ATTACHED, false);
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        conf.set(RestOptions.PORT, restPort);
        int parallelism = flags.getInt("parallelism", 0);
        if (parallelism > 0) {
            conf.set(CoreOptions.DEFAULT_PARALLELISM, parallelism);
        }
        if (flags.get("checkpoint-interval") != null) {
            conf.set(
                    CheckpointingOptions.CHECKPOINTING_INTERVAL,
                    TimeUtils.parseDuration(flags.get("checkpoint-interval")));
        }
        if (flags.get("restore-from") != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, flags.get("restore-from"));
            conf.set(
                    StateRecoveryOptions.SAVEPOINT_IGNORE_UNCLAIMED_STATE,
                    flags.isSet("allow-non-restored-state"));
        }
        StreamExecutionEnvironment env = new StreamExecutionEnvironment(conf);
        StatefulJob.define(
                env, Double.parseDouble(flags.get("rate", "50")), flags.get("variant", ""));
        JobClient client = env.executeAsync(flags.get("job-name"));
        return client.getJobID();
    }

    /** Exits (running the shutdown hooks) once the parent process closes our stdin. */
    private static void exitOnStdinEOF() {
        Thread watcher =
                new Thread(
                        () -> {
                            try (InputStream in = System.in) {
                                byte[] buffer = new byte[256];
                                while (in.read(buffer) >= 0) {
                                    // Discard: only the end of the stream matters.
                                }
                            } catch (IOException ignored) {
                                // A broken stdin means the parent is gone, too.
                            }
                            System.err.println("stdin closed: shutting the session cluster down");
                            System.exit(0);
                        },
                        "stdin-eof-watcher");
        watcher.setDaemon(true);
        watcher.start();
    }

    private static void shutdown(MiniCluster cluster, EmbeddedSqlGateway gateway) {
        if (gateway != null) {
            gateway.stop();
        }
        try {
            cluster.closeAsync().get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            System.err.println("closing the MiniCluster: " + e);
        }
    }
}
