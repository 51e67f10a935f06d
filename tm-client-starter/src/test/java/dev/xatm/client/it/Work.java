package dev.xatm.client.it;

import dev.xatm.client.CommitProtocol;
import dev.xatm.client.GlobalTransactionTemplate;
import dev.xatm.client.GlobalTransactional;
import dev.xatm.client.coordinator.CoordinatorAccess;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.client.RestClient;

import java.util.concurrent.atomic.AtomicReference;

/** The business methods the integration tests call. */
class Work {
    private final ObjectProvider<JdbcTemplate> pg;
    private final ObjectProvider<JdbcTemplate> maria;
    private final LocalWork local;
    private final CoordinatorAccess coordinator;
    private final RestClient.Builder http;
    private final Environment env;
    /** What the last {@link #slowThenWrite} saw when it wrote after the deadline. */
    private final AtomicReference<Throwable> lateWriteFailure = new AtomicReference<>();
    /**
     * Strict: the coordinator timed the transaction out (its ROLLBACK waits, parked, for the method to let
     * go of the branch). One round trip: the coordinator never heard of it ("UNKNOWN"); the client's own
     * deadline timer did the same once the deadline passed.
     */
    private boolean timedOut(String gtrid, dev.xatm.client.context.TxScope scope) {
        dev.xatm.client.coordinator.TxnStatus status = coordinator.status(gtrid);
        return status == dev.xatm.client.coordinator.TxnStatus.UNKNOWN ? scope.pastDeadline() : !status.isActive();
    }

    Work(@Qualifier("pgJdbc") ObjectProvider<JdbcTemplate> pg, @Qualifier("mariaJdbc") ObjectProvider<JdbcTemplate> maria,
         LocalWork local, CoordinatorAccess coordinator, RestClient.Builder http, Environment env) {
        this.pg = pg;
        this.maria = maria;
        this.local = local;
        this.coordinator = coordinator;
        this.http = http;
        this.env = env;
    }

    public Throwable lateWriteFailure() {
        return lateWriteFailure.get();
    }

    String table() {
        return env.getRequiredProperty("it.table");
    }

    void insertPg(long id) {
        pg.getObject().update("INSERT INTO " + table() + " (id, note) VALUES (?, ?)", id, GlobalTransactionTemplate.currentGtrid());
    }

    void insertMaria(long id) {
        maria.getObject().update("INSERT INTO " + table() + " (id, note) VALUES (?, ?)", id, GlobalTransactionTemplate.currentGtrid());
    }

    @GlobalTransactional(name = "write-both")
    public String writeBoth(long pgId, long mariaId) {
        insertPg(pgId);
        insertMaria(mariaId);
        // a second use of each data source in the same global transaction reuses the branch
        insertPg(pgId + 1_000_000);
        return GlobalTransactionTemplate.currentGtrid();
    }

    /** The gtrid of the last three-phase method, also when it failed. */
    private final AtomicReference<String> lastThreePhase = new AtomicReference<>();

    public String lastThreePhase() {
        return lastThreePhase.get();
    }

    @GlobalTransactional(name = "write-both-3pc", protocol = CommitProtocol.THREE_PHASE)
    public String writeBothThreePhase(long pgId, long mariaId) {
        lastThreePhase.set(GlobalTransactionTemplate.currentGtrid());
        insertPg(pgId);
        insertMaria(mariaId);
        return GlobalTransactionTemplate.currentGtrid();
    }

    /**
     * Writes both, but the PostgreSQL branch's session dies before the method returns:
     * {@code terminate} gets that session's backend pid (the test ends it from another connection).
     */
    @GlobalTransactional(name = "dead-pg-3pc", protocol = CommitProtocol.THREE_PHASE)
    public void writeBothThreePhaseLosingPg(long pgId, long mariaId, java.util.function.IntConsumer terminate) {
        lastThreePhase.set(GlobalTransactionTemplate.currentGtrid());
        insertPg(pgId);
        Integer pid = pg.getObject().queryForObject("SELECT pg_backend_pid()", Integer.class);
        insertMaria(mariaId);
        terminate.accept(pid);
    }

    @GlobalTransactional
    public void writeBothThenFail(long pgId, long mariaId) {
        insertPg(pgId);
        insertMaria(mariaId);
        throw new IllegalStateException("business failure after writing both");
    }

    @GlobalTransactional
    public void writePgOnly(long id) {
        insertPg(id);
    }

    @GlobalTransactional(timeoutMs = 1500)
    public void slowThenWrite(long pgId, long mariaId) {
        insertPg(pgId);
        String gtrid = GlobalTransactionTemplate.currentGtrid();
        dev.xatm.client.context.TxScope scope = dev.xatm.client.context.GlobalTxContext.current();
        // the method is still running when the deadline fires
        org.awaitility.Awaitility.await("deadline of " + gtrid + " rolled its branch back").atMost(java.time.Duration.ofSeconds(20))
                .until(() -> timedOut(gtrid, scope));
        try {
            insertMaria(mariaId);
        } catch (RuntimeException e) {
            lateWriteFailure.set(e);
        }
    }

    /** A local @Transactional inside fails and rolls back: that must doom the global transaction. */
    @GlobalTransactional
    public void localRollbackInside(long pgId, long mariaId) {
        insertMaria(mariaId);
        try {
            local.insertThenFail(pgId);
        } catch (IllegalStateException expected) {
            // the business code swallows it; the global transaction must still roll back
        }
    }

    /** A local @Transactional that commits inside the global transaction: its commit must wait for the global one. */
    @GlobalTransactional
    public void localCommitInside(long pgId, long mariaId) {
        local.insert(pgId);
        insertMaria(mariaId);
    }

    @GlobalTransactional
    public void writePgAndCallDownstream(long pgId, long mariaId, String downstreamBaseUrl, boolean failAfter) {
        writePgAndCall(pgId, downstreamBaseUrl + "/write?id=" + mariaId);
        if (failAfter) {
            throw new IllegalStateException("caller fails after the downstream call");
        }
    }

    /** The downstream writes, then fails with 500. */
    @GlobalTransactional
    public void writePgAndCallFailingDownstream(long pgId, long mariaId, String downstreamBaseUrl) {
        writePgAndCall(pgId, downstreamBaseUrl + "/write?fail=true&id=" + mariaId);
    }

    private void writePgAndCall(long pgId, String url) {
        insertPg(pgId);
        http.build().post().uri(url).retrieve().toBodilessEntity();
    }
}
