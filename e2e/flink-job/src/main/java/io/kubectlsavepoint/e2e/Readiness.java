package io.kubectlsavepoint.e2e;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeoutException;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Waits, through the REST API the tests will use, until the cluster can take a savepoint.
 *
 * <p>A job whose status is RUNNING may still have tasks deploying, and a savepoint triggered
 * then fails with "Not all required tasks are currently running"; so this waits for
 * {@code tasks.running == tasks.total} in the live {@code /jobs/overview}.
 */
final class Readiness {
    private static final Duration POLL = Duration.ofMillis(100);

    private final URI restURL;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();

    Readiness(URI restURL) {
        this.restURL = restURL;
    }

    /** Waits until {@code /overview} shows a TaskManager with free slots registered. */
    void awaitCluster(Duration timeout) throws Exception {
        Instant deadline = Instant.now().plus(timeout);
        String last = "";
        while (Instant.now().isBefore(deadline)) {
            try {
                JsonNode overview = get("/overview");
                if (overview.path("taskmanagers").asInt() > 0
                        && overview.path("slots-total").asInt() > 0) {
                    return;
                }
                last = overview.toString();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(POLL.toMillis());
        }
        throw new TimeoutException("cluster not ready after " + timeout + ": " + last);
    }

    /** Waits until every task of {@code jobID} runs; fails fast if the job ends. */
    void awaitAllTasksRunning(String jobID, Duration timeout) throws Exception {
        Instant deadline = Instant.now().plus(timeout);
        String last = "not listed";
        while (Instant.now().isBefore(deadline)) {
            for (JsonNode job : get("/jobs/overview").path("jobs")) {
                if (!jobID.equals(job.path("jid").asText())) {
                    continue;
                }
                String state = job.path("state").asText();
                JsonNode tasks = job.path("tasks");
                int total = tasks.path("total").asInt();
                if ("RUNNING".equals(state) && total > 0 && tasks.path("running").asInt() == total) {
                    return;
                }
                if (isTerminal(state)) {
                    throw new IllegalStateException(
                            "job " + jobID + " ended " + state + ": " + rootException(jobID));
                }
                last = job.toString();
            }
            Thread.sleep(POLL.toMillis());
        }
        throw new TimeoutException(
                "job " + jobID + " not fully running after " + timeout + ": " + last);
    }

    private static boolean isTerminal(String state) {
        return state.equals("FAILED") || state.equals("CANCELED") || state.equals("FINISHED");
    }

    private String rootException(String jobID) {
        try {
            return get("/jobs/" + jobID + "/exceptions").path("root-exception").asText();
        } catch (Exception e) {
            return "(exceptions unavailable: " + e + ")";
        }
    }

    private JsonNode get(String path) throws IOException, InterruptedException {
        HttpRequest request =
                HttpRequest.newBuilder(restURL.resolve(path)).timeout(Duration.ofSeconds(5)).GET().build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("GET " + path + ": " + response.statusCode() + " " + response.body());
        }
        return json.readTree(response.body());
    }
}
