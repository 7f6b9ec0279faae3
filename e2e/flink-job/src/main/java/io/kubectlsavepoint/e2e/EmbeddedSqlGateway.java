package io.kubectlsavepoint.e2e;

import java.nio.file.Path;
import java.util.List;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.runtime.rest.RestServerEndpoint;
import org.apache.flink.table.gateway.api.endpoint.SqlGatewayEndpoint;
import org.apache.flink.table.gateway.api.endpoint.SqlGatewayEndpointFactoryUtils;
import org.apache.flink.table.gateway.service.SqlGatewayServiceImpl;
import org.apache.flink.table.gateway.service.context.DefaultContext;
import org.apache.flink.table.gateway.service.session.SessionManager;

/**
 * A SQL Gateway REST endpoint in this JVM, submitting its statements to the session cluster.
 *
 * <p>Does what {@code SqlGateway.start()} does, but keeps the endpoints so that the port
 * actually bound (for port 0) can be reported.
 */
final class EmbeddedSqlGateway {
    private final SessionManager sessions;
    private final List<SqlGatewayEndpoint> endpoints;
    private final int port;

    private EmbeddedSqlGateway(SessionManager sessions, List<SqlGatewayEndpoint> endpoints, int port) {
        this.sessions = sessions;
        this.endpoints = endpoints;
        this.port = port;
    }

    /**
     * Starts the gateway on 127.0.0.1:{@code port} (0: any free port).
     *
     * @param clusterConf the cluster's configuration, inherited by every SQL session
     * @param restPort the cluster's REST port, where statements' jobs go
     */
    static EmbeddedSqlGateway start(
            Configuration clusterConf, int restPort, int port, Path uploadDir) throws Exception {
        Configuration conf = new Configuration(clusterConf);
        conf.set(DeploymentOptions.TARGET, "remote");
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        conf.set(RestOptions.PORT, restPort);
        conf.removeConfig(RestOptions.BIND_PORT);
        // The gateway's own REST server must not share the JobManager's upload folder.
        conf.set(WebOptions.UPLOAD_DIR, uploadDir.toString());
        conf.setString("sql-gateway.endpoint.rest.address", "127.0.0.1");
        conf.setString("sql-gateway.endpoint.rest.bind-address", "127.0.0.1");
        conf.setString("sql-gateway.endpoint.rest.port", Integer.toString(port));
        conf.setString("sql-gateway.endpoint.rest.bind-port", Integer.toString(port));

        SessionManager sessions = SessionManager.create(new DefaultContext(conf, List.of()));
        sessions.start();
        List<SqlGatewayEndpoint> endpoints =
                SqlGatewayEndpointFactoryUtils.createSqlGatewayEndpoint(
                        new SqlGatewayServiceImpl(sessions), conf);
        int bound = -1;
        for (SqlGatewayEndpoint endpoint : endpoints) {
            endpoint.start();
            if (endpoint instanceof RestServerEndpoint rest) {
                bound = rest.getServerAddress().getPort();
            }
        }
        if (bound < 0) {
            throw new IllegalStateException("the SQL Gateway started no REST endpoint");
        }
        return new EmbeddedSqlGateway(sessions, endpoints, bound);
    }

    int port() {
        return port;
    }

    void stop() {
        for (SqlGatewayEndpoint endpoint : endpoints) {
            try {
                endpoint.stop();
            } catch (Exception e) {
                System.err.println("stopping the SQL Gateway endpoint: " + e);
            }
        }
        sessions.stop();
    }
}
