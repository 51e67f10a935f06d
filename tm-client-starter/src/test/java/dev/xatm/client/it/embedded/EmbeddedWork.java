package dev.xatm.client.it.embedded;

import dev.xatm.client.CommitProtocol;
import dev.xatm.client.GlobalTransactionTemplate;
import dev.xatm.client.GlobalTransactional;
import dev.xatm.client.coordinator.CoordinatorAccess;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.reactive.function.client.WebClient;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static org.awaitility.Awaitility.await;

/** The business methods of the embedded-mode tests; each returns its gtrid where a test needs it. */
class EmbeddedWork {
    private final ObjectProvider<JdbcTemplate> first;
    private final ObjectProvider<JdbcTemplate> second;
    private final CoordinatorAccess coordinator;
    private final ObjectProvider<WebClient.Builder> http;
    private final Environment env;
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

    EmbeddedWork(@Qualifier("firstJdbc") ObjectProvider<JdbcTemplate> first, @Qualifier("secondJdbc") ObjectProvider<JdbcTemplate> second,
                 CoordinatorAccess coordinator, ObjectProvider<WebClient.Builder> http, Environment env) {
        this.first = first;
        this.second = second;
        this.coordinator = coordinator;
        this.http = http;
        this.env = env;
    }

    private String table() {
        return env.getRequiredProperty("it.table");
    }

    void insertFirst(long id) {
        first.getObject().update("INSERT INTO " + table() + " (id, note) VALUES (?, ?)", id, GlobalTransactionTemplate.currentGtrid());
    }

    void insertSecond(long id) {
        second.getObject().update("INSERT INTO " + table() + " (id, note) VALUES (?, ?)", id, GlobalTransactionTemplate.currentGtrid());
    }

    private int countFirst() {
        return first.getObject().queryForObject("SELECT COUNT(*) FROM " + table(), Integer.class);
    }

    private int countSecond() {
        return second.getObject().queryForObject("SELECT COUNT(*) FROM " + table(), Integer.class);
    }

    Throwable lateWriteFailure() {
        return lateWriteFailure.get();
    }

    @GlobalTransactional(timeoutMs = 30_000)
    public String writeBoth(long firstId, long secondId) {
        insertFirst(firstId);
        insertSecond(secondId);
        return GlobalTransactionTemplate.currentGtrid();
    }

    @GlobalTransactional(timeoutMs = 30_000, protocol = CommitProtocol.THREE_PHASE)
    public String writeBothThreePhase(long firstId, long secondId) {
        insertFirst(firstId);
        insertSecond(secondId);
        return GlobalTransactionTemplate.currentGtrid();
    }

    @GlobalTransactional(timeoutMs = 30_000, protocol = CommitProtocol.THREE_PHASE)
    public void writeBothThreePhaseThenFail(long firstId, long secondId) {
        insertFirst(firstId);
        insertSecond(secondId);
        throw new IllegalStateException("business failure after writing both (3PC)");
    }

    @GlobalTransactional(timeoutMs = 30_000)
    public void writeBothThenFail(long firstId, long secondId) {
        insertFirst(firstId);
        insertSecond(secondId);
        throw new IllegalStateException("business failure after writing both");
    }

    /** The second database only reads: its branch votes READ_ONLY. */
    @GlobalTransactional(timeoutMs = 30_000)
    public String writeFirstReadSecond(long firstId) {
        countSecond();
        insertFirst(firstId);
        return GlobalTransactionTemplate.currentGtrid();
    }

    /** The first database only reads: its branch votes READ_ONLY. */
    @GlobalTransactional(timeoutMs = 30_000)
    public String writeSecondReadFirst(long secondId) {
        countFirst();
        insertSecond(secondId);
        return GlobalTransactionTemplate.currentGtrid();
    }

    /**
     * No timeoutMs: tm.client.default-timeout-ms applies. The method outlives it (it waits until the
     * coordinator has timed the transaction out), so its write to the second database must fail.
     */
    @GlobalTransactional
    public void outliveTheDefaultTimeout(long firstId, long secondId) {
        insertFirst(firstId);
        String gtrid = GlobalTransactionTemplate.currentGtrid();
        dev.xatm.client.context.TxScope scope = dev.xatm.client.context.GlobalTxContext.current();
        await("deadline of " + gtrid + " rolled its branch back").atMost(Duration.ofSeconds(20)).until(() -> timedOut(gtrid, scope));
        try {
            insertSecond(secondId);
        } catch (RuntimeException e) {
            lateWriteFailure.set(e);
        }
    }

    /** Writes the first database and calls the downstream service with WebClient, which writes its database. */
    @GlobalTransactional(timeoutMs = 30_000)
    public void writeFirstAndCallDownstream(long firstId, long downstreamId, String downstreamBaseUrl, boolean failAfter) {
        insertFirst(firstId);
        http.getObject().build().post().uri(downstreamBaseUrl + "/embedded/write?id=" + downstreamId)
                .retrieve().toBodilessEntity().block(Duration.ofSeconds(20));
        if (failAfter) {
            throw new IllegalStateException("caller fails after the downstream call");
        }
    }
}
