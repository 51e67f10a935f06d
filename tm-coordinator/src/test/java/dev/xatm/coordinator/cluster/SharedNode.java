package dev.xatm.coordinator.cluster;

import dev.xatm.core.LogRecord;
import dev.xatm.coordinator.log.JdbcStore;
import dev.xatm.coordinator.log.JdbcTxnLog;
import dev.xatm.coordinator.log.OperatorJournal;

import javax.sql.DataSource;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One server of a shared JDBC store in the shared-store tests: its log and the cluster node beside
 * it, wired as {@code CoordinatorEngineConfiguration} wires them, behind the one handle a test needs.
 */
final class SharedNode implements AutoCloseable {
    private final JdbcStore store;
    private final JdbcTxnLog log;
    private final JdbcClusterNode node;

    private SharedNode(JdbcStore store, JdbcClusterNode.SharedStore shared) {
        this.store = store;
        this.log = shared.log();
        this.node = shared.node();
    }

    /** A node on the store of {@code config}, not yet opened. */
    static SharedNode create(JdbcStore.Config config, JdbcTxnLog.Settings settings, NodeLease.Fenced onFenced) {
        JdbcStore store = JdbcStore.connect(config);
        return new SharedNode(store, JdbcClusterNode.open(store, settings, onFenced));
    }

    List<LogRecord> open() {
        return log.open();
    }

    CompletableFuture<Void> append(List<LogRecord> records, boolean sync) {
        return log.append(records, sync);
    }

    OperatorJournal operatorJournal() {
        return log.operatorJournal();
    }

    long epoch() {
        return log.epoch();
    }

    int nodeId() {
        return log.nodeId();
    }

    long decisionStatements() {
        return log.decisionStatements();
    }

    Cluster cluster() {
        return node.cluster();
    }

    void startTakeovers(Takeovers.Adopter adopter) {
        node.start(adopter);
    }

    NodeLease leaseForTest() {
        return node.leaseForTest();
    }

    NodeTakeover takeoverForTest() {
        return node.takeoverForTest();
    }

    DataSource dataSourceForTest() {
        return store.dataSource();
    }

    @Override
    public void close() {
        log.close();
    }
}
