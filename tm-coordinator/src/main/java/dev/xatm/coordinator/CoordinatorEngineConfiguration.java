package dev.xatm.coordinator;

import dev.xatm.protocol.ClusterId;
import dev.xatm.coordinator.cluster.Cluster;
import dev.xatm.coordinator.cluster.JdbcClusterNode;
import dev.xatm.coordinator.cluster.Takeovers;
import dev.xatm.coordinator.config.ClientAuthToken;
import dev.xatm.coordinator.config.TmServerProperties;
import dev.xatm.coordinator.engine.CoordinatorHealthIndicator;
import dev.xatm.coordinator.engine.CoordinatorLoop;
import dev.xatm.coordinator.engine.CrashPoint;
import dev.xatm.coordinator.engine.CrashSwitch;
import dev.xatm.coordinator.engine.MonotonicClock;
import dev.xatm.coordinator.engine.StateMachine;
import dev.xatm.coordinator.log.FileTxnLog;
import dev.xatm.coordinator.log.JdbcStore;
import dev.xatm.coordinator.log.JdbcTxnLog;
import dev.xatm.coordinator.log.TxnLog;
import dev.xatm.coordinator.transport.AgentRegistry;
import dev.xatm.coordinator.transport.AuthInterceptor;
import dev.xatm.coordinator.transport.CoordinatorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.util.Optional;

/**
 * The coordinator without a network listener: {@link CoordinatorService} (the gRPC service, not yet
 * bound to any transport) -> {@link CoordinatorLoop} -> tm-core, with the {@link TxnLog} and the
 * {@link AgentRegistry} as the loop's outputs, and the {@link AuthInterceptor} every transport must
 * put in front of the service.
 *
 * <p>{@link CoordinatorConfiguration} adds the Netty listener on {@code tm.server.port} (tm-server).
 * The client starter's embedded mode imports this one alone and serves the same service, behind the
 * same interceptor, on an in-process transport, so an embedded coordinator opens no port unless asked.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(TmServerProperties.class)
public class CoordinatorEngineConfiguration {
    private static final Logger log = LoggerFactory.getLogger(CoordinatorEngineConfiguration.class);


    @Bean
    ClientAuthToken clientAuthToken(TmServerProperties properties) {
        return ClientAuthToken.resolve(properties);
    }

    @Bean
    AgentRegistry agentRegistry() {
        return new AgentRegistry();
    }

    /** Production halts the JVM; see CoordinatorLoop#fatal for why it must not shut down gracefully. */
    @Bean
    CoordinatorLoop.Halt halt() {
        return status -> Runtime.getRuntime().halt(status);
    }

    /**
     * The store this server keeps its decisions in, in its parts: the log, and on a shared (JDBC) store
     * the cluster beside it (lease, takeovers, membership) fencing the log's writes. A file store has no
     * cluster. Nothing to close here: the log closes its fence and its pool.
     */
    record Store(TxnLog log, Cluster cluster, Takeovers takeovers) {}

    @Bean
    Store tmStore(TmServerProperties properties, CoordinatorLoop.Halt halt) {
        if (properties.store() == TmServerProperties.Store.JDBC) {
            TmServerProperties.JdbcStoreSettings j = properties.jdbc();
            JdbcStore.Config config = new JdbcStore.Config(j.url(), j.username(), j.password(), j.tablePrefix(), j.poolSize(),
                    properties.nodeId(), properties.advertisedAddressOr(properties.port()), j.leaseTtlMs());
            // A fenced node is a zombie: another server owns its transactions now. Halt, do not shut
            // down gracefully (a graceful stop would still try to write); a restart is a new incarnation.
            JdbcClusterNode.SharedStore shared = JdbcClusterNode.open(config,
                    JdbcTxnLog.Settings.defaults().withStallTimeout(properties.log().stallTimeout()), why -> halt.halt(3));
            return new Store(shared.log(), shared.node().cluster(), shared.node());
        }
        return new Store(new FileTxnLog(properties.file().dirPath(), FileTxnLog.Settings.defaults()
                .withSegmentBytesMax(properties.file().segmentBytesMax())
                .withTruncateCorrupt(properties.file().truncateCorrupt())
                .withStallTimeout(properties.log().stallTimeout())), Cluster.SINGLE, Takeovers.NONE);
    }

    /** Closed by Spring after the loop stopped (the loop depends on it); close() flushes and fsyncs. */
    @Bean
    TxnLog txnLog(Store store) {
        return store.log();
    }

    /**
     * {@code tm.server.crash-point}: for recovery tests only, the server halts itself at that point
     * (see {@link CrashPoint}). Unset in production; a bad value fails the start.
     */
    @Bean
    CrashSwitch crashSwitch(@Value("${tm.server.crash-point:}") String crashPoint, CoordinatorLoop.Halt halt) {
        CrashPoint point = CrashPoint.parse(crashPoint);
        return point == null ? CrashSwitch.NONE : new CrashSwitch(point, halt);
    }

    /**
     * The deployment's cluster id, kept in the log (generated on the first start unless tm.server.cluster-id
     * pins it): every gtrid of this deployment names it, and agents learn it from Welcome.
     */
    @Bean
    ClusterId tmClusterId(TmServerProperties properties, TxnLog txnLog) {
        ClusterId id = txnLog.clusterId(Optional.ofNullable(properties.clusterId()).map(ClusterId::new));
        log.info("Cluster id {}: agents mint this deployment's gtrids with it and recover only prepared branches that name it", id);
        return id;
    }

    /** Started at bean creation (reads the log and restores the core) so it runs before any transport accepts calls. */
    @Bean(initMethod = "start", destroyMethod = "stop")
    CoordinatorLoop coordinatorLoop(TmServerProperties properties, TxnLog txnLog, Store store, AgentRegistry agents,
                                    CoordinatorLoop.Halt halt, CrashSwitch crash, ClusterId clusterId) {
        return new CoordinatorLoop(StateMachine.twoPhase(properties.coordinatorConfig().withClusterId(clusterId.value())), txnLog,
                store.takeovers(), agents,
                MonotonicClock.system(), halt, properties.tickMs(), properties.queueCapacity(), crash, properties.log().stallTimeout());
    }

    /** Shows up as the "coordinator" component of /actuator/health. */
    @Bean
    CoordinatorHealthIndicator coordinatorHealthIndicator(CoordinatorLoop loop, TmServerProperties properties) {
        return new CoordinatorHealthIndicator(loop, properties.tickMs());
    }

    /** The other servers on the shared store, and rule R4 for their gtrids; a file store has none. */
    @Bean
    Cluster tmCluster(Store store) {
        return store.cluster();
    }

    /** The gRPC service; every transport serves this one instance. */
    @Bean
    CoordinatorService coordinatorService(TmServerProperties properties, CoordinatorLoop loop, AgentRegistry agents, Cluster cluster,
                                          ClusterId clusterId) {
        return new CoordinatorService(loop, agents, properties.serverId(), properties.defaultTimeoutMs().toMillis(), properties.maxTimeoutMs().toMillis(),
                cluster, clusterId);
    }

    /** Bearer-token check in front of the service, on every transport. */
    @Bean
    AuthInterceptor authInterceptor(ClientAuthToken token) {
        return new AuthInterceptor(token.value());
    }
}
